"""Issue 12 #2: background brush, unannotate eraser and the sparse/corrective modes on the real canvas; undo/redo;
autosave writes 0/128/255; FP/FN only on annotated pixels; the list says how much is annotated."""

import threading

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from medseg_gui.core.masks import LabelCodes, label_codes, share_text
from medseg_gui.core.metrics import FN_CODE, FP_CODE
from tests.qt.test_canvas import COLORS, H, W, canvas, drag, grab_rgb, key, pt, px  # noqa: F401
from tests.workers import helpers


def _raw(project, stem, cls="lesion"):
    return cv2.imread(str(project.label_path(cls, stem)), cv2.IMREAD_UNCHANGED)


def test_background_brush_on_an_unlabelled_class_starts_a_sparse_label(qtbot, canvas):
    key(canvas, Qt.Key.Key_G)
    assert canvas.tool() == "background"
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [px(canvas, 5, 10), px(canvas, 12, 10)])
    assert canvas.is_labelled("lesion") and canvas.is_sparse("lesion")
    annotated = canvas.annotated("lesion")
    assert annotated[10, 5] and annotated[10, 12] and not annotated[20, 20]
    assert annotated.sum() == 3 * 10 and not canvas.label("lesion").any()
    assert abs(canvas.annotated_fraction("lesion") - 30 / (H * W)) < 1e-9
    canvas.undo()  # one step: back to "not labelled", not a sparse label with nothing annotated
    assert not canvas.is_labelled("lesion") and not canvas.is_sparse("lesion") and not canvas.can_undo()
    canvas.redo()
    assert canvas.is_sparse("lesion") and canvas.annotated("lesion").sum() == 30


def test_background_brush_on_a_complete_label_that_changes_nothing_says_why(qtbot, canvas):
    notices = []
    canvas.notice.connect(notices.append)
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [px(canvas, 5, 10), px(canvas, 12, 10)])  # the brush: a complete label
    key(canvas, Qt.Key.Key_G)
    drag(qtbot, canvas, [px(canvas, 5, 30), px(canvas, 12, 30)])  # background where it already is
    assert len(notices) == 1 and "already background" in notices[0] and "sparse first (K)" in notices[0]
    drag(qtbot, canvas, [px(canvas, 5, 10), px(canvas, 12, 10)])  # over the class: it erases it, no notice
    assert len(notices) == 1 and not canvas.label("lesion").any()


def test_brush_in_complete_mode_stays_dense_and_in_sparse_mode_is_sparse(qtbot, canvas):
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [px(canvas, 5, 10), px(canvas, 12, 10)])
    assert canvas.is_labelled("lesion") and not canvas.is_sparse("lesion")  # unpainted = background, as before
    canvas.set_current_class("vessel")
    canvas.set_label_mode("sparse")
    drag(qtbot, canvas, [px(canvas, 5, 20), px(canvas, 12, 20)])
    assert canvas.is_sparse("vessel")
    np.testing.assert_array_equal(canvas.annotated("vessel"), canvas.label("vessel"))  # only the stroke is known


def test_the_legend_lists_annotated_background_only_once_some_is_painted(qtbot, canvas):
    """A fundus trial's legend said "vessel: annotated background" after the first vessel stroke of a sparse label,
    before any background was painted."""
    from medseg_gui.qt.legend import legend_entries

    canvas.set_brush_size(3)
    canvas.set_current_class("vessel")
    canvas.set_label_mode("sparse")
    drag(qtbot, canvas, [px(canvas, 5, 20), px(canvas, 12, 20)])
    assert canvas.is_sparse("vessel")
    assert "vessel: annotated background" not in [text for _c, text in legend_entries(canvas)]
    canvas.set_tool("background")
    drag(qtbot, canvas, [px(canvas, 5, 30), px(canvas, 12, 30)])
    assert "vessel: annotated background" in [text for _c, text in legend_entries(canvas)]


def test_unannotate_eraser_makes_a_dense_label_sparse_and_eraser_unpaints(qtbot, canvas):
    full = np.zeros((H, W), bool)
    full[5:15, 5:25] = True
    canvas.set_labels({"lesion": full, "vessel": None}, COLORS)
    canvas.set_brush_size(2)
    key(canvas, Qt.Key.Key_U)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pt(canvas, 10.1, 10.1))  # even size: pixels 9-10
    assert canvas.is_sparse("lesion")
    assert not canvas.annotated("lesion")[9:11, 9:11].any() and canvas.annotated("lesion").sum() == H * W - 4
    key(canvas, Qt.Key.Key_B)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pt(canvas, 10.1, 10.1))  # painting annotates again
    assert not canvas.is_sparse("lesion")  # every pixel annotated: a complete label again
    key(canvas, Qt.Key.Key_U)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 30, 25))
    key(canvas, Qt.Key.Key_E)  # on a sparse label the eraser returns pixels to "not annotated"
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 20, 10))
    assert not canvas.annotated("lesion")[10, 20] and not canvas.label("lesion")[10, 20]
    for _ in range(4):
        canvas.undo()
    np.testing.assert_array_equal(canvas.label("lesion"), full)
    assert not canvas.is_sparse("lesion")


