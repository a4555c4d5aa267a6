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
    """The project at `path` (`open_project`) for `medseg export` / `evaluate`, which read it without taking its
    lock (taking it put out a window opened meanwhile, as read-only "open for editing in medseg", and a second
    export: review). Refused, as the writing commands refuse each other, while another `medseg` command holds the
    lock (trial: an export during `models --use X --predict` mixed both models' masks under a manifest naming one;
    one during `classes --rename` left 6 of 25 images out, status 0); a warning after reading when one took it
    meanwhile (what was read may mix its changes in). Held by a window (GUI_NAME): read as last saved there, with a
    note."""
    from medseg_gui.core.lock import ProjectLockedError, holder, locked_message

    project = open_project(path, cls)
    root, what = project.root, COMMAND_WHAT.get(command, command)
    owner = holder(root)
    if owner is not None and owner.app != GUI_NAME:
        raise ProjectLockedError(locked_message(root, owner), owner)
    if owner is not None:
        print(f"medseg: note: {root} is open in {owner.describe()}; {what} reads it as last saved there.",
              file=sys.stderr)
    yield project
    now = holder(root)
    if now is not None and now.app != GUI_NAME and now != owner:
        print(f"medseg: warning: {now.describe()} took the project while {what.lower()} read it: what was read may "
              f"mix its changes in; run {command} again once it has finished.", file=sys.stderr)


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


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """While inside, a Ctrl+C or SIGTERM waits for the block to end and then ends the command as it would have
    (KeyboardInterrupt, Terminated), so what the block says is said whole: `medseg train` of a model already stored
    (a stop there printed no JSON). A second one acts at once (a write that blocks cannot hold the command)."""
    held: list[int] = []
    previous: dict[int, object] = {}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        previous.clear()

    def hold(signum: int, _frame) -> None:
        held.append(signum)
        restore()

    try:
        for signum in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
            if signum is not None and signal.getsignal(signum) not in (signal.SIG_IGN, None):  # ignored: it stays so
                previous[signum] = signal.signal(signum, hold)
    except ValueError:  # not the main thread (an embedding program): nothing to hold
        restore()
    try:
        yield
    finally:
        restore()
    if held:
        signal.raise_signal(held[0])  # its own handler again: Ctrl+C's KeyboardInterrupt, terminate_on_sigterm's
