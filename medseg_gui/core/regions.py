"""Two-stage segmentation: the region a class is trained, predicted and scored in when it names another class as
its region of interest (`roi_class` in project.json, e.g. a lesion inside the cervix).

The rule, in this one place (the pipeline uses it through `Project.class_roi`, the canvas with its live labels):
    region(c) = the image's ROI (None = whole image)                  for a class without roi_class
    region(c) = region(r) ∩ outline(r), r = roi_class of c            otherwise
    outline(r) = r's label on this image (a clinician's outline wins), else r's prediction >= threshold
With neither a label nor a prediction of r on the image, RegionUnknownError: the caller decides what to do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from medseg_gui.core.errors import RegionUnknownError

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
