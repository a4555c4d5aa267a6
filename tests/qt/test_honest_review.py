"""Honest review for a clinician (issue 12 item 6): suggested threshold, too-few-labels notice, canvas legend,
training / validation marks in the list."""

from __future__ import annotations

import json

import numpy as np

from medseg_gui import pipeline
from medseg_gui.core.project import Project
from medseg_gui.ml.config import TrainConfig
from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.defaults import contour_rgb
from medseg_gui.qt.negative_flow import negatives
from medseg_gui.qt.panels.canvas_area import CanvasArea
from medseg_gui.qt.panels.image_list import LABELLED_COL
from medseg_gui.qt.panels.layers_panel import LayersPanel
from medseg_gui.qt.panels.train_panel import TrainPanel
from medseg_gui.qt.panels.train_text import ENOUGH_IMAGES, label_notice, threshold_suggestion, validated_well
from tests.workers.helpers import drag, make_project, open_window


def test_threshold_suggestion_text_from_the_model_metadata():
    assert threshold_suggestion({"threshold": 0.35, "val_dice": 0.6234}) == (
        0.35, "suggested 0.35 (validation Dice 0.623)")
    assert threshold_suggestion({"threshold": 0.35, "val_dice": None}) is None  # no validation Dice
    assert threshold_suggestion({"val_auc": 0.9}) is None  # an older model
    assert threshold_suggestion(None) is None


def test_use_it_sets_the_threshold_through_the_panel_signal(qtbot):
    panel = LayersPanel(threshold=0.5)
    qtbot.addWidget(panel)
    panel.show_suggestion(None)
    assert panel.suggestion.isHidden() and panel.suggested_threshold() is None
    panel.show_suggestion({"threshold": 0.35, "val_dice": 0.62})
    assert not panel.suggestion.isHidden()
    assert "suggested 0.35 · " in panel.suggestion.text() and "validation Dice 0.62" in panel.suggestion.toolTip()
    with qtbot.waitSignal(panel.threshold_changed) as blocker:
        panel.suggestion.linkActivated.emit("use")  # what a click on "use it" does
    assert blocker.args == [0.35] and panel.threshold() == 0.35
    panel.threshold_spin.setEnabled(False)  # while training the threshold is fixed
    panel.set_threshold(0.5)
    panel.use_suggestion()
    assert panel.threshold() == 0.5


