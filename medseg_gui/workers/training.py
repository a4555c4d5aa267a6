"""Train and predict workers: Retrain = train one class, then predict every image with the kept model.

Keras/TensorFlow are imported only here, inside `work()`, which runs on the worker's QThread (via `pipeline`, which
imports `ml` lazily), so the window never pays for that import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medseg_gui.core.errors import CancelledError, ModelError
from medseg_gui.workers.base import Worker

if TYPE_CHECKING:
    from medseg_gui.ml.config import TrainConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictProgress:
    """Progress of the predict phase: `done` of `total` images, the last one being `stem`."""

    done: int
    total: int
    stem: str


@dataclass(frozen=True)
class TrainRun:
    """What a finished Retrain hands the GUI: the pipeline's TrainOutcome and per-image metrics of the class.

    `predictions_complete` is False when the user cancelled during the predict phase (the model decision stands).
    """

    project_root: Path
    cls: str
    outcome: Any
    metrics: dict[str, dict]
    predictions_complete: bool = True


@dataclass(frozen=True)
class PredictRun:
    cls: str
    metrics: dict[str, dict]


def _open_project(root: Path) -> Any:
    from medseg_gui.core.project import Project

    return Project.open(root)


class TrainWorker(Worker):
    """Train `cls` of the project at `project_root` with `config`, then predict all images; emits a `TrainRun`.

    `threshold` turns probabilities into masks for the Dice/Se/Sp in metrics.json."""

    def __init__(self, project_root: Path, cls: str, config: TrainConfig, *, predict: bool = True,
                 threshold: float = 0.5) -> None:
        super().__init__()
        self.project_root = Path(project_root)
        self.cls = cls
        self.config = config
        self.predict = predict
        self.threshold = threshold

    def work(self) -> TrainRun:
        from medseg_gui import pipeline

        project = _open_project(self.project_root)
        outcome = pipeline.train_class(
            project, self.cls, self.config, progress=self.progress.emit, should_stop=self.is_cancelled,
            threshold=self.threshold,
        )
        if outcome.result.cancelled:  # stopped before the keep-unless-better decision: nothing was stored
            raise CancelledError("Training cancelled — previous model kept.")
        if not self.predict:
            return TrainRun(self.project_root, self.cls, outcome, {})
        try:
            metrics = pipeline.predict_class(project, self.cls, progress=self._predict_progress,
                                             should_stop=self.is_cancelled, threshold=self.threshold)
        except CancelledError:  # the model decision stands; keep the metrics of what was predicted before
            metrics, complete = project.load_metrics(self.cls), False
        else:
            complete = not self.is_cancelled()
        return TrainRun(self.project_root, self.cls, outcome, metrics, predictions_complete=complete)

    def _predict_progress(self, done: int, total: int, stem: str) -> None:
        self.progress.emit(PredictProgress(done, total, stem))


class PredictWorker(Worker):
    """Predict `stems` (default: all images) of `cls` with the current model; emits a `PredictRun`."""

    def __init__(self, project_root: Path, cls: str, stems: list[str] | None = None) -> None:
        super().__init__()
        self.project_root = Path(project_root)
        self.cls = cls
        self.stems = stems

    def work(self) -> PredictRun:
        from medseg_gui import pipeline

        project = _open_project(self.project_root)
        metrics = pipeline.predict_class(
            project, self.cls, self.stems, progress=self._predict_progress, should_stop=self.is_cancelled
        )
        if self.is_cancelled():
            raise CancelledError("Prediction cancelled.")
        return PredictRun(self.cls, metrics)

    def _predict_progress(self, done: int, total: int, stem: str) -> None:
        self.progress.emit(PredictProgress(done, total, stem))


class MetricsWorker(Worker):
    """Recompute the metrics of `cls` from the saved predictions at another `threshold` (no Keras; AUC does not
    change, Dice/Se/Sp do) and save them to metrics.json; emits a `PredictRun`."""

    def __init__(self, project_root: Path, cls: str, threshold: float) -> None:
        super().__init__()
        self.project_root = Path(project_root)
        self.cls = cls
        self.threshold = threshold

    def work(self) -> PredictRun:
        from medseg_gui import pipeline

        project = _open_project(self.project_root)
        try:  # every labelled image with a prediction; an image whose label was removed has no scores any more
            metrics = dict(pipeline.evaluate_class(project, self.cls, threshold=self.threshold).per_image)
        except ModelError:  # no labelled image has a prediction (e.g. its last label was just undone)
            metrics = {}
        if self.is_cancelled():
            raise CancelledError("Metrics update cancelled.")
        project.save_metrics(self.cls, metrics)
        return PredictRun(self.cls, metrics)


class KerasWarmUp(Worker):
    """Import Keras in the background after the window shows, so the first Retrain starts sooner."""

    def work(self) -> str:
        import keras  # noqa: F401 - the import itself is the point

        log.info("Keras warmed up (backend %s)", keras.backend.backend())
        return keras.backend.backend()
