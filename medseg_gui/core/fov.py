"""The field of view of a fundus photo that came without one: the bright disc on its dark border.

A model trained inside fields of view (a DRIVE, CHASE_DB1 or HRF project: pixels outside weigh nothing) predicts
anything out there: a CLI trial's model called 59 % of a new photo's black border vessel. Where such a model meets an
image without a region of interest, the pipeline and `medseg predict` restrict it to `prediction_region(image)`: the
estimate less a thin band along its edge, where such models paint a ring (below).

The rule: the brightest channel, shrunk to at most 512 px and blurred, above 12 % of its 99th percentile (at least
8 of 255); opened, the largest component with its holes filled; then widened by 1 % of the long side, so the rim is
never cut (on CHASE_DB1 and HRF it covered every pixel of the true field of view, IoU 0.95–0.97). A photo without a
dark border (none found, under 30 % or over 97 % of the image inside, or the border not dark) has none: None.
Then the edge is drawn at full resolution: in the outer 3 % of the long side, a pixel is inside only where the photo
(blurred by 1 px) is brighter than the same level, or within 1 px of such a pixel. The 1 % margin had left a band of
~35 px of black border inside the estimate of an HRF photo, which a vessel model painted as a ring (an outside trial,
session 40: 30,000–41,000 px per photo in every export); on HRF's 45 photos the drawn edge cuts no pixel of the true
field and adds 9,500 px outside it on average (250,000 before); on CHASE_DB1's 28, whose masks reach into the dark
rim, it leaves out 650 px of the field on average (at most 0.8 % of it).
"""

from __future__ import annotations

import cv2
import numpy as np

_SIDE = 512  # the estimate works on the photo shrunk to at most this long side
_LEVEL = 0.12  # inside: brighter than this share of the 99th percentile
_FLOOR = 8.0  # … and than this (of 255)
_SHARE = (0.3, 0.97)  # a field of view covers this share of the photo
_WIDEN = 0.01  # of the long side, added all round
_RIM = 0.03  # of the long side: the outer band of the estimate whose edge is drawn at full resolution
_TRUSTED = 0.002  # of the long side: how far inside that edge a prediction is trusted (prediction_region)


def estimate_fov(rgb: np.ndarray) -> np.ndarray | None:
    """bool HxW field of view of a photo (uint8 HxW or HxWxC) by the module's rule, or None when it has none."""
    gray = np.asarray(rgb).max(axis=2) if np.ndim(rgb) == 3 else np.asarray(rgb)
    if gray.dtype != np.uint8 or gray.size == 0:
        return None
    h, w = gray.shape
    f = min(1.0, _SIDE / max(h, w))
    small = cv2.GaussianBlur(cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))),
                                        interpolation=cv2.INTER_AREA), (0, 0), 2)
    level = max(_FLOOR, _LEVEL * float(np.percentile(small, 99)))
    mask = cv2.morphologyEx((small > level).astype(np.uint8), cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 2:
        return None
    mask = _filled(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    rest = small[mask == 0]
    if not _SHARE[0] <= mask.mean() <= _SHARE[1] or border.mean() > 0.6 or np.percentile(rest, 90) > level:
        return None
    return _drawn_edge(widen(cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)), gray, level)


def prediction_region(rgb: np.ndarray) -> np.ndarray | None:
    """bool HxW where a model trained inside fields of view predicts a photo that came without one: its estimated
    field (`estimate_fov`) less a band of `_TRUSTED` of the long side along the field's edge (7 px of a 3504-px HRF
    photo, 2 of CHASE_DB1's 999), or None when the photo has no field. The shipped vessel start paints the field's
    rim as vessel (4-px band inside an HRF field: 37 % predicted, 3.5 % true); whole-image Dice of its maps (what an
    export holds), 10 HRF test photos / 14 CHASE_DB1 photos: unrestricted 0.741 / 0.459, in the drawn estimate 0.756 /
    0.729, in this region 0.763 / 0.759 (in-field AUC 0.977 / 0.970 throughout); a model fine-tuned from it on five
    HRF photos without fields: 0.746 / 0.431, 0.755 / 0.676, 0.756 / 0.699 (AUC 0.979 / 0.964, −0.001 in the region;
    docs/BENCHMARKS.md, session 40)."""
    field = estimate_fov(rgb)
    if field is None:
        return None
    return cv2.distanceTransform(field.astype(np.uint8), cv2.DIST_L2, 3) > _TRUSTED * max(field.shape)


def _drawn_edge(field: np.ndarray, gray: np.ndarray, level: float) -> np.ndarray:
    """`field` (bool, widened) without the dark pixels of its outer `_RIM` band, at full resolution (module doc)."""
    core = cv2.distanceTransform(field.astype(np.uint8), cv2.DIST_L2, 3) > _RIM * max(field.shape)
    bright = (cv2.GaussianBlur(gray, (0, 0), 1.0) > level).astype(np.uint8)
    bright = cv2.dilate(bright, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    return _filled(field & (core | bright.astype(bool)))


def _filled(mask: np.ndarray) -> np.ndarray:
    """bool `mask` with its holes filled (what the border's background cannot reach)."""
    outside = np.pad(1 - mask.astype(np.uint8), 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)
    return outside[1:-1, 1:-1] != 2


def widen(mask: np.ndarray) -> np.ndarray:
    """bool HxW: `mask` grown all round by `_WIDEN` of its long side (at least 1 px), the margin of `estimate_fov`."""
    d = max(1, round(_WIDEN * max(mask.shape)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * d + 1, 2 * d + 1))
    return cv2.dilate(np.asarray(mask, np.uint8), disc).astype(bool)
