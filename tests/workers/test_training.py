"""TrainWorker on a tiny project with a tiny config: real Keras, a few steps, on a QThread."""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import threading
from dataclasses import replace

import pytest

from medseg_gui.core.errors import CancelledError
from medseg_gui.core.project import labels_read
from medseg_gui.ml import store
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.train_process import SHOW, RoundReport, TrainJob, _follow, run_rounds
from medseg_gui.workers.base import WorkerHost, error_message
from medseg_gui.workers.training import PredictProgress, TrainRun, TrainWorker
from tests.workers.helpers import TINY_TRAIN, disc, make_project, saved_scores

pytestmark = pytest.mark.slow


def _run(qtbot, worker, signal: str, timeout: int = 180_000):
    host = WorkerHost()
    progress = []
    worker.progress.connect(progress.append)
    ends = []
    for name in ("finished", "errored", "cancelled"):
        getattr(worker, name).connect(lambda *a, n=name: ends.append(n))
    with qtbot.waitSignal(getattr(worker, signal), timeout=timeout) as blocker:
        host.start(worker)
    assert host.shutdown(10_000)
    assert ends == [signal]
    return (blocker.args[0] if blocker.args else None), progress


def test_train_then_predict_all_images(tmp_path, qtbot, caplog):
    caplog.set_level(logging.INFO)
    project = make_project(tmp_path / "p", n=3, labelled=2)
    run, progress = _run(qtbot, TrainWorker(project.root, "lesion", TINY_TRAIN), "finished")
    assert isinstance(run, TrainRun) and run.cls == "lesion" and run.predictions_complete
    assert run.outcome.decision.kept_new  # first model is always kept
    assert any(isinstance(p, TrainProgress) for p in progress)
    predict = [p for p in progress if isinstance(p, PredictProgress)]
    assert [p.done for p in predict] == [1, 2, 3] and predict[-1].total == 3
    assert set(run.metrics) == set(project.stems[:2])  # metrics only for labelled images
    per_image, _ = saved_scores(project, "lesion", sorted(run.metrics))  # the numbers shown = the saved maps'
    for s, auc in per_image.items():  # (scored before the maps were stored as 16-bit: equal to 1e-3)
        assert run.metrics[s]["auc"] == pytest.approx(auc, abs=1e-3) or (math.isnan(auc)
                                                                           and math.isnan(run.metrics[s]["auc"]))
    assert all(project.load_prediction("lesion", s) is not None for s in project.stems)
    assert store.current_model_path(project.model_dir("lesion")) is not None
    trained_in = {r.process for r in caplog.records if r.name == "medseg_gui.ml.train"}
    assert trained_in and os.getpid() not in trained_in  # trained in the child, whose log reached ours



def test_continuous_rounds_learn_labels_saved_meanwhile_and_stop(tmp_path, tiny_preset):
    """Continuous training (the child's body, run here, on the tiny preset): a label saved after round 1 is in round
    2's training set, round 2 continues from the kept model, a kept model predicts the image shown, and stopping ends
    the rounds. The window's continuous training (a real child, the default preset): test_main_window_training."""
    project = make_project(tmp_path / "p", n=3, labelled=1)
    shown, reports = project.stems[2], []

    def progress(p):
        if isinstance(p, RoundReport):
            reports.append(p)
            if p.number == 1:  # as a user saving a label while the training runs
                project.save_label("lesion", project.stems[1], disc(cx=30))

    job = TrainJob(project.root, "lesion", replace(TINY_TRAIN, preset=tiny_preset, init="scratch"), continuous=True,
                   shown=shown)
    run = run_rounds(job, progress, should_stop=lambda: len(reports) >= 2)
    assert [r.number for r in reports] == [1, 2]
    assert [r.outcome.stems for r in reports] == [tuple(project.stems[:1]), tuple(project.stems[:2])]
    assert reports[0].kept and reports[0].shown == shown  # the first model is always kept
    assert project.load_prediction("lesion", shown) is not None
    assert reports[1].outcome.result.metadata["init"] != "scratch"  # warm start from round 1's model
    assert (run.rounds, run.kept) == (2, sum(r.kept for r in reports))
    assert run.outcome is reports[-1].outcome
    with pytest.raises(CancelledError):  # stopped before a round ended: nothing to report
        run_rounds(job, progress, should_stop=lambda: True)


def test_a_label_saved_during_a_round_joins_it_at_the_next_epoch(tmp_path, tiny_preset):
    """Issue 12: labels saved while continuous training runs join the training set at the next epoch, not only at
    the next round (the round here: 3 epochs of 2 steps; the label is saved at its first step)."""
    project = make_project(tmp_path / "p", n=3, labelled=2)
    new, reports, saved_at = project.stems[2], [], []

    def progress(p):
        if isinstance(p, TrainProgress) and p.step >= 1 and not saved_at:
            project.save_label("lesion", new, disc(cx=30))  # as the window's label saver would
            saved_at.append(p.step)
        if isinstance(p, RoundReport):
            reports.append(p)

    config = replace(TINY_TRAIN, preset=tiny_preset, init="scratch", epochs=3, max_steps=6)
    job = TrainJob(project.root, "lesion", config, continuous=True, shown=project.stems[0])
    run_rounds(job, progress, should_stop=lambda: len(reports) >= 1)
    result = reports[0].outcome.result
    assert reports[0].outcome.stems == tuple(project.stems[:2])  # what the round read when it began
    assert result.joined == (new,) and new in result.metadata["train_stems"]
    assert "1 label saved meanwhile joined it" in result.message
    read, saved = labels_read(result.metadata), project.label_path("lesion", new).stat().st_mtime
    assert read.at(new) >= saved > read.began  # read after it was saved: the list's "· train", not "· new"
    assert labels_read(project.current_model_info("lesion")) == read  # in current.json, as the list reads it
    assert set(read.later) == {new}


