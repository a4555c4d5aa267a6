"""Canvas widget: rendering, layers, view (zoom/pan per image), keys, cursor info. Real Qt events, offscreen.

Also holds the small event helpers used by test_canvas_tools.py.
"""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QFocusEvent, QImage, QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.core.masks import label_codes
from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.defaults import contour_rgb

H, W = 30, 40
LESION, VESSEL = (255, 170, 0), (0, 200, 255)
COLORS = {"lesion": LESION, "vessel": VESSEL}
GRAY = 80


def pt(canvas, x, y) -> QPoint:
    """Widget pixel showing image point (x, y)."""
    return canvas.image_to_widget(x, y).toPoint()


def px(canvas, col, row) -> QPoint:
    """Widget pixel at the centre of image pixel (col, row)."""
    return pt(canvas, col + 0.5, row + 0.5)


def send_mouse(canvas, kind, pos: QPoint, button=Qt.MouseButton.LeftButton, buttons=None,
               mods=Qt.KeyboardModifier.NoModifier):
    """Post a mouse event (QTest.mouseMove cannot carry held buttons, so drags are sent directly)."""
    if buttons is None:
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    p = QPointF(pos)
    event = QMouseEvent(kind, p, QPointF(canvas.mapToGlobal(pos)),
                        Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else button, buttons, mods)
    QApplication.sendEvent(canvas, event)


def drag(qtbot, canvas, points, button=Qt.MouseButton.LeftButton, mods=Qt.KeyboardModifier.NoModifier):
    """Press at points[0], move through the rest with the button held, release at the last."""
    qtbot.mousePress(canvas, button, mods, points[0])
    for p in points[1:]:
        send_mouse(canvas, QEvent.Type.MouseMove, p, button, button, mods)
    qtbot.mouseRelease(canvas, button, mods, points[-1])


def key(canvas, k, mods=Qt.KeyboardModifier.NoModifier, release=False, text="") -> QKeyEvent:
    kind = QEvent.Type.KeyRelease if release else QEvent.Type.KeyPress
    event = QKeyEvent(kind, k, mods, text)
    QApplication.sendEvent(canvas, event)
    return event


def make_image():
    rgb = np.full((H, W, 3), GRAY, np.uint8)
    rgb[:, 30:] = (200, 200, 200)
    return rgb


@pytest.fixture
def canvas(shown_canvas):
    c = shown_canvas(make_image(), COLORS)
    c.set_zoom(8.0)
    return c


def grab_rgb(canvas, p: QPoint):
    return canvas.grab().toImage().pixelColor(p).getRgb()[:3]


def test_shows_offscreen_and_grab_has_the_label_colour(canvas):
    labels = {"lesion": np.zeros((H, W), bool), "vessel": None}
    labels["lesion"][10:14, 5:9] = True
    canvas.set_labels(labels, COLORS)
    canvas.set_layer_opacity("label", 1.0)
    assert canvas.isVisible()
    assert grab_rgb(canvas, px(canvas, 6, 11)) == LESION
    assert grab_rgb(canvas, px(canvas, 20, 20)) == (GRAY,) * 3
    canvas.set_layer_opacity("label", 0.5)
    blended = grab_rgb(canvas, px(canvas, 6, 11))
    assert all(abs(b - (c + GRAY) / 2) <= 2 for b, c in zip(blended, LESION))
    canvas.set_layer_visible("label", False)
    assert not canvas.layer_visible("label")
    assert grab_rgb(canvas, px(canvas, 6, 11)) == (GRAY,) * 3


def test_other_classes_layer_and_current_class(canvas):
    vessel = np.zeros((H, W), np.uint8)
    vessel[2:4, 2:4] = 255  # 0/255 masks are accepted
    canvas.set_labels({"lesion": None, "vessel": vessel}, COLORS)
    canvas.set_layer_opacity("others", 1.0)
    assert canvas.current_class() == "lesion"
    assert grab_rgb(canvas, px(canvas, 2, 2)) == VESSEL
    canvas.set_layer_visible("others", False)
    assert grab_rgb(canvas, px(canvas, 2, 2)) == (GRAY,) * 3
    canvas.set_current_class("vessel")
    canvas.set_layer_opacity("label", 1.0)
    assert grab_rgb(canvas, px(canvas, 2, 2)) == VESSEL
    assert canvas.label("vessel").dtype == bool and canvas.label("vessel").sum() == 4


