"""Reviewing without training: threshold box → contours/accept/Dice, Accept prediction message, current-model line,
export dialog (start folder, title, confirmation). Predictions and model metadata are written directly."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medseg_gui.core.images import read_mask
from medseg_gui.core.metrics import image_metrics
from medseg_gui.core.project import Project
from medseg_gui.qt import dialogs, export_flow
from medseg_gui.training_data import accepted_labels
from tests.workers.helpers import H, W, disc, drag, make_project, open_window


@pytest.fixture
def messages(monkeypatch):
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_message", lambda parent, title, text, **kw: shown.append((title, text)))
    return shown


def _ramp() -> np.ndarray:
    """Probability rising from 0 (left) to 1 (right)."""
    return np.tile(np.linspace(0.0, 1.0, W, dtype=np.float32), (H, 1))


def _project_with_predictions(root):
    project = make_project(root, n=2, labelled=1)
    for stem in project.stems:
        project.save_prediction("lesion", stem, _ramp())
    stem = project.stems[0]
    prob = project.load_prediction("lesion", stem)
    project.save_metrics("lesion", {stem: image_metrics(prob, project.load_label("lesion", stem), None, 0.5)})
    return project, stem, prob


def test_threshold_box_rethresholds_contours_accept_and_dice(tmp_path, qtbot, messages, monkeypatch):
    project, stem, prob = _project_with_predictions(tmp_path / "p")
    asked, answers = [], [False, True]
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or answers.pop(0))
    truth = project.load_label("lesion", stem)
    window = open_window(qtbot, project)
    assert window.image_list.current_stem() == stem
    qtbot.waitUntil(lambda: window.session.stem == stem and "lesion" in window.session.review.probs, timeout=10_000)
    assert float(window.image_list.dice_text(stem, "lesion")) == pytest.approx(
        image_metrics(prob, truth, None, 0.5)["dice"], abs=1e-3)

    spin = window.layers.threshold_spin
    spin.setFocus()
    with qtbot.waitSignal(window.metrics_updated, timeout=20_000):
        for _ in range(6):  # 0.50 → 0.80 with the arrow key, as a user would
            qtbot.keyClick(spin, Qt.Key.Key_Up)
    assert window.layers.threshold() == pytest.approx(0.8)
    expected = image_metrics(prob, truth, None, 0.8)["dice"]
    assert float(window.image_list.dice_text(stem, "lesion")) == pytest.approx(expected, abs=1e-3)
    assert project.load_metrics("lesion")[stem]["dice"] == pytest.approx(expected, abs=1e-6)  # metrics.json too

    lost = int((truth & (prob < 0.8)).sum())
    assert lost > 0
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)  # "No": nothing changes
    qtbot.waitUntil(lambda: bool(asked), timeout=5_000)  # asked after a pause (qt.accept_flow)
    np.testing.assert_array_equal(window.canvas.label("lesion"), truth)
    assert asked == [f"Replace your lesion label on {stem} with the prediction? {lost:,} pixels you labelled as "
                     "lesion would become background (Ctrl+Z undoes it)."]
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)  # "Yes"
    qtbot.waitUntil(lambda: not answers, timeout=5_000)
    np.testing.assert_array_equal(window.canvas.label("lesion"), prob >= 0.8)  # accepted at the box's threshold
    assert window.statusBar().currentMessage() == ("Prediction accepted as the lesion label — Ctrl+Z to undo. Its "
                                                   "scores now compare the model with its own prediction (about 1.00) "
                                                   "until you correct the label; Retrain learns from it but validates "
                                                   "on other labels")  # new-user trial: Dice 1.00 at once
    assert accepted_labels(Project.open(project.root), "lesion") == {stem}  # Retrain does not validate on it
    window.actions.undo.trigger()
    np.testing.assert_array_equal(window.canvas.label("lesion"), truth)
    assert accepted_labels(Project.open(project.root), "lesion") == set()  # the hand-made label again


def test_an_accepted_prediction_is_marked_until_the_first_stroke_on_its_label(tmp_path, qtbot, messages):
    """Trial: Retrain held the accepted image out for validation (Dice 0.98); project.json now says which labels are
    accepted predictions (training_data.accepted_labels), and the clinician's first edit makes it a label again."""
    project, _, _ = _project_with_predictions(tmp_path / "p")
    other = project.stems[1]  # unlabelled: nothing asked
    window = open_window(qtbot, project)
    window.image_list.select(other)
    qtbot.waitUntil(lambda: window.session.stem == other and "lesion" in window.session.review.probs, timeout=10_000)
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    assert Project.open(project.root).entry(other).state["accepted"] == ["lesion"]
    assert accepted_labels(Project.open(project.root), "lesion") == {other}
    window.canvas.set_tool("brush")
    assert not window.canvas.label("lesion")[5, 5]  # the prediction is background there
    drag(qtbot, window.canvas, [(5, 5), (15, 5)])
    assert window.canvas.label("lesion")[5, 5]
    assert accepted_labels(Project.open(project.root), "lesion") == set()


