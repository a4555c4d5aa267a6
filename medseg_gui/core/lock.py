"""One writer per project folder: a lock file `<project>/.medseg.lock` holding the owner's host, pid and start time.

`acquire(root)` creates it with O_CREAT | O_EXCL, so of two processes only one succeeds. A lock left behind by a
process that died (same host, pid gone or reused by another program) is taken over; a lock of a live process, or of
another host, raises `ProjectLockedError` naming the owner. A folder where the file cannot be created, or a stale one
cannot be taken over (read-only media, no permission, disk full), or whose lock is not a readable regular file (a FIFO
would block every reader) raises `ProjectReadOnlyError`. Callers that only read need no lock.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from medseg_gui.core.errors import ProjectError

log = logging.getLogger(__name__)

LOCK_FILE = ".medseg.lock"
EMPTY_LOCK_GRACE_S = 30.0  # a lock file without content younger than this is being written by its owner
MAX_LOCK_BYTES = 64 * 1024  # a lock file holds ~150 bytes of JSON
NOT_REGULAR = "not a regular file but a folder, pipe or device"


class ProjectLockedError(ProjectError):
    """The project is open for editing in another process; `owner` says which."""

    def __init__(self, message: str, owner: LockOwner | None) -> None:
        super().__init__(message)
        self.owner = owner


class ProjectReadOnlyError(ProjectError):
    """The project folder cannot be written (read-only media, permissions, disk full)."""


@dataclass(frozen=True)
class LockOwner:
    """Who holds a lock: `started` is an ISO time, `proc_start` the kernel start tick of its pid (Linux; 0 unknown)."""

    host: str
    pid: int
    started: str
    app: str = "medseg"
    proc_start: int = 0

    def describe(self) -> str:
        return f"{self.app} (process {self.pid} on {self.host}, since {self.started.replace('T', ' ')[:19]})"


def _proc_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (Linux; [] when unknown): [0] state, [19] start."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _proc_start(pid: int) -> int:
    """The start time of `pid` in clock ticks since boot (Linux /proc), 0 when unknown; tells a reused pid apart."""
    try:
        return int(_proc_fields(pid)[19])
    except (ValueError, IndexError):
        return 0


def _pid_alive(pid: int) -> bool:
    """False for a pid that is gone or a zombie (killed, not reaped yet by its parent: a fault-injection trial's
    window killed with kill -9 still "held" its lock, and the next window opened the project read-only)."""
    if pid <= 0:
        return False
    if _proc_fields(pid)[:1] in (["Z"], ["X"]):
        return False
    if os.name != "posix":  # os.kill(pid, 0) would signal the process on Windows: never guess there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return True
    return True


def is_stale(owner: LockOwner) -> bool:
    """True when the owner is certainly gone: same host and its pid is dead or now belongs to another process."""
    if owner.host != socket.gethostname():
        return False
    if not _pid_alive(owner.pid):
        return True
    now = _proc_start(owner.pid)
    return bool(owner.proc_start and now and now != owner.proc_start)


def holder(root: str | os.PathLike[str]) -> LockOwner | None:
    """Who holds the lock of `root` now: the owner its lock file names while that one runs, else None (no lock file,
    its owner gone, or it cannot be read)."""
    owner = read_owner(root)
    return owner if owner is not None and not is_stale(owner) else None


def _read_lock(path: Path) -> str:
    """The text of the lock file `path`; FileNotFoundError when absent, OSError when it is not a regular file. Never
    blocks: a FIFO is refused before it is opened, and opened without waiting for a writer if it appears meanwhile."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(errno.EINVAL, NOT_REGULAR, str(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, NOT_REGULAR, str(path))
        return os.read(fd, MAX_LOCK_BYTES).decode("utf-8", errors="replace")
    finally:
        os.close(fd)


def read_owner(root: str | os.PathLike[str]) -> LockOwner | None:
    """The owner recorded in `root`'s lock file; None when there is no lock file or it cannot be read or parsed."""
    try:
        return _owner_of(_read_lock(Path(root) / LOCK_FILE))
    except OSError:
        return None