def test_prediction_contour_and_fpfn_layers(canvas):
    truth = np.zeros((H, W), bool)
    truth[5:15, 5:15] = True
    prob = np.zeros((H, W), np.float32)
    prob[5:15, 10:20] = 0.9
    canvas.set_labels({"lesion": truth, "vessel": None}, COLORS)
    canvas.set_prediction("lesion", prob, 0.5)
    canvas.set_layer_opacity("fpfn", 1.0)
    canvas.set_layer_visible("label", False)
    canvas.set_layer_visible("contours", False)
    assert grab_rgb(canvas, px(canvas, 17, 8)) == (255, 0, 0)  # FP: predicted, not labelled
    assert grab_rgb(canvas, px(canvas, 6, 8)) == (0, 0, 255)  # FN: labelled, missed
    assert grab_rgb(canvas, px(canvas, 12, 8)) == (GRAY,) * 3  # TP
    canvas.set_layer_visible("fpfn", False)
    canvas.set_layer_visible("contours", True)
    # the contour is the predicted square's inner boundary pixels, drawn opaque in the class's contour colour
    assert grab_rgb(canvas, px(canvas, 10, 8)) == contour_rgb(LESION) != LESION
    assert grab_rgb(canvas, px(canvas, 14, 8)) == (GRAY,) * 3


@pytest.mark.parametrize("zoom", [8.0, 0.5])  # the stacked path and the zoomed-out (buffered) one
def test_fpfn_colours_replace_the_label_fill_beneath_them(canvas, zoom):
    """A false negative lies on the label: it shows FN blue at the FP/FN opacity over the image, as with the label
    layer hidden, not blue mixed into the label's colour (a new user read it as purple); the rest of the label keeps
    its fill."""
    truth = np.zeros((H, W), bool)
    truth[4:28, 2:26] = True
    prob = np.zeros((H, W), np.float32)
    prob[4:28, 14:26] = 0.9  # the left half of the label is missed
    canvas.set_labels({"lesion": truth, "vessel": None}, COLORS)
    canvas.set_prediction("lesion", prob, 0.5)
    canvas.set_layer_visible("contours", False)
    canvas.set_zoom(zoom)
    fn, tp, fp = px(canvas, 6, 16), px(canvas, 20, 16), px(canvas, 28, 16)
    shown = grab_rgb(canvas, fn), grab_rgb(canvas, tp)
    canvas.set_layer_visible("label", False)
    hidden = grab_rgb(canvas, fn), grab_rgb(canvas, tp)
    assert shown[0] == hidden[0] and shown[0][2] > shown[0][0] + 40  # blue over the image, label or not
    assert shown[1] != hidden[1] == (GRAY,) * 3  # a found pixel still shows the label fill
    canvas.set_layer_visible("label", True)
    canvas.set_layer_visible("fpfn", False)
    assert grab_rgb(canvas, fn) == shown[1]  # without FP/FN the missed half is label-coloured again
    assert grab_rgb(canvas, fp) == (GRAY,) * 3


def test_fpfn_needs_a_label_and_follows_edits_and_roi(canvas):
    prob = np.zeros((H, W), np.float32)
    prob[:, :10] = 1.0
    canvas.set_prediction("lesion", prob)
    assert canvas.doc.fpfn("lesion") is None  # not labelled yet: no FP/FN layer
    canvas.accept_prediction()
    assert canvas.doc.fpfn("lesion").sum() == 0
    canvas.set_tool("eraser")
    canvas.set_brush_size(1)
    qtbot_click(canvas, px(canvas, 3, 3))
    codes = canvas.doc.fpfn("lesion")
    assert codes[3, 3] == 1 and np.count_nonzero(codes) == 1  # updated inside the dirty bbox only
    roi = np.ones((H, W), bool)
    roi[3, 3] = False
    canvas.set_roi(roi)
    assert canvas.doc.fpfn("lesion").sum() == 0


