"""The whole loop in the GUI: draw → Retrain (one click, tiny config) → AUC and Uncertainty columns → predictions
→ export; cancel, continuous training and quitting while training."""

from __future__ import annotations

import multiprocessing
import re
import time
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from medseg_gui.core.images import read_image
from medseg_gui.core.uncertainty import image_uncertainty
from medseg_gui.ml import store
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.qt import dialogs
from medseg_gui.qt.main_window import CANCELLED_TEXT
from medseg_gui.qt.panels.train_text import PREPARING_TEXT
from tests.workers.helpers import TINY_TRAIN, H, W, disc, drag, make_project, open_window, saved_scores

pytestmark = pytest.mark.slow



def test_draw_retrain_review_export(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=4, labelled=1)
    window = open_window(qtbot, project)
    # label the second image by drawing on it with the mouse
    window.image_list.select(project.stems[1])
    window.canvas.set_brush_size(9)
    drag(qtbot, window.canvas, [(22, 24), (30, 24), (38, 24)])

    panel = window.train_panel
    texts: list[str] = []
    with qtbot.waitSignal(window.training_ended, timeout=180_000) as ended:
        qtbot.mouseClick(panel.retrain_button, Qt.MouseButton.LeftButton)
        assert not panel.retrain_button.isEnabled() and panel.cancel_button.isEnabled()
        assert panel.progress_bar.maximum() == 0 and panel.progress_label.text() == PREPARING_TEXT  # busy
        assert window.train_worker is not None
        window.train_worker.progress.connect(lambda p: texts.append(panel.progress_label.text()))
    assert ended.args == ["finished"], window.last_error
    assert any(re.match(r"\d:\d\d of 3:00 · step \d+ · epoch 1( done)? · loss \d\.\d+", t) for t in texts), texts
    assert not any("epoch 2" in t for t in texts), texts  # one epoch: never called "epoch 2"
    assert re.match(r"Current model: val (AUC|Dice) \d", panel.model_label.text())
    focus = QApplication.focusWidget()
    assert focus is not None and focus.isEnabled()
    qtbot.keyClick(focus, Qt.Key.Key_2)  # class keys still work after Retrain
    assert window.current_class() == "vessel"
    assert panel.result_label.text() == "" and not panel.curve.plot.isVisible()  # the lesion's run is not vessel's
    window.tools.select_class("lesion")  # its result is shown again
    assert project.has_label("lesion", project.stems[1])  # the stroke was flushed before training
    assert panel.retrain_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert re.match(r"New model kept: val (AUC|Dice) \d", panel.result_label.text())
    per_image, _ = saved_scores(project, "lesion", project.stems[:2])  # labelled images: the AUC of the saved maps
    for stem in project.stems[:2]:
        # shown with 3 decimals (up to 5e-4 off), scored on the map before its 16-bit save (a little more: a CI run
        # showed 0.657 for 0.6575034 recomputed from the saved map)
        assert float(window.image_list.auc_text(stem, "lesion")) == pytest.approx(per_image[stem], abs=6e-4)
    assert window.image_list.auc_text(project.stems[2], "lesion") == ""
    assert window.image_list.auc_text(project.stems[0], "vessel") == ""
    assert all(project.load_prediction("lesion", s) is not None for s in project.stems)
    scores = {s: image_uncertainty(project.load_prediction("lesion", s)) for s in project.stems}  # the saved maps'
    for stem, score in scores.items():  # the Uncertainty column is filled for unlabelled images too
        assert float(window.image_list.uncertainty_text(stem)) == pytest.approx(score, abs=2e-3)
    window.image_list.select(project.stems[0])
    window.actions.next_to_label.trigger()  # the least sure of the two unlabelled images
    assert window.image_list.current_stem() == max(project.stems[2:], key=scores.get)

    out_dir = tmp_path / "export"
    monkeypatch.setattr(dialogs, "choose_directory", lambda *a, **k: out_dir)
    with qtbot.waitSignal(window.export_ended, timeout=60_000) as ended:
        window.actions.export_masks.trigger()
    assert ended.args == ["finished"], window.last_error
    files = sorted((out_dir / "lesion").glob("*.png"))
    # labels where drawn, thresholded predictions elsewhere (named <stem>_prediction, and listed in the manifest)
    assert sorted(f.stem.removesuffix("_prediction") for f in files) == sorted(project.stems)
    for f in files:
        arr = read_image(f)[:, :, 0]
        assert arr.shape == (H, W)
        assert set(np.unique(arr)) <= {0, 255}
    exported = read_image(out_dir / "lesion" / f"{project.stems[0]}.png")[:, :, 0] > 0
    np.testing.assert_array_equal(exported, disc(cx=20))


