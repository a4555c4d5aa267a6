"""Glue between a project folder and the ml layer, shared by the CLI and the Qt workers (no Qt here).

Keras is imported lazily inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from medseg_gui.core.errors import CancelledError, MedsegError, ModelError, skip
from medseg_gui.core.fov import prediction_region
from medseg_gui.core.interchange.manifest import REGION_THRESHOLD, ProvenanceLog
from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.core.masks import scored_region
from medseg_gui.core.metrics import NOT_SCORED, image_metrics
from medseg_gui.core.model_names import kept_start
from medseg_gui.core.project import LABELS_JOINED_AT, LABELS_READ_AT, Project, read_time
from medseg_gui.core.regions import label_scores, region_classes, weak_region_note
from medseg_gui.core.uncertainty import UncertaintyScores, image_uncertainty
from medseg_gui.outcomes import EvalReport, TrainOutcome
from medseg_gui.training_data import (SavedLabels, accepted_labels, class_region, doubtful_labels, load_samples,
                                      note_outside, note_unrestricted, record_outside, require_labels)

if TYPE_CHECKING:
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.progress import TrainProgress

log = logging.getLogger(__name__)

PredictProgress = Callable[[int, int, str], None]


def region_note(project: Project, cls: str) -> str | None:
    """'lesion is restricted to cervix' for a class with a roi_class, else None (one line for the CLI / GUI)."""
    roi_class = project.class_spec(cls).roi_class
    return None if roi_class is None else f"{cls} is restricted to {roi_class}"


def predict_missing_regions(
    project: Project, cls: str, stems: Sequence[str], *, should_stop: Callable[[], bool] | None = None,
    threshold: float = 0.5, skipped: list[str] | None = None,
) -> list[str]:
    """Two-stage: predict the roi_class of `cls` on those `stems` where it has neither a label nor a prediction, when
    it has a model, so the region of `cls` is known there; the stems predicted."""
    roi_class = project.class_spec(cls).roi_class
    if roi_class is None:
        return []
    from medseg_gui.ml import store

    missing = [s for s in stems if not project.has_label(roi_class, s) and not project.prediction_path(roi_class, s)
               .is_file()]
    if not missing or not store.has_model(project.model_dir(roi_class)):
        return []
    log.info("predicting %s on %d image(s) first: %s is restricted to it", roi_class, len(missing), cls)
    predict_class(project, roi_class, missing, should_stop=should_stop, threshold=threshold, skipped=skipped)
    return missing


def _fallback_dir(project: Project, cls: str) -> Path:
    from medseg_gui.paths import rescue_dir

    return rescue_dir("unsaved-models", project.root, cls)


def store_result(project: Project, cls: str, result: Any) -> Any:
    """store.save_if_better into the class's model folder; when that folder cannot be written (or the project's lock
    was taken over by another program meanwhile: Project.write_refusal), the finished model is saved to a folder in
    the user data directory instead and a ModelError says where (it is never dropped silently)."""
    from medseg_gui.ml import store

    model_dir = project.model_dir(cls)
    reason = project.write_refusal()
    if reason is None:
        try:
            return store.save_if_better(model_dir, result)
        except OSError as err:
            reason = err.strerror or str(err)  # err.filename would be a temp file's name; model_dir says where
    fallback = _fallback_dir(project, cls)
    try:
        how = store.save_aside(fallback, result, _has_model(model_dir))  # files only: current nowhere (save_aside)
    except OSError as err2:
        raise ModelError(f"The trained model could not be saved in {model_dir}: {reason}; saving a copy to "
                         f"{fallback} failed too ({err2.strerror or err2}). The training result is lost.") from None
    raise ModelError(f"The trained model could not be saved in {model_dir}: {reason}. It was saved to {fallback} "
                     f"instead: {how}.")


def _has_model(model_dir: Path) -> bool:
    """Whether the class has a current model (a run without a comparison figure could not load or score it)."""
    from medseg_gui.ml import store

    try:
        return store.has_model(model_dir)
    except (OSError, ModelError):
        return False


def train_class(
    project: Project,
    cls: str,
    config: TrainConfig,
    *,
    progress: Callable[[TrainProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    threshold: float = 0.5,
    join_labels: bool = False,
) -> TrainOutcome:
    """Train on every readable labelled image of `cls` (inside its region: `class_region`; `threshold` turns a
    roi_class prediction into that region); the new model replaces the current one only if it is not worse. Images
    left out are listed in `TrainOutcome.skipped`; a model that cannot be saved raises ModelError naming where it was
    saved instead (see store_result). `join_labels` (continuous training): labels saved while it trains join the
    run between epochs (`SavedLabels`)."""
    labelled = require_labels(project, cls)
    from medseg_gui.ml import store
    from medseg_gui.ml.train import train

    skipped: list[str] = []
    predict_missing_regions(project, cls, labelled, should_stop=should_stop, threshold=threshold)  # notes: the log
    saved = SavedLabels(project, cls, threshold) if join_labels else None  # before reading: none slips between
    read_at = read_time()  # a label saved later is "new"
    gaps: dict[str, str] = {}
    outside: dict[str, float] = {}
    samples, stems = load_samples(project, cls, skipped, threshold, gaps, outside)
    model_dir = project.model_dir(cls)
    previous = None
    if store.has_model(model_dir):
        try:
            previous = store.load_segmenter(model_dir)
        except ModelError as err:
            log.warning("Current %s model cannot be loaded (%s); training from scratch.", cls, err)
    start = getattr(config, "init", "auto")  # warm start: the current model's weights when they fit (ml/init.py)
    init = store.current_start(model_dir) if start in ("auto", "current") else None
    if start == "current" and init is None:
        log.info("No stored start for the current %s model; training starts from scratch.", cls)
    then = store.validation_labels(model_dir, previous.metadata.get("id")) if previous is not None else None
    result = train(samples, config, progress=progress, should_stop=should_stop, previous=previous, init=init,
                   previous_annotation=then, joined=saved, doubtful=doubtful_labels(project, cls, samples, threshold),
                   accepted=accepted_labels(project, cls))
    result.segmenter.metadata[LABELS_READ_AT] = read_at  # the image list's "· new" (core.project.labels_read)
    if saved is not None and result.joined:  # read again when they joined: not "new"
        result.segmenter.metadata[LABELS_JOINED_AT] = {s: saved.read_at[s] for s in result.joined if s in saved.read_at}
    decision = None if result.cancelled else store_result(project, cls, result)
    return TrainOutcome(result=result, decision=decision, stems=tuple(stems), skipped=tuple(skipped),
                        unrestricted=note_unrestricted(cls, gaps, stems), outside=note_outside(project, cls, outside),
                        weak_region=weak_region_note(project, cls, [s for s in labelled if s not in gaps]))


def model_provenance(metadata: dict[str, Any]) -> dict[str, Any]:
    """What an export's manifest says about the model that made a prediction (from its stored metadata)."""
    from medseg_gui.ml.store import FALLBACK_KEY

    info = {key: metadata.get(key) for key in ("id", "trained_at", "preset", "val_auc")}
    if metadata.get(FALLBACK_KEY):
        info["note"] = metadata[FALLBACK_KEY]
    if kept := kept_start(metadata):  # trained_at is when its run ended; the weights learnt nothing from it
        info["weights"] = f"{kept}, unchanged: not trained on this project's labels"
    return info


