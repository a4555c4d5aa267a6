"""The file of the image shown, watched so that each replacement on disk is read again, not only the first.

An outside trial replaced an open image's file with another photo, then put the original back: the window noticed
the first change (at a stroke) and kept showing the other photo after the second until the image was reopened. Now
the file and its folder are watched: a watch on the file alone ends when the file is replaced by a rename or removed
and written again (Qt's QFileSystemWatcher forgets the path), so it would fire once; the folder's watch sees those and
the file's watch is set again each time. A change counts once things settle (QUIET_MS) and the file's version
(core.atomic.file_version) differs from the one read; a file gone for now is not a change (its return is).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from medseg_gui.core.atomic import file_version
from medseg_gui.qt.quiet_watch import QuietWatch


class ImageFileWatch(QObject):
    """`watch(stem, path)` before the image is read; `changed(stem)` when its file is another one since (`check()`
    asks at once, e.g. once the image is shown)."""

    changed = Signal(str)
    QUIET_MS = 300

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stem: str | None = None
        self._path: Path | None = None
        self._version: tuple[int, int, int] | None = None
        self._watch = QuietWatch(self.QUIET_MS, self)
        self._watch.settled.connect(self.check)

    def watch(self, stem: str | None, path: Path | None = None) -> None:
        """Watch `path`, the file of image `stem`, as it is now (call it before reading the file); None: nothing."""
        self._stem, self._path = stem, None if stem is None or path is None else Path(path)
        if self._path is not None:
            self._version = file_version(self._path)
        self._watch.watch([] if self._path is None else [self._path.parent, self._path])

    def check(self) -> None:
        """Emit `changed` when the file is there and not the version `watch` saw (watched again if it was replaced)."""
        if self._path is None or self._stem is None:
            return
        self._watch.keep(self._path)  # replaced by a rename, or written again: watched again
        version = file_version(self._path)
        if version is not None and version != self._version:  # said until the image is read again (`watch`)
            self.changed.emit(self._stem)
