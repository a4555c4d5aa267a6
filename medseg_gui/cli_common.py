"""What every `medseg` command shares: opening the project it names, tables, warnings and error lines."""

from __future__ import annotations

import sys
from pathlib import Path

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.project import Project

CELL_FORMATS = {"lesions": "{:.4g}", "found": "{:.4g}", "false_lesions": "{:.4g}", "hd95": "{:.2f}", "assd": "{:.2f}"}

"""How a float column prints when it is not a 0–1 score (counts, distances in pixels); others get 4 decimals."""

COMMAND_WHAT = {"demo": "The demo", "import": "Import", "train": "Training", "predict": "Prediction",
                "evaluate": "Evaluation", "export": "Export", "classes": "Changing the classes",
                "models": "Changing the current model"}



def open_project(path: Path, cls: str | None = None) -> Project:
    project = Project.open(path)
    if cls is not None and cls not in project.class_names:
        raise ProjectError(f"Class '{cls}' is not in {path}; classes: {', '.join(project.class_names)}.")
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


def left_out(n: int) -> str:
    return f" ({n} left out, listed above)" if n else ""


def os_error_line(command: str, err: OSError) -> str:
    """'<what failed> (<path>): <reason>' for an OSError nobody turned into a clearer MedsegError."""
    where = f" ({err.filename})" if err.filename else ""
    return f"{COMMAND_WHAT.get(command, command)} failed{where}: {err.strerror or err}"