def predict_class(
    project: Project,
    cls: str,
    stems: Sequence[str] | None = None,
    *,
    progress: PredictProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    threshold: float = 0.5,
    skipped: list[str] | None = None,
    segmenter: Any = None,
    on_saved: Callable[[str, np.ndarray], None] | None = None,
    unrestricted: dict[str, str] | None = None,
) -> dict[str, dict[str, float]]:
    """Predict `stems` (default: all images) with the current model (`segmenter`: it is already in memory; else it
    is loaded), save probabilities and metrics.json; `on_saved(stem, map)` gets each map as saved (uint16).

    Probabilities outside the class's region (`class_region`: the ROI, and for a two-stage class also its roi_class,
    predicted first where needed) are 0 (Segmenter.predict). Metrics are computed for labelled images only; the
    uncertainty score (core.uncertainty, at `threshold`) of every predicted image goes to uncertainty.json. An image
    or ROI that cannot be read is skipped and an unreadable label gets no metrics, one message each in `skipped` (or
    the log); `progress` counts skipped images too; those predicted unrestricted (their roi_class region unknown) go
    to `unrestricted` and one note to `skipped`. Returns the metrics of the whole class (old entries for images not
    predicted are kept).
    """
    from medseg_gui.ml import store

    if segmenter is None:
        segmenter = store.load_segmenter(project.model_dir(cls))
    todo = list(project.stems if stems is None else stems)
    predict_missing_regions(project, cls, todo, should_stop=should_stop, threshold=threshold, skipped=skipped)
    metrics, unsure = project.load_metrics(cls), project.load_uncertainty(cls)
    predicted: list[str] = []
    gaps = {} if unrestricted is None else unrestricted
    model, sources = model_provenance(segmenter.metadata), region_classes(project, cls)
    made = ProvenanceLog(project, cls)  # true map by map: a run stopped anywhere names no model for a map it replaced

    def finish() -> None:  # also when stopped: the maps saved so far get their scores and maker (a helper's note)
        note_unrestricted(cls, gaps, predicted, skipped)
        try:  # first: a failed score save below must not leave a record dropped for a map never replaced (review)
            made.close()
        except MedsegError as err:  # the predictions are saved; exports will say their model is not recorded
            log.warning("%s", err)
        project.save_metrics(cls, metrics)
        project.save_uncertainty(cls, unsure.only(set(project.stems)))

    stopped = False
    try:
        for done, stem in enumerate(todo, start=1):
            if should_stop is not None and should_stop():
                stopped = True
                break
            try:
                image, roi = project.load_image(stem), class_region(project, cls, stem, threshold, gaps)
            except MedsegError as err:
                skip(skipped, f"{stem} not predicted: {err}")
            else:
                region = predicted_region(roi, segmenter.metadata, lambda: image)  # scores stay in `roi`
                prob = segmenter.predict(image, region)  # already 0 outside it
                made.replacing(stem)
                stored = project.save_prediction(cls, stem, prob)  # a region (in part) predicted notes its threshold
                made.made(stem, model if all(project.has_label(c, stem) for c in sources) else
                          {**model, REGION_THRESHOLD: threshold})
                predicted.append(stem)
                if on_saved is not None:
                    on_saved(stem, stored)
                unsure.put(stem, image_uncertainty(prob, region, threshold), threshold)  # labelled or not: what next
                try:
                    truth = project.load_label_pixels(cls, stem)
                except MedsegError as err:
                    skip(skipped, f"{stem}: predicted, but no metrics: {err}")
                    truth = None
                if truth is not None:  # a sparse label is scored on its annotated pixels only
                    metrics[stem] = label_scores(project, cls, stem, prob, truth, roi, threshold)
                else:
                    metrics.pop(stem, None)
            if progress is not None:
                progress(done, len(todo), stem)
    except BaseException:  # Ctrl+C, SIGTERM (cli_common.Terminated), an error: the first one is what is said
        with contextlib.suppress(MedsegError, OSError):
            finish()
        raise
    finish()
    if stopped:
        raise CancelledError("Prediction cancelled.")
    return metrics


