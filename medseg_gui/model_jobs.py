"""The Models dialog's Keras work, run in a child process (medseg_gui.child_process) so that TensorFlow never loads in
the window's process: put an earlier model back and predict every image with it, and score two models on one image
side by side. No Qt here; workers/model_history.py starts these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medseg_gui.core.errors import CancelledError
from medseg_gui.core.project import Project
from medseg_gui.train_process import PredictProgress


@dataclass(frozen=True)
class RollbackRun:
    """What a finished rollback hands the GUI (the fields a finished Retrain's TrainRun has for the refresh);
    `switched`: False when `model_id` already was the current model (Train → Predict all images: predictions only)."""

    project_root: Path
    cls: str
    model_id: str
    metrics: dict[str, dict]
    predictions_complete: bool = True
    switched: bool = True
    predicted: int = 0  # images predicted by this job, of the class's `total`: the others already had its maps
    total: int = 0
    trained_at: str = ""  # the model's, for its name (core.model_names.model_name); '': not known


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
    scored = None if label is None else scored_region(roi, label.annotated)  # sparse: annotated pixels only
    scores = {}
    for model_id in model_ids:
        prob = store.load_model(project.model_dir(cls), model_id).predict(image, roi)
        scores[model_id] = {} if label is None else per_image_metrics(prob, label.mask, scored, threshold=threshold)
    return ModelScores(stem, label is not None, scores)


def compare_models(project_root: Path, cls: str, stem: str, model_ids: list[str], threshold: float) -> ModelScores:
    """`compare_on_image` on the project at `project_root`."""
    return compare_on_image(Project.open(project_root), cls, stem, list(model_ids), threshold)


def rollback_and_predict(project_root: Path, cls: str, model_id: str, threshold: float = 0.5, *,
                         progress: Callable[[PredictProgress], None] = lambda _p: None,
                         should_stop: Callable[[], bool] = lambda: False) -> RollbackRun:
    """Make stored model `model_id` current again (ml.store.rollback), then predict every image whose saved map it
    did not make (prediction_update.predict_unmade: photos added since, a cancelled run's rest, maps of another model;
    a trial's 300-photo project was predicted whole at each Ctrl+P), metrics at `threshold`; with the current model's
    id only the predictions are made. The window holds the project lock."""
    from medseg_gui.ml import store
    from medseg_gui.prediction_update import predict_unmade

    project_root = Path(project_root)
    project = Project.open(project_root)
    switched = (project.current_model_info(cls) or {}).get("id") != model_id
    # the store writes outside the project's own checks
    project.check_writable(f"The switch to model {model_id}" if switched else "The predictions")
    store.rollback(project.model_dir(cls), model_id)  # loads it first; already current: nothing changes
    trained_at = str((project.current_model_info(cls) or {}).get("trained_at") or "")
    predicted: list[str] = []
    try:
        metrics = predict_unmade(project, cls, threshold=threshold, should_stop=should_stop,
                                 progress=lambda d, t, s: progress(PredictProgress(d, t, s)),
                                 on_saved=lambda stem, _map: predicted.append(stem))
    except CancelledError:  # the rollback stands; the images not predicted yet keep the older prediction
        return RollbackRun(project_root, cls, model_id, project.load_metrics(cls), False, switched,
                           len(predicted), len(project.stems), trained_at)
    return RollbackRun(project_root, cls, model_id, metrics, switched=switched, predicted=len(predicted),
                       total=len(project.stems), trained_at=trained_at)
