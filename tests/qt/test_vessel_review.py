"""Reviewing a thin-structure class (vessels) beside a blob class (lesions): Accept prediction keeps every piece of a
vessel tree, and the predicted outlines of vessels show only from 100 % zoom (zoomed out they covered the label,
FP/FN and heat map: outside trial on 3504x2336 HRF photos)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from medseg_gui.core.images import write_png
from medseg_gui.core.project import Project
from medseg_gui.qt.defaults import contour_rgb
from medseg_gui.qt.legend import legend_entries
from tests.workers.helpers import open_window

H, W = 160, 240  # 0.05 % of it is 19 px: a 15 px vessel segment was a "speck"
LESION, VESSEL = (255, 170, 0), (0, 200, 255)


def vessel_tree() -> np.ndarray:
    """A 2 px wide trunk with branches, and three detached 15 px segments (a vessel the threshold broke)."""
    tree = np.zeros((H, W), bool)
    tree[78:80, 20:220] = True
    tree[20:78, 60:62] = tree[80:140, 150:152] = True
    for y, x in ((30, 100), (120, 40), (140, 200)):
        tree[y, x:x + 15] = True
    return tree


def lesions() -> np.ndarray:
    """One disc and a detached 4 x 4 speck."""
    yy, xx = np.mgrid[:H, :W]
    blobs = (yy - 80) ** 2 + (xx - 120) ** 2 <= 30 ** 2
    blobs[10:14, 10:14] = True
    return blobs


def test_accept_keeps_every_piece_of_a_vessel_tree_but_drops_a_lesions_specks(tmp_path, qtbot, messages):
    source = write_png(tmp_path / "photo.png", np.full((H, W, 3), 90, np.uint8))
    project = Project.create(tmp_path / "p")  # classes: lesion, vessel
    stem = project.add_image(source).stem
    project.save_prediction("vessel", stem, np.where(vessel_tree(), 0.9, 0.1).astype(np.float32))
    project.save_prediction("lesion", stem, np.where(lesions(), 0.9, 0.1).astype(np.float32))
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: {"lesion", "vessel"} <= set(window.canvas.doc.preds), timeout=20_000)

    window.tools.select_class("vessel")
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(window.canvas.label("vessel"), vessel_tree())
    line = window.statusBar().currentMessage()
    assert line.startswith("Prediction accepted as the vessel label — Ctrl+Z to undo") and "speck" not in line

    window.tools.select_class("lesion")
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    kept = lesions()
    kept[10:14, 10:14] = False
    np.testing.assert_array_equal(window.canvas.label("lesion"), kept)
    assert window.statusBar().currentMessage().startswith(
        "Prediction accepted as the lesion label (1 speck under 0.05% of the image left out)")


def screen(canvas) -> np.ndarray:
    img = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def outline_shown(canvas, rgb) -> bool:
    return bool((screen(canvas) == contour_rgb(rgb)).all(axis=2).any())


@pytest.mark.parametrize("cls,mask,rgb", [("vessel", vessel_tree, VESSEL), ("lesion", lesions, LESION)])
def test_a_thin_class_s_outlines_show_only_from_100_percent_zoom(shown_canvas, cls, mask, rgb):
    canvas = shown_canvas(np.full((H, W, 3), 90, np.uint8), {cls: rgb})
    canvas.set_prediction(cls, np.where(mask(), 0.9, 0.1).astype(np.float32), 0.5)
    assert canvas.new_label.is_thin(cls) == (cls == "vessel")  # measured from the prediction
    canvas.set_zoom(0.5)
    shown = [t for _c, t in legend_entries(canvas)]
    if cls == "vessel":  # zoomed out its outlines would merge into a tree hiding the label and FP/FN beneath
        assert not outline_shown(canvas, rgb) and "vessel predicted outline" not in shown
    else:
        assert outline_shown(canvas, rgb) and "lesion predicted outline" in shown
    canvas.actual_size()
    assert outline_shown(canvas, rgb) and f"{cls} predicted outline" in [t for _c, t in legend_entries(canvas)]


def test_the_layers_panel_says_when_a_thin_class_s_outlines_show(qtbot):
    from medseg_gui.qt.panels.layers_panel import LayersPanel

    panel = LayersPanel()
    qtbot.addWidget(panel)
    assert "thin-structure class's (vessels) shows only from 100% zoom (Ctrl+1)" in panel.checks["contours"].toolTip()
