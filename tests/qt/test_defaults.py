"""One table of UI defaults: a canvas on its own and the panels start from the same opacities, brush size and wand
tolerance, and the canvas clamps to the ranges the sliders offer."""

from __future__ import annotations

import pytest

from medseg_gui.qt import defaults
from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.panels.layers_panel import LayersPanel
from medseg_gui.qt.panels.tools_panel import ToolsPanel


def test_canvas_and_panels_share_the_defaults(qtbot):
    canvas, layers, tools = Canvas(), LayersPanel(), ToolsPanel()
    for widget in (canvas, layers, tools):
        qtbot.addWidget(widget)
    for layer, (visible, opacity) in layers.states().items():
        assert visible == canvas.layer_visible(layer) == (layer not in defaults.LAYER_HIDDEN)
        assert opacity == pytest.approx(canvas.layer_opacity(layer), abs=0.005)
    assert canvas.brush_size() == tools.brush_slider.value() == defaults.BRUSH_SIZE
    assert canvas.wand_tolerance() == tools.wand_slider.value() == defaults.WAND_TOLERANCE
    canvas.set_brush_size(10**6)
    canvas.set_wand_tolerance(10**6)
    assert (canvas.brush_size(), canvas.wand_tolerance()) == (tools.brush_slider.maximum(), tools.wand_slider.maximum())
    canvas.set_brush_size(-5)
    canvas.set_wand_tolerance(-5)
    assert (canvas.brush_size(), canvas.wand_tolerance()) == (tools.brush_slider.minimum(), tools.wand_slider.minimum())
