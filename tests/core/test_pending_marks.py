"""core.pending_marks: a mark project.json could not take is kept with the value wanted, read through, replaced by a
later mark of the same image, key and class, and written by `retry`."""

from __future__ import annotations

import errno

from medseg_gui.core.label_status import ACCEPTED_KEY, marked
from medseg_gui.core.pending_marks import REVIEWED_KEY, PendingMarks
from medseg_gui.core.project import Project
from tests.workers.helpers import make_project


def _unwritable(monkeypatch, project) -> list[bool]:
    """project.json cannot be saved while the returned flag's first item is True."""
    on, real = [True], project.save

    def save() -> None:
        if on[0]:
            from medseg_gui.core.errors import ProjectError
            raise ProjectError(f"project.json was not saved: {OSError(errno.EROFS, 'Read-only file system')}")
        real()

    monkeypatch.setattr(project, "save", save)
    return on


def test_a_mark_not_written_is_kept_read_through_and_written_by_retry(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", n=2)
    stem = project.stems[0]
    marks, fault = PendingMarks(), _unwritable(monkeypatch, project)
    assert "Read-only file system" in marks.set(project, stem, ACCEPTED_KEY, "lesion", True)
    assert marked(project, ACCEPTED_KEY, "lesion") == set()  # the project says what is on disk
    assert marks.wanted(project, stem, ACCEPTED_KEY, "lesion")
    assert marks.marked(project, ACCEPTED_KEY, "lesion") == {stem}
    assert list(marks.pending(project)) == [(stem, ACCEPTED_KEY, "lesion")]
    assert marks.retry() == [] and marks  # still refused: still kept
    fault[0] = False
    assert marks.retry() == [(stem, ACCEPTED_KEY, "lesion")] and not marks
    assert marked(Project.open(project.root), ACCEPTED_KEY, "lesion") == {stem}


def test_a_later_mark_replaces_a_kept_one(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    marks = PendingMarks()
    assert marks.set(project, stem, ACCEPTED_KEY, "lesion", True) is None  # on disk
    fault = _unwritable(monkeypatch, project)
    assert marks.set(project, stem, ACCEPTED_KEY, "lesion", False) is not None  # a stroke: kept
    assert not marks.wanted(project, stem, ACCEPTED_KEY, "lesion")
    assert marks.set(project, stem, ACCEPTED_KEY, "lesion", True) is None  # Undo: as on disk, nothing to write
    assert not marks
    marks.set(project, stem, REVIEWED_KEY, None, True)
    marks.set(project, stem, REVIEWED_KEY, None, False)  # R twice: as on disk again
    assert not marks
    fault[0] = False
    marks.retry()
    assert marked(Project.open(project.root), ACCEPTED_KEY, "lesion") == {stem}


def test_a_project_open_read_only_keeps_nothing(tmp_path):
    project = make_project(tmp_path / "p", n=1)
    project.set_read_only("another window edits it")
    marks = PendingMarks()
    assert "read-only" in marks.set(project, project.stems[0], ACCEPTED_KEY, "lesion", True) and not marks
