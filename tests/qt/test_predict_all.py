"""Train → Predict all images (Ctrl+P): every image of the current class predicted with its current model, no training
(a returning-user trial found no way to predict photos added after training but Retrain or Models… → Use this model
on the current one). Offscreen, tiny models."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medseg_gui.core.images import write_png
from medseg_gui.ml import store
from medseg_gui.model_jobs import RollbackRun
from medseg_gui.qt.panels.image_columns import DICE_COL, format_score
from medseg_gui.qt.panels.image_columns import STALE_COLOR
from medseg_gui.qt.panels.train_text import rollback_text
from tests.workers.helpers import disc, make_project, open_window, synthetic_image

CTRL = Qt.KeyboardModifier.ControlModifier


def _stale(window, stem: str) -> bool:
    item = window.image_list._item(stem, DICE_COL)
    return item is not None and item.foreground().color() == STALE_COLOR


def test_rollback_text_says_which_job_ended():
    run = RollbackRun(Path("p"), "lesion", "m-1", {})
    assert rollback_text(run) == "Model m-1 is current again; every image was predicted with it."
    assert "cancelled" in rollback_text(RollbackRun(Path("p"), "lesion", "m-1", {}, False))
    assert rollback_text(RollbackRun(Path("p"), "lesion", "m-1", {}, switched=False)) == (
        "Every image was predicted with the current model.")
    assert rollback_text(RollbackRun(Path("p"), "lesion", "m-1", {}, False, False)).startswith(
        "Predicting the images was cancelled")
    assert rollback_text(RollbackRun(Path("p"), "lesion", "m-1", {}, switched=False, predicted=1, total=3)) == (
        "1 image predicted with the current model; the other 2 already had its prediction.")
    assert rollback_text(RollbackRun(Path("p"), "lesion", "m-1", {}, switched=False, predicted=0, total=3)) == (
        "Every image already had the current model's prediction: nothing to predict.")
    assert rollback_text(RollbackRun(Path("p"), "lesion", "m-1", {}, predicted=2, total=3)) == (
        "Model m-1 is current again; 2 images predicted with it, the other 1 already had its prediction.")


@pytest.mark.slow
def test_predict_all_images_with_the_current_model(two_models_project, qtbot, messages, tmp_path):
    project = two_models_project  # two lesion models; every prediction is the first one's
    model_dir = project.model_dir("lesion")
    current = next(e.id for e in store.list_models(model_dir) if not e.current)
    store.rollback(model_dir, current)  # as `medseg models --use` without --predict: every prediction is stale
    history = (model_dir / "history.json").read_text()
    mask = disc(cx=35)
    new = project.add_image(write_png(tmp_path / "added.png", synthetic_image(9, mask))).stem  # after training
    project.save_label("lesion", new, mask)
    window = open_window(qtbot, project)
    action = window.actions.predict_all
    assert action.isEnabled() and action.shortcut().toString() == "Ctrl+P"
    assert window.image_list.dice_text(new, "lesion") == "" and _stale(window, project.stems[0])
    window.image_list.select(new)
    qtbot.waitUntil(lambda: window.session.stem == new, timeout=10_000)
    review = window.session.review
    assert "lesion" not in review.probs

    qtbot.keyClick(window, Qt.Key.Key_P, CTRL)  # cancelled at once (Esc): nothing is predicted, nothing breaks
    assert window.predictions.worker is not None and window.actions.cancel.isEnabled()
    assert not action.isEnabled() and action.text().endswith("(predicting)")
    assert window.train_panel.cancel_button.isEnabled() and window.train_panel.progress_bar.isVisible()
    assert window.retrain() is None and "being predicted" in window.last_error  # one job at a time
    window.last_error = ""
    with qtbot.waitSignal(window.models.busy_changed, timeout=120_000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.train_panel.result_label.text().startswith("Predicting the images was cancelled")
    assert project.load_prediction("lesion", new) is None and window.last_error == ""
    assert action.isEnabled() and not window.actions.cancel.isEnabled()
    assert not window.train_panel.progress_bar.isVisible() and window.layers.threshold_spin.isEnabled()

    with qtbot.waitSignal(window.models.rolled_back, timeout=120_000) as done:
        action.trigger()
        assert not window.layers.threshold_spin.isEnabled()  # the scores are made at the threshold it started with
    run = done.args[0]
    assert run.predictions_complete and not run.switched and run.model_id == current
    qtbot.waitUntil(lambda: window.predictions.worker is None, timeout=10_000)
    assert json.loads((model_dir / "current.json").read_text())["id"] == current
    assert (model_dir / "history.json").read_text() == history  # no rollback was noted: the model did not change
    image = project.load_image(new)
    saved_map = project.load_prediction("lesion", new)
    np.testing.assert_allclose(saved_map, store.load_segmenter(model_dir).predict(image),
                               atol=1 / 65535)  # known answer: the current model's own prediction
    qtbot.waitUntil(lambda: "lesion" in review.probs, timeout=10_000)  # the image shown: its new prediction
    np.testing.assert_array_equal(review.probs["lesion"], saved_map)
    saved = project.load_metrics("lesion")
    assert window.image_list.dice_text(new, "lesion") == format_score(saved[new]["dice"]) != ""
    assert window.image_list.uncertainty_text(new) != ""
    assert not any(_stale(window, stem) for stem in project.stems)  # every score is the current model's now
    assert window.train_panel.result_label.text() == "Every image was predicted with the current model."
    assert action.isEnabled() and not window.actions.cancel.isEnabled() and window.last_error == ""

    # again: every map is the current model's, so none is made again (a trial's 300 photos were, at each Ctrl+P)
    made = {stem: project.prediction_path("lesion", stem).stat().st_mtime_ns for stem in project.stems}
    with qtbot.waitSignal(window.models.rolled_back, timeout=120_000) as again:
        action.trigger()
    assert again.args[0].predictions_complete and again.args[0].predicted == 0
    assert {stem: project.prediction_path("lesion", stem).stat().st_mtime_ns for stem in project.stems} == made
    qtbot.waitUntil(lambda: window.predictions.worker is None, timeout=10_000)
    assert window.train_panel.result_label.text() == (
        "Every image already had the current model's prediction: nothing to predict.")


def test_predict_all_images_is_off_and_says_why(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    action = window.actions.predict_all
    assert not action.isEnabled() and action.text() == "&Predict all images (no model yet)"
    assert "'lesion' has no model" in action.statusTip()
    qtbot.keyClick(window, Qt.Key.Key_P, CTRL)  # off: nothing starts
    assert window.predictions.start() is None and not window.models.busy()  # called directly: refused, saying why
    assert window.last_error.startswith("Nothing was predicted") and "'lesion' has no model" in window.last_error
    assert window.predictions.worker is None and project.load_prediction("lesion", project.stems[0]) is None

    model_dir = project.model_dir("lesion")  # a current model (its file is never read here)
    model_dir.mkdir(parents=True)
    (model_dir / "current.json").write_text(json.dumps({"id": "m2", "regime": "lesions"}))
    window.predictions.update_action()
    assert action.isEnabled() and action.text() == "&Predict all images"
    assert action.statusTip().startswith("Predict every image")
    window.train_worker = SimpleNamespace(cls="lesion")  # a training runs, then ends as the panel reports it
    window.train_panel.running_changed.emit(True)
    assert not action.isEnabled() and action.text().endswith("(training)")
    assert "training is running" in action.statusTip()
    window.train_panel.running_changed.emit(False)
    window.train_panel.ended.emit("finished", "New model kept")
    assert window.train_worker is None and action.isEnabled()
    window.project.set_read_only("opened by another window")
    window.read_only_view.apply()
    assert not action.isEnabled() and action.text().endswith("(read-only)") and "read-only" in action.statusTip()
