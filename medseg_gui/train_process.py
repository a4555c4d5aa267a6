"""Retrain in a child process: the GUI's train + predict phase runs in a fresh Python interpreter, so TensorFlow never
holds the window's GIL (on a QThread it froze the event loop for 0.6–0.7 s at a time). No Qt here.

The child process (medseg_gui.child_process: spawn, two one-way pipes, log records forwarded, "stop", end of file
when either side has gone) costs a new interpreter per Retrain (a few seconds, mostly the Keras import), shown as
"preparing". The child sends ("progress", KerasRows) first (the device and precision the window's status bar names:
the child imports Keras anyway, so the window starts no second child for them), ("progress", TrainProgress |
PredictProgress), ("trained", TrainOutcome) once the model decision is made (passed on as progress, so the window
says it while the images are predicted), then ("done", TrainRun) or ("error", exception): a child that ends without
its last message becomes a ModelError in the GUI. A kept model predicts every image from memory
(TrainOutcome.kept_segmenter); when the previous one is kept, only the images it has no readable prediction of are
predicted, with it read from its folder (prediction_update). The map saved for the image shown in the window (the
parent sends ("show", stem) when it changes) travels in the TrainRun / RoundReport (`shown_prediction`), so the
window shows it without reading the file back.

Continuous training (TrainJob.continuous, `run_rounds`): the child trains round after round until "stop". Each round
reads the labels again, and labels saved while it trains join it at its next epoch (training_data.SavedLabels; a
new label of an image it validates on waits for the next round); it continues from the current model (init "auto")
and lets keep-unless-better decide; a kept model predicts the image shown in the window and a ("progress",
RoundReport) follows, so the window refreshes that image. Other images are predicted only by a Retrain. "stop" ends
the round under way (nothing of it is stored) and the child answers with a TrainRun counting the rounds; a child
still busy after STOP_GRACE_S (a step on a loaded CPU, building the network, evaluating the current model) is
terminated, which the atomic writes allow: a kept round's
model is current (store.save_if_better) before its RoundReport is sent and the next round begins, so only the round
under way is lost. The parent then makes the same TrainRun from the RoundReports it received (`rounds_run`) and
returns at once; the child's exit is awaited in the background (child_process.Standby.reap), so Stop ends within
POLL_S + STOP_GRACE_S however slowly the child dies.

The child takes no project lock: the window that starts it holds it (core.lock). It writes only through the
pipeline's atomic writes and the store's keep-unless-better promotion, so stopping it at any moment leaves the
previous model or the new one and whole files, never a mix, and the next job's child starts only once this one has
exited. One race is left: a Cancel (or Stop) whose grace time runs out while the finished model is being stored may
end the child just after the promotion, so the window says "cancelled" (or counts one round fewer) while the new
model is current. `pipeline.train_class` stays usable in-process (CLI).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medseg_gui.child_process import (CANCEL_GRACE_S, GONE, ChildGoneError, ended_how, follow, send, spawned,
                                      terminate)
from medseg_gui.child_side import child_finish, child_start
from medseg_gui.core.errors import CancelledError
from medseg_gui.outcomes import TRAIN_CANCELLED, prediction_died_text

if TYPE_CHECKING:
    import numpy as np

    from medseg_gui.ml.config import TrainConfig

log = logging.getLogger(__name__)

SHOW = "show"  # ("show", stem): the image shown in the window (its new map is handed over with the result)
HANDOVER_MAX_BYTES = 64 * 2**20  # a larger map (over ~5800² pixels as uint16) is not pickled through the pipe: the
# window reads the saved file instead (as after a rollback)
STOP_GRACE_S = 0.5  # the same for continuous training, which must stop within a second (a round's files are whole)


@dataclass(frozen=True)
class KerasRows:
    """The child's `info.keras_rows` (Keras and backend versions, device, precision as (label, value) rows), sent once
    at the start of its job."""

    rows: list[tuple[str, str]]


@dataclass(frozen=True)
class PredictProgress:
    """Progress of the predict phase: `done` of `total` images, the last one being `stem`."""

    done: int
    total: int
    stem: str


@dataclass(frozen=True)
class TrainSummary:
    """The picklable part of an ml.train.TrainResult (everything but the Keras models), for TrainOutcome.result."""

    val_auc: float
    previous_val_auc: float | None
    steps: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    stop_reason: str = ""
    message: str = ""
    history: list[dict] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # the trained model's (Segmenter.metadata)
    joined: tuple[str, ...] = ()  # labels saved during the run that joined it between epochs
    note: str = ""  # what the user should know of how the run went (ml.run_end.short_box)
    seen: str = ""  # labelled images its shipped start was trained on (ml.init.start_seen_text)

    @classmethod
    def of(cls, result: Any) -> TrainSummary:
        return cls(result.val_auc, result.previous_val_auc, result.steps, result.seconds, result.cancelled,
                   result.stop_reason, result.message, list(result.history), dict(result.segmenter.metadata),
                   tuple(result.joined), result.note, result.seen)


@dataclass(frozen=True)
class TrainRun:
    """What a finished Retrain hands the GUI: the pipeline's TrainOutcome (its `result` a TrainSummary) and per-image
    metrics of the class. `predictions_complete` is False when the predict phase was cancelled (the model decision
    stands; always for continuous training, which predicts only the image shown)."""

    project_root: Path
    cls: str
    outcome: Any
    metrics: dict[str, dict]
    predictions_complete: bool = True
    rounds: int = 0  # continuous training: the rounds finished, and how many of their models were kept
    kept: int = 0
    shown_prediction: tuple[str, np.ndarray] | None = None  # (stem, map as saved: uint16) of the image shown (ShownMap)


@dataclass(frozen=True)
class TrainJob:
    """One Retrain: train `cls` of the project at `project_root` with `config`, then (with `predict`) predict every
    image; `threshold` turns probabilities into masks for metrics.json; `log_level` is the window's."""

    project_root: Path
    cls: str
    config: TrainConfig
    predict: bool = True
    threshold: float = 0.5
    log_level: int = logging.INFO
    continuous: bool = False  # rounds until "stop" (run_rounds)
    shown: str | None = None  # continuous: the image shown in the window when it started


