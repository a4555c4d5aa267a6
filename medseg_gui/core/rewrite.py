"""Rewriting a JSON file the app also reads, by the rule that nothing it could not read is overwritten or deleted.

metrics.json, uncertainty.json and provenance.json (predictions/<class>/), a model folder's current.json and
history.json, and the records of removed images and rescued labels are read, changed and written again; their readers
take a damaged one as empty, so the write that follows would replace it (provenance.json, which model made each map,
cannot be made again). The caller hands `rewrite_json` what its one reading of the file gave (the JSON, None for no
file, or the exception; project_format.read_rewritable_json), the reading its new content was made from: when that
reading failed, or found JSON of another kind than the one written (a list where an object belongs), the file there
now is first moved into .unreadable/ beside it (core.atomic.move_aside, as an unreadable label is), with a warning
naming both. It is not read a second time: a reading that failed once (an I/O error on a network drive, too many open
files) may succeed now, and the new content lacks its records all the same. When it cannot be moved (a read-only
folder) nothing is written: an OSError naming the file, which the caller reports as any failed write. A missing file
is not damaged. Every writer replaces these files with os.replace (core.atomic), so a reader sees a whole old or a
whole new file: one another medseg process is writing is never taken for damaged.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from medseg_gui.core.atomic import atomic_write_json, move_aside
from medseg_gui.core.project_format import ASIDE_UNREADABLE

log = logging.getLogger(__name__)


def read_problem(read: object, kind: type = dict) -> str | None:
    """Why `read`, what one reading of a JSON file gave (its JSON, None for no file, or the OSError / ValueError it
    raised), is not JSON of `kind` (dict: an object, list); None when it is, or when there was no file."""
    if read is None or isinstance(read, kind):
        return None
    if isinstance(read, OSError):
        return read.strerror or str(read)
    if isinstance(read, Exception):
        return str(read)
    return f"it is not a JSON {'list' if kind is list else 'object'}"


def keep_unreadable(path: str | os.PathLike[str], problem: str) -> Path | None:
    """Before a new `path` is written: the file there, which could not be read (`problem`), moved into .unreadable/
    beside it as it is now (a warning names both); returns where it went, None when there is none. OSError naming
    `path` when it cannot be moved (it stays as it is, and nothing may be written over it)."""
    path = Path(path)
    try:
        dest = move_aside(path, ASIDE_UNREADABLE)
    except OSError as err:
        if isinstance(err, FileNotFoundError) and not path.exists():
            return None  # none there (or moved away meanwhile: another medseg process kept it)
        raise OSError(err.errno, f"it cannot be read ({problem}) and could not be moved to {ASIDE_UNREADABLE}/ "
                                 f"beside it ({err.strerror or err})", str(path)) from None
    log.warning("%s could not be read (%s); it was moved to %s, as it was, and a new one is written.", path, problem,
                dest)
    return dest


def rewrite_json(path: str | os.PathLike[str], obj: dict | list, read: object) -> Path:
    """core.atomic.atomic_write_json(path, obj) for a file the app reads back; `read` is what the reading `obj` was
    made from gave (`read_problem`). When that reading could not use the file, it is `keep_unreadable` first, whatever
    it holds now. OSError when either fails (nothing was written then)."""
    problem = read_problem(read, list if isinstance(obj, list) else dict)
    if problem is not None:
        keep_unreadable(path, problem)
    return atomic_write_json(path, obj)
