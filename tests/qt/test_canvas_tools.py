"""Canvas tools driven by real mouse/keyboard events: each tool changes exactly the expected pixels; undo/redo."""

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt

from medseg_gui.core.masks import LabelCodes
from medseg_gui.qt.canvas import Canvas
from tests.qt.test_canvas import COLORS, H, W, canvas, drag, key, make_image, pt, px, send_mouse  # noqa: F401

SHIFT, CTRL = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier


def click(qtbot, canvas, p, mods=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, mods, p)


def expected(fill_slices):
    out = np.zeros((H, W), bool)
    for s in fill_slices:
        out[s] = True
    return out


def test_one_px_brush_paints_exactly_one_pixel_at_400_percent(qtbot, canvas):
    canvas.set_zoom(4.0)
    canvas.set_brush_size(1)
    drag(qtbot, canvas, [px(canvas, 2, 2), px(canvas, 2, 3)])  # a label exists: a click paints from now on
    click(qtbot, canvas, px(canvas, 7, 5))
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[2:4, 2], np.s_[5, 7]]))


def test_a_click_alone_does_not_start_a_label(qtbot, canvas):
    """New-user trial, session 34: a click on the photo (to select it) saved a lesion label of one dot, later
    counted as a second lesion. On an image without a label of the class, the brush starts one only on a drag."""
    notices, finished = [], []
    canvas.notice.connect(notices.append)
    canvas.stroke_finished.connect(finished.append)
    canvas.set_brush_size(3)
    click(qtbot, canvas, px(canvas, 7, 5))
    assert not canvas.label("lesion").any() and finished == [] and not canvas.can_undo()
    assert len(notices) == 1 and "A click alone paints nothing where there is no lesion label yet" in notices[0]
    drag(qtbot, canvas, [px(canvas, 5, 10), px(canvas, 8, 10)])  # a drag does, from where it was pressed
    assert canvas.label("lesion")[10, 5] and finished == ["lesion"] and len(notices) == 1


def test_brush_drag_paints_the_stroke_and_emits_once(qtbot, canvas):
    canvas.set_brush_size(3)
    finished = []
    canvas.stroke_finished.connect(finished.append)
    drag(qtbot, canvas, [px(canvas, 5, 10), px(canvas, 8, 10), px(canvas, 12, 10)])
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[9:12, 4:14]]))
    assert finished == ["lesion"]
    assert canvas.can_undo() and not canvas.can_redo()


def test_one_px_drag_is_a_thin_connected_line(qtbot, canvas):
    canvas.set_brush_size(1)
    drag(qtbot, canvas, [px(canvas, 2, 3), px(canvas, 20, 12)])
    label = canvas.label("lesion")
    assert label.sum() == 19 and label[3, 2] and label[12, 20]
    assert np.array_equal(np.unique(np.argwhere(label)[:, 1]), np.arange(2, 21))


def test_eraser_removes_exactly_its_footprint(qtbot, canvas):
    canvas.set_labels({"lesion": np.ones((H, W), bool), "vessel": None}, COLORS)
    key(canvas, Qt.Key.Key_E)
    canvas.set_brush_size(2)
    click(qtbot, canvas, pt(canvas, 10.1, 10.1))  # even size: centred on the nearest pixel corner
    assert np.array_equal(~canvas.label("lesion"), expected([np.s_[9:11, 9:11]]))


def test_polygon_click_vertices_and_double_click_fills_inside(qtbot, canvas):
    canvas.set_tool("polygon")
    for x, y in [(2, 2), (10, 2), (10, 8)]:
        click(qtbot, canvas, pt(canvas, x, y))
    click(qtbot, canvas, pt(canvas, 2, 8))
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=pt(canvas, 2, 8))
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[2:8, 2:10]]))