def test_fp_fn_count_annotated_pixels_only(qtbot, canvas):
    prob = np.zeros((H, W), np.float32)
    prob[:, :20] = 0.9  # predicts the class on the left half
    canvas.set_prediction("lesion", prob)
    canvas.set_label_mode("sparse")
    canvas.set_brush_size(2)
    key(canvas, Qt.Key.Key_G)  # background on the predicted side: a false positive there only
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 10, 10))
    codes = canvas.doc.fpfn("lesion")
    assert (codes == FP_CODE).sum() == 4 and (codes == FN_CODE).sum() == 0
    key(canvas, Qt.Key.Key_B)  # the class on the unpredicted side: a false negative there only
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 30, 10))
    codes = canvas.doc.fpfn("lesion")
    assert (codes == FP_CODE).sum() == 4 and (codes == FN_CODE).sum() == 4


def test_sparse_label_draws_background_grey_and_leaves_unannotated_clear(qtbot, canvas):
    before = grab_rgb(canvas, px(canvas, 20, 20))
    canvas.set_brush_size(4)
    key(canvas, Qt.Key.Key_G)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 10, 10))
    assert grab_rgb(canvas, px(canvas, 20, 20)) == before  # not annotated: the image as it was
    assert grab_rgb(canvas, px(canvas, 10, 10)) != before  # annotated background: tinted


def test_corrective_mode_shows_the_prediction_and_saves_only_corrections(qtbot, canvas):
    prob = np.zeros((H, W), np.float32)
    prob[:, :20] = 0.9
    canvas.set_prediction("lesion", prob)
    plain = grab_rgb(canvas, px(canvas, 10, 25))
    canvas.set_label_mode("correct")
    assert grab_rgb(canvas, px(canvas, 10, 25)) != plain  # the prediction is the starting point on screen
    canvas.set_brush_size(2)
    key(canvas, Qt.Key.Key_G)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 10, 10))
    assert canvas.is_sparse("lesion")
    pixels = LabelCodes(canvas.doc.labels["lesion"]).pixels()
    assert pixels.annotated.sum() == 4 and not pixels.mask.any()


def test_autosave_writes_0_128_255_and_reloads_sparse(tmp_path, qtbot, messages):
    project = helpers.make_project(tmp_path / "p", n=2)
    window = helpers.open_window(qtbot, project)
    stem = project.stems[0]
    window.canvas.set_brush_size(5)
    window.canvas.set_tool("background")
    helpers.drag(qtbot, window.canvas, [(5, 40), (30, 40)])
    window.canvas.set_tool("brush")
    helpers.drag(qtbot, window.canvas, [(20, 24), (25, 24)])
    assert window.saver.flush(10)
    raw = _raw(project, stem)
    assert set(np.unique(raw).tolist()) == {0, 128, 255}
    pixels = project.load_label_pixels("lesion", stem)
    np.testing.assert_array_equal(pixels.annotated, window.canvas.annotated("lesion"))
    np.testing.assert_array_equal(pixels.mask, window.canvas.label("lesion"))
    share = window.canvas.annotated_fraction("lesion")
    assert 0 < share < 0.5 and window.image_list.labelled_column.text(stem) == f"✓ {share_text(share)}"
    window.actions.next_image.trigger()
    window.actions.prev_image.trigger()
    assert window.canvas.is_sparse("lesion")  # read back from disk as a sparse label
    assert window.saver.latest("lesion", stem) == (False, None)
    np.testing.assert_array_equal(window.canvas.annotated("lesion"), pixels.annotated)
    window.actions.undo.trigger()
    window.actions.undo.trigger()  # both strokes undone: not labelled, the file is removed
    assert window.saver.flush(10) and not project.has_label("lesion", stem)


