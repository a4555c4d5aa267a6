"""The "reviewed" mark of an image (R; project.json image state ``reviewed``), which the list shows as ☑."""

from __future__ import annotations

from typing import Any

from medseg_gui.core.pending_marks import REVIEWED_KEY
from medseg_gui.qt.mark_keeper import MarkKeeper


def reviewed_stems(project: Any) -> set[str]:
    """The images marked reviewed in project.json (none without a project)."""
    return {e.stem for e in project.images if e.state.get(REVIEWED_KEY)} if project is not None else set()


def toggle_reviewed(marks: MarkKeeper, project: Any, stem: str | None) -> tuple[str, bool]:
    """Flip the mark of `stem` as last set (saved in project.json, else kept by `marks`, which says so itself):
    (the sentence to show, whether it is an error)."""
    if project is None or stem is None:
        return "", False
    reviewed = not marks.wanted(project, stem, REVIEWED_KEY, None)
    why = marks.set(project, stem, REVIEWED_KEY, None, reviewed)
    if why is not None:
        kept = (stem, REVIEWED_KEY, None) in marks.pending(project)
        return ("", False) if kept else (f"{stem} was not marked reviewed: {why}", True)
    return f"{stem} marked {'reviewed' if reviewed else 'not reviewed'}", False