def test_polygon_closes_on_first_vertex_and_shift_subtracts(qtbot, canvas):
    canvas.set_labels({"lesion": np.ones((H, W), bool), "vessel": None}, COLORS)
    canvas.set_tool("polygon")
    for x, y in [(4, 4), (12, 4), (12, 10), (4, 10)]:
        click(qtbot, canvas, pt(canvas, x, y))
    click(qtbot, canvas, pt(canvas, 4, 4), SHIFT)
    assert np.array_equal(~canvas.label("lesion"), expected([np.s_[4:10, 4:12]]))


def test_a_polygon_starting_a_sparse_label_undoes_exactly_and_a_reloaded_label_drops_the_history(qtbot, canvas):
    canvas.set_label_mode("sparse")
    canvas.set_tool("polygon")
    for x, y in [(4, 4), (12, 4), (12, 10), (4, 10), (4, 4)]:
        click(qtbot, canvas, pt(canvas, x, y))
    after = canvas.doc.labels["lesion"].copy()
    assert canvas.is_sparse("lesion") and canvas.doc.history._undo["img"][-1].fill == (0, 2)  # a bbox step
    canvas.undo()
    assert not canvas.doc.labels["lesion"].any() and not canvas.is_labelled("lesion")
    canvas.redo()
    assert np.array_equal(canvas.doc.labels["lesion"], after)
    reloaded = after.copy()
    reloaded[25, 30] = 1  # outside the step's bbox: only the label's counts can tell
    canvas.set_labels({"lesion": LabelCodes(reloaded), "vessel": None}, COLORS)
    assert canvas.can_undo()
    canvas.undo()
    assert np.array_equal(canvas.doc.labels["lesion"], reloaded) and not canvas.can_undo()


def test_lasso_drag_fills_on_release_and_escape_cancels(qtbot, canvas):
    canvas.set_tool("polygon")
    drag(qtbot, canvas, [pt(canvas, x, y) for x, y in [(20, 5), (30, 5), (30, 15), (20, 15)]])
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[5:15, 20:30]]))
    click(qtbot, canvas, pt(canvas, 1, 1))
    click(qtbot, canvas, pt(canvas, 5, 1))
    key(canvas, Qt.Key.Key_Escape)
    click(qtbot, canvas, pt(canvas, 5, 5))
    key(canvas, Qt.Key.Key_Return)  # only one vertex since Escape: nothing to fill
    assert canvas.label("lesion").sum() == 100


def test_fill_fills_a_closed_region_and_shift_empties_it(qtbot, canvas):
    ring = np.zeros((H, W), bool)
    ring[5:15, 5] = ring[5:15, 14] = ring[5, 5:15] = ring[14, 5:15] = True
    canvas.set_labels({"lesion": ring, "vessel": None}, COLORS)
    key(canvas, Qt.Key.Key_F)
    click(qtbot, canvas, px(canvas, 9, 9))
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[5:15, 5:15]]))
    click(qtbot, canvas, px(canvas, 9, 9), SHIFT)
    assert canvas.label("lesion").sum() == 0


def test_wand_adds_similar_colour_and_lower_tolerance_selects_fewer(qtbot, canvas):
    rgb = make_image()
    rgb[:, 10:20] = 100  # bands 80 | 100 | 80 | 200
    canvas.set_image("bands", rgb)
    canvas.set_labels({"lesion": None, "vessel": None}, COLORS)
    canvas.set_zoom(8.0)
    key(canvas, Qt.Key.Key_W)
    canvas.set_wand_tolerance(10)
    click(qtbot, canvas, px(canvas, 2, 2))
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[:, :10]]))
    canvas.undo()
    canvas.set_wand_tolerance(20)
    click(qtbot, canvas, px(canvas, 2, 2))
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[:, :30]]))  # 80 reached through 100
    click(qtbot, canvas, px(canvas, 12, 2), SHIFT)
    assert canvas.label("lesion").sum() == 0


