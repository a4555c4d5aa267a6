"""File → Open Recent, reopening the last project at start, and the folders the Open, Export, Import masks and Add
images dialogs start in.

Everything is kept in the window's settings file (`WindowMemory`); without one nothing is remembered (tests).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMenu, QWidget

from medseg_gui.core.demo import demo_title
from medseg_gui.qt.window_state import WindowMemory
from medseg_gui.workers.base import error_message

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RECENT = 8
RECENT_KEY = "recent/projects"


class RecentProjects:
    """The most recently opened projects, newest first (at most MAX_RECENT), and the last folder per dialog.

    A folder inside `data_dir` (the demo copies) is listed, but never used as a dialog's start folder: it is hidden
    from the user's own files."""

    def __init__(self, memory: WindowMemory, data_dir: Path | None = None) -> None:
        self._memory = memory
        self._data_dir = data_dir

    def paths(self) -> list[Path]:
        raw = self._memory.value(RECENT_KEY)
        try:
            items = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            log.warning("the list of recent projects in the settings file is damaged; starting a new one")
            items = []
        return [Path(p) for p in items if isinstance(p, str) and p][:MAX_RECENT]

    def last(self) -> Path | None:
        paths = self.paths()
        return paths[0] if paths else None

    def add(self, root: Path) -> None:
        root = Path(root)
        self._store([root] + [p for p in self.paths() if p != root])
        if not self._is_data(root):
            self.remember_folder("open", root.parent)

    def remove(self, root: Path) -> None:
        self._store([p for p in self.paths() if p != Path(root)])

    def clear(self) -> None:
        self._store([])

    def start_folder(self, kind: str) -> Path | None:
        """Where the `kind` ("open" / "export" / "import" / "add") dialog starts: the folder used last time, if it
        still exists."""
        value = self._memory.value(f"folders/{kind}")
        folder = Path(value) if isinstance(value, str) and value else None
        return folder if folder is not None and folder.is_dir() and not self._is_data(folder) else None

    def remember_folder(self, kind: str, folder: Path) -> None:
        if not self._is_data(folder):
            self._memory.set_value(f"folders/{kind}", str(folder))

    def ask(self, kind: str, fallback: Path | None, dialog: Callable[[Path | None], T]) -> T:
        """`dialog(start)` for the `kind` dialog, starting in the folder used last, else in `fallback`; the folder
        chosen (or the first file's, for a list of files) is remembered for the next time; None or [] (cancelled)
        leaves it."""
        chosen = dialog(self.start_folder(kind) or fallback)
        if isinstance(chosen, list) and chosen:
            self.remember_folder(kind, chosen[0].parent)
        elif isinstance(chosen, Path):
            self.remember_folder(kind, chosen)
        return chosen

    def _store(self, paths: list[Path]) -> None:
        self._memory.set_value(RECENT_KEY, json.dumps([str(p) for p in paths[:MAX_RECENT]]))

    def _is_data(self, folder: Path) -> bool:
        return self._data_dir is not None and Path(folder).resolve().is_relative_to(self._data_dir.resolve())

    def demo_title(self, path: Path) -> str | None:
        """The demo's name when `path` is a demo copy in the data folder (core.demo.demo_title), else None."""
        return demo_title(path, self._data_dir) if self._data_dir is not None else None


class RecentMenu(QMenu):
    """File → Open Recent: rebuilt each time it opens; a project folder that is gone is shown disabled."""

    chosen = Signal(Path)

    def __init__(self, recent: RecentProjects, parent: QWidget | None = None) -> None:
        super().__init__("Open &recent", parent)
        self._recent = recent
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    @Slot()
    def rebuild(self) -> None:
        self.clear()
        paths = self._recent.paths()
        for i, path in enumerate(paths, start=1):
            present = path.is_dir()
            name = self._recent.demo_title(path) or path.name  # a demo copy's folder: "demo"
            action = self.addAction(f"&{i}  {name}" + ("" if present else "  (missing)"))
            action.setToolTip(str(path) if present else f"{path} is no longer there (moved, renamed or unplugged)")
            action.setStatusTip(action.toolTip())
            action.setEnabled(present)
            action.triggered.connect(lambda _=False, p=path: self.chosen.emit(p))
        if not paths:
            self.addAction("No recent projects").setEnabled(False)
        self.addSeparator()
        clear = self.addAction("&Clear list")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self._recent.clear)
        self.setToolTipsVisible(True)


class LastProjectOpening(QObject):
    """At start, reopen the last project; when there is none, it is gone, or it cannot be opened, say so in the
    status bar and call `fallback` (the first-start choice of a demo) instead."""

    def __init__(self, recent: RecentProjects, open_folder: Callable[..., Any], say: Callable[[str], None],
                 fallback: Callable[[], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._say, self._fallback = say, fallback
        self.path = recent.last()
        if self.path is None:
            fallback()
        elif not self.path.is_dir():
            self._give_up(f"The last project {self.path} is no longer there (moved, renamed or unplugged).")
        elif open_folder(self.path, self._failed) is None:  # a failed open is reported, then calls _failed
            self._give_up(f"The last project {self.path} was not opened.")

    def _failed(self, error: BaseException) -> None:
        self._give_up(f"The last project {self.path} could not be opened: {error_message(error).splitlines()[0]}")

    def _give_up(self, text: str) -> None:
        log.warning("%s", text)
        self._say(text)
        self._fallback()
