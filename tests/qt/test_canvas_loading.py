"""Large images load on a worker thread: the window stays responsive, shows "Loading…", allows no edit meanwhile,
drops results nobody waits for, and strokes are saved as before. Every image counts as large here
(``FOREGROUND_MAX_PIXELS = 0``) so the small test images take the background path."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medseg_gui.core.images import read_mask
from medseg_gui.core import image_view
from tests.workers.helpers import H, W, drag, make_project, open_window


@pytest.fixture(autouse=True)
def everything_loads_in_background(monkeypatch):
    monkeypatch.setattr(image_view, "FOREGROUND_MAX_PIXELS", 0)


def _shown(window, stem: str) -> bool:
    return window.session.stem == stem and window.canvas_area.message_shown() is None


def test_a_large_image_loads_in_the_background_then_takes_strokes(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    first, second = project.stems
    qtbot.waitUntil(lambda: _shown(window, first), timeout=10_000)
    assert window.canvas.label("lesion").sum() > 0 and window.canvas.doc.shape == (H, W)
    window.actions.next_image.trigger()
    assert window.session.stem is None  # nothing to edit until it is shown
    assert not window.canvas.isEnabled() and window.canvas.doc.key == f"placeholder:{second}"
    qtbot.waitUntil(lambda: _shown(window, second), timeout=10_000)
    drag(qtbot, window.canvas, [(10, 10), (30, 10)])
    assert window.saver.flush(10)
    assert read_mask(project.label_path("lesion", second))[10, 20]
    assert messages == []


def test_loading_says_so_only_when_it_takes_a_while_and_the_last_image_stays_meanwhile(tmp_path, qtbot, messages,
                                                                                       monkeypatch):
    """Until then a still picture of the last image stands in for the canvas (which holds the placeholder: with its
    updates off, Qt still repainted it blank, outside trial), without the brush circle, and a press on it is refused
    with a word: the image it would go to is not shown yet."""
    import threading

    from medseg_gui.qt import image_session

    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    first, second = project.stems
    qtbot.waitUntil(lambda: _shown(window, first), timeout=10_000)
    gate, opened = threading.Event(), window.session.project
    load = opened.load_image
    monkeypatch.setattr(opened, "load_image", lambda stem: (gate.wait(10), load(stem))[1])  # a slow disk
    before = window.canvas.grab().toImage()
    window.actions.next_image.trigger()
    area = window.canvas_area
    assert area.message_shown() is None and area.waiting() and area.still.isVisible()  # the last picture stays
    assert area.still.pixmap().toImage() == before  # (the canvas itself was repainted blank, outside trial)
    assert window.session.stem is None and not window.canvas.isEnabled()  # but nothing to edit
    notes: list[str] = []
    window.canvas.notice.connect(notes.append)
    qtbot.mouseClick(area.still, Qt.MouseButton.LeftButton, pos=area.still.rect().center())  # a stroke meanwhile
    assert notes == [f"Not drawn: {second} is still loading; draw once it is shown."]  # is refused with a word
    qtbot.waitUntil(lambda: window.canvas_area.message_shown() == f"Loading {second}…",
                    timeout=image_session.LOADING_MESSAGE_MS + 5_000)
    assert area.still.pixmap().isNull()  # a full-window picture is not kept
    qtbot.mouseClick(area.message, Qt.MouseButton.LeftButton, pos=area.message.rect().center())
    assert notes[-1] == notes[0] and len(notes) == 2  # said again on the message (trial: a stroke vanished there)
    gate.set()
    qtbot.waitUntil(lambda: _shown(window, second), timeout=10_000)
    assert window.canvas.isEnabled() and window.canvas.isVisible() and not area.waiting()


def test_a_result_nobody_waits_for_is_dropped(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=3)
    window = open_window(qtbot, project)
    window.image_list.select(project.stems[1])
    window.image_list.select(project.stems[2])  # before the load of stems[1] could finish
    qtbot.waitUntil(lambda: _shown(window, project.stems[2]), timeout=10_000)
    qtbot.wait(200)  # the earlier loads end too, and must not replace what is shown
    assert _shown(window, project.stems[2])
    assert np.array_equal(window.canvas.doc.image, project.load_image(project.stems[2]))


def test_an_unreadable_large_image_says_why(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2)
    project.image_path(project.stems[1]).write_bytes(b"\x89PNG broken")
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: _shown(window, project.stems[0]), timeout=10_000)
    window.actions.next_image.trigger()
    qtbot.waitUntil(lambda: (window.canvas_area.message_shown() or "").startswith(f"{project.stems[1]} cannot"),
                    timeout=10_000)
    assert window.session.stem is None and not window.canvas.isEnabled()
    assert window.image_list.error(project.stems[1])
    notes: list[str] = []
    window.canvas.notice.connect(notes.append)
    area = window.canvas_area
    qtbot.mouseClick(area.message, Qt.MouseButton.LeftButton, pos=area.message.rect().center())
    assert notes == []  # the message says why already: nothing is loading


def test_a_stroke_not_yet_saved_shows_again_after_a_background_load(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    first = project.stems[0]
    qtbot.waitUntil(lambda: _shown(window, first), timeout=10_000)
    drag(qtbot, window.canvas, [(10, 10), (30, 10)])
    window.actions.next_image.trigger()
    window.actions.prev_image.trigger()
    qtbot.waitUntil(lambda: _shown(window, first), timeout=10_000)
    assert window.canvas.label("lesion")[10, 20]
    window.actions.undo.trigger()  # the history survives the background load too
    assert window.saver.flush(10) and not project.has_label("lesion", first)


def _one_image_and_a_map(tmp_path, qtbot):
    """A window showing a one-image project, and a probability map for that image (not saved yet)."""
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot, project)
    stem = project.stems[0]
    qtbot.waitUntil(lambda: _shown(window, stem), timeout=10_000)
    prob = np.zeros((H, W), np.float32)
    prob[5:20, 5:25] = 0.9
    return project, window, stem, prob


def test_prediction_reload_after_retrain_runs_in_the_background(tmp_path, qtbot, messages):
    project, window, stem, prob = _one_image_and_a_map(tmp_path, qtbot)
    project.save_prediction("lesion", stem, prob)
    window.session.reload_prediction("lesion")
    qtbot.waitUntil(lambda: "lesion" in window.canvas.doc.preds, timeout=10_000)
    assert window.canvas.doc.preds["lesion"][10, 10] and not window.canvas.doc.preds["lesion"][30, W - 5]


def test_a_prediction_handed_over_by_the_training_is_shown_without_reading_the_file(tmp_path, qtbot, monkeypatch,
                                                                                   messages):
    from medseg_gui.qt import image_session
    from medseg_gui.workers.training import TrainRun

    project, window, stem, prob = _one_image_and_a_map(tmp_path, qtbot)
    stored = project.save_prediction("lesion", stem, prob)
    read, load = [], image_session.load_overlays
    monkeypatch.setattr(image_session, "load_overlays", lambda *a: read.append(a[1]) or load(*a))
    window.training.show_results(TrainRun(project.root, "lesion", None, {}, shown_prediction=(stem, stored)))
    np.testing.assert_array_equal(window.session.review.probs["lesion"], project.load_prediction("lesion", stem))
    assert read == []  # shown at once, as the file holds it
    window.session.reload_prediction("lesion", ("another image", stored))  # not the image shown: read from disk
    qtbot.waitUntil(lambda: read == [stem], timeout=10_000)


def test_a_polygon_left_open_is_closed_and_saved_on_its_image_or_dropped_with_a_word(tmp_path, qtbot, messages):
    """A new-user trial clicked three corners of a polygon, pressed PgDown and came back: the polygon was gone without
    a word (session 35). One of three corners or more is closed, filled and saved on the image it was drawn on
    (Ctrl+Z there undoes it); fewer are dropped, and the status bar says which."""
    from PySide6.QtCore import Qt

    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    first, second = project.stems
    qtbot.waitUntil(lambda: _shown(window, first), timeout=10_000)
    notices: list[str] = []
    window.canvas.shape_closed.connect(notices.append)
    window.canvas.set_tool("polygon")
    for x, y in [(10, 10), (40, 10), (40, 30)]:
        qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=window.canvas.image_to_widget(x, y).toPoint())
    window.actions.next_image.trigger()
    qtbot.waitUntil(lambda: _shown(window, second), timeout=10_000)
    assert window.saver.flush(10)
    saved = read_mask(project.label_path("lesion", first))
    assert saved[12, 35] and not saved[28, 12] and saved.sum() > 200  # the triangle's inside, not beyond its edge
    assert f"left open on image {first} (3 corners) was closed, filled into 'lesion' and saved" in notices[-1]
    assert window.statusBar().currentMessage().startswith(f"{second} — ")  # the new image's line, then what became
    assert window.statusBar().currentMessage().endswith(notices[-1])  # of the polygon (said before, then replaced)
    for x, y in [(10, 10), (40, 10)]:
        qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=window.canvas.image_to_widget(x, y).toPoint())
    window.actions.prev_image.trigger()
    qtbot.waitUntil(lambda: _shown(window, first), timeout=10_000)
    assert "was dropped" in notices[-1] and not project.label_path("lesion", second).exists()
    window.canvas.undo()  # the closed polygon is one undoable step on its image
    assert window.saver.flush(10) and not project.label_path("lesion", first).exists()


def test_a_brush_stroke_under_way_when_the_image_changes_is_saved_on_its_image(tmp_path, qtbot, messages):
    """A new-user trial pressed PgUp in the middle of a brush stroke: the paint showed, then the stroke was never
    saved (it ended only once the next image was on the canvas, with no image to save it to; session 36). It ends
    on the image it was drawn on and is saved there; the rest of the drag paints nothing on the next image."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    first, second = project.stems
    qtbot.waitUntil(lambda: _shown(window, first), timeout=10_000)
    window.canvas.set_tool("brush")
    canvas = window.canvas

    def move(x: float, y: float) -> None:
        pos = QPointF(canvas.image_to_widget(x, y))
        QApplication.sendEvent(canvas, QMouseEvent(QEvent.Type.MouseMove, pos, QPointF(canvas.mapToGlobal(pos)),
                                                   Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                                                   Qt.KeyboardModifier.NoModifier))

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas.image_to_widget(10, 20).toPoint())
    for x in (20, 30, 40):
        move(x, 20)
    window.actions.next_image.trigger()  # the button still held
    qtbot.waitUntil(lambda: _shown(window, second), timeout=10_000)
    move(50, 40)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=canvas.image_to_widget(50, 40).toPoint())
    assert window.saver.flush(10)
    saved = read_mask(project.label_path("lesion", first))
    assert saved[20, 12] and saved[20, 38] and not saved[40, 48]
    assert not project.label_path("lesion", second).exists()


def test_a_message_with_a_long_name_does_not_widen_the_canvas_area(qtbot):
    """Outside trial at 150 % on 1366×768: while an image with a long name was shown, its hidden "Loading <name>…"
    message made the canvas area at least 300 px wide, so the image list lost 50 px (and its sideways scroll)."""
    from medseg_gui.qt.canvas import Canvas
    from medseg_gui.qt.panels.canvas_area import CanvasArea

    area = CanvasArea(Canvas())
    qtbot.addWidget(area)
    area.resize(600, 400)
    area.show()
    least = area.minimumSizeHint().width()
    area.show_message("Loading EndoCV2021_C6_0100020_a_long_file_name_from_the_endoscope…", after_ms=250)
    area.show_canvas()  # it loaded in time: the message stays hidden
    assert area.minimumSizeHint().width() == least
    area.show_message("Loading EndoCV2021_C6_0100020_a_long_file_name_from_the_endoscope…")
    assert area.minimumSizeHint().width() == least and area.message.isVisible()