def test_undo_and_redo_back_to_an_accepted_prediction_mark_it_again(tmp_path, qtbot, messages):
    """The mark follows the label through the history: Undo of a stroke after the accept, or Redo of the accept,
    brings back the model's own prediction, which must again never validate (was: left unmarked, so a Retrain could
    validate on it at about 1.00); Undo of the accept itself is no mark."""
    project, _, _ = _project_with_predictions(tmp_path / "p")
    other = project.stems[1]
    window = open_window(qtbot, project)
    window.image_list.select(other)
    qtbot.waitUntil(lambda: window.session.stem == other and "lesion" in window.session.review.probs, timeout=10_000)
    marked = lambda: accepted_labels(Project.open(project.root), "lesion") == {other}  # noqa: E731
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    window.canvas.set_tool("brush")
    drag(qtbot, window.canvas, [(5, 5), (15, 5)])
    assert not marked()
    window.canvas.undo()  # the stroke: the accepted prediction again
    assert not window.canvas.label("lesion")[5, 5] and marked()
    window.canvas.undo()  # the accept
    assert not marked()
    assert "no longer the accepted prediction" in window.statusBar().currentMessage()  # not "Prediction accepted"
    window.canvas.redo()
    assert marked() and "is the model's accepted prediction" in window.statusBar().currentMessage()
    window.canvas.redo()
    assert not marked()


def test_accepting_the_prediction_on_an_image_that_validates_the_model_says_what_that_does(tmp_path, qtbot, messages,
                                                                                            monkeypatch):
    project, stem, _ = _project_with_predictions(tmp_path / "p")
    other = project.stems[1]
    model_dir = project.model_dir("lesion")
    model_dir.mkdir(parents=True)
    (model_dir / "current.json").write_text(json.dumps({"val_auc": 0.9, "trained_at": "2026-12-04T20:00:00",
                                                         "preset": "default", "train_stems": [other],
                                                         "val_stems": [stem]}))
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)
    window = open_window(qtbot, project)
    labelled = window.image_list.labelled_column
    assert labelled.split_of(stem) == "val" and labelled.split_of(other) == "train"
    # the prediction is read in the background: clicking before it is shown failed once (session 38)
    qtbot.waitUntil(lambda: window.session.stem == stem and "lesion" in window.session.review.probs, timeout=10_000)
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "accepted" in window.statusBar().currentMessage(), timeout=5_000)  # asked after a pause
    line = window.statusBar().currentMessage()
    assert line.startswith("Prediction accepted as the lesion label — Ctrl+Z to undo. ")
    assert f"{stem} validated the current model: its scores there now compare" in line
    assert line.endswith("Retrain learns from it but validates on other labels")
    window.image_list.select(other)
    qtbot.waitUntil(lambda: window.session.stem == other and "lesion" in window.session.review.probs, timeout=10_000)
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)  # a training image: the plain message
    assert window.statusBar().currentMessage().startswith("Prediction accepted as the lesion label — Ctrl+Z to undo. "
                                                          "Its scores now compare the model with its own prediction")


