"""Canvas with demo-sized images and a noisy prediction (thousands of blobs): the contour raster shows every
boundary pixel at 800 %, stays visible zoomed out, and the mask layers look the same on both drawing paths.

No timings here: ``bench/canvas.py`` measures set_prediction and paint times.
"""

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QImage

from medseg_gui.core.overlays import any_pool2, boundary
from medseg_gui.qt.defaults import contour_rgb

H, W = 960, 999  # the bundled fundus demo's size
GRAY = 80
VESSEL = (0, 200, 255)
OUTLINE = contour_rgb(VESSEL)  # predicted contours are drawn in the class's outline colour


def noisy_prob(seed: int = 0) -> np.ndarray:
    """What a briefly trained model predicts: smoothed noise, ~half above 0.5 in thousands of small blobs."""
    return cv2.GaussianBlur(np.random.default_rng(seed).random((H, W), dtype=np.float32), (0, 0), 1.0)


@pytest.fixture
def canvas(shown_canvas):
    return shown_canvas(np.full((H, W, 3), GRAY, np.uint8), {"vessel": VESSEL})


def screen(canvas) -> np.ndarray:
    """The widget as rendered by paintEvent, uint8 h x w x 3 RGB."""
    img = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def image_pixels(canvas, shown: np.ndarray):
    """Rows/cols of the image pixel under the centre of every widget pixel that shows the image."""
    wy, wx = np.mgrid[: shown.shape[0], : shown.shape[1]]
    v = canvas.view
    x, y = np.floor((wx + 0.5 - v.ox) / v.zoom).astype(int), np.floor((wy + 0.5 - v.oy) / v.zoom).astype(int)
    inside = (x >= 0) & (x < W) & (y >= 0) & (y < H)
    return y, x, inside


def test_noisy_prediction_shows_each_boundary_pixel_at_high_zoom(canvas):
    prob = noisy_prob()
    pred = prob >= 0.5
    assert cv2.connectedComponents(pred.view(np.uint8))[0] > 1000
    canvas.set_prediction("vessel", prob, 0.5)
    canvas.set_zoom(8.0)
    shown = screen(canvas)
    y, x, inside = image_pixels(canvas, shown)
    on = boundary(pred)[y[inside], x[inside]]
    colors = shown[inside]
    assert on.sum() > 100 and (~on).sum() > 100
    np.testing.assert_array_equal(colors[on], np.broadcast_to(OUTLINE, colors[on].shape))
    np.testing.assert_array_equal(colors[~on], np.full_like(colors[~on], GRAY))  # blob interiors and background
    canvas.set_layer_visible("contours", False)
    assert (screen(canvas)[inside] == GRAY).all()


def test_noisy_prediction_contours_visible_when_zoomed_out(canvas):
    # measured once per class: a blob class (the labyrinth below reads as thin structures, whose outlines are drawn
    # only from 100 %: tests/qt/test_vessel_review.py)
    canvas.new_label.saw_prediction(canvas.doc.key, "vessel", np.ones((H, W), bool))
    canvas.set_prediction("vessel", noisy_prob(1), 0.5)
    canvas.fit()
    assert canvas.zoom() < 0.5
    shown = screen(canvas)
    y, x, inside = image_pixels(canvas, shown)
    # Each screen pixel shows the max-pooled level whose cells (2**k image px) cover at least one screen pixel.
    level, k = boundary(canvas.doc.preds["vessel"]).view(np.uint8), 0
    while canvas.zoom() * 2 ** k < 1:
        level, k = any_pool2(level), k + 1
    expected = level[y[inside] >> k, x[inside] >> k].astype(bool)
    got = (shown[inside] == OUTLINE).all(axis=1)
    assert got.mean() > 0.2
    assert (got == expected).mean() > 0.99  # cells split across screen pixels may round either way
    assert ((shown[inside] == OUTLINE).all(axis=1) | (shown[inside] == GRAY).all(axis=1)).all()


def test_one_pixel_wide_prediction_stays_visible_zoomed_out(canvas):
    prob = np.zeros((H, W), np.float32)
    prob[100:900, 501] = 1.0  # odd column: plain subsampling at 50 % or less would skip it
    canvas.set_prediction("vessel", prob)
    for zoom in (None, 0.25, 0.2, 0.17):
        canvas.fit() if zoom is None else canvas.set_zoom(zoom)
        shown = screen(canvas)
        rows = [canvas.image_to_widget(501.5, r + 0.5).toPoint().y() for r in (200, 500, 800)]
        for wy in rows:
            assert (shown[wy] == OUTLINE).all(axis=1).any(), (canvas.zoom(), wy)


def test_mask_layers_match_whether_stacked_or_drawn_one_by_one(canvas):
    """Zoomed in, the visible masks are stacked 1:1 then scaled once; zoomed out, each is drawn directly."""
    truth = np.zeros((H, W), bool)
    truth[300:700, 300:700] = True
    prob = np.zeros((H, W), np.float32)
    prob[300:700, 500:800] = 1.0
    canvas.set_labels({"vessel": truth}, {"vessel": VESSEL})
    canvas.set_prediction("vessel", prob)
    canvas.set_layer_visible("contours", False)
    canvas.set_layer_opacity("label", 0.5)
    canvas.set_layer_opacity("fpfn", 0.7)
    roi = np.ones((H, W), bool)
    roi[:, :400] = False
    canvas.set_roi(roi)
    probes = {"label outside roi": (350, 450), "FN": (450, 450), "FP": (750, 600), "TP": (550, 600), "bg": (900, 100)}

    def colour(x: int, y: int) -> np.ndarray:
        p = canvas.image_to_widget(x + 0.5, y + 0.5).toPoint()
        return screen(canvas)[p.y(), p.x()].astype(int)

    canvas.fit()
    assert canvas.zoom() < 0.5
    fitted = {name: colour(*xy) for name, xy in probes.items()}
    for name, (x, y) in probes.items():
        canvas.fit()
        canvas.set_zoom(8.0, canvas.image_to_widget(x + 0.5, y + 0.5))
        assert np.abs(colour(x, y) - fitted[name]).max() <= 2, (name, colour(x, y), fitted[name])
    assert tuple(fitted["bg"]) == (GRAY,) * 3
    assert fitted["FP"][0] > 150 and fitted["FN"][2] > 150 and fitted["TP"][1] > GRAY
    assert fitted["label outside roi"].max() < fitted["TP"].max()