def predicted_region(roi: np.ndarray | None, metadata: dict[str, Any], image: Callable[[], np.ndarray]
                     ) -> np.ndarray | None:
    """Where a model with `metadata` predicts, and scores the uncertainty of, an image whose class region is `roi`
    (None: all of it): one trained in fields of view, a photo without one inside the field found in it (core.fov;
    `image()` is read only then). Its other scores stay in `roi`: the band left out along the edge counts as missed."""
    if roi is None and metadata.get("trained_in_roi"):
        return prediction_region(image())
    return roi


def _saved_predictions(project: Project, cls: str, stems: Sequence[str], threshold: float, skipped: list[str] | None,
                       unrestricted: dict[str, str]) -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
    """(stem, prob, class region: `class_region`, unknown ones noted in `unrestricted`) of each of `stems` with a
    saved prediction of `cls`. Unreadable images are skipped with a message."""
    for stem in stems:
        try:
            prob = project.load_prediction(cls, stem)
            roi = None if prob is None else class_region(project, cls, stem, threshold, unrestricted)
        except MedsegError as err:
            skip(skipped, f"{stem} not evaluated: {err}")
            continue
        if prob is not None:
            yield stem, prob, roi


def _scored_label(project: Project, cls: str, stem: str, skipped: list[str] | None) -> LabelPixels | None:
    """The label `stem`'s prediction is scored against; None when it has none or it cannot be read (a message)."""
    try:
        return project.load_label_pixels(cls, stem)
    except MedsegError as err:
        skip(skipped, f"{stem} not evaluated: {err}")
        return None


