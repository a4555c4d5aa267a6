"""Logging set-up for the two entry points (app.py, cli.py): the console plus a rotating log file in the user's
log folder (`paths.log_dir()`), so a crash report can point to a file. Never called at import time.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from medseg_gui.paths import log_dir

LOG_BYTES, LOG_BACKUPS = 2_000_000, 4  # at most ~10 MB of logs
FILE_FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (as logging's last-resort handler does), never a stale stream."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201 - a text stream
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


class CommandLineFormatter(logging.Formatter):
    """The command line's console lines: `medseg: warning: ...` (the level in lower case after the program's name),
    like its `medseg: error:` line."""

    def format(self, record: logging.LogRecord) -> str:
        return f"medseg: {record.levelname.lower()}: {super().format(record)}"


LIBRARIES = ("tensorflow", "absl", "keras", "jax", "jaxlib")  # their warnings go to the log file, not the console


def _ours_or_an_error(record: logging.LogRecord) -> bool:
    """The console's filter: a library's warning (TensorFlow's "5 out of the last 23 calls ... triggered
    tf.function retracing" reached the command line as "medseg: warning: ...") is kept for the log file only."""
    return record.levelno >= logging.ERROR or record.name.split(".")[0] not in LIBRARIES


@contextlib.contextmanager
def before_console_lines(callback: Callable[[], None]) -> Iterator[None]:
    """While inside, `callback()` runs before each line the console handler writes: `medseg`'s progress output ends
    there first (cli_progress), so a log line neither lands inside a redrawn line nor ahead of a report written
    late (`-v train` printed the run's last progress line after "Saved the new model.")."""
    def first(_record: logging.LogRecord) -> bool:
        callback()
        return True

    consoles = [h for h in logging.getLogger().handlers if isinstance(h, _Stderr)]
    for console in consoles:
        console.addFilter(first)  # after the console's own filter: called only for lines it writes
    try:
        yield
    finally:
        for console in consoles:
            console.removeFilter(first)


def setup_logging(name: str, console_level: int, console_format: str | logging.Formatter,
                  folder: Path | None = None) -> Path | None:
    """Log to stderr at `console_level` and to <folder>/<name>.log (rotating, INFO and up) and return that file.

    Calling it again replaces the handlers it added before. A folder that cannot be created or written is reported
    on the console and None is returned: the program runs on without a log file rather than failing to start.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "medseg", False)]:
        root.removeHandler(old)
        old.close()
    root.setLevel(logging.DEBUG if console_level <= logging.DEBUG else logging.INFO)
    console = _Stderr()
    console.medseg = True  # type: ignore[attr-defined]
    console.setLevel(console_level)
    console.addFilter(_ours_or_an_error)
    console.setFormatter(console_format if isinstance(console_format, logging.Formatter)
                         else logging.Formatter(console_format))
    root.addHandler(console)
    folder = log_dir() if folder is None else Path(folder)
    path = folder / f"{name}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                                       encoding="utf-8", delay=False)
    except OSError as err:
        logging.getLogger(__name__).warning("No log file: cannot write in %s (%s)", folder, err.strerror or err)
        return None
    handler.medseg = True  # type: ignore[attr-defined]
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    root.addHandler(handler)
    for noisy in ("PIL", "matplotlib", "h5py", "absl"):  # their INFO/DEBUG chatter is not ours to keep
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
