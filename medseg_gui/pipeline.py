"""Glue between a project folder and the ml layer, shared by the CLI and the Qt workers (no Qt here).

Keras is imported lazily inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from medseg_gui.core.errors import CancelledError, ImageReadError, ModelError, NoLabelsError
from medseg_gui.core.lesions import per_image_metrics
from medseg_gui.core.metrics import image_metrics, mean_metrics
from medseg_gui.core.project import Project

if TYPE_CHECKING:
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.progress import TrainProgress
    from medseg_gui.ml.train import Sample

log = logging.getLogger(__name__)

PredictProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class TrainOutcome:
    """What one retrain did: the training result and whether its model replaced the current one."""

    result: Any  # ml.train.TrainResult
    decision: Any | None  # ml.store.StoreDecision; None when cancelled
    stems: tuple[str, ...] = ()

    @property
    def cancelled(self) -> bool:
        return bool(self.result.cancelled)

    def summary(self) -> str:
        """One line for a status bar or terminal."""
        if self.cancelled or self.decision is None:
            return "Training cancelled — previous model kept."
        return str(self.decision.reason)


@dataclass(frozen=True)
class EvalReport:
    """Per-image metrics (core.lesions.METRIC_KEYS) and pooled pixel metrics (inside the ROI) of the saved
    predictions against the labels."""

    cls: str
    per_image: dict[str, dict[str, float]]
    pooled: dict[str, float] = field(default_factory=dict)

    @property
    def mean(self) -> dict[str, float]:
        """Mean over images of every metric (NaN skipped); the lesion metrics are reported this way only."""
        return mean_metrics(self.per_image)


def require_labels(project: Project, cls: str) -> list[str]:
    """The labelled stems of `cls`; NoLabelsError (before any slow import) when there are none."""
    stems = project.labelled_stems(cls)
    if not stems:
        raise NoLabelsError(
            f"No labelled images for class '{cls}' yet — draw a label on at least one image, then retrain."
        )
    return stems


def load_samples(project: Project, cls: str) -> tuple[list[Sample], list[str]]:
    """All labelled images of `cls` as training samples; raises NoLabelsError / LabelSizeError / ImageReadError."""
    stems = require_labels(project, cls)
    from medseg_gui.ml.train import Sample

    samples = []
    for stem in stems:
        # Project.load_label / load_roi raise LabelSizeError when a mask's size differs from its image.
        samples.append(Sample(image=project.load_image(stem), mask=project.load_label(cls, stem),
                              roi=project.load_roi(stem)))
    return samples, stems


def train_class(
    project: Project,
    cls: str,
    config: TrainConfig,
    *,
    progress: Callable[[TrainProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainOutcome:
    """Train on every labelled image of `cls`; the new model replaces the current one only if it is not worse."""
    require_labels(project, cls)
    from medseg_gui.ml import store
    from medseg_gui.ml.train import train

    samples, stems = load_samples(project, cls)
    model_dir = project.model_dir(cls)
    previous = None
    if store.has_model(model_dir):
        try:
            previous = store.load_segmenter(model_dir)
        except ModelError as err:
            log.warning("Current %s model cannot be loaded (%s); training from scratch.", cls, err)
    result = train(samples, config, progress=progress, should_stop=should_stop, previous=previous)
    if result.cancelled:
        return TrainOutcome(result=result, decision=None, stems=tuple(stems))
    decision = store.save_if_better(model_dir, result)
    return TrainOutcome(result=result, decision=decision, stems=tuple(stems))


def predict_class(
    project: Project,
    cls: str,
    stems: Sequence[str] | None = None,
    *,
    progress: PredictProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    threshold: float = 0.5,
) -> dict[str, dict[str, float]]:
    """Predict `stems` (default: all images) with the current model, save probabilities and metrics.json.

    Probabilities outside the ROI are 0 (Segmenter.predict). Metrics are computed for labelled images only; unreadable images are
    skipped with a warning. Returns the metrics of the whole class (old entries for images not predicted are kept).
    """
    from medseg_gui.ml import store

    segmenter = store.load_segmenter(project.model_dir(cls))
    todo = list(project.stems if stems is None else stems)
    metrics = project.load_metrics(cls)
    for done, stem in enumerate(todo, start=1):
        if should_stop is not None and should_stop():
            raise CancelledError("Prediction cancelled.")
        try:
            image = project.load_image(stem)
        except ImageReadError as err:
            log.warning("Skipping %s: %s", stem, err)
            continue
        roi = project.load_roi(stem)
        prob = segmenter.predict(image, roi)  # already 0 outside the ROI
        project.save_prediction(cls, stem, prob)
        truth = project.load_label(cls, stem)
        if truth is not None:
            metrics[stem] = per_image_metrics(prob, truth, roi, threshold=threshold)
        else:
            metrics.pop(stem, None)
        if progress is not None:
            progress(done, len(todo), stem)
    project.save_metrics(cls, metrics)
    return metrics


def evaluate_class(project: Project, cls: str, threshold: float = 0.5) -> EvalReport:
    """Metrics of the saved predictions of every labelled image, per image and (pixel metrics) pooled over all ROI
    pixels."""
    per_image: dict[str, dict[str, float]] = {}
    probs, truths = [], []
    for stem in project.labelled_stems(cls):
        prob = project.load_prediction(cls, stem)
        if prob is None:
            continue
        truth = project.load_label(cls, stem)
        roi = project.load_roi(stem)
        per_image[stem] = per_image_metrics(prob, truth, roi, threshold=threshold)
        inside = roi if roi is not None else np.ones_like(truth, dtype=bool)
        probs.append(prob[inside])
        truths.append(truth[inside])
    if not per_image:
        raise ModelError(
            f"No predictions to evaluate for class '{cls}': train a model and predict first "
            f"(medseg train / medseg predict)."
        )
    prob_all, truth_all = np.concatenate(probs), np.concatenate(truths)
    pooled = image_metrics(prob_all, truth_all, None, threshold=threshold)
    return EvalReport(cls=cls, per_image=per_image, pooled=pooled)
