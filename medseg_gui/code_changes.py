"""Was medseg_gui changed on disk while the window runs (a `git pull`, `pip install -U` or `make` reinstall with the
window open)? Training and prediction run in a child process (child_process), which imports the package's files as
they are now, so after an update a job may fail with an ImportError, AttributeError or unpickling error (or the child
die as it starts) that tells the user nothing. `CodeFingerprint` records the size and modification time of every .py
file of the package once at start-up, on a thread (`take_soon`: about 180 stats, perhaps slow on a network drive);
only after a child failed does `child_process.spawned` ask it what `changed()` since, and say that the window must be
restarted (`restart_message`). No Qt here.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TAKE_WAIT_S = 30.0  # how long `changed()` waits for a fingerprint still being taken


def code_stats(root: Path) -> dict[str, tuple[int, int]]:
    """(size, modification time in ns) of every .py file under `root`, by its path relative to `root` ({}: gone)."""
    stats = {}
    for path in root.rglob("*.py"):
        try:
            stat = path.stat()
        except OSError:  # removed while listed
            continue
        stats[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return stats


class CodeFingerprint:
    """The package's .py files as they were when `take` (or `take_soon`) ran; none taken: nothing `changed()`."""

    def __init__(self, root: Path = PACKAGE_DIR) -> None:
        self.root = root
        self._stats: dict[str, tuple[int, int]] | None = None
        self._taking: threading.Thread | None = None

    def take(self) -> None:
        self._stats = code_stats(self.root)
        log.debug("fingerprint of %d code files in %s taken", len(self._stats), self.root)

    def take_soon(self) -> None:
        """`take` on a thread (the window's start must not wait for the disk)."""
        self._taking = threading.Thread(target=self.take, name="medseg-code-fingerprint", daemon=True)
        self._taking.start()

    def changed(self) -> list[str]:
        """The files (relative to `root`, sorted) added, removed or rewritten since the fingerprint was taken; [] when
        none was (tests, the CLI). Reads the folder again: call it off the GUI thread, after a failure only."""
        if self._taking is not None:
            self._taking.join(TAKE_WAIT_S)
        before = self._stats
        if before is None:
            return []
        now = code_stats(self.root)
        return sorted(name for name in before.keys() | now.keys() if before.get(name) != now.get(name))


def restart_message(root: Path, changed: list[str], failure: str = "") -> str:
    """What the user reads when a child failed (`failure`: its own message, kept: it may say that a model was saved,
    or that the computer ran out of memory) after the package's files `changed` (relative to `root`)."""
    others = len(changed) - 1
    which = f"{root / changed[0]}" + (f" and {others} other file{'s' if others > 1 else ''}" if others else "")
    said = f"\n\nWhat failed: {failure}" if failure else ""
    return (f"medseg_gui was updated on disk after this window opened ({which} changed), so training and prediction "
            f"cannot run in it any more: close this window and open it again. Labelling is not affected.{said}")
