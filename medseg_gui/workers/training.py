"""Train and predict workers: Retrain = train one class, then predict every image with the kept model.

A Retrain runs in a child process (medseg_gui.train_process: TensorFlow holding the GIL on a QThread froze the
window); `TrainWorker` owns that process from its QThread and re-emits its progress, and the Keras rows its child
reports (`keras_rows`: the device and precision the window names, so it starts no child of its own for them). The
metrics worker (`rescore_class`) runs here and reads saved predictions only: Keras never loads in the window's process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal

from medseg_gui.core.errors import CancelledError, ProjectError
from medseg_gui.core.uncertainty import UncertaintyScores
from medseg_gui.pipeline import TrainOutcome
from medseg_gui.prediction_update import standing_scores
from medseg_gui.train_process import (
    TRAIN_CANCELLED,
    KerasRows,
    PredictProgress,
    RoundReport,
    TrainJob,
    TrainRun,
    train_in_child,
)
from medseg_gui.workers.base import Worker

if TYPE_CHECKING:
    from medseg_gui.core.project import Project
    from medseg_gui.ml.config import TrainConfig

log = logging.getLogger(__name__)

__all__ = ["ClassMetrics", "PredictProgress", "RoundReport", "TrainOutcome", "TrainRun", "TrainWorker",
           "rescore_class"]


@dataclass(frozen=True)
class ClassMetrics:
    """What `rescore_class` hands the GUI: the class, its per-image metrics (stem → metric → value) and the
    uncertainty of each of its predictions, at the threshold re-scored."""

    cls: str
    metrics: dict[str, dict]
    uncertainty: UncertaintyScores = field(default_factory=UncertaintyScores)
    changed: frozenset[str] = frozenset()  # the images whose label was saved since their last scores: re-scored


def _open_project(project: Project | Path) -> Project:
    from medseg_gui.core.project import Project

    return project if isinstance(project, Project) else Project.open(project)


class TrainWorker(Worker):
    """Train `cls` of the project at `project_root` with `config`, then predict all images, in a child process
    (train_process); emits its progress (TrainProgress, the TrainOutcome once the model is decided, PredictProgress)
    and a `TrainRun`. Cancel stops the child.

    `threshold` turns probabilities into masks for the Dice/Se/Sp in metrics.json. `continuous`: rounds until
    cancelled (train_process.run_rounds), each followed by a RoundReport progress; `shown()` (called on this worker's
    thread, so it must only read a plain attribute) names the image shown, which a kept round predicts.
    `keras_rows(list)`: the child's `info.keras_rows`, once, before its training progress. `probe()` (called first,
    on this worker's thread: it creates a file in the project folder, which slow storage may hold up) says why the
    run's model could not be saved (Project.write_probe), and the run is then not started."""

    keras_rows = Signal(object)

    def __init__(self, project_root: Path, cls: str, config: TrainConfig, *, predict: bool = True,
                 threshold: float = 0.5, continuous: bool = False,
                 shown: Callable[[], str | None] | None = None,
                 probe: Callable[[], str | None] | None = None) -> None:
        super().__init__()
        self._probe = probe or (lambda: None)
        self.project_root = Path(project_root)
        self.cls = cls
        self.config = config
        self.predict = predict
        self.threshold = threshold
        self.continuous = continuous
        self._shown = shown or (lambda: None)
        self.child_pid: int | None = None  # the training process, once started

    def work(self) -> TrainRun:
        if self.is_cancelled():  # before the child costs a Python start and a Keras import
            raise CancelledError(TRAIN_CANCELLED)
        if (why := self._probe()) is not None:  # minutes of training whose model could not be saved
            raise ProjectError(f"Retrain was not started: {why}.")
        if self.is_cancelled():  # cancelled while the probe waited on slow storage
            raise CancelledError(TRAIN_CANCELLED)
        job = TrainJob(self.project_root, self.cls, self.config, self.predict, self.threshold,
                       logging.getLogger().getEffectiveLevel(), continuous=self.continuous, shown=self._shown())
        return train_in_child(job, self._relay, self.is_cancelled, started=self._started, shown=self._shown)

    def _relay(self, progress: object) -> None:
        if isinstance(progress, KerasRows):
            self.keras_rows.emit(progress.rows)
        else:
            self.progress.emit(progress)

    def _started(self, pid: int) -> None:
        self.child_pid = pid


def rescore_class(project: Project | Path, cls: str, threshold: float, changed: frozenset[str] = frozenset(),
                  should_stop: Callable[[], bool] | None = None) -> ClassMetrics:
    """Recompute the metrics of `cls` and the uncertainty of each of its predictions from the saved predictions at
    another `threshold` (no Keras; only what the threshold changes: pipeline.rethreshold_class; `changed`: images
    whose label was saved since) and save them to metrics.json and uncertainty.json. Scores that still hold
    (`standing_scores`) are not recomputed: after a saved stroke only its image is, where every map was read again
    (5–20 s on an outside trial's 344 photos, the old scores shown meanwhile). Run by a FunctionWorker
    (qt/threshold_metrics.py). `project`: the window's own Project (its read-only state and lock say whether they
    may be saved: a read-only window's Project opened afresh here wrote them once the editing window had closed), or a
    folder. Where the project must not or cannot be written (read-only, another window holds it, read-only media)
    they are handed over unsaved: both files are derived data, re-made by the next Retrain."""
    from medseg_gui import pipeline

    project, fresh = _open_project(project), UncertaintyScores()
    metrics, kept = standing_scores(project, cls, threshold, changed)  # a removed label: no metrics, none kept
    metrics.update(pipeline.rethreshold_class(project, cls, threshold, changed, should_stop, fresh,
                                              kept=set(kept.scores)))
    unsure = UncertaintyScores(kept.scores | fresh.scores, kept.thresholds | fresh.thresholds)
    if should_stop is not None and should_stop():
        raise CancelledError("Metrics update cancelled.")
    reason = project.write_refusal()
    if reason is None:
        try:
            project.save_metrics(cls, metrics)
            project.save_uncertainty(cls, unsure)
        except ProjectError as err:
            reason = str(err)
    if reason is not None:
        log.warning("The '%s' scores at threshold %.2f are shown but not saved: %s", cls, threshold, reason)
    return ClassMetrics(cls, metrics, unsure, frozenset(changed))

