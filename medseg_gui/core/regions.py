"""Two-stage segmentation: the region a class is trained, predicted and scored in when it names another class as
its region of interest (`roi_class` in project.json, e.g. a lesion inside the cervix).

The rule, in this one place (the pipeline uses it through `Project.class_roi`, the canvas with its live labels):
    region(c) = the image's ROI (None = whole image)                  for a class without roi_class
    region(c) = region(r) ∩ outline(r), r = roi_class of c            otherwise
    outline(r) = r's label on this image (a clinician's outline wins), else r's prediction >= threshold
With neither a label nor a prediction of r on the image, RegionUnknownError: the caller decides what to do.
A label is scored only inside its class's region (`label_scores`): not at all where that region is empty or the label
lies wholly outside it (core.metrics.scorable), with the reason in its metrics entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from medseg_gui.core.errors import MedsegError, RegionUnknownError
from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.core.label_status import JUDGE_DICE, judges
from medseg_gui.core.lesions import per_image_metrics
from medseg_gui.core.masks import scored_region
from medseg_gui.core.metrics import NOT_SCORED, scorable
from medseg_gui.core.score_text import fmt_score

MaskLookup = Callable[[str], "np.ndarray | None"]

# Share of an image's label pixels outside its class's region above which the run says so: training and scores use
# only the part inside, and a quarter lost is more than an outline drawn a little wide (a trial lost 64 % silently).
MOSTLY_OUTSIDE = 0.25


def class_region(
    cls: str,
    roi_class_of: Callable[[str], str | None],
    image_roi: np.ndarray | None,
    label: MaskLookup,
    prediction: MaskLookup,
    threshold: float = 0.5,
) -> np.ndarray | None:
    """bool HxW region of `cls` on one image, or None (= the whole image).

    `roi_class_of(c)` is c's roi_class or None; `label(c)` / `prediction(c)` are c's bool label / float32
    probabilities on this image or None. roi_class chains (lesion → cervix → FOV ROI) are followed; project.json
    validation guarantees they have no circles.
    """
    parent = roi_class_of(cls)
    if parent is None:
        return image_roi
    outer = class_region(parent, roi_class_of, image_roi, label, prediction, threshold)
    outline = label(parent)
    if outline is None:
        prob = prediction(parent)
        if prob is None:
            raise RegionUnknownError(
                f"'{cls}' is restricted to the '{parent}' region, but '{parent}' has no label or prediction on this "
                f"image yet", parent)
        outline = prob >= threshold
    outline = np.asarray(outline, dtype=bool)
    return outline if outer is None else outline & outer


def outside_share(mask: np.ndarray, region: np.ndarray | None) -> float:
    """Share (0–1) of the True pixels of bool HxW `mask` outside bool HxW `region` (None = whole image: 0)."""
    total = int(np.count_nonzero(mask))
    if region is None or total == 0:
        return 0.0
    return float(np.count_nonzero(mask & ~region)) / total


def region_classes(project, cls: str) -> list[str]:
    """The classes `cls` is restricted to, innermost first: its roi_class, that one's, … (validation guarantees
    project.json has no circles)."""
    chain, parent = [], project.class_spec(cls).roi_class
    while parent is not None:
        chain.append(parent)
        parent = project.class_spec(parent).roi_class
    return chain


def unknown_regions(project, cls: str) -> tuple[str | None, list[str]]:
    """(the roi_class of `cls`, the images on which its region stays unknown even once a Retrain of `cls` has had
    the roi_class's model predict it: no label or prediction of the roi_class there, and no model of it). (None, [])
    for a class without roi_class; [] when the roi_class has a model. A Retrain of `cls` trains and predicts it over
    the whole of those images (training_data.class_region), which the window asks about first (a trial's lesion
    was predicted over 6 of 12 photos with only a status-bar line to say so)."""
    parent = project.class_spec(cls).roi_class
    if parent is None or project.current_model_info(parent) is not None:
        return parent, []
    return parent, [stem for stem in project.stems
                    if not project.has_label(parent, stem) and not project.prediction_path(parent, stem).is_file()]


def restriction_text(cls: str, roi_class: str | None) -> str:
    """What setting `cls`'s roi_class says, in the window and in `medseg classes`: "'lesion' is restricted to
    cervix", or for None "'lesion' covers the whole image again"."""
    return f"'{cls}' is restricted to {roi_class}" if roi_class else f"'{cls}' covers the whole image again"


def region_source(project, cls: str, stem: str) -> str:
    """'labelled' when the region of two-stage `cls` on `stem` is its roi_class's complete label, else 'predicted'
    (Project.class_roi: a sparse or unreadable label is no outline)."""
    try:
        pixels = project.load_label_pixels(project.class_spec(cls).roi_class, stem)
    except MedsegError:
        pixels = None
    return "labelled" if pixels is not None and pixels.annotated is None else "predicted"


def label_scores(project, cls: str, stem: str, prob: np.ndarray, label: LabelPixels, roi: np.ndarray | None,
                 threshold: float, auc: float | None = None) -> dict:
    """core.lesions.per_image_metrics of `prob` against `label` of `cls` on `stem` inside its region `roi` (a sparse
    label: its annotated pixels only); where it cannot be scored (core.metrics.scorable), NaN with the reason in
    words under core.metrics.NOT_SCORED, which the image list's tooltip and `medseg evaluate` show."""
    scored = scored_region(roi, label.annotated)
    scores = per_image_metrics(prob, label.mask, scored, threshold, auc)
    if not scorable(label.mask, scored):
        scores[NOT_SCORED] = unscored_reason(project, cls, stem, label, roi)
    return scores


def unscored_reason(project, cls: str, stem: str, label: LabelPixels, roi: np.ndarray | None) -> str:
    """Why `label` of `cls` on `stem` is not scored in its region `roi` (`label_scores`): "its 'cervix' region is empty
    here (predicted), and its lesion label lies outside it"."""
    parent = project.class_spec(cls).roi_class
    where = f"its '{parent}' region" if parent else "the image's region of interest"
    how = f" ({region_source(project, cls, stem)})" if parent else ""
    if roi is not None and not roi.any():
        return f"{where} is empty here{how}" + (f", and its {cls} label lies outside it" if label.mask.any() else "")
    if label.mask.any():
        return f"its {cls} label lies wholly outside {where}{how}"
    return f"its annotated pixels lie outside {where}{how}"


def weak_region_note(project, cls: str, stems: Sequence[str]) -> tuple[str, ...]:
    """One note when the region of two-stage `cls` on some of `stems` is its roi_class's prediction and that class's
    current model validated under Dice label_status.JUDGE_DICE (a trial's lesion was trained, scored and exported
    only inside the specks of a cervix model at Dice 0.11, and nothing said so); () otherwise."""
    parent = project.class_spec(cls).roi_class
    info = project.current_model_info(parent) if parent is not None else None
    if info is None or judges(info):
        return ()
    predicted = [s for s in stems if project.prediction_path(parent, s).is_file()
                 and region_source(project, cls, s) == "predicted"]
    if not predicted:
        return ()
    n, names = len(predicted), ", ".join(predicted[:3]) + (", …" if len(predicted) > 3 else "")
    return (f"the '{parent}' region on {n} image{'' if n == 1 else 's'} ({names}) comes from the {parent} model, "
            f"which validated at Dice {fmt_score(info['val_dice'], 2)} (under {JUDGE_DICE:g}): outline the {parent} "
            f"on {'it' if n == 1 else 'them'} or retrain {parent} first",)
