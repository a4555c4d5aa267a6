"""What every `medseg` command shares: opening the project it names, tables, warnings and error lines."""

from __future__ import annotations

import contextlib
import csv
import io
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from shlex import quote

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.identity import GUI_NAME
from medseg_gui.core.project import Project
from medseg_gui.core.rescued_labels import find_rescues, rescued_text
from medseg_gui.paths import UNSAVED_LABELS, rescue_base

CELL_FORMATS = {"lesions": "{:.4g}", "found": "{:.4g}", "false_lesions": "{:.4g}", "hd95": "{:.2f}", "assd": "{:.2f}"}

"""How a float column prints when it is not a 0–1 score (counts, distances in pixels); others get 4 decimals."""

COMMAND_WHAT = {"demo": "The demo", "import": "Import", "train": "Training", "predict": "Prediction",
                "evaluate": "Evaluation", "export": "Export", "classes": "Changing the classes",
                "models": "Changing the current model", "remove": "Removing images"}



def open_project(path: Path, cls: str | None = None, new_class: bool = False) -> Project:
    """The project at `path` (ProjectError when `cls` is not one of its classes, saying how to add it where it may be
    `new_class`: masks imported as its labels); a note on stderr when labels of it were rescued at a close and not
    brought back yet (core.rescued_labels: this command does not see them)."""
    project = with_class(Project.open(path), path, cls, new_class)
    rescues = find_rescues(rescue_base(UNSAVED_LABELS), project.root)
    if rescues:
        them = "it" if sum(len(r.labels) for r in rescues) == 1 else "them"
        print(f"medseg: note: {rescued_text(project.root.name, rescues)} Open the project in {GUI_NAME} to bring "
              f"{them} back.", file=sys.stderr)
    return project


@contextlib.contextmanager
def reading(path: Path, command: str, cls: str | None = None) -> Iterator[Project]:
    """The project at `path` (`open_project`) for `medseg export` / `evaluate`, opened again once it holds the lock,
    which it keeps while reading, so that no `medseg` command changes the project meanwhile (trial: an export during
    `models --use X --predict` mixed both models' masks under a manifest naming one; one during `classes --rename`
    left 6 of 25 images out, status 0). Held by another command: ProjectLockedError naming it, as the writing
    commands say. Held by a window (GUI_NAME): read as last saved there, with a note. A folder where no lock can be
    made (read-only media) is read without one."""
    from medseg_gui.core.lock import ProjectLockedError, ProjectReadOnlyError, acquire

    root, lock = open_project(path, cls).root, None
    try:
        lock = acquire(root)
    except ProjectLockedError as err:
        if err.owner is None or err.owner.app != GUI_NAME:
            raise
        print(f"medseg: note: {root} is open in {err.owner.describe()}; {COMMAND_WHAT.get(command, command)} reads "
              "it as last saved there.", file=sys.stderr)
    except ProjectReadOnlyError:
        pass
    try:
        yield with_class(Project.open(root), path, cls)  # what a command that held the lock before left
    finally:
        if lock is not None:
            lock.release()


def with_class(project: Project, path: Path, cls: str | None, new_class: bool = False) -> Project:
    """`project` (opened from `path`); ProjectError when `cls` is not one of its classes (see `open_project`)."""
    if cls is not None and cls not in project.class_names:
        add = f" Add it first: medseg classes {quote(str(path))} --add {quote(cls)}" if new_class else ""
        raise ProjectError(f"Class '{cls}' is not in {path}; classes: {', '.join(project.class_names)}.{add}")
    return project


def format_table(rows: list[dict], columns: list[str]) -> str:
    def cell(c: str, v) -> str:
        return CELL_FORMATS.get(c, "{:.4f}").format(v) if isinstance(v, float) else str(v)

    widths = [max(len(c), *(len(cell(c, r.get(c, ""))) for r in rows)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(cell(c, r.get(c, "")).ljust(w) for c, w in zip(columns, widths)) for r in rows]
    return "\n".join(lines)


def warn(messages) -> None:
    """One `medseg: warning:` line per skipped image (stderr, so --json output stays clean)."""
    for message in messages:
        print(f"medseg: warning: {message}", file=sys.stderr)


def csv_text(rows: list[dict], columns: Sequence[str]) -> str:
    """CSV of `rows` under a header of `columns` (a row's other keys left out; numbers in full, NaN as nan): the
    demo's report.csv and `medseg evaluate --csv`."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def left_out(n: int) -> str:
    return f" ({n} left out, listed above)" if n else ""


def os_error_line(command: str, err: OSError) -> str:
    """'<what failed> (<path>): <reason>' for an OSError nobody turned into a clearer MedsegError."""
    where = f" ({err.filename})" if err.filename else ""
    return f"{COMMAND_WHAT.get(command, command)} failed{where}: {err.strerror or err}"


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the command unwinds as for Ctrl+C (locks released, temporary files removed)."""


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """While inside, SIGTERM raises Terminated in the main thread (Python's default ends the process at once: the
    project's lock was left behind). A second SIGTERM during that clean-up is ignored; SIGKILL still ends it."""
    def on_sigterm(_signum, _frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    try:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:  # ignored by who started us (as Python does for SIGINT)
            raise ValueError
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, AttributeError):  # not the main thread (an embedding program), or no SIGTERM
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
