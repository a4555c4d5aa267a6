"""One table of shortcuts (qt.keymap): the window's actions, the canvas' own keys, the tool tooltips and the F1 list
all follow it; no key does two things."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QTextBrowser, QWidget

from medseg_gui.qt import keymap
from medseg_gui.qt.actions import create_actions
from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.dialogs import shortcuts_html, show_shortcuts
from medseg_gui.qt.panels.tools_panel import ToolsPanel


def test_window_actions_bind_the_table(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    a = create_actions(parent)
    for name, shortcut in keymap.ACTIONS.items():
        assert getattr(a, name).shortcuts() == [QKeySequence(k) for k in shortcut.keys], name
    assert {t: act.shortcut() for t, act in a.tools.items()} == {  # Pan keyless, in the menu too (trial)
        t: QKeySequence(key) for t, (key, _, _) in keymap.TOOLS.items()}
    assert [act.shortcut() for act in a.classes] == [QKeySequence(k) for k in keymap.CLASS_KEYS]
    assert {n: act.shortcut() for n, act in a.layers.items()} == {
        n: QKeySequence(k) for n, (k, _) in keymap.LAYERS.items()}
    bound = [seq.toString() for act in parent.actions() for seq in act.shortcuts()]
    bound += [QKeySequence(key).toString() for key, _ in keymap.HOLD.values()]
    assert [k for k, n in Counter(bound).items() if n > 1] == []


def test_canvas_follows_the_table(qtbot):
    canvas = Canvas()
    qtbot.addWidget(canvas)
    for tool, (key, _, _) in keymap.TOOLS.items():
        if key:
            seq = QKeySequence(key)[0]
            QApplication.sendEvent(canvas, QKeyEvent(QEvent.Type.KeyPress, seq.key(), seq.keyboardModifiers()))
            assert canvas.tool() == tool
    canvas.set_brush_size(20)
    seq = QKeySequence(keymap.ACTIONS["bigger_brush"].keys[0])[0]
    QApplication.sendEvent(canvas, QKeyEvent(QEvent.Type.KeyPress, seq.key(), seq.keyboardModifiers()))
    assert canvas.brush_size() == 23
    assert keymap.canvas_command(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_1, Qt.KeyboardModifier.NoModifier)) is None


def test_tooltips_and_f1_list_name_every_key(qtbot):
    tools = ToolsPanel()
    qtbot.addWidget(tools)
    for tool, (key, _, _) in keymap.TOOLS.items():
        assert tools.tool_buttons[tool].toolTip() == keymap.tool_tip(tool)
        if key:
            assert tools.tool_buttons[tool].toolTip().endswith(f"({key})")
    html = shortcuts_html()
    for key in ("G", "U", "Space", "H", "Shift + polygon", "Ctrl + closing a polygon", "Ctrl+Shift+Z", "F1"):
        assert f"<b>{key}" in html, key
    assert "Mark background" in html and "Accept (copy) the prediction" in html
    assert "Esc</b></td><td>&nbsp;&nbsp;Cancel a running training or Predict all images" in html  # was: as if it ran it


def test_texts_outside_the_menus_name_the_tables_keys(qtbot, monkeypatch):
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.qt.demo_choice import NOTHING_OPEN_HINT
    from medseg_gui.qt.panels.image_list import ImageListPanel
    from medseg_gui.qt.panels.train_panel import TrainPanel

    monkeypatch.setitem(keymap.ACTIONS, "retrain", keymap.Shortcut(("Ctrl+Shift+T",), "Retrain"))
    monkeypatch.setitem(keymap.ACTIONS, "next_to_label", keymap.Shortcut(("J",), "Next image to label"))
    train, images = TrainPanel(["default"], TrainConfig()), ImageListPanel()
    qtbot.addWidget(train)
    qtbot.addWidget(images)
    assert train.retrain_button.toolTip().endswith("(Ctrl+Shift+T)")  # a changed key changes the tooltip
    assert images.next_button.toolTip().endswith("(J)")
    assert f"({keymap.key_text('open_folder')})" in NOTHING_OPEN_HINT


def test_f1_window_fits_the_screen_and_scrolls(qtbot):
    """The list is taller than many screens: its window stays on the screen and the list scrolls."""
    parent = QWidget()
    qtbot.addWidget(parent)
    dialog = show_shortcuts(parent)
    qtbot.waitExposed(dialog)
    screen = parent.screen().availableGeometry()
    assert dialog.frameGeometry().height() <= 0.9 * screen.height() and dialog.width() <= screen.width()  # + taskbar
    browser = dialog.findChild(QTextBrowser)
    assert "<b>F1" in shortcuts_html() and "This list" in browser.toPlainText()
    dialog.close()
