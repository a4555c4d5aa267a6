"""A polygon left open is never thrown away without a word: a class key, a tool key, quitting or opening another
project closes one of three corners or more into the class it was drawn for and saves it, as leaving the image does
(a gynaecologic-oncology trial lost a four-corner polygon to each), and so do Retrain and Accept prediction
(a verification trial's Ctrl+R trained without the polygon just drawn). Escape still cancels it."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from medseg_gui.core.images import read_mask
from medseg_gui.core.project import ClassSpec, Project
from medseg_gui.qt import dialogs
from tests.qt.test_canvas import canvas, key  # noqa: F401
from tests.workers.helpers import H, W, make_images, open_window

CORNERS = [(10, 10), (40, 10), (40, 30), (10, 30)]


def _project(tmp_path) -> Project:
    project = Project.create(tmp_path / "p", (ClassSpec("cervix", (0, 200, 255)), ClassSpec("lesion", (255, 215, 0))))
    for path in make_images(tmp_path / "src", 2):
        project.add_image(path)
    return project


def _draw_open_polygon(qtbot, canvas, corners=CORNERS) -> None:
    canvas.set_tool("polygon")
    for x, y in corners:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.image_to_widget(x, y).toPoint())


def _saved_square(project: Project, cls: str, stem: str) -> bool:
    saved = read_mask(project.label_path(cls, stem))
    return bool(saved[20, 25]) and not saved[35, 50] and saved.sum() > 500


def test_a_class_key_closes_the_polygon_into_the_class_it_was_drawn_for_and_saves_it(tmp_path, qtbot, messages):
    project = _project(tmp_path)
    window = open_window(qtbot, project)
    window.tools.select_class("cervix")
    _draw_open_polygon(qtbot, window.canvas)
    window.actions.classes[1].trigger()  # key 2: lesion
    assert window.current_class() == "lesion"
    assert window.saver.flush(10) and _saved_square(project, "cervix", project.stems[0])
    assert not project.label_path("lesion", project.stems[0]).exists()
    assert (f"left open on image {project.stems[0]} (4 corners) was closed, filled into 'cervix' and saved"
            in window.statusBar().currentMessage())  # the image and the class, each named as what it is


def test_a_tool_key_closes_the_polygon_and_saves_it(tmp_path, qtbot, messages):
    project = _project(tmp_path)
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    _draw_open_polygon(qtbot, window.canvas)
    window.actions.tools["brush"].trigger()  # B
    assert window.canvas.tool() == "brush"
    assert window.saver.flush(10) and _saved_square(project, "lesion", project.stems[0])
    assert window.statusBar().currentMessage().startswith("The polygon left open on")


def test_quitting_closes_the_polygon_and_waits_for_its_save(tmp_path, qtbot, messages):
    project = _project(tmp_path)
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    _draw_open_polygon(qtbot, window.canvas)
    assert window.close()
    assert _saved_square(project, "lesion", project.stems[0])  # on disk once the window has closed


def test_opening_another_project_first_saves_the_polygon_on_this_one(tmp_path, qtbot, messages):
    project, other = _project(tmp_path), _project(tmp_path / "other")
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    _draw_open_polygon(qtbot, window.canvas)
    with qtbot.waitSignal(window.project_loaded, timeout=10_000):
        window.open_folder(other.root)
    assert _saved_square(project, "lesion", project.stems[0])
    assert not other.label_path("lesion", other.stems[0]).exists()


def test_edit_classes_first_saves_the_polygon_whose_class_may_change(tmp_path, qtbot, messages):
    project = _project(tmp_path)
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    _draw_open_polygon(qtbot, window.canvas)
    box = window.classes.edit(lambda: None)
    box.close()
    assert window.saver.flush(10) and _saved_square(project, "lesion", project.stems[0])


def test_fewer_than_three_corners_are_dropped_with_a_word_and_escape_still_cancels(qtbot, canvas):  # noqa: F811
    notices: list[str] = []
    canvas.notice.connect(notices.append)
    _draw_open_polygon(qtbot, canvas, CORNERS[:2])
    canvas.set_current_class("vessel")
    assert "was dropped: a polygon needs three" in notices[-1] and not canvas.is_labelled("lesion")
    _draw_open_polygon(qtbot, canvas)
    key(canvas, Qt.Key.Key_Escape)  # a deliberate cancel
    canvas.set_current_class("lesion")
    assert not canvas.is_labelled("vessel") and len(notices) == 1


def test_a_polygon_open_when_editing_stops_is_dropped_not_claimed_saved(qtbot, canvas):  # noqa: F811
    """An import pauses drawing (the pan tool is chosen, undo is off): a polygon filled then would not be saved."""
    notices: list[str] = []
    canvas.notice.connect(notices.append)
    _draw_open_polygon(qtbot, canvas)
    canvas.set_editable(False)
    canvas.set_tool("pan")
    assert not canvas.is_labelled("lesion") and "was dropped: no edit is taken now" in notices[-1]
    assert np.count_nonzero(canvas.doc.labels["lesion"]) == 0


@pytest.mark.parametrize("start", ["retrain", "continuous"])
def test_retrain_closes_the_polygon_and_trains_once_its_save_is_on_disk(tmp_path, qtbot, messages, monkeypatch, start):
    """The polygon is the only lesion label: Retrain (or Continuous) closes and saves it, waits for the save with the
    event loop running (a slow disk here), and only then starts the run, which sees the label on disk."""
    project = _project(tmp_path)
    stem = project.stems[0]
    save = Project.save_label
    monkeypatch.setattr(Project, "save_label", lambda *a, **kw: time.sleep(0.5) or save(*a, **kw))  # slow storage
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    _draw_open_polygon(qtbot, window.canvas)
    events, started = [], []
    monkeypatch.setattr(window.train_panel, "run", lambda worker, host, on_done: started.append(
        (worker.continuous, project.has_label("lesion", stem), list(events))))
    QTimer.singleShot(50, lambda: events.append("tick"))  # runs only if the wait keeps the event loop going
    window.actions.retrain.trigger() if start == "retrain" else window.training.train_continuously()
    assert started == [(start == "continuous", True, ["tick"])], window.last_error
    assert _saved_square(project, "lesion", stem)
    assert window.statusBar().currentMessage().startswith(
        f"The polygon left open on image {stem} (4 corners) was closed, filled into 'lesion' and saved")
    window.training.worker = None  # the run was never started


def test_accept_prediction_first_saves_the_polygon_and_leaves_the_keys_on_the_canvas(tmp_path, qtbot, messages,
                                                                                      monkeypatch):
    """Accept prediction replaces the label, so the polygon left open is closed into it first (its pixels are asked
    about, Ctrl+Z brings them back), and the button keeps no keyboard focus: the next Enter is the canvas'."""
    project = _project(tmp_path)
    stem = project.stems[0]
    prob = np.zeros((H, W), np.float32)
    prob[40:60, 50:80] = 0.9  # beside the polygon's square
    project.save_prediction("lesion", stem, prob)
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or True)
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    qtbot.waitUntil(lambda: "lesion" in window.session.review.probs, timeout=10_000)
    _draw_open_polygon(qtbot, window.canvas)
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus, timeout=2_000)
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=5_000)  # asked after a pause (qt.accept_flow)
    assert asked[0].startswith(f"Replace your lesion label on {stem} with the prediction?")
    np.testing.assert_array_equal(window.canvas.label("lesion"), prob >= 0.5)
    assert window.canvas.hasFocus(), QApplication.focusWidget()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)  # nothing to close, nothing accepted again
    assert len(asked) == 1
    window.actions.undo.trigger()  # the polygon, closed and saved before the prediction replaced it
    assert window.saver.flush(10) and _saved_square(project, "lesion", stem)
