"""Crash-safe file writes: a reader sees either the old file or the complete new one, never a half-written file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def _process_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import (changing the umask is process-wide, so it is not done per write from worker threads).
_NEW_FILE_MODE = 0o666 & ~_process_umask()


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX only; Windows cannot open a directory and does not need it)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        log.debug("fsync of folder %s not supported", folder)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` via a temp file in the same folder + flush + fsync + os.replace; returns the path.

    Parent folders are created. On any failure the temp file is removed and the previous file is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        # mkstemp makes 0600 files; give the result the mode a plain open() would (or the replaced file's mode).
        mode = target.stat().st_mode & 0o777 if target.exists() else _NEW_FILE_MODE
        if os.name == "posix":
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove temporary file %s", tmp)
        raise
    _fsync_dir(target.parent)
    return target


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Serialise `obj` as indented UTF-8 JSON and write it atomically (see atomic_write_bytes)."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=True) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))
