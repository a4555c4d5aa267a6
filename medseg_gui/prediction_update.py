"""Bring a class's saved predictions up to date with its current model without re-making those it already made: what
a Retrain whose new model was rejected predicts (an outside trial: 344 images predicted again with the unchanged
model, 437 MB of maps rewritten over 1 min 44 s). No Qt; Keras is loaded only when an image needs predicting.

Which model made each saved map is provenance.json's record (pipeline.predict_class writes it). Maps are stored as
probabilities, so a threshold or label changed since they were made needs a re-score from the map, not a prediction;
`standing_scores` says which saved scores still hold (also for a re-score at another threshold, workers.training).
A class restricted to another one's region (roi_class) predicts again the images where that region's label or
prediction changed since its map was made (a trial's lesion inside the cervix: all 21 images, each time).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from medseg_gui import pipeline
from medseg_gui.core.images import header_size
from medseg_gui.core.interchange.manifest import REGION_THRESHOLD, read_provenance
from medseg_gui.core.project import Project
from medseg_gui.core.regions import region_classes
from medseg_gui.core.uncertainty import UncertaintyScores

log = logging.getLogger(__name__)

_HEADER_BYTES = 64  # a PNG's signature, IHDR chunk and the next chunk's header: enough for its size


def readable_map(project: Project, cls: str, stem: str) -> bool:
    """Whether `stem`'s saved `cls` prediction file exists and its header reads as an image (the pixels are not
    decoded: on the trial's 344 maps that would cost seconds)."""
    try:
        with open(project.prediction_path(cls, stem), "rb") as fh:
            return header_size(fh.read(_HEADER_BYTES)) is not None
    except OSError:
        return False


def unmade_by(project: Project, cls: str, model_id: str | None) -> list[str]:
    """The images (project order) whose saved `cls` prediction is missing, unreadable (`readable_map`) or not
    recorded as made by model `model_id` (an earlier model, or not recorded at all)."""
    if not model_id:
        return list(project.stems)
    made = read_provenance(project, cls)
    return [stem for stem in project.stems
            if made.get(stem, {}).get("id") != model_id or not readable_map(project, cls, stem)]


def region_changed(project: Project, cls: str, stems: Collection[str], threshold: float) -> list[str]:
    """Those of `stems` (project order) whose saved `cls` map is not newer than a label or prediction file of a
    class it is restricted to (`region_classes`) on that image, or whose region came from a prediction thresholded
    at another value than `threshold` (provenance.json's REGION_THRESHOLD; none recorded: the region was labels only,
    so one that now comes from a prediction, its label deleted, changed): the region it was predicted in may have
    changed."""
    sources = region_classes(project, cls)
    made_at = read_provenance(project, cls) if sources else {}

    def changed(stem: str) -> bool:
        made = _mtime(project.prediction_path(cls, stem))
        if made is None:
            return True
        if not _at(made_at.get(stem, {}).get(REGION_THRESHOLD), threshold) and not all(
                project.label_path(c, stem).is_file() for c in sources):  # a predicted region moves with it
            return True
        times = (_mtime(path_of(c, stem)) for c in sources for path_of in (project.label_path, project.prediction_path))
        return any(t is not None and t >= made for t in times)  # the same tick counts as newer: never miss a change

    return [stem for stem in project.stems if stem in stems and changed(stem)] if sources else []


def outdated_scores(project: Project, cls: str, threshold: float, stems: Collection[str]) -> list[str]:
    """The labelled images among `stems` whose saved scores no longer hold at `threshold` (`standing_scores`:
    missing, made at another threshold, or older than their label or prediction file)."""
    standing = standing_scores(project, cls, threshold)[0]
    return [stem for stem in project.labelled_stems(cls) if stem in stems and stem not in standing]


def unscored_labels(project: Project, cls: str) -> list[str]:
    """The labelled images (project order) with a readable saved `cls` map (`readable_map`) whose score in
    metrics.json is missing or not newer than their label, their map or, for a class inside another (roi_class), that
    class's label and map: a label saved as the window closed, or written by another program meanwhile. Their maps
    re-score them (workers.training.rescore_class); scores made at another threshold are the image list's to see."""
    since = _mtime(project.metrics_path(cls))
    saved = project.load_metrics(cls) if since is not None else {}
    regions = region_classes(project, cls)

    def outdated(stem: str) -> bool:
        if stem not in saved or since is None:
            return True
        times = [_mtime(path_of(c, stem)) for c in (cls, *regions)
                 for path_of in (project.label_path, project.prediction_path)]
        return any(t is not None and t >= since for t in times)

    return [stem for stem in project.labelled_stems(cls) if outdated(stem) and readable_map(project, cls, stem)]