@dataclass(frozen=True)
class RoundReport:
    """One finished round of continuous training: its TrainOutcome (result a TrainSummary) and the metrics of the
    class; `shown` is the image predicted with the kept model (None when the round's model was rejected). Has the
    fields of a TrainRun that the window's result display reads (project_root, cls, metrics)."""

    number: int
    project_root: Path
    cls: str
    outcome: Any
    metrics: dict[str, dict]
    shown: str | None = None
    shown_prediction: tuple[str, np.ndarray] | None = None  # as in TrainRun

    @property
    def kept(self) -> bool:
        return bool(self.outcome.decision.kept_new)


class ShownMap:
    """predict_class's `on_saved`: keeps the map saved for the image `shown()` names, for the TrainRun or RoundReport,
    so the window shows the prediction it asked for without reading the file back (None: too large, or not made)."""

    def __init__(self, shown: Callable[[], str | None]) -> None:
        self._shown, self.prediction = shown, None

    def __call__(self, stem: str, stored: np.ndarray) -> None:
        if stem == self._shown() and stored.nbytes <= HANDOVER_MAX_BYTES:
            self.prediction = (stem, stored)


def run_job(job: TrainJob, progress: Callable[[object], None], should_stop: Callable[[], bool],
            trained: Callable[[Any], None] | None = None, shown: Callable[[], str | None] | None = None) -> TrainRun:
    """Run `job` in this process (the child's body): train, hand the outcome to `trained`, predict all images with
    the new model (from memory) when it was kept, else those the previous one has not predicted
    (prediction_update.predict_unmade); the map of the image `shown()` (default: job.shown) is handed over."""
    from medseg_gui import pipeline
    from medseg_gui.core.project import Project
    from medseg_gui.prediction_update import predict_unmade

    project = Project.open(job.project_root)
    outcome = pipeline.train_class(project, job.cls, job.config, progress=progress, should_stop=should_stop,
                                   threshold=job.threshold)
    if outcome.cancelled:  # stopped before the keep-unless-better decision: nothing was stored
        raise CancelledError(TRAIN_CANCELLED)
    segmenter = outcome.kept_segmenter()  # None: the previous model stays current, and is read from its folder
    outcome = replace(outcome, result=TrainSummary.of(outcome.result))
    if trained is not None:
        trained(outcome)
    if not job.predict:
        return TrainRun(job.project_root, job.cls, outcome, {})
    keep = ShownMap(shown or (lambda: job.shown))
    predicted = lambda done, total, stem: progress(PredictProgress(done, total, stem))  # noqa: E731
    predict = pipeline.predict_class if segmenter is not None else predict_unmade
    try:
        metrics = predict(project, job.cls, threshold=job.threshold, should_stop=should_stop, progress=predicted,
                          segmenter=segmenter, on_saved=keep)
    except CancelledError:  # the model decision stands; keep the metrics of what was predicted before
        metrics, complete = project.load_metrics(job.cls), False
    else:
        complete = not should_stop()
    return TrainRun(job.project_root, job.cls, outcome, metrics, predictions_complete=complete,
                    shown_prediction=keep.prediction)


