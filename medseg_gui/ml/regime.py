"""Read the recipe from the labels: thin structures (vessels) or blobs (lesions), their width, the working scale.

No Keras here (numpy + SciPy/scikit-image), so the GUI and tests can call it cheaply.

- Per connected component: area A and largest inscribed diameter d; the area-weighted median elongation A / d**2
  decides the regime (core/shapes.py, shared with the GUI's label rules).
- Width: the area-weighted median inscribed diameter (for thin structures: of their widest branch point).
- Scale (lesions): shrink until a typical lesion is `TARGET_WIDTH` px across, but keep the median long side of the
  images at least `MIN_LONG_SIDE` px and never enlarge: a 300 px polyp on a 1350 px photo would be shrunk 9x, but the
  floor stops at 0.237 (a 320 px long side), so it is ~70 px across. One scale for every image of a run: a per-image
  floor (smaller images worked at their own 320 px) was measured and lost (docs/BENCHMARKS.md, session 30).
  Vessels stay at full resolution (their width is a few px).
- Sparse labels (strokes): a foreground stroke is narrower than its lesion, so strokes bound the scale from above;
  background strokes closed around every painted lesion (or the ROI's edge) hold the whole lesions inside them, so
  the regions they enclose (`enclosures`) bound the scale from below (`labels_recipe` uses both).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy import ndimage as ndi

from medseg_gui.core.shapes import THIN_ELONGATION, component_sizes, elongation, weighted_median
from medseg_gui.ml.config import Recipe, TrainConfig
from medseg_gui.ml.init import InitWeights, shipped_init
from medseg_gui.ml.samples import Sample

log = logging.getLogger(__name__)

TARGET_WIDTH = 32.0
MIN_LONG_SIDE = 320
_MAX_MASKS = 12  # labels measured (evenly spread); enough for a stable median, bounded cost on big projects
_MAX_PIXELS = 1_500_000  # bigger masks are measured on a subsampled grid (widths scaled back)


def read_recipe(masks: Sequence[np.ndarray], image_sides: Sequence[int] | None = None) -> Recipe | None:
    """The regime, width and working scale for these bool HxW labels; None when no label has a foreground pixel.

    `image_sides` are the images' long sides (defaults to the masks'); the scale keeps their median above
    `MIN_LONG_SIDE` px."""
    picked = [m for m in masks if m is not None and m.any()]
    if not picked:
        return None
    if len(picked) > _MAX_MASKS:
        picked = [picked[i] for i in np.linspace(0, len(picked) - 1, _MAX_MASKS).round().astype(int)]
    areas, diams = [], []
    for m in picked:
        step = int(np.ceil(np.sqrt(m.size / _MAX_PIXELS)))
        a, d = component_sizes(m[::step, ::step].astype(bool))
        areas.append(a * step * step)
        diams.append(d * step)
    area, diam = np.concatenate(areas), np.concatenate(diams)
    elong = elongation(area, diam)
    width = weighted_median(diam, area)
    if elong > THIN_ELONGATION:
        return Recipe("vessels", width, elong, 1.0)
    sides = list(image_sides) if image_sides else [max(m.shape) for m in masks if m is not None]
    return Recipe("lesions", width, elong, lesion_scale(width, sides))


def lesion_scale(width: float, image_sides: Sequence[int]) -> float:
    """The working scale for lesions `width` px across on images with these long sides (module doc)."""
    floor = MIN_LONG_SIDE / max(1.0, float(np.median(image_sides)))
    return round(float(min(1.0, max(TARGET_WIDTH / max(width, 1.0), floor))), 4)


def enclosures(mask: np.ndarray, annotated: np.ndarray, roi: np.ndarray | None = None) -> np.ndarray | None:
    """Bool HxW: the regions that a sparse label's background strokes (with the ROI's edge) close around its
    foreground strokes (bool HxW `mask` inside the `annotated` pixels). A lesion is connected and holds no background
    pixel, so each lies wholly inside the region around its strokes: the regions are lesions' upper bounds. None
    unless every foreground stroke is enclosed: a lesion left open (its ring not closed, or it runs off the image) is
    bounded by nothing, and the enclosed ones alone could be its smaller neighbours."""
    mask = np.asarray(mask, bool)
    wall = np.asarray(annotated, bool) & ~mask
    if roi is not None:
        wall |= ~np.asarray(roi, bool)
    inside = ndi.binary_fill_holes(wall) & ~wall
    if not mask.any() or not inside[mask].all():
        return None
    lab, _ = ndi.label(inside, structure=np.ones((3, 3), bool))
    return np.isin(lab, np.unique(lab[mask]))


def labels_recipe(samples: list[Sample], config: TrainConfig, init: InitWeights | None = None) -> Recipe | None:
    """What a run's labels say (regime, object width, working scale), for presets that adapt to it (None for the
    others). Complete labels are measured when there are any; with sparse labels only, `_sparse_lesion_scale` sets a
    lesion run's scale; `init`: the weights the run continues from (config.init "auto" / "current")."""
    preset = config.resolved()
    if not (preset.adapt or preset.auto_scale):
        return None
    complete = [s for s in samples if s.annotated is None]
    measured = complete or samples
    sides = [max(s.image.shape[:2]) for s in measured]
    recipe = read_recipe([s.mask for s in measured], sides)
    if recipe is not None and not complete and recipe.regime == "lesions":
        given = init is not None and init.scale is not None and config.init in ("auto", "current")
        recipe = replace(recipe, scale=_sparse_lesion_scale(recipe.scale, measured, sides,
                                                            init if given else shipped_init("lesions")))
    if recipe is not None:
        width = "typical width" if recipe.regime == "lesions" else "widest part"  # (module doc: Width)
        log.info("labels read as %s: %s %.0f px, elongation %.1f, working scale %.3g", recipe.regime, width,
                 recipe.width, recipe.elongation, recipe.scale)
    return recipe


def _sparse_lesion_scale(strokes_scale: float, samples: list[Sample], sides: list[int],
                         start: InitWeights | None) -> float:
    """The working scale of a lesion run on sparse labels only (module doc). Strokes are narrower than the lesion they
    lie in, so their scale is an upper bound; background strokes closed around every painted lesion enclose the
    lesions, so the enclosures' scale is a lower bound (`_ring_scale`). Between the two, the `start`'s lesions set it
    (the current model when the run continues from it, else the shipped lesion start). A start records its working
    scale, which may have been its own images' long-side floor: the width that scale implies is applied to these
    images' sides (`lesion_scale`), so a start from 1920 px photos does not hold 1350 px ones below their floor."""
    scale = strokes_scale
    if start is not None and start.scale is not None:
        scale = min(scale, lesion_scale(TARGET_WIDTH / start.scale, sides))
    bound = _ring_scale(samples, sides)
    return scale if bound is None else max(scale, bound)


def _ring_scale(samples: list[Sample], sides: list[int]) -> float | None:
    """The lesion scale of the regions background rings enclose, when every painted lesion of every label has one;
    None as soon as one label has a lesion left open (the rest are not measured)."""
    rings = []
    for s in samples:
        if s.mask.any():
            if (ring := enclosures(s.mask, s.annotated, s.roi)) is None:
                return None
            rings.append(ring)
    bound = read_recipe(rings, sides)
    return bound.scale if bound is not None and bound.regime == "lesions" else None
