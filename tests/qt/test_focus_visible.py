"""Keyboard use, as an outside trial at 200 % found it: Tab follows the screen (qt.tab_order), each control it stops
at shows a focus ring (qt.theme), a slider is one stop, and the smaller things the trial saw (opacity tooltips, the
polygon's rubber band, a Pan button that looked usable with nothing open)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from medseg_gui.qt.panels.layers_panel import LayersPanel
from medseg_gui.qt.panels.tools_panel import ToolsPanel
from medseg_gui.qt.theme import TONES, apply_theme
from tests.qt.test_canvas import GRAY, canvas, pt, send_mouse  # noqa: F401
from tests.workers.helpers import make_project, open_window


@pytest.fixture
def window(tmp_path, qtbot):
    return open_window(qtbot, make_project(tmp_path / "p", n=3, labelled=1))


def screen_order(window) -> list:
    """The Tab stops as the screen shows them: top to bottom, left to right (Cancel is off: no stop)."""
    images, tools, train, layers = window.image_list, window.tools, window.train_panel, window.layers
    stops = [images.table, images.next_button, window.canvas, tools.class_combo, tools.mode_combo,
             tools.brush_slider.focusProxy(), tools.wand_slider.focusProxy(), tools.tool_buttons["brush"],
             tools.accept_button, train.preset_combo, train.minutes_spin, train.scratch_check, train.retrain_button,
             train.continuous_button, train.models_button, layers.threshold_spin]
    for layer, check in layers.checks.items():
        stops += [check, layers.sliders[layer]]
    return stops


def walk(qtbot, key, steps: int) -> list:
    seen = [QApplication.focusWidget()]
    for _ in range(steps):
        qtbot.keyClick(QApplication.focusWidget(), key)
        seen.append(QApplication.focusWidget())
    return seen


def test_tab_and_shift_tab_follow_the_screen(window, qtbot):
    """The trial's Tab from the canvas skipped the Class box, New label came after the sliders, the threshold last;
    Shift+Tab from the canvas skipped Next image to label."""
    stops = screen_order(window)
    window.image_list.table.setFocus()
    qtbot.waitUntil(window.image_list.table.hasFocus, timeout=2_000)
    assert walk(qtbot, Qt.Key.Key_Tab, len(stops)) == stops + [stops[0]]  # and round again
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus, timeout=2_000)
    back = walk(qtbot, Qt.Key.Key_Backtab, len(stops))
    assert back[:3] == [window.canvas, window.image_list.next_button, window.image_list.table]
    assert back == [stops[(2 - i) % len(stops)] for i in range(len(stops) + 1)]


def test_a_slider_with_its_number_is_one_tab_stop(qtbot):
    """Brush size and Wand tolerance each took two Tabs, the first on an invisible frame."""
    panel = ToolsPanel()
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    panel.brush_slider.setFocus()
    qtbot.waitUntil(lambda: panel.brush_slider.focusProxy().hasFocus(), timeout=2_000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is panel.wand_slider.focusProxy()


def ring_pixels(widget, colour: QColor) -> int:
    """How many pixels of `widget`'s rendering are (about) the focus colour."""
    image = widget.grab().toImage()
    return sum(1 for x in range(image.width()) for y in (0, 1, image.height() // 2, image.height() - 2)
               if all(abs(a - b) < 24 for a, b in zip(image.pixelColor(x, y).getRgb()[:3], colour.getRgb()[:3])))


@pytest.mark.parametrize("look", ["dark", "light"])
def test_every_kind_of_control_shows_a_focus_ring(window, qtbot, look):
    """The trial saw no focus on the canvas and the chosen tool (its arrow keys then changed the tool unseen) and a
    thin outline elsewhere: each now has a ring in the theme's focus colour."""
    app = QApplication.instance()
    apply_theme(app, look)
    try:
        colour = QColor(TONES[look]["focus"])
        tools, train, layers = window.tools, window.train_panel, window.layers
        controls = {"button": (train.models_button, train.models_button), "tool": (tools.tool_buttons["brush"],) * 2,
                    "checkbox": (layers.checks["roi"],) * 2, "slider": (layers.sliders["roi"],) * 2,
                    "list": (window.image_list.table,) * 2, "combo": (tools.class_combo,) * 2,
                    "spin box": (layers.threshold_spin,) * 2, "canvas": (window.canvas, window.canvas_area)}
        window.image_list.next_button.setFocus()
        qtbot.waitUntil(window.image_list.next_button.hasFocus, timeout=2_000)
        unfocused = {name: ring_pixels(shown, colour) for name, (_, shown) in controls.items()}
        for name, (control, shown) in controls.items():
            control.setFocus(Qt.FocusReason.TabFocusReason)
            qtbot.waitUntil(control.hasFocus, timeout=2_000)
            assert ring_pixels(shown, colour) > unfocused[name] + 20, name
    finally:
        apply_theme(app)  # the other tests run with the default look


def test_enter_in_the_threshold_box_shows_where_the_keys_went(window, qtbot):
    """Enter hands the keys back to the canvas (qt.focus_home), whose frame now says so."""
    window.canvas.setFocus()
    qtbot.waitUntil(window.canvas.hasFocus, timeout=2_000)
    assert window.canvas_area.property("keys") is True
    box = window.layers.threshold_spin
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=2_000)
    assert window.canvas_area.property("keys") is False
    qtbot.keyClicks(box, "0.3")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert window.canvas.hasFocus() and window.canvas_area.property("keys") is True


def test_opacity_tooltips_name_the_layer_as_shown_and_say_the_value(qtbot):
    panel = LayersPanel()
    qtbot.addWidget(panel)
    for layer, slider in panel.sliders.items():
        assert slider.toolTip() == f"Opacity of {panel.checks[layer].text()}: {slider.value()} %"
    panel.sliders["fpfn"].setValue(25)
    assert panel.sliders["fpfn"].toolTip() == "Opacity of FP / FN: 25 %"
    assert panel.sliders["roi"].toolTip().startswith("Opacity of Region: ")


def test_pan_is_off_with_the_other_tools_while_nothing_is_open(tmp_path, qtbot):
    window = open_window(qtbot)
    assert not any(button.isEnabled() for button in window.tools.tool_buttons.values())
    with qtbot.waitSignal(window.project_loaded, timeout=10_000):
        window.open_folder(make_project(tmp_path / "p", n=1).root)
    assert all(button.isEnabled() for button in window.tools.tool_buttons.values())


def test_the_polygon_rubber_band_is_a_wide_two_tone_line(qtbot, canvas):  # noqa: F811
    """A 1-pixel line was faint on tissue at 200 %: a 3-pixel light line under dark dashes."""
    canvas.set_tool("polygon")
    for x in (2, 10):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pt(canvas, x, 10))
    send_mouse(canvas, QEvent.Type.MouseMove, pt(canvas, 24, 10), Qt.MouseButton.NoButton)
    image = canvas.grab().toImage()
    band = pt(canvas, 17, 10)
    column = [image.pixelColor(band.x(), band.y() + d).getRgb()[:3] for d in range(-6, 7)]
    assert sum(1 for rgb in column if rgb != (GRAY,) * 3) >= 3