def _owner_of(text: str) -> LockOwner | None:
    """The owner a lock file's text records; None when it cannot be parsed."""
    try:
        data = json.loads(text)
        return LockOwner(str(data["host"]), int(data["pid"]), str(data["started"]), str(data.get("app", "medseg")),
                         int(data.get("proc_start", 0)))
    except (ValueError, KeyError, TypeError):
        return None


def locked_message(root: Path, owner: LockOwner | None) -> str:
    """Why `root` cannot be locked: `owner` (None: unknown) holds it (writing commands; `medseg export`)."""
    who = owner.describe() if owner is not None else "another program"
    return (f"The project {root} is already open for editing by {who}. Close it there first. If that program is "
            f"no longer running on that computer, delete the file {root / LOCK_FILE}.")


class ProjectLock:
    """A held lock; `release()` removes the file if it is still ours (safe to call twice). `took_over`: a sentence
    saying whose stale lock it replaced (a program that ended without closing the project), or ""."""

    def __init__(self, root: Path, owner: LockOwner, took_over: str = "") -> None:
        self.root, self.owner, self.path, self.took_over = root, owner, root / LOCK_FILE, took_over

    def held(self) -> bool:
        """True while the lock file still names this owner (False once it was deleted, taken over or released)."""
        return self.owner.pid != 0 and read_owner(self.root) == self.owner

    def check(self) -> str | None:
        """Before a write: None when the lock is still ours; a lock file someone deleted is silently created again
        (same owner). Else why this process must not write (another program took the lock over)."""
        if self.held():
            return None
        if self.owner.pid != 0:
            with contextlib.suppress(OSError):
                if _create(self.path, self.owner):
                    log.warning("The lock file %s was gone; created it again", self.path)
                    return None
        return _taken_over(self.root)

    def release(self) -> None:
        """Remove the lock file if it is ours; a folder that became read-only keeps it (logged: the next opener
        finds its owner gone and takes it over), and closing or switching projects goes on."""
        if read_owner(self.root) == self.owner:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("Could not remove the lock file %s (%s); it stays until the project is opened again",
                            self.path, exc.strerror or exc)
        self.owner = LockOwner("", 0, "")  # released: never removes a lock taken over later

    def __enter__(self) -> ProjectLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _create(path: Path, owner: LockOwner) -> bool:
    """Create the lock file exclusively with the owner's JSON; False if it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, json.dumps(asdict(owner)).encode("utf-8"))
    except OSError:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return True


def _take_over(path: Path, stale_text: str) -> bool:
    """Remove a stale lock unless another process replaced it meanwhile (then it is put back); True when removed."""
    aside = path.with_name(f"{LOCK_FILE}.stale.{os.getpid()}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return False
    try:
        ours = _read_lock(aside) == stale_text
    except OSError:
        ours = False  # cannot tell: give it back
    if not ours:  # someone else's fresh lock: give it back
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
    aside.unlink(missing_ok=True)
    return ours


def _stale_text(path: Path) -> str | None:
    """The lock file's text if its owner is gone (or it stayed empty/damaged past the grace time), else None."""
    try:
        text = _read_lock(path)
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return ""
    owner = read_owner(path.parent)
    if owner is None:
        return text if age > EMPTY_LOCK_GRACE_S else None
    return text if is_stale(owner) else None


