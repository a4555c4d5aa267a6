"""The probability heat-map layer: off at first, clear where the model sees nothing, viridis yellow at 1, in the
legend while shown, toggled by M in the window."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from medseg_gui.qt.defaults import HEATMAP_HIGH_RGB
from medseg_gui.qt.legend import legend_entries, legend_html
from tests.workers.helpers import H, W, make_project, open_window

CLS = "lesion"


def test_heat_map_is_off_at_first_clear_at_0_and_viridis_by_probability(qtbot, shown_canvas):
    canvas = shown_canvas(np.full((H, W, 3), 80, np.uint8), {CLS: (255, 215, 0)})
    prob = np.zeros((H, W), np.float32)
    prob[:, W // 2:] = 1.0
    prob[: H // 4, W // 2:] = 0.5
    canvas.set_prediction(CLS, prob, threshold=0.5)
    canvas.set_layer_visible("contours", False)
    canvas.set_zoom(4.0)
    high, low = canvas.image_to_widget(W * 0.75, H * 0.75).toPoint(), canvas.image_to_widget(W * 0.25, H / 2).toPoint()
    half = canvas.image_to_widget(W * 0.75, H / 8).toPoint()
    assert not canvas.layer_visible("probability")
    assert canvas.grab().toImage().pixelColor(high).getRgb()[:3] == (80, 80, 80)
    assert not [t for _c, t in legend_entries(canvas) if "probability" in t]
    canvas.set_layer_visible("probability", True)
    canvas.set_layer_opacity("probability", 1.0)
    image = canvas.grab().toImage()
    assert image.pixelColor(high).getRgb()[:3] == HEATMAP_HIGH_RGB  # p = 1: opaque yellow
    assert image.pixelColor(low).getRgb()[:3] == (80, 80, 80)  # p = 0: the image shows through
    r, g, b = image.pixelColor(half).getRgb()[:3]
    assert g > r and g > 80 and (r, g, b) != HEATMAP_HIGH_RGB  # p = 0.5: viridis' green, half over the grey
    [scale] = [rgb for rgb, t in legend_entries(canvas) if "probability" in t]
    assert len(scale) == 3 and scale[-1] == HEATMAP_HIGH_RGB and len(set(scale)) == 3  # its scale, not one yellow
    assert legend_html([(scale, "heat")]).count("■") == 3 and legend_html([((1, 2, 3), "x")]).count("■") == 1
    canvas.set_prediction(CLS, np.zeros((H, W), np.float32), threshold=0.5)  # a new map: redrawn
    assert canvas.grab().toImage().pixelColor(high).getRgb()[:3] == (80, 80, 80)


def test_m_toggles_the_heat_map_in_the_window(tmp_path, qtbot):
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    assert not window.layers.checks["probability"].isChecked() and not window.canvas.layer_visible("probability")
    qtbot.keyClick(window.canvas, Qt.Key.Key_M)
    assert window.layers.checks["probability"].isChecked() and window.canvas.layer_visible("probability")


def test_the_heat_map_is_drawn_over_the_label_and_fpfn(qtbot, shown_canvas):
    """New-user trials, sessions 32 and 33: M seemed to do nothing with the label and FP/FN layers on (the default):
    the heat map lay under them. It is drawn over them now, and the legend lists it after them (back to front)."""
    canvas = shown_canvas(np.full((H, W, 3), 80, np.uint8), {CLS: (255, 215, 0)})
    label = np.zeros((H, W), bool)
    label[4:20, 4:20] = True
    canvas.set_labels({CLS: label}, {CLS: (255, 215, 0)})
    prob = np.zeros((H, W), np.float32)
    prob[4:20, 4:12] = 1.0  # a false negative on the label's right half
    canvas.set_prediction(CLS, prob, threshold=0.5)
    assert canvas.layer_shown("label") and canvas.layer_shown("fpfn")
    canvas.set_layer_visible("contours", False)
    canvas.set_zoom(4.0)
    inside = canvas.image_to_widget(6.5, 10.5).toPoint()
    missed = canvas.image_to_widget(16.5, 10.5).toPoint()
    before = canvas.grab().toImage()
    canvas.set_layer_visible("probability", True)
    canvas.set_layer_opacity("probability", 1.0)
    after = canvas.grab().toImage()
    assert after.pixelColor(inside).getRgb()[:3] == HEATMAP_HIGH_RGB != before.pixelColor(inside).getRgb()[:3]
    assert after.pixelColor(missed).getRgb()[:3] == before.pixelColor(missed).getRgb()[:3]  # p = 0: FN shows
    texts = [t for _c, t in legend_entries(canvas)]
    heat = next(i for i, t in enumerate(texts) if "probability" in t)
    assert heat > max(i for i, t in enumerate(texts) if "label" in t or "false" in t)
    assert texts[heat].endswith("yellow 1)")