def test_cancel_keeps_previous_model(trained_project, qtbot, messages):
    project = trained_project  # a lesion model is current
    window = open_window(qtbot, project)
    model = store.current_model_path(project.model_dir("lesion"))
    before = (model.read_bytes(), model.stat().st_mtime_ns)

    window.config = replace(window.config, train=replace(TINY_TRAIN, epochs=1000, steps_per_epoch=50, max_steps=None))
    first_step = []
    worker = window.retrain()
    assert worker is not None
    worker.progress.connect(lambda p: first_step.append(p) if isinstance(p, TrainProgress) else None)
    qtbot.waitUntil(lambda: bool(first_step), timeout=120_000)
    t0 = time.monotonic()
    with qtbot.waitSignal(window.training_ended, timeout=10_000) as ended:
        qtbot.mouseClick(window.train_panel.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args == ["cancelled"]
    assert time.monotonic() - t0 < 5.0  # ~2 s target; generous for a loaded 2-core CI machine
    assert window.train_panel.result_label.text() == CANCELLED_TEXT == "Training cancelled — previous model kept."
    assert (model.read_bytes(), model.stat().st_mtime_ns) == before
    assert window.train_panel.retrain_button.isEnabled()


def test_continuous_training_refreshes_the_image_shown_until_stopped(tmp_path, qtbot, messages):
    """The Continuous toggle trains in rounds in the child process; a kept round re-predicts the image on screen
    and the panel says so; switching the toggle off stops it, leaving no process behind."""
    project = make_project(tmp_path / "p", n=3, labelled=1)
    window = open_window(qtbot, project)
    window.image_list.select(project.stems[2])
    panel, rounds = window.train_panel, []
    panel.round_finished.connect(rounds.append)
    qtbot.mouseClick(panel.continuous_button, Qt.MouseButton.LeftButton)
    assert window.train_worker is not None and window.train_worker.continuous
    assert panel.continuous_button.isChecked() and panel.continuous_button.isEnabled()
    assert not panel.retrain_button.isEnabled()
    qtbot.waitUntil(lambda: bool(rounds), timeout=180_000)
    assert rounds[0].kept and rounds[0].shown == project.stems[2]  # the first model is always kept
    assert re.match(r"Round 1 \(1 labelled image\): New model kept: val (AUC|Dice) \d", panel.result_label.text())
    qtbot.waitUntil(lambda: window.canvas.review.probs.get("lesion") is not None, timeout=10_000)
    assert project.load_prediction("lesion", project.stems[1]) is None  # only the image shown is predicted
    with qtbot.waitSignal(window.training_ended, timeout=10_000) as ended:
        qtbot.mouseClick(panel.continuous_button, Qt.MouseButton.LeftButton)  # off: stop
    assert ended.args == ["finished"], window.last_error
    assert panel.result_label.text().startswith(f"Continuous training stopped after {len(rounds)} round")
    assert f" Last: Round {len(rounds)} (" in panel.result_label.text()  # its decision stays in view (trial)
    assert not panel.continuous_button.isChecked() and panel.retrain_button.isEnabled()
    # Reaped in the background. 30 s, not 10: the child's interpreter and Keras wind down after the stop (the Stop
    # itself is bounded above); once, in session 24, 10 s ran out on a loaded 2-core machine.
    qtbot.waitUntil(lambda: not multiprocessing.active_children(), timeout=30_000)


def test_quit_during_training_cancels_and_closes(tmp_path, qtbot, messages, monkeypatch):
    asked = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or True)
    project = make_project(tmp_path / "p", n=2, labelled=2)
    long_run = replace(TINY_TRAIN, epochs=1000, steps_per_epoch=50, max_steps=None)
    window = open_window(qtbot, project, train=long_run, close_timeout_s=60.0)
    steps = []
    worker = window.retrain()
    worker.progress.connect(lambda p: steps.append(p) if isinstance(p, TrainProgress) and p.step > 0 else None)
    qtbot.waitUntil(lambda: bool(steps), timeout=300_000)  # a loaded 2-core VM: 120 s was once too few
    window.actions.quit.trigger()  # Ctrl+Q
    assert asked == ["Training is running — cancel it and quit?"]
    assert not window.isVisible() and worker.is_cancelled()
    assert window.left_running == 0  # the run stopped at its next batch; nothing left behind
    qtbot.waitUntil(lambda: not multiprocessing.active_children(), timeout=10_000)  # ended with the window
    assert not store.has_model(project.model_dir("lesion"))  # a cancelled run stores nothing
