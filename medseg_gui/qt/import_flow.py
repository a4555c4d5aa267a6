"""File → Import masks…: a folder of masks into the open project as a class's labels or as regions of interest
(core.mask_import), read and written on a worker; the project is shown again afterwards like any opened folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from medseg_gui.core.mask_import import ROI, MasksImported, import_masks
from medseg_gui.qt import dialogs
from medseg_gui.qt.recent import RecentProjects
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message

ROI_CHOICE = "Regions of interest (where each image is trained and scored, e.g. a camera's field of view)"
HELP = ("Each mask is matched to an image by its name:\nNAME.png, or NAME_anything.png for the image NAME\n(e.g. "
        "photo12_mask.png for photo12.jpg).\nImages that already have one keep it: nothing is overwritten.")


def ask_import_target(parent: QWidget | None, classes: list[str], current: str | None) -> str | None:
    """Blocking chooser (monkeypatched in tests): a class name, ROI_CHOICE, or None when cancelled."""
    items = [f"'{cls}' labels" for cls in classes] + [ROI_CHOICE]
    first = classes.index(current) if current in classes else 0
    text, ok = QInputDialog.getItem(parent, "Import masks", f"Import the masks as:\n\n{HELP}", items, first, False)
    if not ok or text not in items:
        return None
    return ROI_CHOICE if text == ROI_CHOICE else classes[items.index(text)]


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
        """Ask for the folder and what its masks are, then import them on a worker and show the project again
        (`reopen`); None when cancelled or refused (read-only project, labels not saved yet)."""
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
        worker = FunctionWorker(import_masks, project, folder, cls)

        def done(result: MasksImported) -> None:
            text = result.summary(folder)
            self.status.emit(text)
            dialogs.show_message(self._parent, "Import finished", f"{text}\n\n{HELP}",
                                 error=not result.imported and bool(result.failed))
            self.finished.emit(result)
            if result.imported:
                reopen(project.root)  # lists the new labels / regions like any opened folder

        self._host.start(worker, on_done=done,
                         on_error=lambda err: self.errored.emit(f"The masks were not imported: {error_message(err)}"))
        return worker
