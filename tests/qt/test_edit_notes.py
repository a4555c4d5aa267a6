"""What the canvas says once an edit has ended (``EditNotes``): the note that part of a label lies outside the region
shown comes with every tool, is not replaced by the new-label note, and is taken back once it no longer holds
(a gynaecologic-oncology trial, lesion restricted to the cervix)."""

import numpy as np
from PySide6.QtCore import Qt

from tests.qt.test_canvas import COLORS, H, W, canvas, drag, make_image, px  # noqa: F401

OUTSIDE = "lies outside the region (darkened)"
INSIDE_NOW = "No part of this 'lesion' label lies outside the region now."


def _left_region() -> np.ndarray:
    roi = np.zeros((H, W), bool)
    roi[:, :10] = True
    return roi


def _notices(canvas) -> list[str]:  # noqa: F811
    said: list[str] = []
    canvas.notice.connect(said.append)
    canvas.set_roi(_left_region())
    return said


def test_a_wand_click_beyond_the_region_on_a_new_label_says_so_beside_the_new_label_note(qtbot, canvas):  # noqa: F811
    """The wand's region ran far into the darkened area: the outside note was said, then at once replaced by
    "New complete 'lesion' label", so it was never seen."""
    said = _notices(canvas)
    canvas.set_prediction("lesion", np.full((H, W), 0.9, np.float32))
    canvas.set_tool("wand")
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 5, 5))  # grey: columns 0–29; region: 0–9
    assert canvas.label("lesion")[5, 20]
    assert len(said) == 1 and OUTSIDE in said[0] and "New complete 'lesion' label" in said[0]


def test_the_outside_note_is_taken_back_after_undo_and_said_again_at_the_next_such_stroke(qtbot, canvas):  # noqa: F811
    said = _notices(canvas)
    canvas.set_brush_size(2)
    drag(qtbot, canvas, [px(canvas, 5, 5), px(canvas, 15, 5)])
    drag(qtbot, canvas, [px(canvas, 5, 15), px(canvas, 15, 15)])
    assert sum(OUTSIDE in s for s in said) == 1
    canvas.undo()  # the first stroke still lies outside
    assert INSIDE_NOW not in said
    canvas.undo()
    assert said[-1] == INSIDE_NOW
    canvas.redo()  # a redo is no new edit of the user's: nothing said
    assert said[-1] == INSIDE_NOW
    drag(qtbot, canvas, [px(canvas, 5, 20), px(canvas, 15, 20)])
    assert OUTSIDE in said[-1]


def test_the_outside_note_is_taken_back_when_the_region_grows_around_the_label(qtbot, canvas):  # noqa: F811
    said = _notices(canvas)
    canvas.set_brush_size(2)
    drag(qtbot, canvas, [px(canvas, 5, 5), px(canvas, 15, 5)])
    assert OUTSIDE in said[-1]
    canvas.set_roi(_left_region())  # the same region again: still outside
    assert OUTSIDE in said[-1]
    grown = _left_region()
    grown[:, :20] = True  # the cervix extended around the lesion
    canvas.set_roi(grown)
    assert said[-1] == INSIDE_NOW


def test_a_label_imported_while_the_image_had_steps_of_another_class_is_no_new_label(qtbot, canvas):  # noqa: F811
    """A trial drew the cervix, imported lesion labels (the project is shown again, the cervix steps kept), then
    painted on an imported lesion: told "New complete 'lesion' label", meant for a label that did not exist."""
    said: list[str] = []
    canvas.notice.connect(said.append)
    canvas.set_brush_size(2)
    canvas.set_current_class("vessel")
    drag(qtbot, canvas, [px(canvas, 5, 20), px(canvas, 15, 20)])
    imported, vessel = np.zeros((H, W), bool), canvas.label("vessel")
    imported[2:8, 2:8] = True
    canvas.set_image("img", make_image())  # shown again from disk after the import
    canvas.set_labels({"lesion": imported, "vessel": vessel}, COLORS)
    canvas.set_current_class("lesion")
    canvas.set_prediction("lesion", np.full((H, W), 0.9, np.float32))
    drag(qtbot, canvas, [px(canvas, 12, 10), px(canvas, 15, 10)])
    assert canvas.can_undo() and not any("New complete" in s for s in said)
    canvas.undo()
    canvas.undo()  # back to the start: the imported label stays, the vessel label drawn here goes
    assert canvas.is_labelled("lesion") and not canvas.is_labelled("vessel")


def test_a_label_largely_outside_a_region_given_later_is_said_once(qtbot, canvas):  # noqa: F811
    """A weak cervix model's region took 64 % of a trial's polyp label and opening the image said nothing."""
    said: list[str] = []
    canvas.notice.connect(said.append)
    label = np.zeros((H, W), bool)
    label[5:10, 5:15] = True  # columns 5–14; the region keeps 0–9: half of it outside
    canvas.set_labels({"lesion": label}, COLORS)
    canvas.set_roi(_left_region())
    assert said == ["50% of this 'lesion' label lies outside the region (darkened): training and scores use only the "
                    "part inside it."]
    canvas.set_roi(_left_region())  # again (a threshold moved a predicted region): said once per image and class
    assert len(said) == 1
    inside = np.zeros((H, W), bool)
    inside[:, :14] = True
    said.clear()
    canvas.set_roi(inside)  # a tenth outside: nothing
    assert said == []
