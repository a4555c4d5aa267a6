"""Which file of a set holds the same bytes as another: File → Add images… and dropped images skip a photo the
project has already (a verification trial added a byte-identical copy from another folder as a new image, so the
same photo could land in training and validation and inflate the scores).

Cheap on purpose: each known file is stat-ed once, and only files of the candidate's size are read and compared.
Reading is I/O: call it from a worker thread, not the GUI thread.
"""

from __future__ import annotations

import filecmp
import os
from collections.abc import Mapping
from pathlib import Path


class SameBytes:
    """An index of known files (key → path) by size; `find(path)` is the key of one whose bytes equal `path`'s."""

    def __init__(self, files: Mapping[str, Path]) -> None:
        self._by_size: dict[int, list[tuple[str, Path]]] = {}
        for key, path in files.items():
            self.add(key, path)

    def add(self, key: str, path: Path) -> None:
        """Know `path` as `key` too (e.g. a file just copied in); a file that cannot be stat-ed is left out."""
        try:
            size = os.stat(path).st_size
        except OSError:
            return
        self._by_size.setdefault(size, []).append((key, Path(path)))

    def find(self, path: Path) -> str | None:
        """The key of a known file with the same bytes as `path` (the file itself excluded), or None."""
        try:
            size = os.stat(path).st_size
        except OSError:
            return None
        for key, known in self._by_size.get(size, []):
            try:
                if not os.path.samefile(known, path) and filecmp.cmp(known, path, shallow=False):
                    return key
            except OSError:
                continue
        return None
