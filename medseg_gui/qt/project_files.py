"""How projects and images get into the window: File → Open (starting in the folder used last), Open Recent, Open
demo, reopening the last project at start, Export's start folder, and drag-and-drop of a folder or image files.

A dropped folder is opened like File → Open; dropped image files are copied into the open project on a worker thread
(core `Project.add_image`, the project stays locked), then the project is opened again so they are checked and listed.
A file with the same bytes as a project's image (core `SameBytes`) is not copied: the summary names the image it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal, Slot
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow

from medseg_gui.core.errors import MedsegError
from medseg_gui.core.images import IMAGE_SUFFIXES, IMAGE_TYPES_TEXT
from medseg_gui.core.same_bytes import SameBytes
from medseg_gui.paths import data_dir
from medseg_gui.qt import dialogs
from medseg_gui.qt.demo_choice import OPEN_FOLDER_MENU
from medseg_gui.qt.keymap import key_text
from medseg_gui.qt.open_flow import OpenFlow
from medseg_gui.qt.recent import LastProjectOpening, RecentMenu, RecentProjects
from medseg_gui.qt.window_state import WindowMemory
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message

log = logging.getLogger(__name__)

DROP_HELP = (f"Drop one folder to open it (a project or a folder of images), or image files ({IMAGE_TYPES_TEXT}) to "
             "add them to the open project.")


def sort_drop(paths: list[Path]) -> tuple[str, list[Path]]:
    """What a drop means: ("open", [folder]), ("add", image files) or ("refuse", the paths that are neither)."""
    folders = [p for p in paths if p.is_dir()]
    if len(folders) == 1 and len(paths) == 1:
        return "open", folders
    if folders:
        return "refuse", folders
    bad = [p for p in paths if not (p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)]
    return ("refuse", bad) if bad or not paths else ("add", list(paths))


@dataclass(frozen=True)
class AddedImages:
    """What `add_images` did: `tried` files for `project`, one message per file `refused`, (file name, name in
    the project) of each one copied under another name, and (file name, image stem) of each one not copied because
    the project has that photo (the same bytes) already."""

    project: Any
    tried: int
    refused: list[str]
    renamed: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)

    @property
    def added(self) -> int:
        return self.tried - len(self.refused) - len(self.duplicates)

    def summary(self) -> str:
        """'2 images added to p; x.jpg added as x_2.jpg: the project already has a file named x.jpg; y.jpg not added:
        the project already has this photo as y.' (File → Add images… said nothing, a name the project had was
        silently copied as name_2, and a copy of a photo it had was added as a new image)."""
        n = self.added
        renamed = [f"{old} added as {new}: the project already has a file named {old}" for old, new in self.renamed]
        same = [f"{name} not added: the project already has this photo as {stem}" for name, stem in self.duplicates]
        said = "; ".join([f"{n} image{'' if n == 1 else 's'} added to {self.project.root.name}", *renamed, *same]) + "."
        they = ("It has", "it") if n == 1 else ("They have", "them")
        return said + (f" {they[0]} no prediction yet: Train → Predict all images ({key_text('predict_all')}) makes "
                       f"{they[1]} with the current model." if n else "")  # a trial found nothing said so


def add_images(project: Any, files: list[Path]) -> AddedImages:
    """Copy image files into `project` (core `Project.add_image`), skipping any whose bytes equal an image's the
    project has (or one added just before); run on a worker thread, it reads files."""
    refused, renamed, duplicates = [], [], []
    known = SameBytes({e.stem: project.image_path(e.stem) for e in project.images})
    for path in files:
        same = known.find(path)
        if same is not None:
            duplicates.append((path.name, same))
            continue
        try:
            entry = project.add_image(path)
        except MedsegError as err:
            refused.append(str(err))
        else:
            known.add(entry.stem, project.image_path(entry.stem))
            name = Path(entry.path).name
            if name != path.name:  # images/ holds a file of that name already
                renamed.append((path.name, name))
    return AddedImages(project, len(files), refused, renamed, duplicates)


class ProjectFiles(QObject):
    """Owns the recent-projects list and the Open Recent menu; reports `status(text)` and `errored(text)`."""

    status = Signal(str)
    errored = Signal(str)

    def __init__(self, window: QMainWindow, opener: OpenFlow, workers: WorkerHost, memory: WindowMemory,
                 project: Callable[[], Any]) -> None:
        super().__init__(window)
        self._window, self._opener, self._workers, self._project = window, opener, workers, project
        self.recent = RecentProjects(memory, data_dir())
        self.recent_menu = RecentMenu(self.recent, window)
        self.recent_menu.chosen.connect(self.open_folder)
        opener.opened.connect(lambda result: self.recent.add(result.project.root))
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        self._last: LastProjectOpening | None = None

    def ask_open(self) -> Any:
        return self._opener.ask(self.recent.start_folder("open"))

    def ask_add(self) -> Any:
        """File → Add images…: image files chosen in a dialog are added as dropped ones are (a returning-user trial
        found no way but dropping, or copying them in and reopening); the worker started, or None."""
        project = self._project()
        files = self.recent.ask("add", project.root.parent if project is not None else None, lambda start:
                                dialogs.choose_files(self._window, "Add images to the project", start, IMAGE_SUFFIXES))
        return self.drop(files) if files else None

    @Slot(Path)
    def open_folder(self, folder: Path, on_failed: Callable[[BaseException], object] | None = None,
                    on_opened: Callable[[], object] | None = None) -> Any:
        return self._opener.open_folder(folder, on_failed, on_opened)

    def reopen_last(self, fallback: Callable[[], object]) -> LastProjectOpening:
        """At start: open the last project, else (none, gone, unreadable) say why and call `fallback`."""
        self._last = LastProjectOpening(self.recent, self.open_folder, self.status.emit, fallback, self)
        return self._last

    # -- drag and drop -------------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(event, QDragMoveEvent):
            if _local_paths(event):
                event.acceptProposedAction()
                return True
        elif event.type() == QEvent.Type.Drop and isinstance(event, QDropEvent):
            paths = _local_paths(event)
            if paths:
                event.acceptProposedAction()
                self.drop(paths)
                return True
        return super().eventFilter(watched, event)

    def drop(self, paths: list[Path]) -> Any:
        """Open a dropped folder or add dropped images; anything else is refused with a message. Returns the
        worker started (None when nothing was started)."""
        what, items = sort_drop(paths)
        if what == "open":
            return self.open_folder(items[0])
        if what == "refuse":
            names = ", ".join(p.name for p in items[:3]) + (" …" if len(items) > 3 else "")
            self.errored.emit(f"Not opened: {names}. {DROP_HELP}")
            return None
        project = self._project()
        if project is None:
            self.errored.emit(f"No project is open to add these images to: open one first ({OPEN_FOLDER_MENU}), "
                              "or drop the folder that holds the images.")
            return None
        if project.read_only is not None:
            self.errored.emit(f"This project is open read-only ({project.read_only}); images cannot be added.")
            return None
        self.status.emit(f"Adding {len(items)} image(s) to {project.root.name}…")
        worker = FunctionWorker(add_images, project, items)
        self._workers.start(worker, on_done=self._added, on_error=self._add_failed)
        return worker

    def _added(self, added: AddedImages) -> None:
        """Say what was added in the status bar and a message box, as Import masks… and Export do (said only in the
        status bar, it was replaced by the image's size 4 s later: a trial found the summary in the log only)."""
        refused = f"{len(added.refused)} of {added.tried} image(s) were not added:\n" + "\n".join(added.refused)
        if len(added.refused) == added.tried:
            self.errored.emit(refused)
            return
        text = added.summary()
        log.info("%s", text)
        if added.refused:
            log.warning("%s", refused)

        def say() -> None:
            self.status.emit(text)
            dialogs.show_message(self._window, "Images added", text + (f"\n\n{refused}" if added.refused else ""),
                                 error=bool(added.refused))

        if added.added and self._project() is added.project:  # checked and listed like any opened folder, then said
            self._opener.open_folder(added.project.root, on_opened=say)
        else:
            say()

    def _add_failed(self, err: BaseException) -> None:
        self.errored.emit(f"The images were not added: {error_message(err)}")


def _local_paths(event: QDropEvent) -> list[Path]:
    mime = event.mimeData()
    urls = mime.urls() if mime is not None and mime.hasUrls() else []
    return [Path(u.toLocalFile()) for u in urls] if urls and all(u.isLocalFile() for u in urls) else []