def run_rounds(job: TrainJob, progress: Callable[[object], None], should_stop: Callable[[], bool],
               shown: Callable[[], str | None] | None = None) -> TrainRun:
    """Continuous training (the child's body for a continuous `job`): rounds of `job.config` until `should_stop()`,
    each on the labels saved so far, warm-started from the current model after the first; a RoundReport goes to
    `progress` after each. `shown()` names the image to predict when a round's model is kept (default: job.shown).
    CancelledError when stopped before the first round ended."""
    from medseg_gui import pipeline
    from medseg_gui.core.project import Project

    shown = shown or (lambda: job.shown)
    config, reports = job.config, []
    while not should_stop():
        project = Project.open(job.project_root)  # images and labels as they are now
        outcome = pipeline.train_class(project, job.cls, config, progress=progress, should_stop=should_stop,
                                       threshold=job.threshold, join_labels=True)
        if outcome.cancelled:
            break
        segmenter = outcome.kept_segmenter()
        outcome = replace(outcome, result=TrainSummary.of(outcome.result))
        stem = shown() if outcome.decision.kept_new else None
        keep = ShownMap(lambda: stem)
        if stem is not None and stem in project.stems:
            try:
                pipeline.predict_class(project, job.cls, [stem], threshold=job.threshold, should_stop=should_stop,
                                       segmenter=segmenter, on_saved=keep)
            except CancelledError:
                stem = None
        report = RoundReport(len(reports) + 1, job.project_root, job.cls, outcome, project.load_metrics(job.cls),
                             stem if stem in project.stems else None, keep.prediction)
        reports.append(report)
        progress(report)
        config = replace(config, init="auto")  # later rounds continue from the current model
    return rounds_run(job, reports)


def rounds_run(job: TrainJob, reports: list[RoundReport]) -> TrainRun:
    """The TrainRun of a stopped continuous `job` whose finished rounds are `reports` (CancelledError: none)."""
    if not reports:
        raise CancelledError(TRAIN_CANCELLED)
    from medseg_gui.core.project import Project

    metrics = Project.open(job.project_root).load_metrics(job.cls)
    return TrainRun(job.project_root, job.cls, reports[-1].outcome, metrics, predictions_complete=False,
                    rounds=len(reports), kept=sum(r.kept for r in reports))


# -- parent side ---------------------------------------------------------------------------------------------------
def train_in_child(job: TrainJob, progress: Callable[[object], None], should_stop: Callable[[], bool],
                   grace_s: float = CANCEL_GRACE_S, started: Callable[[int], None] | None = None,
                   shown: Callable[[], str | None] | None = None) -> TrainRun:
    """Run `job` in a spawned child and wait for it (call from a worker thread). Progress objects go to `progress`,
    the child's log records to this process's logging, its pid to `started`; `should_stop()` turning true stops the
    child (terminated when it has not ended within `grace_s`). Continuous: `shown()` (read every POLL_S) names the
    image shown in the window. Raises what the child raised (CancelledError when cancelled), or ModelError when it
    died without a result."""
    before = current_model_id(job)  # read again if the child dies: did it make its model current first?
    with spawned(_child_main, (job,), f"medseg-train-{job.cls}") as (proc, results, control):
        if started is not None:
            started(proc.pid)
        return _follow(job, proc, results, control, progress, should_stop, grace_s, shown or (lambda: job.shown),
                       before)


def current_model_id(job: TrainJob) -> str | None:
    """The id in the class's current.json (None: no model, or the project cannot be read: its own error follows)."""
    from medseg_gui.core.errors import ProjectError
    from medseg_gui.core.project import Project

    try:
        return (Project.open(job.project_root).current_model_info(job.cls) or {}).get("id")
    except (ProjectError, OSError):
        return None


