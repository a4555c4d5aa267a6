"""File → Export masks: ask for a folder (starting where the last export went, else beside the project; its data
folders are refused), write the PNGs in the background, then confirm with the folder and the count per class in a
non-blocking message (with where the manifest is). File → Export for other tools first asks for the
format (nnU-Net dataset, COCO JSON, HDF5: core.interchange.formats), then does the same; File → Export photos with
outlines too (core.interchange.outlines), its message saying which line is a label and which a prediction. All export
every class, so a class with nothing to export goes unnamed (the user did not choose it: a trial's colonoscopy export
said 'vessel left out'). The status bar counts the masks (photos) as they are written."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from medseg_gui.core.errors import MedsegError
from medseg_gui.core.export import PREDICTION_SUFFIX, PngExport, check_export_target, older_note
from medseg_gui.core.interchange.formats import FORMATS, ExportDone, export_as
from medseg_gui.core.interchange.manifest import MANIFEST
from medseg_gui.core.names import shown_name
from medseg_gui.qt import dialogs
from medseg_gui.qt.recent import RecentProjects
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message
from medseg_gui.workers.export import export_classes


def export_title(threshold: float, source: str = "auto") -> str:
    """The folder dialog's title says what is exported, short enough for a window manager's title bar (a trial's
    read 'your label wher… herwise the prediction at threshold 0.50')."""
    if source == "labels":
        return "Export your labels only as PNG (no predictions)"
    return f"Export masks as PNG: your label, else the prediction ≥ {threshold:.2f}"


def outlines_title(threshold: float) -> str:
    """The folder dialog's title for File → Export photos with outlines: what the lines will mean."""
    return f"Export photos with outlines: your label solid, the prediction ≥ {threshold:.2f} dashed"


OTHER_FORMATS = ("nnunet", "coco", "hdf5")
MANIFEST_SAYS = "which masks are your labels and which are model predictions (and which model)"


def manifest_note(fmt: str, folders: Sequence[str] = ()) -> str:
    """Where an export's manifest is, relative to the chosen folder (a trial read 'manifest.json says…' and looked
    for it beside the class folders): PNG, one in each class's folder of `folders`."""
    if fmt == "hdf5":
        return f"Each class's .h5 file holds a manifest (in its attributes) saying {MANIFEST_SAYS}."
    if fmt != "png":
        return f"{MANIFEST} in that folder says {MANIFEST_SAYS}."
    if not folders:
        return ""
    files = [f"{folder}/{MANIFEST}" for folder in folders]
    where = files[0] if len(files) == 1 else ", ".join(files[:-1]) + f" and {files[-1]}"
    return f"{where} {'says' if len(files) == 1 else 'say'} {MANIFEST_SAYS}."


def ask_export_format(parent: QWidget | None) -> str | None:
    """Blocking chooser (monkeypatched in tests): a key of OTHER_FORMATS, or None when cancelled."""
    items = [FORMATS[key] for key in OTHER_FORMATS]
    text, ok = QInputDialog.getItem(parent, "Export for other tools", "Format:", items, 0, False)
    return OTHER_FORMATS[items.index(text)] if ok and text in items else None


def ended(text: str) -> str:
    """`text` with one full stop at its end (a left-out image's reason ends with its own: a trial saw '..')."""
    return text if text.endswith(".") else text + "."


def left_out_note(skipped: Sequence[str]) -> str:
    """' — 2 left out: a: …; b: …' for the images an export left out (three named, each with its reason: not
    readable, or not the image's size), or ''."""
    if not skipped:
        return ""
    reasons = "; ".join(r.rstrip(".") for r in skipped[:3])  # no ".;" between reasons (verification trial)
    return f" — {len(skipped)} left out: {reasons}{'; …' if len(skipped) > 3 else ''}"


def export_summary(result: PngExport) -> str:
    """'Exported 3 masks to /out: 2 in lesion/, 1 in vessel/' (each class has its own subfolder; a class without
    masks, which the user did not choose, is not named), and which images were left out because something of theirs
    could not be read."""
    def count(files: list[Path]) -> str:
        predicted = sum(1 for f in files if f.stem.endswith(PREDICTION_SUFFIX))
        labels = len(files) - predicted
        split = f" ({labels} label{'' if labels == 1 else 's'}, {predicted} predicted)" if labels and predicted else (
            " (all predicted)" if predicted else "")
        return f"{len(files)}{split}"

    counts = ", ".join(f"{count(files)} in {cls}/" for cls, files in result.files.items() if files)
    if result.filled:  # a trial's 'label' was 1 % strokes, 99 % prediction; which ones (trial, session 38)
        classes = len({f.parent for f in result.filled}) > 1  # 'lesion/a, vessel/a', not 'a, a' (session 38 note)
        n, names = len(result.filled), ", ".join(
            f"{f.parent.name}/{shown_name(f.stem)}" if classes else shown_name(f.stem) for f in result.filled[:3])
        counts += (f"; {n} of the labels {'is a sparse one' if n == 1 else 'are sparse'}, filled in by the "
                   f"prediction where not annotated ({names}{', …' if n > 3 else ''})")
    text = f"Exported {result.count} mask{'' if result.count == 1 else 's'} to {result.out_dir}: {counts}"
    if result.count == 0 and not result.skipped:
        text = f"No masks exported to {result.out_dir}: no image has a label or a prediction of any class yet"
    text += left_out_note(result.skipped)  # images whose label, prediction or ROI could not be read
    if result.older:
        text += f" — {older_note(result.older)}; manifest.json lists this export's"
    return text


