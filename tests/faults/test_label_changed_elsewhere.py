"""Fault-injection trial, session 34: a label file replaced by another program while its image was open was
written over by the next stroke without a word (data loss). The version the window showed is remembered; a save that
finds another one moves it to labels/<class>/.replaced/ first and says so."""

from __future__ import annotations

import os

import numpy as np

from medseg_gui.core.images import read_mask, write_png
from medseg_gui.core.project import Project
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import drag, make_project, open_window


def _replace(path, array) -> bytes:
    """Another program writes `array` to `path` (a new file, as most programs save)."""
    tmp = path.with_name("other.tmp.png")
    write_png(tmp, array)
    os.replace(tmp, path)
    return path.read_bytes()


def test_a_save_keeps_a_version_written_by_another_program_aside(tmp_path):
    project = make_project(tmp_path / "p", n=2, labelled=2)
    stem, other = project.stems
    path = project.label_path("lesion", stem)
    h, w = project.load_label_pixels("lesion", stem, remember=True).mask.shape
    theirs = _replace(path, np.full((h, w), 255, np.uint8))
    mine = np.zeros((h, w), bool)
    mine[1, 1] = True
    kept = project.save_label("lesion", stem, mine)
    assert kept == path.parent / ".replaced" / path.name and kept.read_bytes() == theirs
    np.testing.assert_array_equal(read_mask(path), mine)
    assert project.save_label("lesion", stem, mine) is None  # its own write is known
    again = _replace(path, np.zeros((h, w), np.uint8))
    assert project.delete_label("lesion", stem).read_bytes() == again and not path.exists()  # numbered, not replaced
    assert kept.read_bytes() == theirs
    # a label this Project never read to edit nor wrote (a script writing labels) is simply written
    fresh = Project.open(project.root)
    _replace(project.label_path("lesion", other), np.zeros((h, w), np.uint8))
    assert fresh.save_label("lesion", other, mine) is None and fresh.load_label("lesion", other)[1, 1]
    # a label that appeared after the image was shown without one is kept too
    fresh.delete_label("lesion", other)
    assert project.load_label_pixels("lesion", other, remember=True) is None
    created = _replace(project.label_path("lesion", other), np.zeros((h, w), np.uint8))
    assert project.save_label("lesion", other, mine).read_bytes() == created


def test_the_window_says_where_the_other_version_went(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    stem = project.stems[0]
    window = open_window(qtbot, project)
    assert window.session.stem == stem
    path = project.label_path("lesion", stem)
    theirs = _replace(path, np.zeros(window.canvas.label("lesion").shape, np.uint8))
    with qtbot.waitSignal(window.saver.saved, timeout=10_000):
        drag(qtbot, window.canvas, [(10, 10), (30, 12)])
    kept = path.parent / ".replaced" / path.name
    assert kept.read_bytes() == theirs
    np.testing.assert_array_equal(read_mask(path), window.canvas.label("lesion"))
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=10_000)  # the dialog, once the drawing pauses
    assert "changed by another program" in messages[0] and str(kept) in messages[0]


def test_project_json_changed_by_another_program_is_kept_aside_by_the_next_save(tmp_path):
    """Fault-injection trial, session 34: project.json replaced while the project was open was written over."""
    project = make_project(tmp_path / "p", n=2)
    path = project.root / "project.json"
    path.write_text("{garbage")
    project.set_state(project.stems[0], "reviewed", True)
    kept = project.root / ".replaced" / "project.json"
    assert kept.read_text() == "{garbage" and Project.open(project.root).entry(project.stems[0]).state["reviewed"]
    project.set_state(project.stems[1], "reviewed", True)  # its own write is known: nothing more kept
    assert sorted(p.name for p in kept.parent.iterdir()) == ["project.json"]


def test_a_version_read_while_the_saver_writes_is_not_taken_for_another_programs(tmp_path, monkeypatch):
    """The image loader reads a label's version on its thread while the label saver may be writing that label: a
    version read just before the write must not be recorded after it (the next save would call its own previous
    file another program's)."""
    from medseg_gui.core import atomic

    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    mask = project.load_label("lesion", stem)
    real, calls = atomic.file_version, []

    def version_then_a_save(path):
        seen = real(path)
        if not calls:  # the loader's read: the saver writes right after it
            calls.append(path)
            project.save_label("lesion", stem, ~mask)
        return seen

    monkeypatch.setattr(atomic, "file_version", version_then_a_save)
    project.load_label_pixels("lesion", stem, remember=True)
    monkeypatch.setattr(atomic, "file_version", real)
    assert calls and project.save_label("lesion", stem, mask) is None  # nothing "replaced"
    assert not (project.label_path("lesion", stem).parent / ".replaced").exists()
