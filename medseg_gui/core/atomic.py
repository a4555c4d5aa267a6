"""Crash-safe file writes: a reader sees either the old file or the complete new one, never a half-written file.

Temp files are hidden, live next to their target and carry the writer's host and pid in their name
(`.<name>.medseg-<host>-<pid>-XXXXXXXX.tmp`), so `sweep_temp_files` can remove those a killed process left behind
without touching a file another live writer (or a colleague's machine on a shared folder) is still writing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

STALE_AFTER_S = 600.0  # a temp file of a live process on this host untouched this long is stale (pid reused)
FOREIGN_STALE_AFTER_S = 3600.0  # files of other hosts or older versions: age only, with room for clock skew
_OWNED = re.compile(r"^\..+\.medseg-(?P<host>[A-Za-z0-9]*)-(?P<pid>\d+)-[a-z0-9_]{8}\.(?:tmp|keras|json|weights\.h5)$")
_LEGACY = re.compile(r"^(?:\..+\.(?:png|json|h5|hdf5)\.[a-z0-9_]{8}\.tmp|\.candidate-[a-z0-9_]{8}\.keras)$")


def _process_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import (changing the umask is process-wide, so it is not done per write from worker threads).
_UMASK = _process_umask()
_NEW_FILE_MODE = 0o666 & ~_UMASK


def new_file_mode() -> int:
    """The permission bits a plain open() would give a new file (0o666 minus the umask)."""
    return _NEW_FILE_MODE


def new_dir_mode() -> int:
    """The permission bits a plain mkdir() would give a new folder (0o777 minus the umask)."""
    return 0o777 & ~_UMASK


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16]


def make_temp(folder: Path, name: str, suffix: str = ".tmp") -> tuple[int, Path]:
    """(fd, path) of a new hidden temp file in `folder` for `name`, owner-tagged and with the umask's mode."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.medseg-{_host_tag()}-{os.getpid()}-", suffix=suffix,
                                    dir=folder)
    if os.name == "posix":
        try:
            os.fchmod(fd, _NEW_FILE_MODE)  # mkstemp makes 0600 files
        except OSError:
            log.debug("file system of %s does not keep permission bits", folder)
    return fd, Path(tmp_name)


def _owner_is_dead(host: str, pid: int) -> bool:
    """True only when the owner ran on this host and no such process exists (never guessed for other hosts)."""
    if os.name != "posix" or host != _host_tag() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists but belongs to another user
    return False


def is_temp_name(name: str) -> bool:
    """Whether `name` is a temp file this program writes (owner-tagged or the older untagged form)."""
    return bool(_OWNED.match(name) or _LEGACY.match(name))


def _is_stale(owned: re.Match | None, age_s: float) -> bool:
    if owned is not None and owned["host"] == _host_tag():
        return age_s > STALE_AFTER_S or _owner_is_dead(owned["host"], int(owned["pid"]))
    return age_s > FOREIGN_STALE_AFTER_S  # another machine on a shared folder, or an untagged older name


def sweep_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove this program's temp files in `folder` (not recursive) that no live writer can still be using: written
    on this host by a process that no longer exists, or untouched for long (STALE_AFTER_S on this host,
    FOREIGN_STALE_AFTER_S otherwise). Returns the removed paths; any other file is left alone; never raises."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        owned, legacy = _OWNED.match(entry.name), _LEGACY.match(entry.name)
        if not (owned or legacy):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if _is_stale(owned, now - entry.stat(follow_symlinks=False).st_mtime):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError as exc:
            log.debug("could not sweep temp file %s: %s", entry.path, exc)
    if removed:
        log.info("removed %d stale temporary file(s) in %s", len(removed), folder)
    return removed


def fsync_dir(folder: Path) -> None:
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
    fd, tmp = make_temp(target.parent, target.name)
    try:
        # give the result the mode a plain open() would (or the replaced file's mode)
        if os.name == "posix" and target.exists():
            os.fchmod(fd, target.stat().st_mode & 0o777)
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
    fsync_dir(target.parent)
    return target


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Serialise `obj` as indented UTF-8 JSON and write it atomically (see atomic_write_bytes)."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=True) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"))


PROBE_BYTES = 64 * 1024  # what write_problem writes: a full disk refuses it (an empty file it still created)


def write_problem(folder: Path) -> str | None:
    """Why a file cannot be created in `folder` now (made read-only or full), or None: checked by writing PROBE_BYTES
    to a temp file, synced, and removing it (an empty file was created on a full disk)."""
    path = None
    try:
        fd, path = make_temp(folder, "write-probe")
        try:
            os.write(fd, bytes(PROBE_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return f"the project folder cannot be written ({exc.strerror or exc})"
    finally:
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()
    return None


def untaken(path: Path, numbered: Callable[[int], str]) -> Path:
    """`path` when nothing lies there, else the first `path.with_name(numbered(n))`, n = 2, 3, …, that is free: one
    rule for every new file or folder that must not land on an older one (a second rescue, removal or backup within
    the same second; a photo of the same name)."""
    found, n = path, 2
    while found.exists():
        found, n = path.with_name(numbered(n)), n + 1
    return found


def move_aside(path: str | os.PathLike[str], folder: str) -> Path:
    """Move `path` into the subfolder `folder` beside it (".unreadable", ".replaced"), under a name not taken there
    (`<stem>_2<suffix>`, …): a file the app could not read, or that another program changed, is kept, never
    overwritten or deleted. Returns the new path; OSError when it cannot be moved (it then stays where it was)."""
    src = Path(path)
    dest = untaken(src.parent / folder / src.name, lambda n: f"{src.stem}_{n}{src.suffix}")
    dest.parent.mkdir(exist_ok=True)
    os.replace(src, dest)
    return dest


def file_version(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """(inode, size, modification time in ns) of a file, to tell whether another program replaced or changed it
    since; None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class FileVersions:
    """Each file's version (`file_version`; None = no file) as this program last read it to edit it (`seen`) or
    wrote it (`written`), so that a write can tell a file another program changed meanwhile (`changed`) and keep it
    (`move_aside`). Thread-safe: a version `seen` on one thread while another writes the file is not recorded over
    the writer's (newer) one."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[int, int, int] | None] = {}
        self._writes: dict[Path, int] = {}
        self._lock = threading.Lock()

    def seen(self, path: Path) -> None:
        with self._lock:
            writes = self._writes.get(path, 0)
        version = file_version(path)
        with self._lock:
            if self._writes.get(path, 0) == writes:
                self._known[path] = version

    def written(self, path: Path) -> None:
        with self._lock:
            self._writes[path] = self._writes.get(path, 0) + 1
            self._known[path] = file_version(path)

    def changed(self, path: Path) -> bool:
        """Whether `path` is there in a version other than the one known (False for a file never seen nor
        written)."""
        with self._lock:
            if path not in self._known:
                return False
            known = self._known[path]
        now = file_version(path)
        return now is not None and now != known
