"""Issue 13, items 19–21: canvas behaviours that silently turned images into wrong training labels.

19: Space+drag painted (and H did nothing) while the image list had the keyboard focus.
20: stroke, PgDn, PgUp, Ctrl+Z left an empty label file (a ✓ and "no lesion here" for the next Retrain).
21: a fill in an open area flooded the whole image, outside the field of view too, without a word.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from medseg_gui.core.images import read_mask
from medseg_gui.qt import dialogs
from tests.qt.conftest import messages, shown_canvas  # noqa: F401 (fixtures)
from tests.qt.test_canvas import COLORS, H, W, canvas, grab_rgb, key, px  # noqa: F401
from tests.workers.helpers import drag, make_project, open_window


def _click_row(qtbot, table, row: int) -> None:
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _label_pixel(window) -> QPoint:
    """A widget pixel of the canvas inside the disc label of the first image (centre 20, 24)."""
    return window.canvas.image_to_widget(20.5, 24.5).toPoint()


# -- 19: hold keys wherever the focus is -----------------------------------------------------------------------------
@pytest.mark.parametrize("via_window", [False, True], ids=["to-focus-widget", "through-the-window"])
def test_space_drag_pans_after_clicking_the_image_list(tmp_path, qtbot, messages, via_window):
    project = make_project(tmp_path / "p", n=3)
    window = open_window(qtbot, project)
    table, canvas = window.image_list.table, window.canvas
    _click_row(qtbot, table, 1)
    stem = project.stems[1]
    assert window.image_list.current_stem() == stem and QApplication.focusWidget() is table
    target = window.windowHandle() if via_window else table  # the window route is what a real key press takes
    QTest.keyPress(target, Qt.Key.Key_Space)
    origin = canvas.image_to_widget(0, 0)
    drag(qtbot, canvas, [(10, 10), (20, 14), (30, 18)])
    moved = canvas.image_to_widget(0, 0) - origin
    QTest.keyRelease(window.windowHandle() if via_window else QApplication.focusWidget(), Qt.Key.Key_Space)
    assert moved.x() > 5 and moved.y() > 2  # panned…
    assert canvas.label("lesion").sum() == 0  # …and painted nothing
    assert window.saver.flush(10)
    assert not project.has_label("lesion", stem)
    assert window.image_list.current_stem() == stem  # Space did not move the list either
    drag(qtbot, canvas, [(10, 10), (20, 10)])  # released: the brush paints again
    assert canvas.label("lesion").sum() > 0


def test_h_held_in_the_image_list_hides_overlays_and_does_not_search_the_list(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=3, labelled=1)
    window = open_window(qtbot, project)
    table, canvas = window.image_list.table, window.canvas
    canvas.set_layer_opacity("label", 1.0)
    _click_row(qtbot, table, 0)
    assert QApplication.focusWidget() is table
    shown = grab_rgb(canvas, _label_pixel(window))
    QTest.keyPress(table, Qt.Key.Key_H)
    hidden = grab_rgb(canvas, _label_pixel(window))
    QTest.keyRelease(table, Qt.Key.Key_H)
    assert hidden != shown
    assert grab_rgb(canvas, _label_pixel(window)) == shown
    assert window.image_list.current_stem() == project.stems[0]


def test_space_still_types_into_text_fields(tmp_path, qtbot, messages):
    from PySide6.QtWidgets import QLineEdit

    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    field = QLineEdit(window)
    field.show()
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)
    QTest.keyClicks(field, "a b")
    assert field.text() == "a b"


def test_window_losing_the_keyboard_releases_space(qtbot, canvas):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QFocusEvent

    key(canvas, Qt.Key.Key_Space, text=" ")
    assert canvas.cursor().shape() == Qt.CursorShape.OpenHandCursor
    QApplication.sendEvent(canvas, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.MouseFocusReason))
    assert canvas.cursor().shape() == Qt.CursorShape.OpenHandCursor  # focus moved inside the window: still held
    QApplication.sendEvent(canvas, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.ActiveWindowFocusReason))
    assert canvas.cursor().shape() == Qt.CursorShape.CrossCursor


# -- 20: undo after switching images ---------------------------------------------------------------------------------
def test_undo_after_switching_images_removes_the_new_label(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    stem = project.stems[0]
    drag(qtbot, window.canvas, [(10, 10), (30, 12)])
    assert window.saver.flush(10) and project.has_label("lesion", stem)
    window.actions.next_image.trigger()
    window.actions.prev_image.trigger()
    assert window.image_list.current_stem() == stem
    assert window.image_list.table.item(0, 1).text() == "✓"
    window.actions.undo.trigger()
    assert window.saver.flush(10)
    assert not project.label_path("lesion", stem).exists()  # not an all-background label
    assert window.image_list.table.item(0, 1).text() == ""
    window.actions.redo.trigger()
    assert window.saver.flush(10)
    assert read_mask(project.label_path("lesion", stem)).sum() > 0
    assert window.image_list.table.item(0, 1).text() == "✓"


def test_undo_after_switching_keeps_a_label_that_existed_before(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    stem = project.stems[0]
    original = read_mask(project.label_path("lesion", stem))
    drag(qtbot, window.canvas, [(45, 5), (60, 5)])
    window.actions.next_image.trigger()
    window.actions.prev_image.trigger()
    window.actions.undo.trigger()
    assert window.saver.flush(10)
    assert np.array_equal(read_mask(project.label_path("lesion", stem)), original)


def test_erasing_a_pre_existing_label_still_saves_it_empty(tmp_path, qtbot, messages):
    """The clinician's "nothing here" label (all erased) is kept: only labels the session created go away."""
    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    stem = project.stems[0]
    window.canvas.set_tool("eraser")
    window.canvas.set_brush_size(40)
    drag(qtbot, window.canvas, [(20, 24), (21, 24)])
    assert window.saver.flush(10)
    assert project.has_label("lesion", stem) and read_mask(project.label_path("lesion", stem)).sum() == 0


