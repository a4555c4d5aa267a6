"""Optional clean-up of a thresholded prediction: fill holes inside predicted objects, drop specks (connected
components smaller than a fraction of the image). Each lesion model chooses its own clean-up on its validation images
(`choose`, called by ml/train.py) and records it in its metadata; the Segmenter then applies it to the probability
map (`apply`) so that every consumer that thresholds at the model's threshold (overlays, metrics, export) sees the
cleaned mask. A dropped speck's probabilities are lowered to below the threshold, a filled hole's raised to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from scipy import ndimage

from medseg_gui.core.metrics import dice


@dataclass(frozen=True)
class PostProcess:
    """`fill_holes`: background enclosed by a predicted object becomes object; `min_area`: predicted components
    with fewer pixels than this fraction of the image are dropped (0 = keep all)."""

    fill_holes: bool = False
    min_area: float = 0.0

    @property
    def active(self) -> bool:
        return self.fill_holes or self.min_area > 0.0

    def describe(self) -> str:
        parts = (["fill holes"] if self.fill_holes else []) + (
            [f"drop specks under {self.min_area:.2%} of the image"] if self.min_area > 0 else [])
        return ", ".join(parts) or "none"

    def to_json(self) -> dict[str, Any]:
        return {"fill_holes": self.fill_holes, "min_area": self.min_area}

    @classmethod
    def from_json(cls, value: Any) -> PostProcess:
        """The PostProcess a model's metadata describes; ValueError for anything else."""
        if not isinstance(value, dict) or not isinstance(value.get("fill_holes", False), bool):
            raise ValueError(f"not a post-processing description: {value!r}")
        area = value.get("min_area", 0.0)
        if isinstance(area, bool) or not isinstance(area, (int, float)) or not 0.0 <= area < 1.0:
            raise ValueError(f"'min_area' must be a fraction from 0 to below 1, not {area!r}")
        return cls(bool(value.get("fill_holes", False)), float(area))


# what a lesion model may choose from (none first: it wins ties)
CANDIDATES = tuple(PostProcess(fill, area) for fill in (False, True) for area in (0.0, 1e-4, 1e-3, 4e-3))
MIN_GAIN = 0.005  # mean validation Dice a clean-up (or the mirrored-image average, ml/train.py) must add


def wins(dices: Sequence[float], base: Sequence[float]) -> bool:
    """Whether per-image validation Dice `dices` beat `base` (the same images without the option) clearly enough to
    choose the option: a mean gain of at least MIN_GAIN and at least twice its standard error across the images
    (a gain that one image makes alone is exactly one standard error, whatever the number of images), on at least
    three images (one or two never show it). (Measured:
    six C1 runs with 20 photos, 4 validation images each, chose options worth +0.005 or more on validation by the mean
    alone; on the test photos they changed Dice by +0.010, -0.047, 0, +0.001, +0.003 and -0.004.)"""
    gain = np.asarray(dices, np.float64) - np.asarray(base, np.float64)
    if gain.size < 3:
        return False
    mean = float(gain.mean())
    return mean >= MIN_GAIN and mean >= 2.0 * float(gain.std(ddof=1)) / np.sqrt(gain.size)


def clean_mask(mask: np.ndarray, pp: PostProcess) -> np.ndarray:
    """bool HxW `mask` after the clean-up (a new array)."""
    out = np.asarray(mask, bool).copy()
    if pp.fill_holes and out.any():
        out = ndimage.binary_fill_holes(out)
    if pp.min_area > 0.0 and out.any():
        n, labels, stats, _ = cv2.connectedComponentsWithStats(out.view(np.uint8), connectivity=8)
        small = stats[:, cv2.CC_STAT_AREA] < pp.min_area * out.size
        small[0] = False  # the background
        if small.any():
            out[small[labels]] = False
    return out


