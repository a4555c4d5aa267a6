"""Optional clean-up of a thresholded prediction: fill holes inside predicted objects, drop specks (connected
components smaller than a fraction of the image). Each lesion model chooses its own clean-up on its validation images
(`choose`, called by ml/train.py) and records it in its metadata; the Segmenter then applies it to the probability
map (`apply`) so that every consumer that thresholds at the model's threshold (overlays, metrics, export) sees the
cleaned mask. A dropped speck's probabilities are lowered to below the threshold, a filled hole's raised to it.
"""

from __future__ import annotations

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
MIN_GAIN = 0.005  # mean validation Dice a clean-up must add to be chosen over none


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
           ) -> tuple[PostProcess, float, float]:
    """(the candidate with the best mean Dice at `threshold` on these validation images, that Dice, the Dice
    without clean-up). A clean-up is chosen only when it adds at least MIN_GAIN."""
    masks = [p >= threshold for p in probs]
    means = [float(np.mean([dice(clean_mask(m, pp), t, s) for m, t, s in zip(masks, truths, scored)]))
             for pp in CANDIDATES]
    best = int(np.argmax(means))
    if means[best] < means[0] + MIN_GAIN:
        best = 0
    return CANDIDATES[best], means[best], means[0]