def _mtime(path: Path) -> int | None:
    """`path`'s modification time in ns; None when it does not exist (or cannot be read)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def predict_unmade(project: Project, cls: str, *, threshold: float = 0.5, **predict: Any
                   ) -> dict[str, dict[str, float]]:
    """`pipeline.predict_class` (its keyword arguments `predict`) on the images the current model has not made a
    readable prediction of (`unmade_by`) or whose region changed since (`region_changed`; where the region class
    has no label or prediction yet, its model predicts it first: pipeline.predict_missing_regions), after the other
    labelled images whose scores are out of date (`outdated_scores`) are re-scored from their saved maps at
    `threshold` (one whose map cannot be decoded is predicted instead) and metrics.json drops the images no longer
    labelled. The maps and uncertainty scores of the other images are left as they are. Returns the metrics of the
    whole class."""
    model_id = (project.current_model_info(cls) or {}).get("id")
    pipeline.predict_missing_regions(project, cls, project.stems, should_stop=predict.get("should_stop"),
                                     threshold=threshold, skipped=predict.get("skipped"))
    unmade = unmade_by(project, cls, model_id)
    moved = region_changed(project, cls, set(project.stems) - set(unmade), threshold)
    todo = [s for s in project.stems if s in unmade or s in moved]
    rescore = outdated_scores(project, cls, threshold, set(project.stems) - set(todo))
    labelled, saved = set(project.labelled_stems(cls)), project.load_metrics(cls)
    metrics = {s: m for s, m in saved.items() if s in labelled and s not in rescore}
    if rescore:
        scored = pipeline.rethreshold_class(project, cls, threshold, should_stop=predict.get("should_stop"),
                                            only=rescore)
        metrics.update(scored)
        todo = [s for s in project.stems if s in todo or (s in rescore and s not in scored)]
    regions = " or ".join(f"'{c}'" for c in region_classes(project, cls))
    log.info("the current %s model %s made %d of the %d saved predictions: %d image(s) to predict (%d missing or "
             "not made by it%s), %d re-scored", cls, model_id, len(project.stems) - len(unmade), len(project.stems),
             len(todo), len(unmade), f", {len(moved)} whose {regions} region changed since" if regions else "",
             len(rescore))
    if rescore or set(saved) - set(metrics):
        project.save_metrics(cls, metrics)
    return pipeline.predict_class(project, cls, todo, threshold=threshold, **predict) if todo else metrics


def standing_scores(project: Project, cls: str, threshold: float, changed: Collection[str] = ()
                    ) -> tuple[dict[str, dict], UncertaintyScores]:
    """The saved scores of `cls` that still hold at `threshold`: (metrics, uncertainty) of the images whose both were
    made at `threshold`, whose label is not `changed` and whose label and prediction files are older than
    metrics.json and uncertainty.json; none for a class whose region depends on the threshold (a roi_class)."""
    paths = (project.metrics_path(cls), project.uncertainty_path(cls))
    if project.class_spec(cls).roi_class is not None or not all(path.is_file() for path in paths):
        return {}, UncertaintyScores()
    since = min(path.stat().st_mtime_ns for path in paths)
    old, unsure, labelled = project.load_metrics(cls), project.load_uncertainty(cls), set(project.labelled_stems(cls))

    def holds(stem: str) -> bool:
        made = [unsure.thresholds.get(stem), *([old[stem].get("threshold")] if stem in old else [])]
        if stem in changed or (stem in labelled) != (stem in old) or not all(_at(t, threshold) for t in made):
            return False
        files = [project.prediction_path(cls, stem), *([project.label_path(cls, stem)] if stem in labelled else [])]
        try:
            return all(path.stat().st_mtime_ns < since for path in files)
        except OSError:  # removed meanwhile
            return False

    kept = [stem for stem in project.stems if holds(stem)]
    return {stem: old[stem] for stem in kept if stem in old}, unsure.only(kept)


def _at(made: object, threshold: float) -> bool:
    """A score's recorded threshold (None: unknown, an older version's) is `threshold`."""
    return isinstance(made, (int, float)) and abs(made - threshold) < 1e-6
