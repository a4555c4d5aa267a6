"""Every control of the main window works from the keyboard (outside trial, keyboard only at 200 %): Space presses a
focused button or check box instead of starting hold-to-pan, Return a focused push button; Accept prediction, the
Train panel's toggles, the "use it" link and the result's reasons have keys or menu entries (qt.keyboard,
canvas.hold_keys, qt.actions; Tab leaving the Models table: test_models_dialog)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from medseg_gui import train_process
from medseg_gui.core.project import Project
from medseg_gui.qt import keymap
from tests.qt.test_main_window_review import _project_with_predictions
from tests.workers import fake_children
from tests.workers.helpers import drag, make_project, open_window


def tab_to(qtbot, widget) -> None:
    """The keyboard focus on `widget`, as Tab puts it there."""
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=2_000)


def _accepted_on_unlabelled_image(qtbot, tmp_path, messages):
    project, _, _ = _project_with_predictions(tmp_path / "p")
    other = project.stems[1]  # unlabelled: accepting asks nothing
    window = open_window(qtbot, project)
    window.image_list.select(other)
    qtbot.waitUntil(lambda: window.session.stem == other and "lesion" in window.session.review.probs, timeout=10_000)
    assert not window.canvas.label("lesion").any()
    return window, project, other


def test_space_on_a_focused_accept_prediction_accepts(tmp_path, qtbot, messages):
    window, project, stem = _accepted_on_unlabelled_image(qtbot, tmp_path, messages)
    tab_to(qtbot, window.tools.accept_button)
    qtbot.keyClick(window.tools.accept_button, Qt.Key.Key_Space)
    assert window.canvas.label("lesion").any()
    assert Project.open(project.root).entry(stem).state["accepted"] == ["lesion"]


def test_the_accept_prediction_key_and_menu_entry(tmp_path, qtbot, messages):
    window, _, _ = _accepted_on_unlabelled_image(qtbot, tmp_path, messages)
    edit_menu = window.menuBar().actions()[1].menu()
    assert window.actions.accept_prediction in edit_menu.actions()
    assert keymap.ACTIONS["accept_prediction"].keys == ("A",)
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus, timeout=2_000)
    qtbot.keyClick(window.canvas, Qt.Key.Key_A)
    assert window.canvas.label("lesion").any()
    window.read_only_view.pause("masks are imported")  # off with its button
    assert not window.actions.accept_prediction.isEnabled()
    window.read_only_view.pause("")
    assert window.actions.accept_prediction.isEnabled()


def test_space_toggles_a_focused_layer_box_and_return_presses_a_focused_button(tmp_path, qtbot, messages):
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    others = window.layers.checks["others"]
    shown = others.isChecked()
    tab_to(qtbot, others)
    qtbot.keyClick(others, Qt.Key.Key_Space)
    assert others.isChecked() != shown
    for button, signal in ((window.train_panel.models_button, window.train_panel.models_requested),
                           (window.image_list.next_button, window.image_list.next_to_label_requested)):
        tab_to(qtbot, button)
        with qtbot.waitSignal(signal, timeout=2_000):
            qtbot.keyClick(button, Qt.Key.Key_Return)
    assert window.train_panel.retrain_button.isDefault()  # Retrain stays the default button


def test_a_click_on_a_button_or_box_leaves_space_to_pan(tmp_path, qtbot, messages):
    """The buttons take the focus from the keyboard only: after a click on a layer box or a tool, Space+drag still
    pans (it would toggle the box) and the box keeps its state."""
    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    table, canvas, others = window.image_list.table, window.canvas, window.layers.checks["others"]
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=2_000)
    qtbot.mouseClick(others, Qt.MouseButton.LeftButton)
    shown = others.isChecked()
    qtbot.mouseClick(window.tools.tool_buttons["brush"], Qt.MouseButton.LeftButton)
    assert table.hasFocus(), QApplication.focusWidget()
    QTest.keyPress(table, Qt.Key.Key_Space)
    origin = canvas.image_to_widget(0, 0)
    drag(qtbot, canvas, [(10, 10), (20, 14), (30, 18)])
    moved = canvas.image_to_widget(0, 0) - origin
    QTest.keyRelease(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert moved.x() > 5 and canvas.label("lesion").sum() == 0  # panned, painted nothing
    assert others.isChecked() == shown


def test_train_menu_mirrors_continuous_and_start_from_scratch(tmp_path, qtbot, messages, monkeypatch):
    monkeypatch.setattr(train_process, "_child_main", fake_children.never_answers)  # trains nothing, until ended
    window = open_window(qtbot, make_project(tmp_path / "p", n=3, labelled=1))
    window.ask_on_close = False
    a, panel = window.actions, window.train_panel
    train_menu = window.menuBar().findChild(QMenu, "trainMenu")
    a.from_scratch.trigger()
    assert panel.scratch_check.isChecked()
    panel.scratch_check.setChecked(False)
    train_menu.aboutToShow.emit()  # the menu shows the box's state when it opens
    assert not a.from_scratch.isChecked()
    a.continuous.trigger()
    assert window.train_worker is not None and window.train_worker.continuous
    train_menu.aboutToShow.emit()
    assert a.continuous.isChecked() and not a.from_scratch.isEnabled()  # the box is off while training
    a.continuous.trigger()  # again: stop
    qtbot.waitUntil(lambda: window.train_worker is None, timeout=20_000)
    train_menu.aboutToShow.emit()
    assert not a.continuous.isChecked() and a.continuous.isEnabled()


def test_the_other_classes_layer_has_a_key_and_the_layer_tooltips_name_theirs(tmp_path, qtbot, messages):
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    for layer, (key, _) in keymap.LAYERS.items():
        assert window.layers.checks[layer].toolTip().endswith(f"({key})"), layer
    others = window.layers.checks["others"]
    shown = others.isChecked()
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus, timeout=2_000)
    qtbot.keyClick(window.canvas, Qt.Key.Key_L, Qt.KeyboardModifier.ShiftModifier)
    assert others.isChecked() != shown


def test_tools_and_layers_are_in_menus_with_their_keys(tmp_path, qtbot, messages):
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    a = window.actions
    menus = {m.title(): m for m in window.menuBar().findChildren(QMenu)}
    assert menus["&Tools"].actions() == list(a.tools.values())
    assert [act for act in menus["La&yers"].actions() if not act.isSeparator()] == [*a.layers.values(), a.legend]
    assert a.tools["background"].text() == "Back&ground" and a.layers["label"].text() == "Toggle &label"
    assert a.smaller_brush.text() == "&Smaller brush" and a.bigger_brush.text() == "&Larger brush"
    assert a.tools["pan"].text() == "P&an" and a.tools["pan"].shortcut().isEmpty()  # Pan was missing (trial)
    a.tools["pan"].trigger()
    assert window.canvas.tool() == "pan" and window.tools.tool_buttons["pan"].isChecked()


def test_zoom_keys_zoom_a_wheel_step_centred_on_the_view(tmp_path, qtbot, messages):
    """Outside trial: Ctrl++, Ctrl+=, Ctrl+-, + and - did nothing (only the wheel and Fit / Actual size zoomed)."""
    from PySide6.QtCore import QPointF

    from medseg_gui.qt.dialogs import shortcuts_html

    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    canvas = window.canvas
    qtbot.waitUntil(lambda: canvas.doc.image is not None, timeout=5_000)
    tab_to(qtbot, window.image_list.table)  # window-wide keys, wherever the focus is
    centre = QPointF(canvas.width() / 2, canvas.height() / 2)
    middle, zoom = canvas.widget_to_image(centre), canvas.zoom()
    ctrl, plain = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.NoModifier
    for key, mods, notches in ((Qt.Key.Key_Plus, ctrl, 1), (Qt.Key.Key_Equal, ctrl, 1), (Qt.Key.Key_Minus, ctrl, -1),
                               (Qt.Key.Key_Plus, plain, 1), (Qt.Key.Key_Minus, plain, -1)):
        QTest.keyClick(window.image_list.table, key, mods)
        assert canvas.zoom() == pytest.approx(zoom * 1.25 ** notches), (key, mods)  # the wheel's step
        zoom = canvas.zoom()
        x, y = canvas.widget_to_image(centre)
        near = 1 / zoom  # a widget pixel (the view's offsets are whole widget pixels)
        assert abs(x - middle[0]) <= near and abs(y - middle[1]) <= near  # the image point in the middle stays
        middle = (x, y)
    window.actions.zoom_in.trigger()  # View → Zoom in
    assert canvas.zoom() == pytest.approx(zoom * 1.25)
    tab_to(qtbot, window.layers.threshold_spin)
    QTest.keyClick(window.layers.threshold_spin, Qt.Key.Key_Minus)  # typed into a box, not a zoom
    assert canvas.zoom() == pytest.approx(zoom * 1.25)
    html = shortcuts_html()
    assert "Ctrl++ / Ctrl+= / +</b>" in html and "Ctrl+- / -</b>" in html and "Zoom in a step" in html


def test_the_legend_can_be_hidden_from_the_view_menu(tmp_path, qtbot, messages):
    """Outside trial: the legend ("lesion label") covered part of a small image area and could not be hidden."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    window.tools.select_class("lesion")
    legend, show = window.canvas_area.legend, window.actions.legend
    qtbot.waitUntil(lambda: legend.isVisibleTo(window) and bool(legend.entries()), timeout=5_000)
    assert show.isCheckable() and show.isChecked()
    show.trigger()
    window.canvas.update()  # a repaint (any change of the canvas) does not bring it back
    qtbot.wait(20)
    assert not legend.isVisibleTo(window) and legend.entries()
    show.trigger()
    assert legend.isVisibleTo(window)