def _or_pool(a: np.ndarray, f: int, axis: int) -> np.ndarray:
    """uint8 0/1 `a` OR-pooled by `f` along `axis` (0 or 1); a last, shorter group where the length is no multiple."""
    n = a.shape[axis]
    whole = n - n % f
    body = a[:whole] if axis == 0 else a[:, :whole]
    shape = (whole // f, f, a.shape[1]) if axis == 0 else (a.shape[0], whole // f, f)
    out = np.bitwise_or.reduce(body.reshape(shape), axis=axis + 1)
    if whole < n:
        rest = np.bitwise_or.reduce(a[whole:] if axis == 0 else a[:, whole:], axis=axis, keepdims=True)
        out = np.concatenate([out, rest], axis=axis)
    return out


SPECK_WORK_PIXELS = 1 << 20  # larger masks are searched for specks on an OR-pooled copy of about this many pixels


def specks(mask: np.ndarray, max_area: float, work_pixels: int = SPECK_WORK_PIXELS) -> tuple[np.ndarray, int]:
    """The 8-connected components of bool `mask` smaller than `max_area` × its pixels, as one bool mask, and how
    many there are.

    A mask over `work_pixels` pixels is searched on a copy pooled by f × f (a pooled pixel is set when any of its
    pixels is; f the smallest integer that brings it under `work_pixels`): an 8000² mask took 0.8 s exactly, which
    Accept prediction spent on the GUI thread. A pooled component small enough holds only small components, so every
    pixel returned belongs to a speck; a speck within f pixels of another region pools into it and is not returned,
    and specks within f pixels of each other are counted as one."""
    m = np.ascontiguousarray(np.asarray(mask, bool)).view(np.uint8)
    if max_area <= 0.0 or not m.any():
        return np.zeros(m.shape, bool), 0
    f = max(1, math.ceil(math.sqrt(m.size / work_pixels)))
    if f == 1:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        small = stats[:, cv2.CC_STAT_AREA] < max_area * m.size
        small[0] = False  # the background
        return small[labels], int(small.sum())
    H, W = m.shape
    pooled = np.ascontiguousarray(_or_pool(_or_pool(m, f, 0), f, 1))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(pooled, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] * (f * f) < max_area * m.size  # pooled area * f² bounds the true area
    small[0] = False
    if small.sum() > 1000:  # a noisy map: one pass over the image beats a loop over thousands of boxes
        up = cv2.resize(small[labels].view(np.uint8), (labels.shape[1] * f, labels.shape[0] * f),
                        interpolation=cv2.INTER_NEAREST)[:H, :W]
        return up.view(bool) & m.view(bool), int(small.sum())
    out = np.zeros(m.shape, bool)
    for i in np.flatnonzero(small):
        x, y, w, h = stats[i, :4]
        inside = np.repeat(np.repeat(labels[y:y + h, x:x + w] == i, f, axis=0), f, axis=1)
        ys, xs = slice(y * f, min(H, (y + h) * f)), slice(x * f, min(W, (x + w) * f))
        out[ys, xs] |= inside[:ys.stop - ys.start, :xs.stop - xs.start] & m[ys, xs].view(bool)
    return out, int(small.sum())  # specks closer than f pixels to each other count as one


def apply(prob: np.ndarray, threshold: float, pp: PostProcess) -> np.ndarray:
    """float HxW probabilities such that `>= threshold` gives clean_mask(prob >= threshold): dropped pixels are
    lowered to 0.9 x threshold, added pixels raised to just above it; the rest is unchanged."""
    if not pp.active:
        return prob
    before = prob >= threshold
    after = clean_mask(before, pp)
    out = np.array(prob, np.float32, copy=True)
    out[before & ~after] = np.minimum(out[before & ~after], 0.9 * threshold)
    out[after & ~before] = min(1.0, threshold + 1e-4)
    return out


def choose(probs: list[np.ndarray], truths: list[np.ndarray], scored: list[np.ndarray | None], threshold: float
           ) -> tuple[PostProcess, np.ndarray, np.ndarray]:
    """(the candidate with the best mean Dice at `threshold` among those that clearly beat none on these validation
    images (`wins`; else none), its per-image Dice, the per-image Dice without clean-up)."""
    masks = [p >= threshold for p in probs]
    per = [np.array([dice(clean_mask(m, pp), t, s) for m, t, s in zip(masks, truths, scored)]) for pp in CANDIDATES]
    best = max((i for i in range(len(CANDIDATES)) if i == 0 or wins(per[i], per[0])), key=lambda i: per[i].mean())
    return CANDIDATES[best], per[best], per[0]