def test_accept_prediction_whole_image_region_and_ctrl_lasso(qtbot, canvas):
    prob = np.zeros((H, W), np.float32)
    prob[10:20, 10:30] = 0.8
    prob[0:3, 0:3] = 0.4  # below threshold 0.5
    canvas.set_prediction("lesion", prob, 0.5)
    finished = []
    canvas.stroke_finished.connect(finished.append)
    region = np.zeros((H, W), bool)
    region[:, :15] = True
    canvas.accept_prediction(region)
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[10:20, 10:15]]))
    canvas.set_tool("polygon")
    drag(qtbot, canvas, [pt(canvas, x, y) for x, y in [(15, 0), (25, 0), (25, 30), (15, 30)]], mods=CTRL)
    assert np.array_equal(canvas.label("lesion"), expected([np.s_[10:20, 10:25]]))
    canvas.accept_prediction()
    assert np.array_equal(canvas.label("lesion"), prob >= 0.5)
    assert finished == ["lesion"] * 3


def test_undo_redo_restore_bytes_exactly_across_class_switches(qtbot, canvas):
    rng = np.random.default_rng(0)
    start = {"lesion": rng.random((H, W)) > 0.5, "vessel": rng.random((H, W)) > 0.5}
    canvas.set_labels(dict(start), COLORS)
    canvas.set_brush_size(4)
    states = [(canvas.label("lesion"), canvas.label("vessel"))]
    finished = []
    canvas.stroke_finished.connect(finished.append)
    for i, (cls, tool) in enumerate([("lesion", "brush"), ("vessel", "eraser"), ("lesion", "eraser"),
                                     ("vessel", "brush")]):
        canvas.set_current_class(cls)
        canvas.set_tool(tool)
        drag(qtbot, canvas, [px(canvas, 3 + 5 * i, 2), px(canvas, 20, 25 - 3 * i)])
        states.append((canvas.label("lesion"), canvas.label("vessel")))
    assert finished == ["lesion", "vessel", "lesion", "vessel"]
    canvas.set_current_class("lesion")
    key(canvas, Qt.Key.Key_Z, CTRL)
    assert finished[-1] == "vessel"  # undo reports the class it changed, even if not current
    for i in range(3):
        canvas.undo()
    for state in (states[0], states[1]):
        assert all(np.array_equal(a, b) for a, b in zip(state, (canvas.label("lesion"), canvas.label("vessel"))))
        if state is states[0]:
            assert not canvas.can_undo()
            key(canvas, Qt.Key.Key_Z, CTRL | SHIFT)
    for _ in range(3):
        canvas.redo()
    assert all(np.array_equal(a, b) for a, b in zip(states[4], (canvas.label("lesion"), canvas.label("vessel"))))
    assert not canvas.can_redo()


def test_history_survives_image_switches(qtbot, canvas):
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [px(canvas, 5, 5), px(canvas, 9, 5)])
    edited = canvas.label("lesion")
    canvas.set_image("other", np.zeros((H, W, 3), np.uint8))
    canvas.set_labels({"lesion": None, "vessel": None}, COLORS)
    assert not canvas.can_undo()
    canvas.set_image("img", make_image())
    canvas.set_labels({"lesion": edited, "vessel": None}, COLORS)  # saved labels come back
    assert canvas.can_undo()
    canvas.undo()
    assert canvas.label("lesion").sum() == 0


def test_history_is_dropped_when_labels_no_longer_match(qtbot, canvas):
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [px(canvas, 5, 5), px(canvas, 9, 5)])
    canvas.set_labels({"lesion": None, "vessel": None}, COLORS)  # reloaded without the edit
    canvas.undo()
    assert canvas.label("lesion").sum() == 0 and not canvas.can_undo()