def test_the_threshold_suggestion_is_used_with_tab_and_return(qtbot):
    from medseg_gui.qt.panels.layers_panel import LayersPanel

    for key in (Qt.Key.Key_Return, Qt.Key.Key_Space):
        panel = LayersPanel(threshold=0.5)
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitExposed(panel)
        panel.show_suggestion({"threshold": 0.35, "val_dice": 0.7})
        panel.threshold_spin.setFocus()
        qtbot.waitUntil(panel.threshold_spin.hasFocus, timeout=2_000)
        qtbot.keyClick(panel.threshold_spin, Qt.Key.Key_Tab)
        assert panel.suggestion.hasFocus() and panel.suggestion.selectedText() == "use it"
        qtbot.keyClick(panel.suggestion, key)
        assert panel.threshold() == 0.35


def test_the_result_in_full_from_the_train_menu(tmp_path, qtbot, messages):
    from medseg_gui.qt.panels.run_lines import Said

    window = open_window(qtbot, make_project(tmp_path / "p", n=2))
    a, panel = window.actions, window.train_panel
    window.menuBar().findChild(QMenu, "trainMenu").aboutToShow.emit()
    assert not a.result_in_full.isEnabled()  # nothing to say yet
    panel.lines.say(Said("Kept: … point here for why", "Kept, in full.\n\nThe reason.", full="Kept, in full.\n\n"
                         "The reason."))
    window.menuBar().findChild(QMenu, "trainMenu").aboutToShow.emit()
    assert a.result_in_full.isEnabled()
    a.result_in_full.trigger()
    assert messages == ["Kept, in full.\n\nThe reason."]
    panel.show_result("Round 2: kept")  # no tooltip: the line itself
    assert panel.result_in_full() == "Round 2: kept"


def test_the_read_only_banners_link_is_followed_with_tab_and_space(qtbot):
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    from medseg_gui.qt.read_only import ReadOnlyBanner

    box = QWidget()
    qtbot.addWidget(box)
    field, banner = QLineEdit(box), ReadOnlyBanner(box)
    layout = QVBoxLayout(box)
    layout.addWidget(field)
    layout.addWidget(banner)
    banner.show_reason("another window edits it")
    box.show()
    qtbot.waitExposed(box)
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2_000)
    qtbot.keyClick(field, Qt.Key.Key_Tab)
    assert banner.hasFocus() and banner.selectedText() == "Try editing again"
    with qtbot.waitSignal(banner.retry_requested, timeout=2_000):
        qtbot.keyClick(banner, Qt.Key.Key_Space)