def test_accepting_a_prediction_that_finds_nothing_says_so_and_claims_nothing(tmp_path, qtbot, messages):
    """New-user trial, session 33: on an image whose prediction was one speck, Accept prediction said "Prediction
    accepted as the lesion label (1 speck … left out) — Ctrl+Z to undo" and wrote no label, with nothing to undo."""
    project = make_project(tmp_path / "p", n=2, labelled=1)
    stem = project.stems[1]  # unlabelled
    speck = np.zeros((H, W), np.float32)
    speck[2, 2] = 0.9  # one pixel: a speck under SPECK_AREA of the image
    project.save_prediction("lesion", stem, speck)
    window = open_window(qtbot, project)
    window.image_list.select(stem)
    qtbot.waitUntil(lambda: window.session.stem == stem and "lesion" in window.session.review.probs, timeout=10_000)
    errors = []
    window.session.problem.connect(lambda text, dialog: errors.append(text))
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    assert errors and errors[-1].startswith(f"The lesion prediction on {stem} finds no lesion (1 speck under")
    assert "press X to mark this image as having no lesion" in errors[-1]
    assert "accepted" not in window.statusBar().currentMessage()
    assert not window.canvas.is_labelled("lesion") and not window.actions.undo.isEnabled()
    assert not window.saver.has_pending() and project.load_label("lesion", stem) is None


def test_the_threshold_has_one_owner_that_the_box_and_canvas_observe(tmp_path, qtbot, messages):
    project, stem, prob = _project_with_predictions(tmp_path / "p")
    window = open_window(qtbot, project)
    review = window.session.review
    review.set_threshold(0.7)  # set at the owner (as a remembered value is): the box and the canvas follow
    assert window.layers.threshold() == 0.7
    np.testing.assert_array_equal(window.canvas.doc.preds["lesion"], prob >= 0.7)
    window.layers.threshold_spin.setValue(0.3)  # typed in the box: the owner takes it
    assert review.threshold == 0.3 and window.session.threshold == 0.3
    np.testing.assert_array_equal(window.canvas.doc.preds["lesion"], prob >= 0.3)


def test_accept_without_prediction_says_so(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot, project)
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    assert "no lesion prediction" in window.last_error and "Retrain" in window.last_error
    assert not window.canvas.label("lesion").any()


