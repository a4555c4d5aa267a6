"""File → Import masks…: a folder of masks into the open project as a class's labels or as regions of interest
(core.mask_import), read and written on a worker; the project is shown again afterwards like any opened folder.
When images the masks belong to already have a label of that class, it asks first whether to keep those (the default)
or replace them (each replaced label is copied to the project's replaced-labels/ folder first)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from medseg_gui.core.mask_import import ROI, MasksImported, import_masks, labelled_matches
from medseg_gui.core.project_format import REPLACED_LABELS
from medseg_gui.qt import dialogs
from medseg_gui.qt.recent import RecentProjects
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message

ROI_CHOICE = "Regions of interest (where each image is trained and scored, e.g. a camera's field of view)"
HELP = ("Each mask is matched to an image by its name:\nNAME.png, or NAME_anything.png for the image NAME\n(e.g. "
        "photo12_mask.png for photo12.jpg).\nAn image that has a label of the class already keeps it unless you choose "
        f"to replace it (the old one is then kept in {REPLACED_LABELS}/); its region of interest is never replaced.")
KEEP, REPLACE = "Keep their labels", "Replace them"


def ask_import_target(parent: QWidget | None, classes: list[str], current: str | None) -> str | None:
    """Blocking chooser (monkeypatched in tests): a class name, ROI_CHOICE, or None when cancelled."""
    items = [f"'{cls}' labels" for cls in classes] + [ROI_CHOICE]
    first = classes.index(current) if current in classes else 0
    text, ok = QInputDialog.getItem(parent, "Import masks", f"Import the masks as:\n\n{HELP}", items, first, False)
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
    """`start(project, current_class, flush, reopen)`; reports `status(text)` and `errored(message)`."""

    status = Signal(str)
    errored = Signal(str)
    finished = Signal(object)  # MasksImported

    def __init__(self, host: WorkerHost, dialog_parent: QWidget, folders: RecentProjects) -> None:
        """`folders` remembers the folder imported from last, where the dialog starts."""
        super().__init__(dialog_parent)
        self._host, self._parent, self._folders = host, dialog_parent, folders

    def start(self, project: Any, current: str | None, flush: Callable[[], bool],
              reopen: Callable[[Path], object]) -> FunctionWorker | None:
        """Ask for the folder and what its masks are (and, when some of their images have such a label already,
        whether to keep or replace those), import them on a worker and show the project again (`reopen`). The first
        worker (for labels: the one that finds the labels in the way), or None when cancelled or refused (read-only
        project, labels not saved yet)."""
        if project.read_only is not None:
            self.errored.emit(f"This project is open read-only ({project.read_only}); masks cannot be imported.")
            return None
        # starts where the last import came from: the next class's masks are usually beside these (trial, session 37)
        folder = self._folders.ask("import", project.root.parent, lambda start: dialogs.choose_directory(
            self._parent, "Import masks from", start))
        if folder is None:
            return None
        target = ask_import_target(self._parent, project.class_names, current)
        if target is None:
            return None
        if not flush():
            self.errored.emit("Some labels are not saved yet; import once they are (the message about them says "
                              "what stops them).")
            return None
        cls = ROI if target == ROI_CHOICE else target
        self.status.emit(f"Importing masks from {folder}…")
        if cls is ROI:
            return self._import(project, folder, cls, False, reopen)
        check = FunctionWorker(labelled_matches, project, folder, cls)  # reads the folder: not on the GUI thread

        def ask(stems: tuple[str, ...]) -> None:
            replace = ask_keep_or_replace(self._parent, cls, stems) if stems else False
            if replace is None:
                self.status.emit("Import cancelled: nothing was imported.")
            elif not flush():  # a stroke painted while the question was open
                self.errored.emit("Some labels are not saved yet; nothing was imported.")
            else:
                self._import(project, folder, cls, replace, reopen)

        self._host.start(check, on_done=ask, on_error=self._failed)
        return check

    def _import(self, project: Any, folder: Path, cls: str | None, replace: bool,
                reopen: Callable[[Path], object]) -> FunctionWorker:
        worker = FunctionWorker(import_masks, project, folder, cls, replace=replace)

        def done(result: MasksImported) -> None:
            text = result.summary(folder)
            self.status.emit(text)
            dialogs.show_message(self._parent, "Import finished", f"{text}\n\n{HELP}",
                                 error=not result.imported and bool(result.failed))
            self.finished.emit(result)
            if result.imported:
                reopen(project.root)  # lists the new labels / regions like any opened folder

        self._host.start(worker, on_done=done, on_error=self._failed)
        return worker

    def _failed(self, err: BaseException) -> None:
        self.errored.emit(f"The masks were not imported: {error_message(err)}")
