"""A file-system watch whose changes are reported once they settle: `settled` comes `quiet_ms` after the last change
of a watched file or folder. Atomic writes end in a rename, which the folder's watch sees; a file's own watch ends
when the file is replaced or removed (Qt forgets the path), so `keep` sets it again. Used by the read-only window's
project watch (qt.read_only) and the watch of the image shown (qt.image_file_watch)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal


class QuietWatch(QObject):
    settled = Signal()

    def __init__(self, quiet_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._quiet = QTimer(self)
        self._quiet.setSingleShot(True)
        self._quiet.setInterval(quiet_ms)
        self._quiet.timeout.connect(self.settled)
        self._watcher.fileChanged.connect(lambda _path: self._quiet.start())
        self._watcher.directoryChanged.connect(lambda _path: self._quiet.start())

    def watch(self, paths: Iterable[Path]) -> None:
        """Watch those of `paths` (files or folders) that exist, instead of what was watched; a change not reported
        yet is dropped."""
        self._quiet.stop()
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        existing = [str(p) for p in paths if Path(p).exists()]
        if existing:
            self._watcher.addPaths(existing)

    def keep(self, path: Path) -> None:
        """Watch the file `path` again when its watch ended (replaced by a rename, or written again) and it exists."""
        if str(path) not in self._watcher.files() and path.exists():
            self._watcher.addPath(str(path))