def _follow(job: TrainJob, proc: Any, results: Connection, control: Connection, progress: Callable[[object], None],
            should_stop: Callable[[], bool], grace_s: float, shown: Callable[[], str | None],
            before: str | None = None) -> TrainRun:
    outcome, reports, last_shown = [None], [], [job.shown]

    def on_message(kind: str, payload: Any) -> None:
        if kind == "progress":
            if isinstance(payload, RoundReport):
                reports.append(payload)
            progress(payload)
        elif kind == "trained":
            outcome[0] = payload
            progress(payload)

    def tick(stopping: bool) -> None:  # tell the child which image the window shows
        if not stopping and (stem := shown()) != last_shown[0]:
            last_shown[0] = stem
            send(control, (SHOW, stem))

    result, stopped = follow(results, control, should_stop, min(grace_s, STOP_GRACE_S) if job.continuous else grace_s,
                             on_message, tick)
    if result is not GONE:
        return result
    if stopped:  # cancelled, and the child ended without its last word or did not answer within the grace time:
        terminate(proc)  # it writes nothing more; its exit is awaited in the background (spawned)
        if job.continuous:
            return rounds_run(job, reports)
        if outcome[0] is None:
            raise CancelledError(TRAIN_CANCELLED)
        from medseg_gui.core.project import Project

        metrics = Project.open(job.project_root).load_metrics(job.cls)
        return TrainRun(job.project_root, job.cls, outcome[0], metrics, predictions_complete=False)
    proc.join(5.0)  # it ended by itself (end of file): its exit code says how
    if outcome[0] is not None:  # its model was decided: it died predicting the images
        raise ChildGoneError(prediction_died(job, proc.exitcode, outcome[0]))
    stored = current_model_id(job) != before  # current.json, not the messages, says so
    raise ChildGoneError(died_message(proc.exitcode, stored))


def died_message(exitcode: int | None, stored: bool = False) -> str:
    """What the user reads when the training process ended before its model was decided (killed, crashed, out of
    memory). `stored`: it made a new model current before it said so (a round of continuous training, or killed just
    after the promotion): the previous model is not kept, and the window says which model is (TrainingView)."""
    kept = "" if stored else " The previous model is kept."
    return (f"Training stopped unexpectedly: {ended_how(exitcode)}.{kept} Details may be in the log (Help → Open log "
            "folder).")


def prediction_died(job: TrainJob, exitcode: int | None, outcome: Any) -> str:
    """What the user reads when the training process died while it predicted the images, its model decided
    (outcomes.prediction_died_text), as current.json and the saved predictions' provenance say now."""
    from medseg_gui.core.errors import ProjectError
    from medseg_gui.core.project import Project
    from medseg_gui.prediction_update import unmade_by

    kept = bool(outcome.decision.kept_new)
    try:
        project = Project.open(job.project_root)
        info = project.current_model_info(job.cls)
        left = unmade_by(project, job.cls, (info or {}).get("id"))
        old, total = sum(project.prediction_path(job.cls, s).is_file() for s in left), len(project.stems)
    except (ProjectError, OSError):  # the project's own error follows when it is opened again
        info, left, old, total = (outcome.decision.current if kept else None), [], 0, 0
    return prediction_died_text(job.cls, ended_how(exitcode), kept, info, len(left), old, total)


# -- child side ----------------------------------------------------------------------------------------------------
def _child_main(job: TrainJob, results: Connection, control: Connection) -> None:
    shown = [job.shown]

    def on_message(message: object) -> None:  # ("show", stem): the image shown in the window now
        if isinstance(message, tuple) and message[0] == SHOW:
            shown[0] = message[1]

    sender, stop = child_start(results, control, job.log_level, on_message)
    send_progress = lambda p: sender.send("progress", p)  # noqa: E731
    if (rows := keras_rows(job.config.precision)) is not None:
        send_progress(rows)
    child_finish(sender, lambda: run_rounds(job, send_progress, stop.is_set, shown=lambda: shown[0]) if job.continuous
                 else run_job(job, send_progress, stop.is_set, trained=lambda outcome: sender.send("trained", outcome),
                              shown=lambda: shown[0]))


def keras_rows(precision: str) -> KerasRows | None:
    """What the window's status bar and About box report of Keras, read where Keras is imported anyway (None: it
    could not be read; the training itself then reports what is wrong)."""
    from medseg_gui import info

    try:
        return KerasRows(info.keras_rows(precision))
    except Exception:  # noqa: BLE001 - a nicety: never the reason a training fails
        log.warning("Could not read the Keras version and device", exc_info=True)
        return None
