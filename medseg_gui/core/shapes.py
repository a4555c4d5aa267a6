"""What the objects of a mask look like: per connected component its area and largest inscribed diameter, and from
those whether the mask is made of thin structures (vessels) or blobs (lesions). numpy + OpenCV + SciPy only, so the
training recipe (ml/regime.py) and the GUI's label rules (core/label_status.py) read shapes the same way.

Elongation A / d**2 (area over squared inscribed diameter) is about 0.8 for a disc, 1-3 for a lesion and far above 10
for a vessel tree; the area-weighted median over components keeps isolated specks from tipping it.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi

THIN_ELONGATION = 6.0  # above this (area-weighted median elongation) a mask is thin structures


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def component_sizes(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(areas, inscribed diameters), float64, of the 8-connected components of bool HxW `mask`. Measured inside the
    bbox of its pixels and a one-pixel margin (where the image has one), which holds every pixel's nearest background
    pixel: the same numbers, and a few strokes on a large label cost little."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return np.zeros(0), np.zeros(0)
    mask = mask[max(rows[0] - 1, 0):rows[-1] + 2, max(cols[0] - 1, 0):cols[-1] + 2]
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


def elongation(areas: np.ndarray, diams: np.ndarray) -> float:
    """Area-weighted median of A / d**2 over components (module doc); NaN without a component."""
    if areas.size == 0:
        return float("nan")
    return weighted_median(areas / np.maximum(diams, 1.0) ** 2, areas)


def is_thin(mask: np.ndarray, max_pixels: int = 250_000) -> bool | None:
    """Whether bool HxW `mask` is thin structures (vessels); None when it is empty. Masks above `max_pixels` are
    measured on a subsampled grid (a 1 M pixel vessel tree: about 40 ms; its thick vessels stay connected)."""
    step = int(np.ceil(np.sqrt(mask.size / max_pixels)))
    sub = np.asarray(mask[::step, ::step], bool)
    if not sub.any():
        return None
    return bool(elongation(*component_sizes(sub)) > THIN_ELONGATION)