def test_current_model_is_shown_on_open_and_class_switch(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    model_dir = project.model_dir("lesion")
    model_dir.mkdir(parents=True)
    (model_dir / "current.json").write_text(json.dumps(
        {"val_auc": 0.9771, "trained_at": "2026-11-25T19:40:00", "preset": "default", "steps": 10}))
    window = open_window(qtbot, project)
    label = window.train_panel.model_label
    assert label.text() == "Current model: val AUC 0.977, trained 2026-11-25 19:40, preset default"
    window.tools.select_class("vessel")
    assert label.text().startswith("Current model: none yet")
    window.tools.select_class("lesion")
    assert "0.977" in label.text()


def test_a_finished_training_hands_over_the_kept_models_metadata(tmp_path, qtbot, messages):
    from types import SimpleNamespace

    from medseg_gui.qt.panels.train_text import model_text

    project, _stem, _prob = _project_with_predictions(tmp_path / "p")
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    kept = {"val_auc": 0.91, "threshold": 0.3, "val_dice": 0.71, "preset": "default", "id": "m1"}
    decision = SimpleNamespace(kept_new=True, current=kept)
    run = SimpleNamespace(project_root=project.root, cls="lesion", metrics={}, outcome=SimpleNamespace(
        decision=decision))
    assert not project.model_dir("lesion").exists()  # nothing on disk: what is shown came with the run
    window.training.show_results(run)
    assert window.train_panel.model_label.text() == model_text(kept)
    assert "suggested 0.30" in window.layers.suggestion.text()
    assert "validation Dice 0.71" in window.layers.suggestion.toolTip()


def test_export_starts_beside_the_project_and_confirms_counts(tmp_path, qtbot, messages, monkeypatch):
    project, stem, prob = _project_with_predictions(tmp_path / "p")
    out_dir = tmp_path / "export"
    asked = []
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: asked.append(
        (title, start)) or out_dir)
    window = open_window(qtbot, project)
    window.layers.threshold_spin.setValue(0.8)
    statuses = []
    window.exporter.status.connect(statuses.append)
    with qtbot.waitSignal(window.export_ended, timeout=30_000) as ended:
        window.actions.export_masks.trigger()
    assert ended.args == ["finished"], window.last_error
    assert f"Exporting masks 1/2: lesion/{stem}.png…" in statuses  # counted as written (trial: none at 300)
    title, start = asked[0]
    assert start == project.root.parent  # not inside the project (issue 13, defect 8)
    assert "your label, else the prediction ≥ 0.80" in title
    np.testing.assert_array_equal(read_mask(out_dir / "lesion" / f"{stem}.png"), disc(cx=20))  # the label
    np.testing.assert_array_equal(read_mask(out_dir / "lesion" / f"{project.stems[1]}_prediction.png"), prob >= 0.8)
    assert messages[-1][0] == "Export finished"
    text = messages[-1][1]
    assert str(out_dir) in text and "vessel" not in text  # not chosen, nothing of it: not named (trial)
    assert "lesion/manifest.json says which masks are your labels" in text  # where it is (trial)
    assert "2 (1 label, 1 predicted) in lesion/" in messages[-1][1]  # which masks are the model's, as the manifest
    manifest = json.loads((out_dir / "lesion" / "manifest.json").read_text())
    assert [m["source"] for m in manifest["masks"]] == ["label", "prediction"]

    out_dir = tmp_path / "coco"  # File → Export for other tools: the format first, then the folder
    monkeypatch.setattr(export_flow, "ask_export_format", lambda parent: "coco")
    with qtbot.waitSignal(window.export_ended, timeout=30_000) as ended:
        window.actions.export_other.trigger()
    assert ended.args == ["finished"], window.last_error
    assert "COCO" in asked[-1][0] and "≥ 0.80" in asked[-1][0]
    coco = json.loads((out_dir / "annotations.json").read_text())
    assert [c["name"] for c in coco["categories"]] == project.class_names and len(coco["images"]) == 2
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert {(m["image"], m["source"]) for m in manifest["masks"]} == {(stem, "label"),
                                                                       (project.stems[1], "prediction")}
    assert "manifest.json in that folder says" in messages[-1][1] and "no annotations of" not in messages[-1][1]


def test_export_labels_only_leaves_predictions_out(tmp_path, qtbot, messages, monkeypatch):
    """New-user trial (session 36): a sparse label exported filled in by a weak model's prediction, and the window
    had no way to export the labels alone (the CLI's --source labels)."""
    project, stem, _prob = _project_with_predictions(tmp_path / "p")
    out_dir = tmp_path / "labels_only"
    asked = []
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: asked.append(
        title) or out_dir)
    window = open_window(qtbot, project)
    with qtbot.waitSignal(window.export_ended, timeout=30_000) as ended:
        window.actions.export_labels.trigger()
    assert ended.args == ["finished"], window.last_error
    assert "labels only" in asked[0] and "prediction" not in asked[0].replace("no predictions", "")
    assert sorted(p.name for p in (out_dir / "lesion").iterdir()) == [f"{stem}.png", "manifest.json"]
    np.testing.assert_array_equal(read_mask(out_dir / "lesion" / f"{stem}.png"), disc(cx=20))
    assert "labels only" in messages[-1][1] and "_prediction" not in messages[-1][1]
    assert json.loads((out_dir / "lesion" / "manifest.json").read_text())["source"] == "labels"


