"""Defect 5 of issue 13: a label that failed to load (wrong size, damaged) was overwritten by the next stroke and
deleted by stroke + undo. Now the unreadable file is moved aside (never deleted) with a message naming it before the
new label is saved; if it cannot be moved, the stroke is not saved."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from medseg_gui.core import atomic
from medseg_gui.core.images import read_mask, write_png
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import drag, make_project, open_window


def _wrong_size(path):
    write_png(path, np.full((10, 12), 255, np.uint8))


def _damaged(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n this is not a PNG any more")


def _label_map(path):
    """Defect 1: a label map (0/1/2/3) cannot be shown faithfully as one class, so it must not be drawn over."""
    write_png(path, (np.arange(48 * 64).reshape(48, 64) % 4).astype(np.uint8))


def _spoiled_window(tmp_path, qtbot, spoil):
    """A one-image project, its lesion label spoiled by `spoil`, open in a window: (project, path, bytes, window)."""
    project = make_project(tmp_path / "p", n=1)
    path = project.label_path("lesion", project.stems[0])
    spoil(path)
    original = path.read_bytes()
    return project, path, original, open_window(qtbot, project)


@pytest.mark.parametrize("spoil", [_wrong_size, _damaged, _label_map])
def test_unreadable_label_is_moved_aside_not_overwritten(tmp_path, qtbot, messages, spoil):
    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    path = project.label_path("lesion", stem)
    spoil(path)
    original = path.read_bytes()
    window = open_window(qtbot, project)
    assert any(stem in m and ".unreadable" in m for m in messages)  # told before drawing what will happen
    assert not window.canvas.label("lesion").any()
    messages.clear()
    drag(qtbot, window.canvas, [(10, 10), (40, 20)])
    assert window.saver.flush(10)
    aside = path.parent / ".unreadable" / path.name
    assert aside.read_bytes() == original  # kept byte for byte
    assert len(messages) == 1 and path.name in messages[0] and str(aside) in messages[0]
    why = "does not fit the image" if spoil is _wrong_size else "could not be read"  # the true reason
    assert why in messages[0]
    np.testing.assert_array_equal(read_mask(path), window.canvas.label("lesion"))
    window.actions.undo.trigger()  # stroke + undo: the new label goes, the old file stays
    assert window.saver.flush(10)
    assert not path.exists() and aside.read_bytes() == original
    assert project.labelled_stems("lesion") == []


def test_a_second_unreadable_file_does_not_replace_the_first(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=1)
    path = project.label_path("lesion", project.stems[0])
    _damaged(path)
    first = project.move_label_aside("lesion", project.stems[0])
    _wrong_size(path)
    second = project.move_label_aside("lesion", project.stems[0])
    assert first != second and first.exists() and second.exists() and not path.exists()


def test_label_that_cannot_be_moved_aside_is_left_alone(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    path = project.label_path("lesion", stem)
    _damaged(path)
    original = path.read_bytes()
    window = open_window(qtbot, project)
    messages.clear()

    def refuse(src, dst):
        raise OSError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(atomic.os, "replace", refuse)  # every rename, the move aside included
    drag(qtbot, window.canvas, [(10, 10), (40, 20)])
    assert window.saver.flush(10)
    assert path.read_bytes() == original
    assert messages and "Permission denied" in messages[0] and "not saved" in messages[0]
    qtbot.waitUntil(lambda: not window.canvas.label("lesion").any(), timeout=5_000)  # the stroke is undone


@pytest.mark.parametrize("spoil", [_damaged, _label_map])
def test_the_list_marks_an_unreadable_label_file_instead_of_ticking_it(tmp_path, qtbot, messages, spoil):
    """The list ticked a label file it could not read (fault-injection trial): Retrain leaves such an image out, so
    the list says so, read in the background when the project opens; a new label drawn there ticks it again."""
    project = make_project(tmp_path / "p", n=2, labelled=1)
    good, bad = project.stems
    spoil(project.label_path("lesion", bad))
    window = open_window(qtbot, project)
    images = window.image_list
    qtbot.waitUntil(lambda: images.labelled_column.text(bad) == "⚠ label unreadable", timeout=10_000)
    assert images.labelled_column.text(good) == "✓"
    assert f"{bad}.png" in images._item(bad, 1).toolTip() and "Retrain leaves this image out" in images._item(
        bad, 1).toolTip()
    images.select(bad)
    qtbot.waitUntil(lambda: window.session.stem == bad, timeout=5_000)
    drag(qtbot, window.canvas, [(10, 10), (40, 20)])
    assert window.saver.flush(10)
    qtbot.waitUntil(lambda: images.labelled_column.text(bad) == "✓", timeout=5_000)


@pytest.mark.parametrize("spoil", [_wrong_size, _damaged])
def test_no_object_on_a_left_out_label_moves_it_aside_first(tmp_path, qtbot, messages, spoil):
    """Review: "no <class> here" (X) wrote its all-background label over a label file the view had left out (not
    the image's size, or damaged), which only a stroke moved aside first. Now it is moved aside the same way."""
    _project, path, original, window = _spoiled_window(tmp_path, qtbot, spoil)
    messages.clear()
    window.actions.no_object.trigger()
    assert window.saver.flush(10)
    aside = path.parent / ".unreadable" / path.name
    assert aside.read_bytes() == original  # kept byte for byte
    assert any(str(aside) in m for m in messages)
    assert not read_mask(path).any()  # the negative: an all-background label of the image's size
