"""The "reviewed" mark of an image (R; project.json image state ``reviewed``), which the list shows as ☑."""

from __future__ import annotations

from typing import Any

from medseg_gui.core.errors import MedsegError


def reviewed_stems(project: Any) -> set[str]:
    """The images marked reviewed (none without a project)."""
    return {e.stem for e in project.images if e.state.get("reviewed")} if project is not None else set()


def toggle_reviewed(project: Any, stem: str | None) -> tuple[str, bool]:
    """Flip the mark of `stem` (saved in project.json): (the sentence to show, whether it is an error)."""
    if project is None or stem is None:
        return "", False
    reviewed = stem not in reviewed_stems(project)
    try:
        project.set_state(stem, "reviewed", reviewed)
    except MedsegError as err:
        return f"{stem} was not marked reviewed: {err}", True
    return f"{stem} marked {'reviewed' if reviewed else 'not reviewed'}", False