# -- 21: fill bounded by the ROI, asks before covering most of the image ---------------------------------------------
def _ring_and_roi(canvas):
    ring = np.zeros((H, W), bool)
    ring[5:12, 5] = ring[5:12, 11] = ring[5, 5:12] = ring[11, 5:12] = True
    roi = np.zeros((H, W), bool)
    roi[2:28, 2:30] = True
    canvas.set_labels({"lesion": ring, "vessel": None}, COLORS)
    canvas.set_roi(roi)
    canvas.set_tool("fill")
    return ring, roi


def test_fill_inside_a_closed_outline_needs_no_question(qtbot, canvas):
    ring, _roi = _ring_and_roi(canvas)
    asked: list[str] = []
    canvas.set_confirm(lambda q: asked.append(q) or True)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 8, 8))
    filled = ring.copy()
    filled[5:12, 5:12] = True
    assert np.array_equal(canvas.label("lesion"), filled) and asked == []


def test_fill_in_an_open_area_stays_inside_the_roi_once_confirmed(qtbot, canvas):
    ring, roi = _ring_and_roi(canvas)
    asked: list[str] = []
    canvas.set_confirm(lambda q: asked.append(q) or True)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 20, 20))
    label = canvas.label("lesion")
    assert len(asked) == 1 and "region of interest" in asked[0]
    assert not label[~roi].any()  # nothing outside the field of view
    inside_ring = np.zeros((H, W), bool)
    inside_ring[6:11, 6:11] = True
    assert np.array_equal(label, roi & ~inside_ring)  # the open area of the ROI, up to the outline
    canvas.undo()
    assert np.array_equal(canvas.label("lesion"), ring)


def test_fill_over_most_of_the_image_is_refused_when_the_user_says_no(qtbot, canvas):
    ring, _roi = _ring_and_roi(canvas)
    canvas.set_roi(None)
    notices: list[str] = []
    canvas.notice.connect(notices.append)
    canvas.set_confirm(lambda q: False)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 20, 20))
    assert np.array_equal(canvas.label("lesion"), ring) and not canvas.can_undo()
    assert len(notices) == 1 and "% of the image" in notices[0]
    canvas.set_confirm(None)  # no one to ask (e.g. a bare canvas): refused too
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 20, 20))
    assert np.array_equal(canvas.label("lesion"), ring) and len(notices) == 2


def test_fill_outside_the_roi_does_nothing_and_says_why(qtbot, canvas):
    ring, _roi = _ring_and_roi(canvas)
    notices: list[str] = []
    canvas.notice.connect(notices.append)
    canvas.set_confirm(lambda q: True)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 35, 29))
    assert np.array_equal(canvas.label("lesion"), ring)
    assert len(notices) == 1 and "region of interest" in notices[0]


def test_main_window_asks_before_a_sweeping_fill(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    questions: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: questions.append(text) or False)
    window.actions.tools["fill"].trigger()
    canvas = window.canvas
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.image_to_widget(30, 20).toPoint())
    assert len(questions) == 1 and "100 % of the image" in questions[0]
    assert canvas.label("lesion").sum() == 0
    assert window.saver.flush(10) and not project.has_label("lesion", project.stems[0])
    assert "Fill not done" in window.statusBar().currentMessage()