def test_memory_budget_evicts_the_oldest_steps(qtbot):
    c = Canvas(undo_budget_bytes=1500)
    qtbot.addWidget(c)
    c.resize(400, 300)
    rng = np.random.default_rng(1)
    c.set_image("img", make_image())
    c.set_labels({"lesion": rng.random((H, W)) > 0.5, "vessel": None}, COLORS)
    c.set_zoom(8.0)
    c.set_tool("polygon")
    states = [c.label("lesion")]
    for i in range(6):  # random lasso polygons, alternately subtracting: ~500 B steps (noisy patches)
        mods = SHIFT if i % 2 else Qt.KeyboardModifier.NoModifier
        corners = [(rng.uniform(0, 15), rng.uniform(0, 10)), (rng.uniform(25, 40), rng.uniform(0, 10)),
                   (rng.uniform(25, 40), rng.uniform(20, 30)), (rng.uniform(0, 15), rng.uniform(20, 30))]
        drag(qtbot, c, [pt(c, x, y) for x, y in corners], mods=mods)
        states.append(c.label("lesion"))
    assert 0 < c.undo_memory_bytes() <= 1500
    undone = 0
    while c.can_undo():
        c.undo()
        undone += 1
    assert 1 <= undone < 6
    assert np.array_equal(c.label("lesion"), states[6 - undone])  # the oldest steps went, the newest remain
    assert c.can_redo()


def test_unchanged_stroke_emits_nothing(qtbot, canvas):
    finished = []
    canvas.stroke_finished.connect(finished.append)
    canvas.set_tool("eraser")
    drag(qtbot, canvas, [px(canvas, 5, 5), px(canvas, 9, 5)])
    assert finished == [] and not canvas.can_undo()


@pytest.mark.parametrize("size", [1, 6])
def test_brush_preview_circle_is_drawn_at_the_cursor(canvas, size):
    canvas.set_brush_size(size)
    send_mouse(canvas, QEvent.Type.MouseMove, pt(canvas, 10.25, 10.25), Qt.MouseButton.NoButton)
    img = canvas.grab().toImage()
    centre = canvas.image_to_widget(10.5 if size % 2 else 10, 10.5 if size % 2 else 10)
    r = max(size * canvas.zoom() / 2, 1.5)
    ring = {img.pixelColor(round(centre.x() + r) + d, round(centre.y())).getRgb()[:3] for d in (-1, 0, 1)}
    assert ring - {(80, 80, 80)}  # outline (white under a black dash) on the gray image
    assert canvas.label("lesion").sum() == 0


def test_cached_pixel_counts_equal_a_full_recount_through_edits_undo_and_redo(qtbot, canvas):
    doc = canvas.doc

    def assert_counts_exact() -> None:
        for name, codes in doc.labels.items():
            assert (doc.area(name), doc.unannotated(name)) == (np.count_nonzero(codes == 1),
                                                              np.count_nonzero(codes == 2)), name

    ring = np.zeros((H, W), bool)
    ring[5:15, 5] = ring[5:15, 14] = ring[5, 5:15] = ring[14, 5:15] = True
    canvas.set_labels({"lesion": ring, "vessel": None}, COLORS)
    canvas.set_brush_size(3)
    assert_counts_exact()
    edits = [("lesion", Qt.Key.Key_B, [px(canvas, 20, 20), px(canvas, 35, 22)]),  # brush stroke
             ("lesion", Qt.Key.Key_E, [px(canvas, 25, 21), px(canvas, 28, 21)]),  # eraser
             ("lesion", Qt.Key.Key_F, [px(canvas, 9, 9)]),  # fill inside the ring
             ("lesion", Qt.Key.Key_U, [px(canvas, 8, 8), px(canvas, 30, 8)]),  # not annotated: the label turns sparse
             ("vessel", Qt.Key.Key_G, [px(canvas, 3, 25), px(canvas, 12, 25)]),  # background brush: a new sparse label
             ("vessel", Qt.Key.Key_B, [px(canvas, 6, 25), px(canvas, 9, 27)])]
    states = [{k: v.copy() for k, v in doc.labels.items()}]
    for cls, tool_key, points in edits:
        canvas.set_current_class(cls)
        key(canvas, tool_key)
        if len(points) > 1:
            drag(qtbot, canvas, points)
        else:
            click(qtbot, canvas, points[0])
        assert_counts_exact()
        states.append({k: v.copy() for k, v in doc.labels.items()})
        if tool_key == Qt.Key.Key_G:  # the first stroke of a new sparse label: an undo step of its bbox, not the image
            step = doc.history._undo[doc.key][-1]
            assert step.fill == (0, 2) and step.shape[0] * step.shape[1] < H * W // 4
    assert doc.unannotated("lesion") > 0 and doc.unannotated("vessel") > 0 and doc.area("vessel") > 0
    canvas.set_current_class("lesion")
    canvas.set_prediction("lesion", np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1)), threshold=0.5)
    canvas.accept_prediction()
    assert_counts_exact()
    states.append({k: v.copy() for k, v in doc.labels.items()})

    def assert_state(i: int) -> None:  # undo/redo restore every byte of every label
        assert all(np.array_equal(doc.labels[k], v) for k, v in states[i].items()), i

    for i in reversed(range(len(states) - 1)):
        canvas.undo()
        assert_counts_exact()
        assert_state(i)
    assert not canvas.can_undo()
    for i in range(1, len(states)):
        canvas.redo()
        assert_counts_exact()
        assert_state(i)