def test_rescoring_adds_up_the_images_whose_label_changed(tmp_path, qtbot, monkeypatch):
    from medseg_gui.qt import threshold_metrics
    from medseg_gui.workers.base import WorkerHost
    from medseg_gui.workers.training import ClassMetrics

    runs = []
    monkeypatch.setattr(threshold_metrics, "rescore_class", lambda root, cls, threshold, changed, should_stop=None:
                        runs.append((cls, threshold, changed)) or ClassMetrics(cls, {}))
    host = WorkerHost()
    refresher = threshold_metrics.MetricsRefresher(host, delay_ms=20)
    project = SimpleNamespace(root=tmp_path)  # only its folder is looked at here
    with qtbot.waitSignal(refresher.updated, timeout=5_000):
        refresher.schedule(project, "lesion", 0.5, ["a"])
        refresher.schedule(project, "lesion", 0.6, ["b"])
        refresher.schedule(project, "lesion", 0.7)  # a threshold step: the saved labels still count
    assert runs == [("lesion", 0.7, frozenset({"a", "b"}))]
    with qtbot.waitSignal(refresher.updated, timeout=5_000):
        refresher.schedule(project, "lesion", 0.7)
    assert runs[-1] == ("lesion", 0.7, frozenset())  # counted once
    updated = []
    refresher.updated.connect(updated.append)
    refresher.schedule(project, "cervix", 0.7, ["a"])  # a region's label: its class and the one inside it
    refresher.schedule(project, "lesion", 0.7, ["a"])
    qtbot.waitUntil(lambda: len(updated) == 2, timeout=5_000)
    assert sorted(runs[-2:]) == [("cervix", 0.7, frozenset({"a"})), ("lesion", 0.7, frozenset({"a"}))]
    assert host.shutdown(5_000)



def test_accept_leaves_out_predicted_specks_and_says_so(tmp_path, qtbot, messages):
    """Specks under SPECK_AREA of the image are near-invisible at fit: accepted, they would be labelled lesions
    (new-user trial: seven of them beside one polyp, and the list then said 8/8 lesions found)."""
    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    prob = np.where(disc(), 0.9, 0.1).astype(np.float32)
    prob[2, 2] = prob[40, 60] = 0.9  # two one-pixel specks (under 0.05 % of 48 x 64 is under 1.5 px)
    project.save_prediction("lesion", stem, prob)
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: "lesion" in window.canvas.doc.preds, timeout=20_000)
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(window.canvas.label("lesion"), disc())
    assert window.statusBar().currentMessage().startswith("Prediction accepted as the lesion label (2 specks under "
                                                          "0.05% of the image left out) — Ctrl+Z to undo. ")
    window.actions.undo.trigger()
    assert not window.canvas.label("lesion").any()



def _project_with_a_cone(root):
    """As `_project_with_predictions`, the labelled image's prediction falling from 1 at its disc's centre to 0 at
    twice its radius (so each threshold has its own Dice), and metrics.json as a prediction writes it (at 0.5)."""
    from medseg_gui.core.lesions import per_image_metrics

    project, stem, _ = _project_with_predictions(root)
    yy, xx = np.mgrid[:H, :W]
    prob = np.clip(1 - np.hypot(yy - 24, xx - 20) / 20, 0, 1).astype(np.float32)
    project.save_prediction("lesion", stem, prob)
    prob = project.load_prediction("lesion", stem)
    project.save_metrics("lesion", {stem: per_image_metrics(prob, project.load_label("lesion", stem), None, 0.5)})
    return project, stem, prob

def test_list_scores_made_at_another_threshold_are_greyed_and_never_overtake_newer_ones(tmp_path, qtbot, messages,
                                                                                          monkeypatch):
    """Outside trial (HRF photos): after a threshold change the list's Dice kept its old values, unmarked, until
    another image was opened. The scores are greyed at once, saying so, until re-scored; and a slower re-scoring of
    an earlier value (they ran side by side) never overwrites the newer one."""
    import threading
    import time

    from medseg_gui.qt import threshold_metrics
    from medseg_gui.qt.panels.image_columns import DICE_COL

    project, stem, prob = _project_with_a_cone(tmp_path / "p")
    truth = project.load_label("lesion", stem)
    rescore, started, ended = threshold_metrics.rescore_class, threading.Event(), []

    def slow_at_055(root, cls, threshold, changed, should_stop=None):
        try:
            if threshold == pytest.approx(0.55):
                started.set()
                time.sleep(1.5)  # a large photo's project
            return rescore(root, cls, threshold, changed, should_stop)
        finally:
            ended.append(threshold)

    monkeypatch.setattr(threshold_metrics, "rescore_class", slow_at_055)
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.session.stem == stem and "lesion" in window.session.review.probs, timeout=10_000)
    cell = window.image_list._item(stem, DICE_COL)
    assert cell.foreground().style() == Qt.BrushStyle.NoBrush
    window.layers.threshold_spin.setValue(0.55)
    assert cell.foreground().style() != Qt.BrushStyle.NoBrush  # greyed at once, before any re-scoring
    assert "Computed at threshold 0.50, not at the 0.55 set" in cell.toolTip()
    qtbot.waitUntil(started.is_set, timeout=10_000)
    window.layers.threshold_spin.setValue(0.8)
    qtbot.waitUntil(lambda: pytest.approx(0.55) in ended and pytest.approx(0.8) in ended, timeout=20_000)
    qtbot.wait(100)  # the last results reach the window
    expected = image_metrics(prob, truth, None, 0.8)["dice"]
    assert abs(expected - image_metrics(prob, truth, None, 0.55)["dice"]) > 0.1
    assert float(window.image_list.dice_text(stem, "lesion")) == pytest.approx(expected, abs=1e-3)
    assert cell.foreground().style() == Qt.BrushStyle.NoBrush and "Computed at" not in cell.toolTip()
    assert project.load_metrics("lesion")[stem]["threshold"] == pytest.approx(0.8)  # metrics.json too