def test_window_offers_the_current_models_threshold_and_applies_it(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    model_dir = project.model_dir("lesion")
    model_dir.mkdir(parents=True)
    (model_dir / "current.json").write_text(json.dumps({"val_auc": 0.9, "threshold": 0.3, "val_dice": 0.71}))
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    assert "suggested 0.30" in window.layers.suggestion.text()
    window.layers.use_suggestion()
    assert window.layers.threshold() == 0.3
    assert window.session.threshold == 0.3  # the window applied it like a typed value


def test_label_notice_says_more_labels_would_help_without_a_count_the_project_may_not_have():
    """A trial's project of 5 photos, 4 labelled, was told to label 4 more."""
    assert ENOUGH_IMAGES == 8
    assert label_notice("lesion", {f"i{k}": 1.0 for k in range(3)}) == (
        "3 labelled images: models from fewer than 8 are often weak; labelling more would likely help (add photos "
        "when every one is labelled).")
    one = label_notice("lesion", {"a": 1.0})
    assert one.startswith("1 labelled image: ") and "labelling more" in one and "validated on the image it" in one
    assert label_notice("vessel", {f"i{k}": 1.0 for k in range(8)}) == ""  # enough: no notice
    sparse = label_notice("vessel", {f"i{k}": 0.01 for k in range(10)})  # strokes on 1 % of each image
    assert sparse.startswith("Only 1.0 % of the labelled images' pixels are annotated")
    assert label_notice("lesion", {}).startswith("No lesion labels yet")


def test_no_label_count_advice_when_the_model_validates_well_for_its_kind():
    """New-user trial: "label 4 more" stayed beside a vessel model with validation AUC 0.987. The advice goes when the
    current model scores well on images it did not learn from (AUC for vessels, Dice for lesions), not otherwise."""
    four = {f"i{k}": 1.0 for k in range(4)}
    vessels = {"regime": "vessels", "val_auc": 0.987, "val_dice": 0.86, "val_stems": ["i0"], "train_stems": ["i1"]}
    assert validated_well(vessels) == "val AUC 0.987 on 1 held-out image"
    assert label_notice("vessel", four, vessels) == ""
    assert "labelling more" in label_notice("vessel", four, {**vessels, "val_auc": 0.90})  # not good enough
    assert "labelling more" in label_notice("vessel", four, {**vessels, "val_stems": []})  # validated on its own
    assert "labelling more" in label_notice("vessel", four, {**vessels, "val_auc": None})
    lesions = {"regime": "lesions", "val_auc": 0.99, "val_dice": 0.54, "val_stems": ["i0", "i1"]}
    assert "labelling more" in label_notice("lesion", four, lesions)  # a lesion model is judged by its Dice
    assert validated_well({**lesions, "val_dice": 0.75}) == "val Dice 0.750 on 2 held-out images"
    assert label_notice("lesion", {}, vessels).startswith("No lesion labels yet")
    unknown = {k: v for k, v in vessels.items() if k != "regime"}  # an older model: its kind unknown
    assert validated_well(unknown) == "" and "labelling more" in label_notice("vessel", four, unknown)
    strokes = {f"i{k}": 0.01 for k in range(4)}  # scores on strokes flatter a model: the coverage advice stays
    notice = label_notice("vessel", strokes, vessels)
    assert "labelling more" not in notice and notice.startswith("Only 1.0 %")


def test_train_panel_notice_follows_the_labels_and_the_model_in_either_order(qtbot):
    panel = TrainPanel(["default"], TrainConfig(), loss_curve=False)
    qtbot.addWidget(panel)
    good = {"regime": "vessels", "val_auc": 0.987, "val_stems": ["a"]}
    panel.show_labels("vessel", {s: 1.0 for s in "abcd"})
    assert not panel.label_notice.isHidden() and "labelling more" in panel.label_notice.text()
    panel.show_model(good)  # a Retrain kept a model that validates well
    assert panel.label_notice.isHidden()
    panel.show_model({**good, "val_auc": 0.8})
    assert not panel.label_notice.isHidden()
    panel.show_model(good)
    panel.show_labels("vessel", {s: 1.0 for s in "abcde"})  # the labels after the model: still no advice
    assert panel.label_notice.isHidden()
    panel.show_model(None)
    assert "5 labelled images" in panel.label_notice.text()


def test_window_train_panel_warns_until_there_are_enough_labels(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=3, labelled=2)
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    notice = window.train_panel.label_notice
    assert notice.isVisibleTo(window) and "2 labelled images" in notice.text() and "labelling more" in notice.text()
    assert window.train_panel.model_label.text().endswith("press Retrain to train one on your 2 labelled images.")
    window.image_list.set_labelled({f"s{k}" for k in range(9)})  # what a class with 9 labels shows
    assert not notice.isVisibleTo(window)


def test_canvas_legend_lists_exactly_the_colours_shown(qtbot):
    canvas = Canvas()
    area = CanvasArea(canvas)
    qtbot.addWidget(area)
    area.resize(400, 300)
    area.show()
    qtbot.waitExposed(area)
    canvas.set_image("img", np.full((40, 60, 3), 90, np.uint8))
    label = np.zeros((40, 60), bool)
    label[10:20, 10:30] = True
    canvas.set_labels({"lesion": label, "vessel": None}, {"lesion": (255, 215, 0), "vessel": (0, 220, 110)})
    canvas.set_current_class("lesion")

    def meanings():
        area.legend.refresh()
        return [text for _rgb, text in area.legend.entries()]

    assert meanings() == ["lesion label"]  # no prediction, ROI or other label yet: nothing else listed
    assert area.legend.isVisibleTo(area)
    prob = np.zeros((40, 60), np.float32)
    prob[12:22, 14:34] = 0.9
    canvas.set_prediction("lesion", prob, 0.5)
    roi = np.ones((40, 60), bool)
    roi[:, :5] = False
    canvas.set_roi(roi)
    assert meanings() == ["outside the region (darkened)", "lesion label", "false positive: predicted, not labelled",
                          "false negative: labelled, not predicted", "lesion predicted outline"]
    colours = dict((text, rgb) for rgb, text in area.legend.entries())
    assert colours["false positive: predicted, not labelled"] == (255, 0, 0)
    assert colours["false negative: labelled, not predicted"] == (0, 0, 255)
    assert colours["lesion predicted outline"] == contour_rgb((255, 215, 0)) != colours["lesion label"]
    canvas.set_layer_visible("fpfn", False)
    canvas.set_layer_visible("roi", False)
    canvas.set_layer_visible("uncertainty", True)
    assert meanings() == ["lesion label", "lesion: model unsure (near the threshold)", "lesion predicted outline"]
    for layer in ("label", "contours", "uncertainty"):
        canvas.set_layer_visible(layer, False)
    assert meanings() == [] and not area.legend.isVisibleTo(area)


def test_the_legend_wraps_its_lines_on_a_narrow_canvas(qtbot):
    """Outside trial at 150 % on 1366×768: the legend's lines ran past the canvas' right edge, cut off."""
    from medseg_gui.qt.legend import MARGIN

    canvas = Canvas()
    area = CanvasArea(canvas)
    qtbot.addWidget(area)
    area.resize(600, 300)
    area.show()
    qtbot.waitExposed(area)
    canvas.set_image("img", np.full((40, 60, 3), 90, np.uint8))
    label = np.zeros((40, 60), bool)
    label[10:20, 10:30] = True
    canvas.set_labels({"lesion": label}, {"lesion": (255, 215, 0)})
    canvas.set_current_class("lesion")
    canvas.set_prediction("lesion", np.where(label, 0.9, 0.0).astype(np.float32), 0.5)
    area.legend.refresh()
    wide = area.legend.size()
    assert wide.width() < 600 - 2 * MARGIN and not area.legend.wordWrap()
    area.resize(wide.width() // 2 + 2 * MARGIN, 300)
    qtbot.waitUntil(lambda: area.legend.width() <= canvas.width() - 2 * MARGIN)
    assert area.legend.wordWrap() and area.legend.height() > wide.height()  # its lines wrapped, not cut off
    assert area.legend.geometry().bottom() < canvas.height()
    area.resize(600, 300)
    qtbot.waitUntil(lambda: area.legend.size() == wide)


def test_legend_follows_the_layers_panel_in_the_window(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    legend = window.canvas_area.legend
    qtbot.waitUntil(lambda: "lesion label" in [t for _c, t in legend.entries()], timeout=5_000)
    window.layers.toggle("label")  # the panel's checkbox, as a click would
    qtbot.waitUntil(lambda: "lesion label" not in [t for _c, t in legend.entries()], timeout=5_000)


def test_list_marks_training_and_validation_images_of_the_current_model(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=5, labelled=4)
    a, b, c, d, e = project.stems
    project.set_state(d, "split", "test")  # a dataset's test split (DRIVE's test/): never trained on
    model_dir = project.model_dir("lesion")
    model_dir.mkdir(parents=True)
    (model_dir / "current.json").write_text(json.dumps({"val_auc": 0.9, "train_stems": [a], "val_stems": [b]}))
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    images = window.image_list
    qtbot.waitUntil(lambda: not images.pending_kinds(), timeout=10_000)  # complete or sparse: read in the background
    labelled_text = images.labelled_column.text
    assert [labelled_text(s) for s in (a, b, c, d, e)] == ["✓ · train", "✓ · val", "✓ · new", "✓ · test", ""]
    assert "Held out for validation" in images._item(b, LABELLED_COL).toolTip()
    assert "never trained or validated on" in images._item(d, LABELLED_COL).toolTip()
    images.labelled_column.set_split(None, None)  # an older model that did not record its split: plain ticks
    assert [images.labelled_column.text(s) for s in (a, b, c, d, e)] == ["✓", "✓", "✓", "✓", ""]


def test_no_object_here_saves_an_explicit_negative_used_by_training(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=3, labelled=1)
    a, b, _c = project.stems
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    images, canvas = window.image_list, window.canvas

    images.select(a)  # a lesion is labelled there: refused, nothing changes
    qtbot.waitUntil(lambda: window.session.stem == a)
    assert "erase them" in window.negatives.toggle("lesion") and negatives(project, "lesion") == set()

    images.select(b)
    qtbot.waitUntil(lambda: window.session.stem == b)
    window.actions.no_object.trigger()  # X
    assert window.saver.flush()
    assert project.entry(b).state["none"] == ["lesion"]
    assert Project.open(project.root).entry(b).state["none"] == ["lesion"]  # in project.json on disk
    assert not project.load_label("lesion", b).any() and project.load_label_pixels("lesion", b).annotated is None
    assert images.labelled_column.text(b) == "none" and images.labelled_column.text(a) == "✓"
    samples, stems = pipeline.load_samples(project, "lesion")
    assert b in stems and not samples[stems.index(b)].mask.any()  # a negative for training
    qtbot.waitUntil(lambda: canvas.is_labelled("lesion"))  # the canvas shows the empty, complete label

    drag(qtbot, canvas, [(20.0, 20.0), (26.0, 22.0)])  # painting a lesion there drops the mark, keeps the label
    assert window.saver.flush()
    assert negatives(project, "lesion") == set() and project.load_label("lesion", b).any()
    assert images.labelled_column.text(b) == "✓"


def test_no_object_here_again_takes_it_back(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=0)
    b = project.stems[1]
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    window.image_list.select(b)
    qtbot.waitUntil(lambda: window.session.stem == b)
    window.actions.no_object.trigger()
    assert window.saver.flush() and project.has_label("lesion", b)
    qtbot.waitUntil(lambda: window.canvas.is_labelled("lesion"))
    assert "taken back" in window.negatives.toggle("lesion")
    assert window.saver.flush()
    assert not project.has_label("lesion", b) and negatives(project, "lesion") == set()
    assert window.image_list.labelled_column.text(b) == ""


def test_a_complete_label_of_a_few_strokes_is_flagged_and_k_or_shift_k_settles_it(tmp_path, qtbot):
    from medseg_gui.core.label_status import CONFIRMED_KEY, marked

    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    stem = project.stems[0]
    window.tools.mode_combo.setCurrentIndex(window.tools.mode_combo.findData("complete"))
    window.canvas.set_brush_size(1)
    drag(qtbot, window.canvas, [(5, 10), (40, 10)])  # a thin stroke saved as a complete label
    item = window.image_list.table.item(window.image_list.stems().index(stem), LABELLED_COL)
    assert not window.canvas.is_sparse("lesion") and item.text().startswith("✓ ?")
    assert "background" in item.toolTip() and "Press K" in item.toolTip()
    window.actions.label_sparse.trigger()
    assert window.canvas.is_sparse("lesion") and window.image_list.labelled_column.text(stem).endswith("%")
    window.actions.label_complete.trigger()  # "it really is complete"
    assert not window.canvas.is_sparse("lesion") and marked(project, CONFIRMED_KEY, "lesion") == {stem}
    assert window.image_list.labelled_column.text(stem) == "✓" and not item.text().startswith("✓ ?")
    assert window.saver.flush(10) and project.load_label_pixels("lesion", stem).annotated is None
    window.canvas.undo()  # new-user trial, session 34: undoing Shift+K kept the mark, silencing the doubt for good
    assert window.canvas.is_sparse("lesion") and marked(project, CONFIRMED_KEY, "lesion") == set()
    window.canvas.redo()
    assert item.text().startswith("✓ ?")  # complete again, and no longer confirmed: flagged again


def test_the_doubt_in_the_status_bar_goes_when_its_stroke_is_undone(tmp_path, qtbot):
    """New-user trial, session 36: "looks like a few traced strokes" stayed in the status bar for its 8 s after the
    stroke was undone."""
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot, project)
    window.tools.mode_combo.setCurrentIndex(window.tools.mode_combo.findData("complete"))
    window.canvas.set_brush_size(1)
    drag(qtbot, window.canvas, [(5, 10), (40, 10)])
    assert "Press K" in window.statusBar().currentMessage()
    window.canvas.undo()
    message = window.statusBar().currentMessage()  # every stroke undone: no label, not "complete" (session 39)
    assert "Press K" not in message and message == f"{project.stems[0]}: no lesion label now."
    drag(qtbot, window.canvas, [(5, 10), (40, 10)])
    assert "Press K" in window.statusBar().currentMessage()
    window.canvas.set_brush_size(24)  # the lesion painted whole beside the stroke: an outline, not strokes
    drag(qtbot, window.canvas, [(20, 30), (30, 32)])
    assert window.statusBar().currentMessage().endswith("the lesion label no longer looks incomplete.")


def test_a_complete_label_far_below_the_prediction_is_doubted_until_confirmed(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    canvas = window.canvas
    h, w = canvas.doc.shape
    window.tools.mode_combo.setCurrentIndex(window.tools.mode_combo.findData("complete"))
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [(10, 10), (14, 10)])  # a small blob: no doubt without a prediction
    assert window.label_status.check("lesion") is None
    prob = np.zeros((h, w), np.float32)
    prob[5:40, 5:50] = 0.9  # the model sees far more lesion than was painted
    canvas.set_prediction("lesion", prob)
    assert "predicts" in (window.label_status.check("lesion") or "")
    canvas.accept_prediction()  # the counts the doubt comes from follow the edits, and undo
    assert window.label_status.check("lesion") is None
    canvas.undo()
    assert "predicts" in (window.label_status.check("lesion") or "")
    window.actions.label_complete.trigger()
    assert window.label_status.check("lesion") is None and not canvas.is_sparse("lesion")


def test_a_doubtful_label_is_flagged_whether_its_image_was_opened_or_not(tmp_path, qtbot):
    """New-user trials: after a restart the "✓ ?" of a half-painted label was gone (session 32: the prediction of an
    image being opened was checked against the stem shown before it); a doubtful label was flagged only once its
    image was opened, while it was the run's one validation image (session 34): labels not shown are judged in the
    background, except those confirmed complete."""
    from medseg_gui.core.label_status import CONFIRMED_KEY, set_mark
    from tests.workers.helpers import H, W, disc

    project = make_project(tmp_path / "p", n=3)
    first, second, confirmed = project.stems
    for stem in project.stems:
        project.save_label("lesion", stem, disc(r=2))  # a sliver, saved as complete
        project.save_prediction("lesion", stem, np.where(disc(r=12), 0.9, 0.05).astype(np.float32))
    set_mark(project, confirmed, CONFIRMED_KEY, "lesion", True)
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.session.stem == first)
    row = {s: window.image_list.stems().index(s) for s in project.stems}
    cell = lambda s: window.image_list.table.item(row[s], LABELLED_COL).text()  # noqa: E731
    qtbot.waitUntil(lambda: cell(first).startswith("✓ ?") and cell(second).startswith("✓ ?"), timeout=5_000)
    assert "predicts" in window.image_list.table.item(row[second], LABELLED_COL).toolTip()
    assert cell(confirmed) == "✓"
    window.image_list.select(second)
    qtbot.waitUntil(lambda: window.session.stem == second)
    assert cell(first).startswith("✓ ?") and cell(second).startswith("✓ ?") and (H, W) == window.canvas.doc.shape
    window.label_status.set_doubts("lesion", {})  # read again after a Retrain: no longer doubtful
    assert cell(first) == "✓" and cell(second).startswith("✓ ?")  # the one on screen keeps its live check
    window.label_status.set_doubts("lesion", {}, judged=False)  # a new model too weak to judge labels (Dice < 0.5)
    assert cell(second) == "✓"  # the live check no longer goes by its prediction


def test_the_image_shown_at_open_without_a_prediction_keeps_its_doubt_mark(tmp_path, qtbot):
    """Verification trial, session 39: a few strokes saved as a complete lesion label, on the image shown when the
    project was opened again (File → Add images… reopens it) and with no prediction: its "✓ ?" was gone for the
    session (the background read skips the image on screen, whose live check ran only on a stroke or a prediction)."""
    project = make_project(tmp_path / "p", n=2)
    stem, other = project.stems
    strokes = np.zeros(project.image_size(stem), bool)
    strokes[10:12, 4:60] = strokes[30:32, 4:60] = True  # two thin strokes, saved as a complete label
    project.save_label("lesion", stem, strokes)
    project.save_label("lesion", other, strokes)  # and on an image not shown: read in the background
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.session.stem == stem)
    cell = lambda s: window.image_list.table.item(window.image_list.stems().index(s), LABELLED_COL).text()  # noqa
    qtbot.waitUntil(lambda: cell(stem).startswith("✓ ?") and cell(other).startswith("✓ ?"), timeout=5_000)
    with qtbot.waitSignal(window.project_loaded, timeout=20_000):
        window.open_folder(project.root)  # opened again, as Add images… does: the list is rebuilt
    qtbot.waitUntil(lambda: window.session.stem == stem and window.canvas.is_labelled("lesion"), timeout=5_000)
    qtbot.wait(300)  # the labels' background read
    assert cell(stem).startswith("✓ ?") and cell(other).startswith("✓ ?")