def acquire(root: str | os.PathLike[str], app: str = "medseg") -> ProjectLock:
    """Lock the project at `root` for this process; ProjectLockedError / ProjectReadOnlyError as described above."""
    folder = Path(root)
    path = folder / LOCK_FILE
    owner = LockOwner(socket.gethostname(), os.getpid(), datetime.now().isoformat(timespec="seconds"), app,
                      _proc_start(os.getpid()))
    took_over = ""
    for _attempt in range(3):
        try:
            if _create(path, owner):
                return ProjectLock(folder, owner, took_over)
        except OSError as err:
            if err.errno in (errno.EEXIST,):
                continue
            raise ProjectReadOnlyError(
                f"The project folder {folder} cannot be written ({err.strerror or err}).") from None
        try:
            stale = _stale_text(path)
        except OSError as err:  # not a regular file, or no permission to read it: nobody can tell who holds it
            raise ProjectReadOnlyError(_unreadable_message(folder, err)) from None
        if stale is None:
            raise ProjectLockedError(locked_message(folder, read_owner(folder)), read_owner(folder))
        try:
            taken = _take_over(path, stale)
        except OSError as err:  # a read-only folder keeps the stale lock: open it read-only, like any such folder
            raise ProjectReadOnlyError(
                f"The project folder {folder} cannot be written ({err.strerror or err}).") from None
        if taken:  # logged once done: a folder that turned out read-only gets its one message, not this too
            gone = _owner_of(stale)  # said in the window too (fault-injection trial: only the log said it)
            who = gone.describe() if gone is not None else "a program (its lock file was empty or damaged)"
            took_over = (f"took over its lock from {who}, which ended without closing it: the labels are as that "
                         "program last saved them")  # "was released" read as if that program had let go (trial)
            log.warning("Took over the lock of the project %s from %s, which ended without closing it; the labels "
                        "are as it last saved them", folder, who)  # in words: it was the lock file's JSON (trial)
    raise ProjectLockedError(locked_message(folder, read_owner(folder)), read_owner(folder))


def _unreadable_message(root: Path, err: OSError) -> str:
    return (f"The project folder {root} cannot be edited: its lock file {root / LOCK_FILE} cannot be read "
            f"({err.strerror or err}); if no program has the project open, remove that lock file and open the "
            "project again.")


class LockWatch:
    """The write check of a project whose lock this object does not hold (the window's workers, its training child,
    scripts): writing goes on while nobody holds the lock, its holder is gone, or it is held by this process or its
    parent (the window that started a training child); it stops once another program holds the lock.
    Never creates or removes the lock file."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def check(self) -> str | None:
        """None: go; else why this process must not write (like `ProjectLock.check`)."""
        owner = read_owner(self.root)
        if owner is not None and owner.host == socket.gethostname() and owner.pid in (os.getpid(), os.getppid()):
            return None
        try:
            if _stale_text(self.root / LOCK_FILE) is not None:  # no lock file, or its owner is gone
                return None
        except OSError as err:
            return _unreadable_message(self.root, err).replace("The project folder", "the folder", 1).rstrip(".")
        return _held_elsewhere(self.root, "holds")  # it may never have been this process's: not "took over"


LOCK_ELSEWHERE = "this project's lock, so nothing more"  # in every reason `check` gives: a lock, not a disk problem


def _taken_over(root: Path) -> str:
    return _held_elsewhere(root, "took over")


def _held_elsewhere(root: Path, verb: str) -> str:
    """Why nothing is written into `root`: its lock's owner `verb` ("took over", "holds") this project's lock."""
    owner = read_owner(root)
    who = owner.describe() if owner is not None else "another program"
    return f"{who} {verb} {LOCK_ELSEWHERE} is written into {root}; close that program, then open the project again"


@contextlib.contextmanager
def project_lock(root: str | os.PathLike[str], app: str = "medseg") -> Iterator[ProjectLock]:
    """`with project_lock(root):` for commands that write into a project (CLI train/predict/import)."""
    lock = acquire(root, app)
    try:
        yield lock
    finally:
        lock.release()


def lock_or_reason(root: str | os.PathLike[str], app: str = "medseg") -> tuple[ProjectLock | None, str | None]:
    """For a window: (lock, None) when it may edit, else (None, why it must open the project read-only)."""
    try:
        return acquire(root, app), None
    except ProjectLockedError as err:
        return None, editing_elsewhere(err.owner)
    except ProjectReadOnlyError as err:
        return None, str(err).rstrip(".").replace("The project folder", "the folder", 1)


def editing_elsewhere(owner: LockOwner | None) -> str:
    """Why a window has the project read-only while `owner` holds its lock."""
    return f"it is open for editing in {owner.describe() if owner is not None else 'another program'}"
