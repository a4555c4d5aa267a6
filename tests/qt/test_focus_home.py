"""A control the app switches off while it has the keyboard focus hands it back where the user works (qt.focus_home),
not to the next control in the panels: an outside trial's Retrain passed the focus on to the label opacity slider
(Down ×10 lowered it, End set it to the maximum) and to the "New label" combo (Down: Automatic → Complete)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox

from medseg_gui import train_process
from tests.workers import fake_children
from tests.workers.helpers import make_project, open_window


def panel_settings(window) -> list:
    """Every value a key could change in the right-hand column: sliders, spin boxes, combos, checkable buttons."""
    side = window.side_scroll.widget()
    return ([w.value() for w in side.findChildren(QAbstractSlider)]
            + [w.text() for w in side.findChildren(QAbstractSpinBox)]
            + [w.currentIndex() for w in side.findChildren(QComboBox)]
            + [w.isChecked() for w in side.findChildren(QAbstractButton) if w.isCheckable()])


def focus_on(qtbot, widget) -> None:
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=2_000)


def press_keys(qtbot, keys) -> None:
    for key in keys:
        qtbot.keyClick(QApplication.focusWidget(), key)


def test_retrain_and_cancel_give_the_keys_back_to_the_image_list(tmp_path, qtbot, messages, monkeypatch):
    monkeypatch.setattr(train_process, "_child_main", fake_children.never_answers)  # trains nothing, until ended
    project = make_project(tmp_path / "p", n=3, labelled=1)
    window = open_window(qtbot, project)
    window.ask_on_close = False  # a failed assertion leaves the run going: closing must not ask
    panel, table = window.train_panel, window.image_list.table
    focus_on(qtbot, table)
    before = panel_settings(window)
    qtbot.mouseClick(panel.retrain_button, Qt.MouseButton.LeftButton)  # the click focuses it; it greys out
    assert window.train_worker is not None and not panel.retrain_button.isEnabled()
    assert table.hasFocus(), QApplication.focusWidget()
    press_keys(qtbot, [Qt.Key.Key_Down] * 10 + [Qt.Key.Key_End])
    assert panel_settings(window) == before
    assert window.image_list.current_stem() == project.stems[-1]  # the keys moved through the list instead
    with qtbot.waitSignal(window.training_ended, timeout=20_000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)  # Cancel greys out as the run ends
    assert table.hasFocus(), QApplication.focusWidget()


def test_retrain_gives_the_keys_back_to_the_canvas_when_it_had_them(tmp_path, qtbot, messages, monkeypatch):
    monkeypatch.setattr(train_process, "_child_main", fake_children.never_answers)
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    window.ask_on_close = False
    focus_on(qtbot, window.canvas)
    before = panel_settings(window)
    qtbot.mouseClick(window.train_panel.retrain_button, Qt.MouseButton.LeftButton)
    assert window.canvas.hasFocus(), QApplication.focusWidget()
    press_keys(qtbot, [Qt.Key.Key_Down] * 10 + [Qt.Key.Key_End])
    assert panel_settings(window) == before
    window.train_panel.cancel()
    qtbot.waitUntil(lambda: window.train_worker is None, timeout=20_000)


def test_accept_prediction_switched_off_while_focused(tmp_path, qtbot, messages):
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    focus_on(qtbot, window.image_list.table)
    focus_on(qtbot, window.tools.accept_button)
    window.read_only_view.pause("masks are imported")  # editing off: Accept prediction greys out
    assert not window.tools.accept_button.isEnabled()
    assert window.image_list.table.hasFocus(), QApplication.focusWidget()
    window.read_only_view.pause("")


def test_use_this_model_gives_the_keys_to_the_model_table(qtbot):
    from medseg_gui.ml.store import ModelEntry
    from medseg_gui.qt.models_dialog import ModelsDialog

    dialog = ModelsDialog("lesion", "img0")
    qtbot.addWidget(dialog)
    dialog.set_models([ModelEntry(i, "2026-12-01T10:00:00+00:00", "default", "lesions", 4, 1, 0.9, 0.5, True,
                                  i == "b-2", True, "") for i in ("a-1", "b-2")])
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    dialog.select_ids(["a-1"])
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)  # the flow then marks the dialog busy
    dialog.set_busy(True)
    assert dialog.table.hasFocus(), QApplication.focusWidget()


def test_enter_in_the_time_box_gives_the_tool_keys_back(tmp_path, qtbot, messages):
    """Outside trial (keyboard heavy): a typed Time box, Enter, then B went into the box instead of picking the
    brush. Enter hands the keys back where they were last (here the image list), like the threshold box's."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    window.canvas.set_tool("eraser")
    focus_on(qtbot, window.image_list.table)
    spin = window.train_panel.minutes_spin
    focus_on(qtbot, spin)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "5")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.train_panel.minutes() == 5.0
    assert window.image_list.table.hasFocus(), QApplication.focusWidget()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_B)
    assert window.canvas.tool() == "brush" and window.train_panel.minutes() == 5.0
    focus_on(qtbot, spin)  # a click elsewhere also finishes an edit: the keys go where the user clicked
    focus_on(qtbot, window.layers.threshold_spin)
    assert window.layers.threshold_spin.hasFocus()


def test_editing_comes_back_only_once_every_pause_has_ended(tmp_path, qtbot, messages):
    """An import and a restore of rescued labels both pause editing: the first to end turned drawing back on while
    the other still wrote labels (a stroke's autosave would overwrite them)."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=2))
    view = window.read_only_view
    view.pause("masks are imported", "import")
    view.pause("rescued labels are brought back", "restore")
    view.pause("", "import")
    assert not window.canvas.editable and not window.actions.retrain.isEnabled()
    view.pause("", "restore")
    assert window.canvas.editable and window.actions.retrain.isEnabled()
