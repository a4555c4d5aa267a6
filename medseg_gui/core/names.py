"""File names as users have them: which ones a project can list, and how to name any of them in a message.

On Linux a file name is bytes; Python hands over names that are not valid UTF-8 (e.g. from a zip made on Windows)
as strings with lone surrogates, which cannot be written to project.json, shown by Qt or logged to a UTF-8 stream.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def shown_name(name: str | os.PathLike[str]) -> str:
    """`name` (a name or path) as printable text: undecodable bytes become '�', control characters '\\xNN'."""
    text = os.fspath(name)
    try:
        text = os.fsencode(text).decode("utf-8", "replace")
    except UnicodeError:  # a surrogate the file-system codec cannot turn back into bytes (not on Linux)
        text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(c if unicodedata.category(c) != "Cc" else repr(c)[1:-1] for c in text)


def name_problem(name: str) -> str | None:
    """Why `name` (a file name, stem or path) cannot be listed in a project, or None when it can."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8 text (rename the file)"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "contains a control character (rename the file)"
    return None


def file_name_problem(name: str) -> str | None:
    """`name_problem` for a file's own name (not a path), which also becomes an image's stem: a backslash is a folder
    separator on Windows, and a stem with one was refused when the project was opened again."""
    if "\\" in name:
        return "contains a backslash, a folder separator on Windows (rename the file)"
    return name_problem(name)


def listable(paths: Iterable[Path]) -> list[Path]:
    """The `paths` whose names a project can list; each other one is skipped with a warning that names it."""
    kept = []
    for path in paths:
        problem = file_name_problem(path.name)
        if problem is None:
            kept.append(path)
        else:
            log.warning("skipped '%s' in %s: its name %s.", shown_name(path.name), shown_name(path.parent), problem)
    return kept
