"""Read the recipe from the labels: thin structures (vessels) or blobs (lesions), their width, the working scale.

No Keras here (numpy + SciPy/scikit-image), so the GUI and tests can call it cheaply.

- Per connected component: area A and largest inscribed diameter d (twice the distance transform's maximum).
  Its elongation A / d**2 is about 0.8 for a disc, 1-3 for a lesion, and far above 10 for a vessel tree.
- The area-weighted median elongation decides the regime (`THIN_ELONGATION`): thin lines dominate a vessel label's
  area, so isolated specks do not tip it.
- Width: the area-weighted median inscribed diameter (for thin structures: of their widest branch point).
- Scale (lesions): shrink until a typical lesion is `TARGET_WIDTH` px across, but keep the long side of the image at
  least `MIN_LONG_SIDE` px and never enlarge. A 300 px polyp on a 1350 px photo becomes ~32 px on a ~150 px... no:
  the long-side floor keeps it at 320 px, so ~70 px. Vessels stay at full resolution (their width is a few px).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from scipy import ndimage as ndi

from medseg_gui.ml.config import Recipe

THIN_ELONGATION = 6.0
TARGET_WIDTH = 32.0
MIN_LONG_SIDE = 320
_MAX_MASKS = 12  # labels measured (evenly spread); enough for a stable median, bounded cost on big projects
_MAX_PIXELS = 1_500_000  # bigger masks are measured on a subsampled grid (widths scaled back)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(areas, inscribed diameters) of the 8-connected components of `mask`."""
    lab, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros(0), np.zeros(0)
    dt = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    fg = lab > 0
    labels, dist = lab[fg], dt[fg]
    order = np.argsort(labels, kind="stable")
    labels, dist = labels[order], dist[order]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    areas = np.diff(np.r_[starts, labels.size]).astype(np.float64)
    diam = 2.0 * np.maximum.reduceat(dist, starts).astype(np.float64)
    return areas, diam


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
        a, d = _components(m[::step, ::step].astype(bool))
        areas.append(a * step * step)
        diams.append(d * step)
    area, diam = np.concatenate(areas), np.concatenate(diams)
    elongation = _weighted_median(area / np.maximum(diam, 1.0) ** 2, area)
    width = _weighted_median(diam, area)
    if elongation > THIN_ELONGATION:
        return Recipe("vessels", width, elongation, 1.0)
    sides = list(image_sides) if image_sides else [max(m.shape) for m in masks if m is not None]
    floor = MIN_LONG_SIDE / max(1.0, float(np.median(sides)))
    scale = float(min(1.0, max(TARGET_WIDTH / max(width, 1.0), floor)))
    return Recipe("lesions", width, elongation, round(scale, 4))