def test_the_child_hears_which_image_is_shown(tmp_path):
    """Continuous: when the window shows another image, the parent side tells the child (which predicts that image
    after the next kept round); a fake child on real pipes, no process."""
    results, child_results = multiprocessing.Pipe(duplex=False)
    child_control, control = multiprocessing.Pipe(duplex=False)
    job = TrainJob(tmp_path, "lesion", TINY_TRAIN, continuous=True, shown="img0")
    shown, heard, run = ["img1"], [], TrainRun(tmp_path, "lesion", None, {}, rounds=1)

    def child():
        if child_control.poll(10):
            heard.append(child_control.recv())
        child_results.send(("done", run))

    thread = threading.Thread(target=child)
    thread.start()
    assert _follow(job, None, results, control, lambda p: None, lambda: False, 1.0, lambda: shown[0]) == run
    thread.join(5)
    assert heard == [(SHOW, "img1")]


def test_the_model_decision_is_shown_while_the_images_are_predicted(tmp_path, qtbot):
    """The child's ("trained", outcome) reaches the Train panel before its predictions do (a trial's panel said only
    "Predicting 117/344" for 1:44 after its model was rejected); a fake child on real pipes, no process."""
    from medseg_gui.ml.store import StoreDecision
    from medseg_gui.pipeline import TrainOutcome
    from medseg_gui.qt.panels.train_panel import TrainPanel
    from medseg_gui.train_process import TrainSummary

    panel = TrainPanel(["default"], TINY_TRAIN, loss_curve=False)
    qtbot.addWidget(panel)
    panel.attach(TrainWorker(tmp_path, "lesion", TINY_TRAIN))  # a real worker, never started
    results, child_results = multiprocessing.Pipe(duplex=False)
    _child_control, control = multiprocessing.Pipe(duplex=False)
    decision = StoreDecision(False, 0.99, 0.99, "", metric="Dice", new_score=0.9303, old_score=0.9295)
    outcome = TrainOutcome(TrainSummary(0.99, 0.99, note="A 1-minute time box leaves about 1 s for training."),
                           decision)
    run, seen = TrainRun(tmp_path, "lesion", outcome, {}), []
    for message in (("trained", outcome), ("progress", PredictProgress(1, 2, "img1")), ("done", run)):
        child_results.send(message)

    def progress(p):
        panel.show_progress(p)
        seen.append((type(p).__name__, panel.result_label.text(), panel.progress_label.text()))

    assert _follow(TrainJob(tmp_path, "lesion", TINY_TRAIN), None, results, control, progress, lambda: False, 1.0,
                   lambda: None) == run
    said = ("Previous model kept (new Dice 0.930 vs 0.929, both on this run's validation images: not better by "
            "more than 0.002, a tie). A 1-minute time box leaves about 1 s for training.")
    assert seen == [("TrainOutcome", said, ""), ("PredictProgress", said, "Predicting 1/2: img1")]


def test_no_labels_is_a_readable_error(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=0)
    err, _ = _run(qtbot, TrainWorker(project.root, "lesion", TINY_TRAIN), "errored")
    message = error_message(err)
    assert "No labelled images for class 'lesion'" in message
    assert not store.has_model(project.model_dir("lesion"))


def test_cancel_emits_cancelled_and_leaves_no_model(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=2)
    worker = TrainWorker(project.root, "lesion", TINY_TRAIN)
    worker.cancel()  # cancelled before the first batch: must still end cleanly, and write no model
    _run(qtbot, worker, "cancelled")
    assert not store.has_model(project.model_dir("lesion"))
    assert not any(project.prediction_path("lesion", s).exists() for s in project.stems)


@pytest.mark.skipif(os.name != "posix", reason="kills the training process with SIGKILL")
def test_a_training_process_that_dies_is_a_readable_error(tmp_path, qtbot):
    """Killed (as by the out-of-memory killer) before it finished: an error saying so, no model, no process left."""
    project = make_project(tmp_path / "p", n=2, labelled=2)
    worker = TrainWorker(project.root, "lesion", replace(TINY_TRAIN, epochs=1000, steps_per_epoch=50, max_steps=None))
    host, ends = WorkerHost(), []
    worker.errored.connect(ends.append)
    worker.finished.connect(ends.append)
    with qtbot.waitSignal(worker.done, timeout=60_000):
        host.start(worker)
        qtbot.waitUntil(lambda: worker.child_pid is not None, timeout=30_000)
        os.kill(worker.child_pid, signal.SIGKILL)
    assert host.shutdown(10_000)
    assert [str(e) for e in ends] == ["Training stopped unexpectedly: it was stopped by the system (SIGKILL), often "
                                      "because the computer ran out of memory. The previous model is kept. Details "
                                      "may be in the log (Help → Open log folder)."]
    assert not store.has_model(project.model_dir("lesion"))
    assert not multiprocessing.active_children()


