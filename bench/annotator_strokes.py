"""The simulated clinician's strokes for bench/annotator.py (numpy + OpenCV + scikit-image, no Keras).

A stroke is what one drag or click of a brush paints: a disc, a line along a vessel or a band around a lesion. Every
stroke is cut to the class it claims (foreground strokes to the truth, background strokes to its complement, both
to the region of interest), so a simulated label is never wrong: it is sparse, not noisy.

- `first_strokes` (an image seen for the first time):
  lesions: `discs` discs inside each lesion (radius 30 % of its inscribed radius, centres spread by farthest-point
  sampling), one band of background around it (starting 10 % of its inscribed radius outside its edge, `band` (15 %)
  of that radius wide, at least 3 px) and `bg_discs` discs on open background (2.5 % of the long side; a frame
  without a lesion gets one more);
  vessels: 1-px-radius lines along the `lines` longest vessel segments at least 4 px wide (skeleton pieces between
  branch points), a line of background 2-4 px beside each of them, and `bg_discs` background discs of radius 5.
- `corrections` (an image already labelled, given the current prediction): the `n` largest wrong regions not yet
  annotated (missed object: foreground stroke; false object: background stroke), one stroke each: a disc filling
  the region's widest point (lesions; at most 4 % of the long side across) or a 1-px line along its skeleton within
  4 % of the long side of that point (vessels: one drag, not a trace of a whole speckled region).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.morphology import skeletonize

REGIMES = ("lesions", "vessels")


@dataclass
class Annotation:
    """A sparse label: bool HxW `fg` (painted object) and `bg` (painted background), never overlapping; `strokes`
    painted so far."""

    fg: np.ndarray
    bg: np.ndarray
    strokes: int = 0

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> Annotation:
        return cls(np.zeros(shape[:2], bool), np.zeros(shape[:2], bool))

    @property
    def annotated(self) -> np.ndarray:
        return self.fg | self.bg

    def paint(self, pixels: np.ndarray, allowed: np.ndarray, foreground: bool) -> bool:
        """Add one stroke of `pixels` cut to `allowed`; False (nothing counted) when nothing is left of it."""
        pixels = pixels & allowed
        if not pixels.any():
            return False
        (self.fg if foreground else self.bg)[pixels] = True
        (self.bg if foreground else self.fg)[pixels] = False
        self.strokes += 1
        return True


def _u8(mask: np.ndarray) -> np.ndarray:
    return mask.astype(np.uint8)


def _inside_distance(mask: np.ndarray) -> np.ndarray:
    """float32 HxW: distance of each mask pixel to the nearest pixel outside it (0 outside)."""
    padded = cv2.copyMakeBorder(_u8(mask), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # the image edge is outside
    return cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def _outside_distance(mask: np.ndarray) -> np.ndarray:
    """float32 HxW: distance of each pixel to the nearest mask pixel (inf when the mask is empty)."""
    if not mask.any():
        return np.full(mask.shape, np.inf, np.float32)
    return cv2.distanceTransform(_u8(~mask), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _disc(shape: tuple[int, ...], centre: tuple[int, int], radius: int) -> np.ndarray:
    out = np.zeros(shape[:2], np.uint8)
    cv2.circle(out, (int(centre[1]), int(centre[0])), int(radius), 1, thickness=-1)
    return out.astype(bool)


def _spread(candidates: np.ndarray, n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Up to `n` of the (y, x) `candidates`: a random first one, then each the farthest from those already taken."""
    if len(candidates) == 0:
        return []
    picked = [candidates[rng.integers(len(candidates))]]
    nearest = np.full(len(candidates), np.inf)
    while len(picked) < min(n, len(candidates)):
        nearest = np.minimum(nearest, ((candidates - picked[-1]) ** 2).sum(axis=1))
        picked.append(candidates[int(np.argmax(nearest))])
    return [(int(y), int(x)) for y, x in picked]