@pytest.mark.parametrize("on_disk, background", [(None, False), (None, True), ("complete", True), ("sparse", True)])
def test_every_save_writes_exactly_the_label_on_screen(tmp_path, qtbot, messages, monkeypatch, on_disk, background):
    """The saver copies only each edit's bbox into its own copies of the label (one may be being written while the
    next stroke comes; the copy of a label read from disk is made by the loading thread, of a new one it is zeros):
    after strokes in different places, a blocked write, undo and a complete label, the file is the label on
    screen."""
    from medseg_gui.core import image_view

    project = helpers.make_project(tmp_path / "p", n=2)
    stem = project.stems[0]
    if on_disk is not None:
        annotated = None if on_disk == "complete" else np.arange(helpers.W)[None].repeat(helpers.H, 0) < 50
        project.save_label("lesion", stem, helpers.disc(), annotated)
    if background:  # the loading thread reads the label and makes the saver's copy of it
        monkeypatch.setattr(image_view, "FOREGROUND_MAX_PIXELS", 0)
    window = helpers.open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.session.stem == stem, timeout=10_000)
    assert window.canvas.is_sparse("lesion") == (on_disk == "sparse")
    assert window.canvas.is_labelled("lesion") == (on_disk is not None)  # a blank array made ahead is no label
    canvas, gate = window.canvas, threading.Event()
    real_save = project.save_label
    monkeypatch.setattr(project, "save_label", lambda *a: (gate.wait(10), real_save(*a))[1])

    def assert_file_is_the_label() -> None:
        assert window.saver.flush(10)
        pixels = project.load_label_pixels("lesion", stem)
        np.testing.assert_array_equal(label_codes(pixels.mask, pixels.annotated), canvas.doc.labels["lesion"])

    canvas.set_brush_size(5)
    gate.set()  # a first stroke written at once: the saver's copy of the label as shown was right
    canvas.set_tool("background")  # on no label: a sparse start (the saver fills its copy on its own thread)
    helpers.drag(qtbot, canvas, [(58, 2), (60, 4)])
    assert_file_is_the_label()
    gate.clear()
    strokes = [("background", [(5, 40), (30, 40)]), ("brush", [(20, 24), (25, 24)]), ("brush", [(50, 5), (60, 8)]),
               ("background", [(40, 30), (45, 44)]), ("eraser", [(22, 24), (50, 6)])]
    for i, (tool, points) in enumerate(strokes):
        canvas.set_tool(tool)
        helpers.drag(qtbot, canvas, points)
        if i == 2:  # the first write was held back until now: the later strokes went into the queued copy
            gate.set()
            assert_file_is_the_label()
    assert_file_is_the_label()
    window.actions.undo.trigger()
    assert_file_is_the_label()
    if on_disk is None:  # back to no label, then the redone sparse start: the saver fills its copy itself
        while canvas.can_undo():
            window.actions.undo.trigger()
        assert window.saver.flush(10) and not project.has_label("lesion", stem)
        while canvas.can_redo():
            window.actions.redo.trigger()
        assert_file_is_the_label()
    window.actions.label_complete.trigger()  # a complete label now: saved 0/255
    canvas.set_tool("brush")
    helpers.drag(qtbot, canvas, [(2, 2), (10, 12)])
    assert not canvas.is_sparse("lesion")
    assert_file_is_the_label()


def test_an_unsaved_sparse_label_comes_back_from_the_saver(tmp_path, qtbot, messages, monkeypatch):
    project = helpers.make_project(tmp_path / "p", n=2)
    window = helpers.open_window(qtbot, project)
    monkeypatch.setattr(window.saver, "latest", lambda cls, stem: (
        (True, LabelCodes(np.where(np.arange(helpers.W) < 10, 0, 2).astype(np.uint8)[None].repeat(helpers.H, 0)))
        if cls == "lesion" and stem == project.stems[1] else (False, None)))
    window.actions.next_image.trigger()
    assert window.canvas.is_sparse("lesion") and window.canvas.annotated("lesion")[:, :10].all()
    assert not window.canvas.annotated("lesion")[:, 10:].any()


def test_accepting_the_prediction_inside_a_region_annotates_it(qtbot, canvas):
    prob = np.zeros((H, W), np.float32)
    prob[:, :20] = 0.9
    canvas.set_prediction("lesion", prob)
    canvas.set_label_mode("correct")
    key(canvas, Qt.Key.Key_G)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=px(canvas, 35, 25))
    region = np.zeros((H, W), bool)
    region[5:10, 15:25] = True  # straddles the predicted edge
    canvas.accept_prediction(region)
    annotated, label = canvas.annotated("lesion"), canvas.label("lesion")
    assert annotated[region].all() and canvas.is_sparse("lesion")
    np.testing.assert_array_equal(label[region], prob[region] >= 0.5)
    canvas.undo()
    assert not canvas.annotated("lesion")[region].any()


def test_the_list_shows_the_annotated_share_of_sparse_labels_not_opened_yet(tmp_path, qtbot, messages):
    project = helpers.make_project(tmp_path / "p", n=3)
    annotated = np.zeros((helpers.H, helpers.W), bool)
    annotated[:12, :] = True  # a quarter of the image
    project.save_label("lesion", project.stems[2], np.zeros_like(annotated), annotated)
    project.save_label("lesion", project.stems[1], helpers.disc())
    window = helpers.open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.image_list.labelled_column.text(project.stems[2]) == "✓ 25 %", timeout=10_000)
    assert window.image_list.labelled_column.text(project.stems[1]) == "✓"  # complete
    assert window.image_list.labelled_column.text(project.stems[0]) == ""  # not labelled


