"""The field of view of a fundus photo that came without one: the bright disc on its dark border.

A model trained inside fields of view (a DRIVE, CHASE_DB1 or HRF project: pixels outside weigh nothing) predicts
anything out there: a CLI trial's model called 59 % of a new photo's black border vessel. Where such a model meets an
image without a region of interest, the pipeline and `medseg predict` restrict it to `estimate_fov(image)`.

The rule: the brightest channel, shrunk to at most 512 px and blurred, above 12 % of its 99th percentile (at least
8 of 255); opened, the largest component with its holes filled; then widened by 1 % of the long side, so the rim is
never cut (on CHASE_DB1 and HRF it covered every pixel of the true field of view, IoU 0.95–0.97). A photo without a
dark border (none found, under 30 % or over 97 % of the image inside, or the border not dark) has none: None.
"""

from __future__ import annotations

import cv2
import numpy as np

_SIDE = 512  # the estimate works on the photo shrunk to at most this long side
_LEVEL = 0.12  # inside: brighter than this share of the 99th percentile
_FLOOR = 8.0  # … and than this (of 255)
_SHARE = (0.3, 0.97)  # a field of view covers this share of the photo
_WIDEN = 0.01  # of the long side, added all round


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
    mask = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    outside = np.pad(1 - mask, 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)  # the background reached from the border; the rest are holes
    mask = (outside[1:-1, 1:-1] != 2).astype(np.uint8)
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    rest = small[mask == 0]
    if not _SHARE[0] <= mask.mean() <= _SHARE[1] or border.mean() > 0.6 or np.percentile(rest, 90) > level:
        return None
    return widen(cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST))


def widen(mask: np.ndarray) -> np.ndarray:
    """bool HxW: `mask` grown all round by `_WIDEN` of its long side (at least 1 px), the margin of `estimate_fov`."""
    d = max(1, round(_WIDEN * max(mask.shape)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * d + 1, 2 * d + 1))
    return cv2.dilate(np.asarray(mask, np.uint8), disc).astype(bool)