def test_a_notice_stays_in_the_status_bar_when_the_mouse_moves(tmp_path, qtbot):
    """New-user trial, session 34: the pixel readout was the status message, so any notice (a new complete label
    over a prediction, a click that painted nothing) was replaced at the next mouse move, unread."""
    from PySide6.QtCore import QPoint

    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    project.save_prediction("lesion", stem, np.full(project.image_size(stem), 0.9, np.float32))
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: "lesion" in window.canvas.doc.preds, timeout=5_000)
    drag(qtbot, window.canvas, [(10, 10), (30, 12)])
    assert window.statusBar().currentMessage().startswith("New complete 'lesion' label")
    qtbot.mouseMove(window.canvas, QPoint(40, 20))
    assert window.statusBar().currentMessage().startswith("New complete 'lesion' label")
    assert "zoom" in window.pixel_label.text()  # the readout has its own field


def test_erasing_a_false_positive_from_an_accepted_prediction_keeps_the_label_complete(tmp_path, qtbot):
    """New-user trial, session 38: after Accept prediction and erasing its large false positive, the label was
    doubted ("the model predicts 25 %… Press K to make it sparse"); K made the erased region unannotated and the
    export filled it back in from the prediction. A label the prediction agreed with, cut down by hand, is a
    correction: confirmed complete, not doubted."""
    from medseg_gui.core.label_status import CONFIRMED_KEY, marked

    project = make_project(tmp_path / "p", n=2)
    window = open_window(qtbot, project)
    canvas, stem = window.canvas, window.session.stem
    prob = np.zeros(canvas.doc.shape, np.float32)
    prob[4:12, 4:12] = 0.9  # the lesion
    prob[16:46, 18:62] = 0.9  # and a large false positive
    canvas.set_prediction("lesion", prob)
    canvas.accept_prediction()
    assert window.label_status.check("lesion") is None
    canvas.set_tool("eraser")
    canvas.set_brush_size(15)
    drag(qtbot, canvas, [(20, 22), (60, 22), (60, 32), (20, 32), (20, 40), (60, 40)])
    assert canvas.doc.area("lesion") < 0.3 * int((prob >= 0.5).sum())  # far below the prediction: once doubted
    assert window.label_status.check("lesion") is None and not canvas.is_sparse("lesion")
    assert marked(project, CONFIRMED_KEY, "lesion") == {stem}
    assert "stays complete" in window.statusBar().currentMessage()
    assert window.saver.flush(10) and project.load_label_pixels("lesion", stem).annotated is None

    window.image_list.select(project.stems[1])  # review: Accept, Undo, then one small stroke is no correction
    qtbot.waitUntil(lambda: window.session.stem == project.stems[1])
    canvas.set_prediction("lesion", prob)
    canvas.accept_prediction()
    canvas.undo()
    canvas.set_tool("brush")
    canvas.set_brush_size(5)
    drag(qtbot, canvas, [(30, 30), (40, 30)])
    assert "predicts" in (window.label_status.check("lesion") or "")
    assert marked(project, CONFIRMED_KEY, "lesion") == {stem}  # the first image's only