class ExportFlow(QObject):
    """`start(project, threshold)`; reports `status(text)`, `errored(message)` and `ended("finished"|"errored")`."""

    status = Signal(str)
    errored = Signal(str)
    ended = Signal(str)

    def __init__(self, host: WorkerHost, dialog_parent: QWidget, folders: RecentProjects) -> None:
        """`folders` remembers the folder exported to last, where the dialog starts."""
        super().__init__(dialog_parent)
        self._host, self._dialog_parent, self._folders = host, dialog_parent, folders

    def start_other(self, project: Any, threshold: float, flush: Callable[[], bool],
                    fmt: str | None = None) -> FunctionWorker | None:
        """Ask for the format unless `fmt` is given, then as `start`; None when the user cancels."""
        fmt = fmt or ask_export_format(self._dialog_parent)
        return None if fmt is None else self.start(project, threshold, flush, fmt)

    def start(self, project: Any, threshold: float, flush: Callable[[], bool],
              fmt: str = "png", source: str = "auto") -> FunctionWorker | None:
        """Ask for the folder (starting where the last export went, else beside the project; never inside it); None
        when the user cancels, the folder is inside the project's data folders, or `flush` (write pending labels) says
        some are not saved. `source` (PNG): "auto", or "labels" for the labels alone (File → Export labels only)."""
        title = export_title(threshold, source)
        if fmt != "png":
            title = outlines_title(threshold) if fmt == "outlines" else title.replace("masks as PNG",
                                                                                     f"as {FORMATS[fmt]}")
        out_dir = self._folders.ask("export", project.root.parent, lambda start: dialogs.choose_directory(
            self._dialog_parent, title, start, new=True))
        if out_dir is None:
            return None
        try:
            check_export_target(project, out_dir)
        except MedsegError as err:
            self.errored.emit(str(err))
            return None
        if not flush():
            self.errored.emit("Some labels are not saved yet, so the export would miss them; export again once "
                              "they are (the message about them says what stops them).")
            return None
        if fmt == "png":
            worker = FunctionWorker(export_classes, project.root, project.class_names, out_dir, threshold=threshold,
                                    source=source)
        else:  # big I/O: the whole export runs in the worker
            worker = FunctionWorker(export_as, fmt, project, project.class_names, out_dir, threshold=threshold,
                                    chosen=False)
        what = "photos with outlines" if fmt == "outlines" else "masks"
        self.status.emit(f"Exporting {what} to {out_dir}…")
        on_done = partial(self._on_finished, source) if fmt == "png" else partial(self._on_other_finished, fmt)
        self._host.start(worker.throttle(), on_done=on_done, on_error=self._on_errored,
                         on_progress=partial(self._on_progress, what))
        return worker

    def _on_progress(self, what: str, count: tuple[int, int, str]) -> None:
        """'Exporting masks 120/300: lesion/a.png…' (a trial's 300 masks took 7 s with only 'Exporting masks to …')."""
        self.status.emit("Exporting {} {}/{}: {}…".format(what, *count))

    def _on_finished(self, source: str, result: PngExport) -> None:
        text = export_summary(result)
        self.status.emit(text)
        sparse = ("in a sparse label (e.g. a corrected prediction), the pixels you did not annotate are the "
                  "prediction where there is one, else background (0). A prediction's file ends in _prediction; "
                  if source == "auto" else "labels only: in a sparse label, the pixels you did not paint as the class "
                  "are background (0); images without a label have no file. ")
        written = [cls for cls, files in result.files.items() if files]
        notes = ended((sparse + manifest_note("png", written)).rstrip("; "))
        dialogs.show_message(self._dialog_parent, "Export finished", f"{ended(text)}\n\nOne sub-folder per class, one "
                             f"0/255 PNG per image at its original size; {notes}")
        self.ended.emit("finished")

    def _on_other_finished(self, fmt: str, done: ExportDone) -> None:
        text = done.summary + left_out_note(done.skipped)
        self.status.emit(text)
        note = manifest_note(fmt) if done.count or fmt != "outlines" else (
            "No image has a label or a prediction of any class yet: nothing was written.")
        dialogs.show_message(self._dialog_parent, "Export finished", f"{ended(text)}\n\n{note}")
        self.ended.emit("finished")

    def _on_errored(self, err: BaseException) -> None:
        self.errored.emit(error_message(err))
        self.ended.emit("errored")