def _list_state(window, stem):
    """(Labelled cell text, [(text, italic) of the score cells that show a value]) of `stem` in the image list."""
    from medseg_gui.qt.panels.image_columns import LABELLED_COL, METRIC_COLS

    table, row = window.image_list.table, window.image_list.stems().index(stem)
    scores = [table.item(row, col) for col in METRIC_COLS]
    return table.item(row, LABELLED_COL).text(), [(i.text(), i.font().italic()) for i in scores if i.text()]


def _looks_complete(state):
    """The look of a complete label: a plain tick (maybe "· new") or a score not in italics."""
    text, scores = state
    return text.split(" · ")[0] == "✓" or any(not italic for _text, italic in scores)


def test_a_sparse_label_never_looks_complete_after_opening_importing_or_showing_the_list_again(
        tmp_path, qtbot, monkeypatch, messages):
    """An ophthalmologist's trial (HRF photos): stroke labels showed a plain "✓ · new" with upright scores during
    File → Import masks… and for about 2 s after opening; once the list was filled again, for good. From the first
    paint the list shows the sparse look, or "✓ …" and no scores until the label is read."""
    from medseg_gui.qt import dialogs, import_flow

    project = helpers.make_project(tmp_path / "p", n=3, labelled=1)
    complete, sparse, imported = project.stems
    annotated = np.zeros((helpers.H, helpers.W), bool)
    annotated[:12, :] = True  # a quarter of the image
    project.save_label("lesion", sparse, helpers.disc(r=4) & annotated, annotated)  # 0/128/255 on disk
    project.save_metrics("lesion", {stem: {"auc": 0.9, "dice": 0.8} for stem in project.stems})
    window = helpers.open_window(qtbot, settings_file=tmp_path / "settings.ini")
    first = {}
    window.project_loaded.connect(lambda: first.setdefault(len(first), {s: _list_state(window, s)
                                                                         for s in project.stems}))
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.open_folder(project.root)
    assert not _looks_complete(first[0][sparse]), first[0]
    qtbot.waitUntil(lambda: _list_state(window, sparse) == ("✓ 25 %", [("0.90", True), ("0.80", True)]),
                    timeout=10_000)
    assert _list_state(window, complete) == ("✓", [("0.90", False), ("0.80", False)])
    folder = tmp_path / "strokes"
    folder.mkdir()
    cv2.imwrite(str(folder / f"{imported}.png"), np.where(annotated, 0, 128).astype(np.uint8))
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: "lesion")
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.import_masks()
    assert not any(_looks_complete(first[1][s]) for s in (sparse, imported)), first[1]
    qtbot.waitUntil(lambda: _list_state(window, imported)[0] == "✓ 25 %", timeout=10_000)
    window.classes.classes_changed.emit("")  # Edit → Classes… shows the project again: its labels are read again
    assert not _looks_complete(_list_state(window, sparse))
    qtbot.waitUntil(lambda: _list_state(window, sparse)[0] == "✓ 25 %", timeout=10_000)
    assert _list_state(window, complete)[0] == "✓"


def test_corrective_mode_without_a_prediction_says_so(qtbot, canvas):
    notices = []
    canvas.notice.connect(notices.append)
    canvas.set_label_mode("correct")
    assert notices and "No 'lesion' prediction" in notices[0]


def test_auto_mode_starts_sparse_for_a_class_predicted_thin_and_a_label_switches_both_ways(qtbot, canvas):
    assert canvas.label_mode() == "auto"
    prob = np.zeros((H, W), np.float32)
    prob[5::8, 2:-2] = 0.9  # the vessel class is predicted as thin lines
    canvas.set_prediction("vessel", prob, 0.5)
    canvas.set_brush_size(1)
    canvas.set_current_class("vessel")
    drag(qtbot, canvas, [px(canvas, 5, 5), px(canvas, 20, 5)])
    assert canvas.is_sparse("vessel")  # a few vessel strokes: unpainted = not annotated
    canvas.set_current_class("lesion")
    drag(qtbot, canvas, [px(canvas, 5, 20), px(canvas, 12, 20)])
    assert canvas.is_labelled("lesion") and not canvas.is_sparse("lesion")  # a lesion label stays complete
    assert canvas.mark_complete("vessel", True) and not canvas.is_sparse("vessel")
    assert not canvas.mark_complete("vessel", True)  # already complete: nothing to do
    assert canvas.mark_complete("vessel", False) and canvas.is_sparse("vessel")
    np.testing.assert_array_equal(canvas.annotated("vessel"), canvas.label("vessel"))  # only the painted class
    canvas.undo()
    assert not canvas.is_sparse("vessel") and canvas.label("vessel").sum() == 16
