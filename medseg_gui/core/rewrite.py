"""Rewriting a JSON file the app also reads, by the rule that nothing it could not read is overwritten or deleted.

metrics.json, uncertainty.json and provenance.json (predictions/<class>/), a model folder's current.json and
history.json, and the records of removed images and rescued labels are read, changed and written again; their readers
take a damaged one as empty, so the write that follows would replace it (provenance.json, which model made each map,
cannot be made again). `rewrite_json` first moves a file there that cannot be read, is not JSON, or is JSON of another
kind than the one written (a list where an object belongs) into .unreadable/ beside it (core.atomic.move_aside, as an
unreadable label is), with a warning naming both. When it cannot be moved (a read-only folder) nothing is written: an
OSError naming the file, which the caller reports as any failed write. A missing file is not damaged. Every writer
replaces these files with os.replace (core.atomic), so a reader sees a whole old or a whole new file: one another
medseg process is writing is never taken for damaged.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from medseg_gui.core.atomic import atomic_write_json, move_aside
from medseg_gui.core.project_format import ASIDE_UNREADABLE, read_json_file

log = logging.getLogger(__name__)


def json_problem(path: Path, kind: type = dict) -> str | None:
    """Why the file at `path` cannot be read as JSON of `kind` (dict: an object, list); None when it can, or when
    there is no file."""
    try:
        data = read_json_file(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        return err.strerror or str(err)
    except ValueError as err:
        return str(err)
    return None if isinstance(data, kind) else f"it is not a JSON {'list' if kind is list else 'object'}"


def keep_unreadable(path: str | os.PathLike[str], kind: type = dict) -> Path | None:
    """Before a new `path` is written: the file there, when it cannot be read as JSON of `kind`, moved into
    .unreadable/ beside it (a warning names both); returns where it went, None when there was nothing to keep.
    OSError naming `path` when it cannot be moved (it stays as it is, and nothing may be written over it)."""
    path = Path(path)
    problem = json_problem(path, kind)
    if problem is None:
        return None
    try:
        dest = move_aside(path, ASIDE_UNREADABLE)
    except OSError as err:
        if isinstance(err, FileNotFoundError) and not path.exists():
            return None  # moved away meanwhile (another medseg process kept it)
        raise OSError(err.errno, f"it cannot be read ({problem}) and could not be moved to {ASIDE_UNREADABLE}/ "
                                 f"beside it ({err.strerror or err})", str(path)) from None
    log.warning("%s could not be read (%s); it was moved to %s, as it was, and a new one is written.", path, problem,
                dest)
    return dest


def rewrite_json(path: str | os.PathLike[str], obj: dict | list) -> Path:
    """core.atomic.atomic_write_json(path, obj) for a file the app reads back, after `keep_unreadable(path)` for a
    JSON of `obj`'s kind; OSError when either fails (nothing was written then)."""
    keep_unreadable(path, list if isinstance(obj, list) else dict)
    return atomic_write_json(path, obj)
