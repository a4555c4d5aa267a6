"""Edit → Classes…: add, rename, recolour and delete a class from the GUI; labels follow a rename, a delete asks
first and keeps the files, and nothing changes while a label is unsaved."""

from __future__ import annotations

from medseg_gui.core.classes import TRASH_FOLDER
from medseg_gui.qt import class_dialog, dialogs
from tests.workers.helpers import make_project, open_window


def test_classes_are_added_renamed_recoloured_and_deleted_from_the_gui(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=2, cls="lesion")
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    window.actions.edit_classes.trigger()
    box = window.findChild(class_dialog.ClassesDialog)
    assert [box.list.item(i).text() for i in range(box.list.count())] == ["lesion", "vessel"]

    monkeypatch.setattr(class_dialog, "ask_name", lambda parent, title, text, name="": "polyp")
    box.list.setCurrentRow(0)
    box.buttons["rename"].click()
    assert window.project.class_names == ["polyp", "vessel"] and window.current_class() == "polyp"
    assert window.tools.class_names() == ["polyp", "vessel"]
    assert set(window.project.labelled_stems("polyp")) == set(project.stems)  # the labels moved with the class
    assert window.image_list.headers()[1] == "Labelled (polyp)"

    monkeypatch.setattr(class_dialog, "ask_colour", lambda parent, title, colour: (10, 20, 30))
    box.buttons["colour"].click()
    assert window.project.class_spec("polyp").color == (10, 20, 30)

    monkeypatch.setattr(class_dialog, "ask_name", lambda parent, title, text, name="": "cervix")
    box.buttons["add"].click()
    assert window.tools.class_names() == ["polyp", "vessel", "cervix"]

    questions: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: questions.append(text) or False)
    box.list.setCurrentRow(0)
    box.buttons["delete"].click()
    assert "2 label(s)" in questions[0] and "polyp" in window.project.class_names  # "No" keeps it
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)
    window.tools.select_class("polyp")  # deleting the class being drawn
    box.list.setCurrentRow(0)
    box.buttons["delete"].click()
    assert window.tools.class_names() == ["vessel", "cervix"]
    assert window.canvas.current_class() == window.current_class() == "vessel"  # strokes go to a class that exists
    trash = list((project.root / TRASH_FOLDER).iterdir())
    assert len(trash) == 1 and len(list((trash[0] / "labels").glob("*.png"))) == 2

    monkeypatch.setattr(window.guard, "all_saved", lambda: False)  # a label still being written: refused
    box.list.setCurrentRow(0)
    box.buttons["rename"].click()
    assert "not saved yet" in window.last_error and window.project.class_names == ["vessel", "cervix"]
    asked: list[str] = []
    monkeypatch.setattr(class_dialog, "ask_name", lambda parent, title, text, name="": asked.append(title) or "x")
    box.buttons["add"].click()  # refused before a name is asked for (a trial typed one, then was refused)
    assert asked == [] and "not saved yet" in window.last_error and window.project.class_names == ["vessel", "cervix"]
