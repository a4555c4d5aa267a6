"""A polygon left open is never thrown away without a word: a class key, a tool key, quitting or opening another
project closes one of three corners or more into the class it was drawn for and saves it, as leaving the image does
(a gynaecologic-oncology trial lost a four-corner polygon to each). Escape still cancels it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from medseg_gui.core.images import read_mask
from medseg_gui.core.project import ClassSpec, Project
from tests.qt.test_canvas import canvas, key  # noqa: F401
from tests.workers.helpers import make_images, open_window

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
