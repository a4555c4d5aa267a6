"""Undo while a polygon is drawn takes back its last corner, and nothing else: a gynaecologic-oncology trial's Ctrl+Z
threw away a polygon of three corners and undid the previous, unrelated edit of the label with it. Only once no
corner is left does the next Undo undo a label step; Redo puts back a corner Undo took, and leaves labels alone."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt

from medseg_gui.core.images import read_mask
from tests.qt.test_canvas import canvas, key, pt, send_mouse  # noqa: F401
from tests.qt.test_polygon_exits import CORNERS, _draw_open_polygon, _project, _saved_square
from tests.workers.helpers import open_window

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
TRIANGLE = [(50, 5), (60, 5), (60, 15)]  # away from the CORNERS square


def _corners(canvas) -> list[tuple[float, float]]:
    return list(canvas.active_tool().points)


def test_ctrl_z_takes_back_corners_first_and_only_then_the_earlier_edit(tmp_path, qtbot, messages):
    project = _project(tmp_path)
    stem = project.stems[0]
    window = open_window(qtbot, project)
    canvas = window.canvas
    window.tools.select_class("lesion")
    _draw_open_polygon(qtbot, canvas)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # the earlier edit: a square, saved
    assert window.saver.flush(10) and _saved_square(project, "lesion", stem)
    square = canvas.label("lesion")
    _draw_open_polygon(qtbot, canvas, TRIANGLE)
    placed = _corners(canvas)
    assert len(placed) == 3

    qtbot.keyClick(canvas, Qt.Key.Key_Z, CTRL)
    assert _corners(canvas) == placed[:2]  # the last corner went, the polygon is still being drawn
    assert np.array_equal(canvas.label("lesion"), square)
    assert window.saver.flush(10) and _saved_square(project, "lesion", stem)

    assert window.actions.undo.isEnabled()
    window.actions.undo.trigger()  # Edit → Undo: the same
    qtbot.keyClick(canvas, Qt.Key.Key_Z, CTRL)
    assert _corners(canvas) == [] and np.array_equal(canvas.label("lesion"), square)
    assert window.saver.flush(10) and _saved_square(project, "lesion", stem)

    qtbot.keyClick(canvas, Qt.Key.Key_Z, CTRL)  # no corner left: the square is undone now
    assert not canvas.label("lesion").any()
    assert window.saver.flush(10)
    path = project.label_path("lesion", stem)
    assert not path.exists() or not read_mask(path).any()


def test_redo_puts_back_the_corners_undo_took_and_no_label_step(qtbot, canvas):  # noqa: F811
    _draw_open_polygon(qtbot, canvas)
    key(canvas, Qt.Key.Key_Return)
    square = canvas.label("lesion")
    canvas.undo()
    assert not canvas.label("lesion").any() and canvas.can_redo()  # a label step to redo
    _draw_open_polygon(qtbot, canvas, CORNERS[:3])
    placed = _corners(canvas)
    assert not canvas.can_redo()  # a polygon is drawn and no corner was taken back: Redo has nothing to do
    key(canvas, Qt.Key.Key_Y, CTRL)
    assert _corners(canvas) == placed and not canvas.label("lesion").any()  # no label step came back meanwhile
    for _ in placed:
        key(canvas, Qt.Key.Key_Z, CTRL)
    assert _corners(canvas) == [] and canvas.can_redo()
    key(canvas, Qt.Key.Key_Z, CTRL | SHIFT)
    key(canvas, Qt.Key.Key_Y, CTRL)
    assert _corners(canvas) == placed[:2] and not canvas.label("lesion").any()
    key(canvas, Qt.Key.Key_Escape)
    canvas.redo()  # no polygon now: the label step comes back
    assert np.array_equal(canvas.label("lesion"), square)


def test_the_edit_menu_follows_the_corners(tmp_path, qtbot, messages):
    """On an image with nothing to undo, Edit → Undo is enabled while a polygon has a corner to take back."""
    window = open_window(qtbot, _project(tmp_path))
    undo, redo = window.actions.undo, window.actions.redo
    window.tools.select_class("lesion")
    assert not undo.isEnabled()
    _draw_open_polygon(qtbot, window.canvas, TRIANGLE[:1])
    placed = _corners(window.canvas)
    assert undo.isEnabled() and not redo.isEnabled()
    undo.trigger()
    assert _corners(window.canvas) == [] and not undo.isEnabled() and redo.isEnabled()
    redo.trigger()
    assert _corners(window.canvas) == placed and undo.isEnabled() and not redo.isEnabled()


@pytest.mark.parametrize("keys", [(Qt.Key.Key_Backspace, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_Z, CTRL)])
def test_taking_back_the_only_point_of_a_lasso_being_dragged_ends_it(qtbot, canvas, keys):  # noqa: F811
    """Backspace in the middle of a drag used to leave the lasso without a point to grow from (IndexError)."""
    canvas.set_tool("polygon")
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(canvas, 5, 5))
    key(canvas, *keys)  # the only point goes while the button is still held
    send_mouse(canvas, QEvent.Type.MouseMove, pt(canvas, 20, 20))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(canvas, 20, 20))
    assert _corners(canvas) == [] and not canvas.is_labelled("lesion")
