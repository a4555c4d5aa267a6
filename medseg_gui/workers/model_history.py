"""Model history workers: list a class's stored models, put an earlier one back (then predict every image with it,
as a finished Retrain does), and score two models on one image side by side.

Keras loads only inside `work()` (ml.store, via lazy imports), on the worker's thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medseg_gui.core.errors import CancelledError
from medseg_gui.core.project import Project
from medseg_gui.workers.base import Worker
from medseg_gui.workers.training import PredictProgress


@dataclass(frozen=True)
class RollbackRun:
    """What a finished rollback hands the GUI (the fields a finished Retrain's TrainRun has for the refresh)."""

    project_root: Path
    cls: str
    model_id: str
    metrics: dict[str, dict]
    predictions_complete: bool = True


@dataclass(frozen=True)
class ModelScores:
    """The metrics (core.lesions.METRIC_KEYS) of each compared model on `stem`; empty dicts when it has no label."""

    stem: str
    labelled: bool
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # model id → metrics


def compare_on_image(project: Any, cls: str, stem: str, model_ids: list[str], threshold: float = 0.5) -> ModelScores:
    """Predict `stem` with each stored model `model_ids` (inside the class's region) and score it against the
    label when there is one; nothing is saved. ModelError when a model is missing or damaged."""
    from medseg_gui import pipeline
    from medseg_gui.core.lesions import per_image_metrics
    from medseg_gui.core.masks import scored_region
    from medseg_gui.ml import store

    image, roi = project.load_image(stem), pipeline.class_region(project, cls, stem, threshold)
    label = project.load_label_pixels(cls, stem)
    scores = {}
    for model_id in model_ids:
        prob = store.load_model(project.model_dir(cls), model_id).predict(image, roi)
        scored = None if label is None else scored_region(roi, label.annotated)  # sparse: annotated pixels only
        scores[model_id] = {} if label is None else per_image_metrics(prob, label.mask, scored, threshold=threshold)
    return ModelScores(stem, label is not None, scores)


class ModelListWorker(Worker):
    """Emits the class's `list[ml.store.ModelEntry]`, oldest first."""

    def __init__(self, project_root: Path, cls: str) -> None:
        super().__init__()
        self.project_root, self.cls = Path(project_root), cls

    def work(self) -> list:
        from medseg_gui.ml import store

        return store.list_models(Project.open(self.project_root).model_dir(self.cls))


class RollbackWorker(Worker):
    """Make stored model `model_id` current again (ml.store.rollback), then predict every image with it (the
    prediction path of Retrain, metrics at `threshold`); emits a `RollbackRun`. The window holds the project lock."""

    def __init__(self, project_root: Path, cls: str, model_id: str, threshold: float = 0.5) -> None:
        super().__init__()
        self.project_root, self.cls, self.model_id, self.threshold = Path(project_root), cls, model_id, threshold

    def work(self) -> RollbackRun:
        from medseg_gui import pipeline
        from medseg_gui.ml import store

        project = Project.open(self.project_root)
        store.rollback(project.model_dir(self.cls), self.model_id)
        try:
            metrics = pipeline.predict_class(project, self.cls, progress=self._predict_progress,
                                             should_stop=self.is_cancelled, threshold=self.threshold)
        except CancelledError:  # the rollback stands; the images not predicted yet keep the older prediction
            return RollbackRun(self.project_root, self.cls, self.model_id, project.load_metrics(self.cls), False)
        return RollbackRun(self.project_root, self.cls, self.model_id, metrics)

    def _predict_progress(self, done: int, total: int, stem: str) -> None:
        self.progress.emit(PredictProgress(done, total, stem))


class CompareWorker(Worker):
    """`compare_on_image` off the GUI thread; emits `ModelScores`."""

    def __init__(self, project_root: Path, cls: str, stem: str, model_ids: list[str], threshold: float) -> None:
        super().__init__()
        self.project_root, self.cls, self.stem = Path(project_root), cls, stem
        self.model_ids, self.threshold = list(model_ids), threshold

    def work(self) -> ModelScores:
        project = Project.open(self.project_root)
        return compare_on_image(project, self.cls, self.stem, self.model_ids, self.threshold)