def test_a_new_complete_label_over_a_prediction_says_once_what_unpainted_pixels_become(qtbot, canvas):
    """New-user trial, session 34: one stroke beside a correctly predicted polyp started a complete label, and the
    prediction turned red (false positive) without a word."""
    notices = []
    canvas.notice.connect(notices.append)
    prob = np.zeros((H, W), np.float32)
    prob[2:8, 2:8] = 0.9
    canvas.set_prediction("lesion", prob)
    canvas.set_brush_size(2)
    drag(qtbot, canvas, [px(canvas, 12, 10), px(canvas, 15, 10)])
    assert len(notices) == 1 and "New complete 'lesion' label" in notices[0] and "Accept prediction" in notices[0]
    drag(qtbot, canvas, [px(canvas, 12, 12), px(canvas, 15, 12)])
    assert len(notices) == 1  # once per image and class


def test_a_label_started_before_a_prediction_is_no_new_label_after_it(qtbot, canvas):
    """A trial labelled a photo, retrained (its prediction appeared), then drew a polygon on it: told 'New complete
    label' of a label it had drawn minutes before."""
    notices = []
    canvas.notice.connect(notices.append)
    canvas.set_brush_size(2)
    drag(qtbot, canvas, [px(canvas, 12, 10), px(canvas, 15, 10)])  # no prediction yet: nothing to say
    prob = np.zeros((H, W), np.float32)
    prob[2:8, 2:8] = 0.9
    canvas.set_prediction("lesion", prob)
    drag(qtbot, canvas, [px(canvas, 12, 12), px(canvas, 15, 12)])
    assert notices == []


def test_a_label_that_comes_back_after_undo_repaints_its_fp_fn_everywhere(qtbot, canvas):
    """New-user trial, session 34: stroke, undo, the same stroke again: the prediction showed red (FP) only near
    the stroke until the image was shown again, since only the stroke's box was repainted."""
    prob = np.zeros((H, W), np.float32)
    prob[2:8, 2:8] = 0.9
    canvas.set_prediction("lesion", prob)
    boxes = []
    canvas.doc.events.edited.connect(lambda _name, bbox: boxes.append(tuple(bbox)))
    for _ in range(2):
        boxes.clear()
        drag(qtbot, canvas, [px(canvas, 12, 10), px(canvas, 15, 10)])
        assert (0, 0, H, W) in boxes  # the label appeared: the whole image is repainted
        assert (canvas.doc.fpfn("lesion")[2:8, 2:8] != 0).all()  # the unpainted prediction is FP
        boxes.clear()
        canvas.undo()
        assert (0, 0, H, W) in boxes and canvas.doc.fpfn("lesion") is None  # and when it went