def qtbot_click(canvas, p):
    send_mouse(canvas, QEvent.Type.MouseButtonPress, p)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, p)


def test_roi_layer_darkens_outside(canvas):
    roi = np.zeros((H, W), bool)
    roi[:, :20] = True
    canvas.set_roi(roi)
    canvas.set_layer_opacity("roi", 0.5)
    assert grab_rgb(canvas, px(canvas, 5, 5)) == (GRAY,) * 3
    assert all(abs(v - GRAY // 2) <= 1 for v in grab_rgb(canvas, px(canvas, 25, 5)))


def test_h_held_hides_all_overlays(canvas):
    label = np.ones((H, W), bool)
    canvas.set_labels({"lesion": label, "vessel": None}, COLORS)
    canvas.set_layer_opacity("label", 1.0)
    assert grab_rgb(canvas, px(canvas, 5, 5)) == LESION
    key(canvas, Qt.Key.Key_H, text="h")
    assert grab_rgb(canvas, px(canvas, 5, 5)) == (GRAY,) * 3
    key(canvas, Qt.Key.Key_H, release=True, text="h")
    assert grab_rgb(canvas, px(canvas, 5, 5)) == LESION


def test_nearest_neighbour_pixels_when_zoomed_in(canvas):
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[::2, ::2] = 255
    canvas.set_image("checker", rgb)
    canvas.set_zoom(8.0)
    img = canvas.grab().toImage()
    corner = canvas.image_to_widget(4, 4)
    block = {img.pixelColor(int(corner.x()) + dx, int(corner.y()) + dy).getRgb() for dx in range(8) for dy in range(8)}
    assert block == {(255, 255, 255, 255)}


@pytest.mark.parametrize("ratio", [2.0, 3.0])
def test_actual_size_is_one_image_pixel_per_device_pixel_on_a_high_dpi_screen(canvas, monkeypatch, ratio):
    rgb = np.zeros((128, 128, 3), np.uint8)  # big enough for the half-size level a zoom of 1 / ratio could pick
    rgb[::2, ::2] = rgb[1::2, 1::2] = 255
    canvas.set_image("checker", rgb)
    monkeypatch.setattr(canvas, "devicePixelRatioF", lambda: ratio)
    canvas.actual_size()
    assert canvas.zoom() == pytest.approx(1 / ratio)
    img = QImage(round(400 * ratio), round(300 * ratio), QImage.Format.Format_RGB32)
    img.setDevicePixelRatio(ratio)
    canvas.render(img)
    x0, y0 = (round(v * ratio) for v in canvas.view.to_widget(0, 0))
    shown = np.array([[img.pixelColor(x0 + x, y0 + y).red() for x in range(128)] for y in range(128)])
    assert np.array_equal(shown, rgb[..., 0])  # every image pixel on its own device pixel, none blended
    assert "zoom 100 %" in canvas.input.cursor_text()


def test_zoom_limits_fit_and_anchor(canvas):
    canvas.fit()
    assert canvas.zoom() == pytest.approx(min((400 - 8) / W, (300 - 8) / H))
    canvas.set_zoom(1000)
    assert canvas.zoom() == 32
    canvas.set_zoom(2.0, QPointF(100, 80))
    before = canvas.widget_to_image(QPointF(100, 80))
    canvas.set_zoom(4.0, QPointF(100, 80))
    after = canvas.widget_to_image(QPointF(100, 80))
    assert after == pytest.approx(before, abs=0.5 / 4)


def test_a_resize_that_refits_the_picture_updates_the_zoom_shown(shown_canvas):
    """Outside trial: maximising the window re-fitted a fundus photo at 17 % while the status bar still said
    "zoom 13 %"; a resize that changes the fitted zoom now reports it like any zoom."""
    canvas = shown_canvas(make_image(), COLORS)
    zooms, readouts = [], []
    canvas.zoom_changed.connect(zooms.append)
    canvas.cursor_info.connect(readouts.append)
    canvas.resize(800, 600)
    assert zooms == [pytest.approx(min((800 - 8) / W, (600 - 8) / H))] == [canvas.zoom()]
    assert f"zoom {canvas.zoom() * 100:.0f} %" in readouts[-1]


def test_wheel_zooms_around_the_cursor(canvas):
    pos = px(canvas, 12, 9)
    before = canvas.widget_to_image(QPointF(pos))
    zoom = canvas.zoom()
    event = QWheelEvent(QPointF(pos), QPointF(canvas.mapToGlobal(pos)), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, event)
    assert canvas.zoom() == pytest.approx(zoom * 1.25)
    assert canvas.widget_to_image(QPointF(pos)) == pytest.approx(before, abs=0.1)


def test_space_drag_and_middle_drag_pan_without_painting(qtbot, canvas):
    origin = canvas.image_to_widget(0, 0)
    key(canvas, Qt.Key.Key_Space, text=" ")
    drag(qtbot, canvas, [QPoint(100, 100), QPoint(120, 110), QPoint(130, 115)])
    key(canvas, Qt.Key.Key_Space, release=True, text=" ")
    assert canvas.image_to_widget(0, 0) == origin + QPointF(30, 15)
    drag(qtbot, canvas, [QPoint(100, 100), QPoint(90, 100)], button=Qt.MouseButton.MiddleButton)
    assert canvas.image_to_widget(0, 0) == origin + QPointF(20, 15)
    assert canvas.label("lesion").sum() == 0


def test_view_is_kept_per_image_key(canvas):
    canvas.set_zoom(5.0, QPointF(10, 10))
    saved = (canvas.zoom(), canvas.image_to_widget(0, 0))
    canvas.set_image("other", np.zeros((60, 80, 3), np.uint8))
    assert canvas.zoom() == pytest.approx(min(392 / 80, 292 / 60))  # new key: fitted
    canvas.set_image("img", make_image())
    assert (canvas.zoom(), canvas.image_to_widget(0, 0)) == saved


def test_tool_keys_brush_size_and_foreign_keys(canvas):
    for k, name in [(Qt.Key.Key_E, "eraser"), (Qt.Key.Key_P, "polygon"), (Qt.Key.Key_F, "fill"),
                    (Qt.Key.Key_W, "wand"), (Qt.Key.Key_B, "brush")]:
        key(canvas, k)
        assert canvas.tool() == name
    canvas.set_brush_size(5)
    key(canvas, Qt.Key.Key_BracketRight)
    assert canvas.brush_size() == 6
    key(canvas, Qt.Key.Key_BracketLeft)
    key(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.brush_size() == 4
    for k in (Qt.Key.Key_1, Qt.Key.Key_9, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
        assert not key(canvas, k).isAccepted()  # left to the main window


def test_cursor_info_reports_position_value_zoom_class_area(qtbot, canvas):
    label = np.zeros((H, W), bool)
    label[:3, :4] = True
    canvas.set_labels({"lesion": label, "vessel": None}, COLORS)
    with qtbot.waitSignal(canvas.cursor_info) as blocker:
        send_mouse(canvas, QEvent.Type.MouseMove, px(canvas, 31, 7), Qt.MouseButton.NoButton)
    text = blocker.args[0]
    for part in ("x 31", "y 7", "RGB 200, 200, 200", "zoom 800 %", "lesion", "area 12 px"):
        assert part in text


def test_losing_focus_releases_h_and_space(canvas):
    canvas.set_labels({"lesion": np.ones((H, W), bool), "vessel": None}, COLORS)
    canvas.set_layer_opacity("label", 1.0)
    key(canvas, Qt.Key.Key_H, text="h")
    key(canvas, Qt.Key.Key_Space, text=" ")
    QApplication.sendEvent(canvas, QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.ActiveWindowFocusReason))
    assert grab_rgb(canvas, px(canvas, 5, 5)) == LESION
    assert canvas.cursor().shape() == Qt.CursorShape.CrossCursor


def test_contours_survive_relabelling_and_follow_class_colour(canvas):
    prob = np.zeros((H, W), np.float32)
    prob[5:15, 10:20] = 0.9
    canvas.set_prediction("lesion", prob)
    canvas.set_layer_visible("fpfn", False)
    canvas.set_labels({"lesion": None, "vessel": None}, {"lesion": (10, 250, 10), "vessel": VESSEL})
    assert grab_rgb(canvas, px(canvas, 10, 8)) == contour_rgb((10, 250, 10)) != contour_rgb(LESION)
    canvas.set_prediction("lesion", None)
    assert grab_rgb(canvas, px(canvas, 10, 8)) == (GRAY,) * 3


def test_an_image_prepared_beforehand_shows_like_one_prepared_at_paint(qtbot, canvas):
    rgb = np.random.default_rng(3).integers(0, 255, (600, 800, 3), dtype=np.uint8)
    prepared = Canvas.prepare_image(rgb)
    assert len(prepared.levels) > 2  # zoomed-out levels exist before any paint
    canvas.set_image("lazy", rgb)
    canvas.set_labels({"lesion": None, "vessel": None}, COLORS)
    lazy = canvas.grab().toImage()
    canvas.set_image("prepared", rgb, prepared)
    canvas.set_labels({"lesion": None, "vessel": None}, COLORS)
    assert canvas.grab().toImage() == lazy


def test_owned_labels_are_kept_without_a_copy_others_are_copied(canvas):
    mine, shared = np.zeros((H, W), bool), np.zeros((H, W), bool)
    canvas.set_labels({"lesion": mine, "vessel": shared}, COLORS, owned=frozenset({"lesion"}))
    assert np.shares_memory(canvas.doc.labels["lesion"], mine)
    assert not np.shares_memory(canvas.doc.labels["vessel"], shared)
    frozen = np.zeros((H, W), bool)
    frozen.flags.writeable = False
    canvas.set_labels({"lesion": frozen, "vessel": None}, COLORS, owned=frozenset({"lesion"}))
    assert not np.shares_memory(canvas.doc.labels["lesion"], frozen)  # read-only: copied to be editable
    rng = np.random.default_rng(0)
    mask, annotated = rng.random((H, W)) > 0.5, rng.random((H, W)) > 0.3
    expected = label_codes(mask, annotated)
    kept = LabelPixels(mask.copy(), annotated.copy())
    canvas.set_labels({"lesion": kept, "vessel": LabelPixels(mask, annotated)}, COLORS, owned=frozenset({"lesion"}))
    for name in ("lesion", "vessel"):  # a sparse label read for the canvas alone becomes its codes in place
        np.testing.assert_array_equal(canvas.doc.labels[name], expected)
    assert np.shares_memory(canvas.doc.labels["lesion"], kept.mask)
    assert not np.shares_memory(canvas.doc.labels["vessel"], mask) and (annotated == (expected != 2)).all()


def test_canvas_observes_the_review_state_and_the_document_reports_edits(qtbot, canvas):
    """The threshold and the maps live in ``canvas.review``: changing them there re-thresholds what the canvas shows;
    every change of label pixels is reported as ``doc.events.edited(cls, bbox)``."""
    prob = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
    canvas.review.set_prediction("lesion", prob)
    np.testing.assert_array_equal(canvas.doc.preds["lesion"].view(bool), prob >= 0.5)
    canvas.review.set_threshold(0.8)
    np.testing.assert_array_equal(canvas.doc.preds["lesion"].view(bool), prob >= 0.8)
    edits = []
    canvas.doc.events.edited.connect(lambda cls, bbox: edits.append((cls, bbox)))
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [px(canvas, 5, 5), px(canvas, 12, 5)])
    assert edits and {cls for cls, _ in edits} == {"lesion"}
    ys, xs = np.nonzero(canvas.label("lesion"))
    covered = np.zeros((H, W), bool)
    for _cls, (y0, x0, y1, x1) in edits:
        covered[y0:y1, x0:x1] = True
    assert covered[ys, xs].all()  # every painted pixel lies in a reported bbox
    assert canvas.is_labelled("lesion") and "lesion" in canvas.review.labelled
    edits.clear()
    canvas.undo()
    assert len(edits) == 1 and not canvas.label("lesion").any() and "lesion" not in canvas.review.labelled
    canvas.set_image("other", make_image())
    assert canvas.review.stem == "other" and canvas.review.probs == {} and "lesion" not in canvas.doc.preds