def evaluate_class(project: Project, cls: str, threshold: float = 0.5) -> EvalReport:
    """Metrics of the saved predictions of every labelled image, per image and (pixel metrics) pooled over all pixels
    of the class's region (`class_region`) of the images with a complete label (EvalReport)."""
    per_image: dict[str, dict[str, float]] = {}
    probs, truths, skipped, strokes, gaps, outside = [], [], [], set(), {}, {}
    for stem, prob, roi in _saved_predictions(project, cls, project.labelled_stems(cls), threshold, skipped, gaps):
        if (label := _scored_label(project, cls, stem, skipped)) is None:
            continue
        record_outside(project, cls, stem, label.mask, roi, outside, gaps)
        per_image[stem] = label_scores(project, cls, stem, prob, label, roi, threshold)
        roi = scored_region(roi, label.annotated)  # a sparse label: its annotated pixels only
        if label.sparse:
            strokes.add(stem)
        if label.sparse or NOT_SCORED in per_image[stem]:  # neither in POOLED
            continue
        inside = roi if roi is not None else np.ones_like(label.mask, dtype=bool)
        probs.append(prob[inside])
        truths.append(label.mask[inside])
    if not per_image and skipped:
        more = f" (and {len(skipped) - 1} more: {', '.join(m.split(' not evaluated', 1)[0] for m in skipped[1:4])}" \
               f"{', …' if len(skipped) > 4 else ''})" if len(skipped) > 1 else ""
        raise ModelError(f"None of the labelled images of class '{cls}' could be evaluated; {skipped[0]}{more}")
    if not per_image:
        raise ModelError(f"No predictions to evaluate for class '{cls}': train a model and predict first "
                         "(medseg train / medseg predict).")
    pooled = image_metrics(np.concatenate(probs), np.concatenate(truths), None, threshold=threshold) if probs else {}
    return EvalReport(cls=cls, per_image=per_image, pooled=pooled, skipped=tuple(skipped), strokes=frozenset(strokes),
                      unrestricted=note_unrestricted(cls, gaps, list(per_image)),
                      outside=note_outside(project, cls, outside),
                      weak_region=weak_region_note(project, cls, [s for s in per_image if s not in gaps]))


def rethreshold_class(project: Project, cls: str, threshold: float, changed: Collection[str] = (),
                      should_stop: Callable[[], bool] | None = None, unsure: UncertaintyScores | None = None,
                      only: Collection[str] | None = None, kept: Collection[str] = ()) -> dict[str, dict[str, float]]:
    """Per-image metrics of the saved predictions of `cls` at another `threshold` (what metrics.json holds; nothing
    pooled). Only what the threshold changes is computed: an image's AUC is kept from metrics.json unless its label
    was `changed` (saved since, as the caller knows), its label or prediction file is newer than metrics.json, or
    the class's region depends on the threshold (a roi_class). `unsure` (given empty) gets the uncertainty score at
    `threshold` of every saved prediction, labelled or not, in the region predict_class scored it in
    (`predicted_region`, by the current model), from the same maps. `only`: these images alone (default: all); images
    in `kept` are left out (their saved scores still hold: prediction_update.standing_scores). CancelledError when
    `should_stop()` between images."""
    old, path = project.load_metrics(cls), project.metrics_path(cls)
    since = path.stat().st_mtime_ns if path.is_file() and project.class_spec(cls).roi_class is None else None
    labelled = set(project.labelled_stems(cls))
    stems = [s for s in project.stems
             if (unsure is not None or s in labelled) and (only is None or s in only) and s not in kept]
    model = (project.current_model_info(cls) or {}) if unsure is not None else {}
    per_image: dict[str, dict[str, float]] = {}
    gaps: dict[str, str] = {}
    seen: list[str] = []  # the saved predictions, of which `gaps` were not restricted (logged once)
    for stem, prob, roi in _saved_predictions(project, cls, stems, threshold, None, gaps):
        seen.append(stem)
        if should_stop is not None and should_stop():
            raise CancelledError("Metrics update cancelled.")
        if unsure is not None:
            try:
                region = predicted_region(roi, model, partial(project.load_image, stem))
            except MedsegError as err:
                skip(None, f"{stem}: no uncertainty at threshold {threshold:.2f}: {err}")
            else:
                unsure.put(stem, image_uncertainty(prob, region, threshold), threshold)
        if stem not in labelled or (label := _scored_label(project, cls, stem, None)) is None:
            continue
        try:
            unchanged = since is not None and stem not in changed and all(f.stat().st_mtime_ns < since for f in (
                project.label_path(cls, stem), project.prediction_path(cls, stem)))
        except OSError:  # removed meanwhile: compute everything
            unchanged = False
        auc = old.get(stem, {}).get("auc") if unchanged else None
        per_image[stem] = label_scores(project, cls, stem, prob, label, roi, threshold, auc)
    note_unrestricted(cls, gaps, seen)
    return per_image