def _components(mask: np.ndarray, min_area: int = 1) -> list[np.ndarray]:
    """The 8-connected components of `mask` with at least `min_area` pixels, largest first."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(_u8(mask), connectivity=8)
    order = sorted(range(1, n), key=lambda i: -stats[i, cv2.CC_STAT_AREA])
    return [lab == i for i in order if stats[i, cv2.CC_STAT_AREA] >= min_area]


def _background_discs(ann: Annotation, truth: np.ndarray, roi: np.ndarray, n: int, radius: int,
                      rng: np.random.Generator) -> None:
    """`n` discs of background spread over the pixels at least 2 radii from any object and inside the ROI."""
    free = (_outside_distance(truth) > 2 * radius) & (_inside_distance(roi) > radius)
    step = max(1, radius // 2)  # a coarse grid keeps farthest-point sampling cheap on big images
    ys, xs = np.nonzero(free[::step, ::step])
    for c in _spread(np.stack([ys * step, xs * step], axis=1), n, rng):
        ann.paint(_disc(truth.shape, c, radius), roi & ~truth, foreground=False)


def _lesion_strokes(ann: Annotation, truth: np.ndarray, roi: np.ndarray, discs: int, band: float,
                    rng: np.random.Generator) -> None:
    allowed_bg = roi & ~truth
    outside = _outside_distance(truth)
    for comp in _components(truth & roi, min_area=9):
        depth = _inside_distance(comp)
        r_in = float(depth.max())
        r = max(1, int(0.3 * r_in))
        ys, xs = np.nonzero(depth >= r + 1)
        if len(ys) == 0:  # too thin for that brush: one pixel at its widest point
            r, (ys, xs) = 0, np.unravel_index([int(np.argmax(depth))], depth.shape)
        for c in _spread(np.stack([ys, xs], axis=1), discs, rng):
            ann.paint(_disc(truth.shape, c, r), comp, foreground=True)
        gap, width = max(2.0, 0.10 * r_in), max(3.0, band * r_in)
        d = _outside_distance(comp)
        ann.paint((d >= gap) & (d < gap + width) & (outside >= gap), allowed_bg, foreground=False)


def _segments(truth: np.ndarray, min_depth: float) -> list[np.ndarray]:
    """Skeleton pieces between branch points where the vessel is at least 2 * `min_depth` px wide, longest first."""
    skel = skeletonize(truth) & (_inside_distance(truth) >= min_depth)
    neighbours = cv2.filter2D(_u8(skel), -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT)
    return _components(skel & (neighbours <= 3), min_area=5)


def _vessel_strokes(ann: Annotation, truth: np.ndarray, roi: np.ndarray, lines: int) -> None:
    outside = _outside_distance(truth)
    brush = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for seg in _segments(truth & roi, min_depth=2.0)[:lines]:
        ann.paint(cv2.dilate(_u8(seg), brush).astype(bool), truth & roi, foreground=True)
        near = _outside_distance(seg) <= 12
        ann.paint(near & (outside >= 2) & (outside < 4), roi & ~truth, foreground=False)


def first_strokes(truth: np.ndarray, roi: np.ndarray | None, regime: str, rng: np.random.Generator, *,
                  discs: int = 3, lines: int = 6, bg_discs: int = 2, band: float = 0.15) -> Annotation:
    """The strokes a clinician paints on an image seen for the first time (module doc). `truth`, `roi`: bool HxW
    (roi None = the whole image)."""
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")
    truth = truth.astype(bool)
    roi = np.ones(truth.shape, bool) if roi is None else roi.astype(bool)
    ann = Annotation.empty(truth.shape)
    if regime == "lesions":
        _lesion_strokes(ann, truth, roi, discs, band, rng)
        radius = max(2, round(0.025 * max(truth.shape)))
        _background_discs(ann, truth, roi, bg_discs + (0 if (truth & roi).any() else 1), radius, rng)
    else:
        _vessel_strokes(ann, truth, roi, lines)
        _background_discs(ann, truth, roi, bg_discs, 5, rng)
    return ann


def corrections(ann: Annotation, pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None, regime: str,
                n: int) -> int:
    """Paint one corrective stroke on each of the `n` largest wrong regions of bool HxW `pred` that are not yet
    annotated (module doc); returns the strokes painted."""
    truth = truth.astype(bool)
    roi = np.ones(truth.shape, bool) if roi is None else roi.astype(bool)
    open_ = roi & ~ann.annotated
    wrong = [(c, True) for c in _components(truth & ~pred & open_, 2)]
    wrong += [(c, False) for c in _components(pred & ~truth & open_, 2)]
    wrong.sort(key=lambda cw: -int(cw[0].sum()))
    cap = max(1, round(0.02 * max(truth.shape)))
    done = 0
    for region, missed in wrong[:n]:
        depth = _inside_distance(region)
        centre = np.unravel_index(int(np.argmax(depth)), depth.shape)
        if regime == "lesions":
            stroke = _disc(truth.shape, centre, min(cap, max(0, int(depth[centre]) - 1)))
        else:  # one drag: the skeleton near the region's widest point
            stroke = skeletonize(region) & _disc(truth.shape, centre, 2 * cap)
        done += ann.paint(stroke & region, region, foreground=missed)
    return done


def annotated_share(annotations: list[Annotation], rois: list[np.ndarray | None]) -> float:
    """Annotated pixels as a share of the pixels a dense label of the same images has (inside their ROIs)."""
    painted = sum(int((a.annotated if r is None else a.annotated & r).sum()) for a, r in zip(annotations, rois))
    dense = sum(int(a.fg.size if r is None else r.sum()) for a, r in zip(annotations, rois))
    return painted / max(dense, 1)
