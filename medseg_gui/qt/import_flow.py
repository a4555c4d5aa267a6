"""File → Import masks…: a folder of masks into the open project as a class's labels or as regions of interest
(core.mask_import), read and written on a worker; the project is shown again afterwards like any opened folder.
When images the masks belong to already have a label of that class, it asks first whether to keep those (the default)
or replace them (each replaced label is copied to the project's replaced-labels/ folder first). The folder is read
once: the import takes the matches the question was asked about. Drawing is paused while the masks are imported
(autosaving a stroke on the image shown would overwrite the mask just imported for it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from medseg_gui.core.mask_import import ROI, MaskScan, MasksImported, import_masks, labelled_matches, scan_masks
from medseg_gui.core.project_format import REPLACED_LABELS
from medseg_gui.qt import dialogs
from medseg_gui.qt.recent import RecentProjects
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message

ROI_CHOICE = "Regions of interest (where each image is trained and scored, e.g. a camera's field of view)"
MATCHING = ("Each mask is matched to an image by its name:\nNAME.png, or NAME_anything.png for the image NAME, in any "
            "image format\n(e.g. photo12_mask.png or photo12.png for photo12.jpg).")
HELP = (f"{MATCHING}\nAn image that has a label of the class already keeps it unless you choose to replace it (the old "
        f"one is then kept in {REPLACED_LABELS}/); its region of interest is never replaced.")
REGION_WORDS = re.compile(r"\b(fovs?|rois?|(fov|roi)masks?|fields? of views?|regions? of interest)\b")
"""A folder name's words that say field of view or region of interest (fov_masks, ROI, Field-of-view): "masks"
alone says nothing (lesion_masks, vessel_masks), nor do words that only begin alike (fovea)."""
KEEP, REPLACE = "Keep their labels", "Replace them"
PAUSED = "masks are imported"  # why drawing is off meanwhile (ReadOnlyView.pause)
PAUSED_NOTE = "Drawing is paused until they are in."


@dataclass(frozen=True)
class Preselected:
    """The class the chooser starts on, and why (shown above the choice)."""

    cls: str | None
    why: str
    roi: bool = False  # Regions of interest: the folder's name says field of view or region of interest


def names_regions(name: str) -> bool:
    """Whether a folder's `name` says field of view or region of interest (REGION_WORDS), its words split at _ - .
    spaces and lower-to-upper case changes (fovMasks), in any case."""
    words = re.sub(r"([a-z0-9])(?=[A-Z])", r"\1 ", name)
    return REGION_WORDS.search(" ".join(re.split(r"[_\-.\s]+", words.lower()))) is not None


def class_in_name(folder: Path, classes: list[str]) -> str | None:
    """The one class whose name the folder's name contains (case-insensitive), else its parent's; None when the first
    of them that names a class names more than one, or neither names any."""
    for name in (folder.name, folder.parent.name):
        named = _classes_in(name, classes)
        if named:
            return named[0] if len(named) == 1 else None
    return None


def _classes_in(name: str, classes: list[str]) -> list[str]:
    return [cls for cls in classes if cls.lower() in name.lower()]


def preselect(folder: Path, classes: list[str], current: str | None) -> Preselected:
    """Regions of interest when the folder's name (else its parent's, unless the folder names a class) says field of
    view or region of interest (an outside trial's fov_masks were offered as 'vessel' labels); else the class the
    folder is named after (another imported lesion_masks as the class shown, 'cervix'); else the class shown."""
    for name in (folder.name, folder.parent.name):
        if names_regions(name):
            return Preselected(None, "Regions of interest are chosen because the folder's name says field of view "
                               "or region of interest.", roi=True)
        if _classes_in(name, classes):
            break
    named = class_in_name(folder, classes)
    if named is not None:
        return Preselected(named, f"'{named}' is chosen because the folder's name says so.")
    return Preselected(current, f"'{current}' is chosen because it is the class shown; the folder's name names no "
                       "class." if current in classes else "")


def ask_import_target(parent: QWidget | None, classes: list[str], chosen: Preselected) -> str | None:
    """Blocking chooser (monkeypatched in tests): a class name, ROI_CHOICE, or None when cancelled."""
    items = [f"'{cls}' labels" for cls in classes] + [ROI_CHOICE]
    first = len(classes) if chosen.roi else classes.index(chosen.cls) if chosen.cls in classes else 0
    text, ok = QInputDialog.getItem(parent, "Import masks", f"Import the masks as:\n{chosen.why}\n\n{HELP}", items,
                                    first, False)
    if not ok or text not in items:
        return None
    return ROI_CHOICE if text == ROI_CHOICE else classes[items.index(text)]


def ask_keep_or_replace(parent: QWidget | None, cls: str, stems: tuple[str, ...]) -> bool | None:
    """Blocking question (monkeypatched in tests) when the masks' images already have a `cls` label: False keeps
    those labels (the default), True replaces them, None cancels the import."""
    n, names = len(stems), ", ".join(stems[:3]) + (", …" if len(stems) > 3 else "")
    box = QMessageBox(QMessageBox.Icon.Question, "Import masks",
                      f"{n} of the images these masks belong to already {'has' if n == 1 else 'have'} a '{cls}' label "
                      f"({names}).\n\n{KEEP}: only images without one get their mask.\n{REPLACE}: the masks take "
                      f"their place; each replaced label is first copied to {REPLACED_LABELS}/<date time>/{cls}/ "
                      "inside the project (labels the app cannot read are never replaced).",
                      QMessageBox.StandardButton.Cancel, parent)
    keep = box.addButton(KEEP, QMessageBox.ButtonRole.AcceptRole)
    replace = box.addButton(REPLACE, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(keep)
    box.exec()
    clicked = box.clickedButton()
    return True if clicked is replace else False if clicked is keep else None


class ImportFlow(QObject):
    """`start(project, current_class, flush, reopen)`; reports `status(text)`, `errored(message)` and
    `editing_paused(why)`: PAUSED from the start of an import's worker until the project is shown again with what it
    imported (or the import failed, was cancelled or imported nothing), then ''."""

    status = Signal(str)
    errored = Signal(str)
    finished = Signal(object)  # MasksImported
    editing_paused = Signal(str)

    def __init__(self, host: WorkerHost, dialog_parent: QWidget, folders: RecentProjects) -> None:
        """`folders` remembers the folder imported from last, where the dialog starts."""
        super().__init__(dialog_parent)
        self._host, self._parent, self._folders = host, dialog_parent, folders
        self._importing = 0  # imports running or being shown: drawing is paused while there are any

    def start(self, project: Any, current: str | None, flush: Callable[[], bool],
              reopen: Callable[..., object]) -> FunctionWorker | None:
        """Ask for the folder and what its masks are (and, when some of their images have such a label already,
        whether to keep or replace those), import them on a worker and show the project again (`reopen(root,
        on_failed, on_opened)`, None when it opens nothing). The first worker (for labels: the one that finds the
        labels in the way), or None when cancelled or refused (read-only project, labels not saved yet)."""
        if project.read_only is not None:
            self.errored.emit(f"This project is open read-only ({project.read_only}); masks cannot be imported.")
            return None
        # starts where the last import came from: the next class's masks are usually beside these (trial, session 37)
        folder = self._folders.ask("import", project.root.parent, lambda start: dialogs.choose_directory(
            self._parent, "Import masks from", start))
        if folder is None:
            return None
        target = ask_import_target(self._parent, project.class_names,
                                   preselect(folder, project.class_names, current))
        if target is None:
            return None
        if not flush():
            self.errored.emit("Some labels are not saved yet; import once they are (the message about them says "
                              "what stops them).")
            return None
        cls = ROI if target == ROI_CHOICE else target
        if cls is ROI:
            return self._import(project, folder, folder, cls, False, reopen)
        self.status.emit(f"Importing masks from {folder} as '{cls}' labels…")

        def check() -> tuple[MaskScan, tuple[str, ...]]:  # reads the folder: not on the GUI thread
            scan = scan_masks(project, folder)
            return scan, labelled_matches(project, scan, cls)

        def ask(checked: tuple[MaskScan, tuple[str, ...]]) -> None:
            scan, stems = checked
            replace = ask_keep_or_replace(self._parent, cls, stems) if stems else False
            if replace is None:
                self.status.emit("Import cancelled: nothing was imported.")
            elif not flush():  # a stroke painted while the question was open
                self.errored.emit("Some labels are not saved yet; nothing was imported.")
            else:
                self._import(project, folder, scan, cls, replace, reopen)

        worker = FunctionWorker(check)
        self._host.start(worker, on_done=ask, on_error=self._failed)
        return worker

    def _import(self, project: Any, folder: Path, masks: Path | MaskScan, cls: str | None, replace: bool,
                reopen: Callable[..., object]) -> FunctionWorker:
        """Import `masks` (`folder`, or its scan) with drawing paused until the project is shown again."""
        worker = FunctionWorker(import_masks, project, masks, cls, replace=replace).throttle()
        reopening: list[object] = []  # the reopen's worker, once one started

        def done(result: MasksImported) -> None:
            text = result.summary(folder)
            self.status.emit(text)
            help_text = MATCHING if cls is ROI else HELP  # what keeping labels means is no news about regions

            def summary() -> None:
                dialogs.show_message(self._parent, "Import finished", f"{text}\n\n{help_text}",
                                     error=not result.imported and bool(result.failed))

            def shown(*_err: object) -> None:  # the project shown again (or its opening failed): drawing resumes, and
                self._pause(-1)  # the summary comes over a list that shows what came in (a trial read it 3 s before
                summary()  # the ticks, over a list still "0/600 labelled")

            self.finished.emit(result)
            if result.imported:  # lists the new labels / regions like any opened folder, the image shown's too
                reopening.append(reopen(project.root, shown, shown))
            if not reopening or reopening[-1] is None:
                summary()

        def ended() -> None:  # after a reopen, drawing resumes once it has shown the project (or failed)
            if not any(w is not None for w in reopening):
                self._pause(-1)

        def counted(count: tuple[int, int, str]) -> None:  # 250 masks took 8 s with no count (trial, session 44)
            self.status.emit("Importing masks {}/{}: {}… {}".format(*count, PAUSED_NOTE))

        self._pause(1)
        what = "regions of interest" if cls is ROI else f"'{cls}' labels"
        self.status.emit(f"Importing masks from {folder} as {what}… {PAUSED_NOTE}")
        self._host.start(worker, on_done=done, on_error=self._failed, on_ended=ended, on_progress=counted)
        return worker

    def _pause(self, change: int) -> None:
        """One import more (1) or fewer (-1) under way: drawing is paused while there are any."""
        self._importing += change
        self.editing_paused.emit(PAUSED if self._importing else "")

    def _failed(self, err: BaseException) -> None:
        self.errored.emit(f"The masks were not imported: {error_message(err)}")