def test_scores_saved_at_another_threshold_than_the_one_set_are_rescored(tmp_path, qtbot, messages):
    """The threshold set at its owner (as when a project opens at its remembered threshold, or after a rollback
    predicted at the one it began with), not typed: the list's scores saved at 0.5 follow it all the same."""
    project, stem, prob = _project_with_a_cone(tmp_path / "p")
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.image_list.dice_text(stem, "lesion") != "", timeout=10_000)
    before = float(window.image_list.dice_text(stem, "lesion"))
    window.session.review.set_threshold(0.7)
    expected = image_metrics(prob, project.load_label("lesion", stem), None, 0.7)["dice"]
    assert abs(expected - before) > 0.1
    qtbot.waitUntil(lambda: window.image_list.dice_text(stem, "lesion") == f"{expected:.3f}", timeout=20_000)


def test_unsure_follows_the_threshold_like_the_scores(tmp_path, qtbot, messages):
    """Unsure is closeness to the threshold and ranks "Next image to label", but after a threshold change it kept the
    old threshold's values until the images were predicted again. Greyed at once like the scores, it is re-scored
    with them from the saved maps (the unlabelled image too) and saved."""
    from medseg_gui.core.uncertainty import UncertaintyScores, image_uncertainty
    from medseg_gui.qt.panels.image_columns import UNCERTAINTY_COL

    project, stem, _ = _project_with_a_cone(tmp_path / "p")
    other = next(s for s in project.stems if s != stem)  # not labelled
    project.save_prediction("lesion", other, np.full((H, W), 0.6, np.float32))
    probs, made = {s: project.load_prediction("lesion", s) for s in project.stems}, UncertaintyScores()
    for s, prob in probs.items():
        made.put(s, image_uncertainty(prob, None, 0.5), 0.5)
    project.save_uncertainty("lesion", made)  # as predict_class writes it
    window = open_window(qtbot, project)
    images = window.image_list
    qtbot.waitUntil(lambda: images.uncertainty_text(other) != "", timeout=10_000)
    cell = images._item(other, UNCERTAINTY_COL)
    assert cell.foreground().style() == Qt.BrushStyle.NoBrush
    window.layers.threshold_spin.setValue(0.7)
    assert cell.foreground().style() != Qt.BrushStyle.NoBrush  # greyed at once, before any re-scoring
    assert "Computed at threshold 0.50, not at the 0.70 set" in cell.toolTip()
    expected = {s: image_uncertainty(prob, None, 0.7) for s, prob in probs.items()}
    assert all(abs(expected[s] - made.scores[s]) > 0.02 for s in probs)
    qtbot.waitUntil(lambda: all(images.uncertainty_text(s) == f"{expected[s]:.3f}" for s in probs), timeout=20_000)
    assert cell.foreground().style() == Qt.BrushStyle.NoBrush and "Computed at" not in cell.toolTip()
    assert images.uncertainty() == pytest.approx(expected)  # what "Next image to label" ranks by
    saved = project.load_uncertainty("lesion")
    assert saved.scores == pytest.approx(expected, abs=1e-4) and saved.thresholds == dict.fromkeys(probs, 0.7)
