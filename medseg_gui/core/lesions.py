"""Lesion metrics of one binary prediction against its label inside an optional ROI: Dice, IoU, lesion-level
recall and false lesions (8-connected components), and boundary distances (HD95, ASSD) in pixels.

Inputs: `pred`, `truth`, `roi` bool (or {0,1}) HxW; `roi=None` means the whole image. Both masks are cut to the ROI
first, so everything outside it is ignored (a lesion the ROI splits counts as its parts).

Rules (the names are the keys of :func:`lesion_metrics`):
- ``dice``, ``iou``: pixel overlap; 1.0 when truth and prediction are both empty, 0.0 when only one is.
- Specks are not lesions: 8-connected components smaller than :func:`min_lesion_area` (10 px, or 0.001 % of
  the image when that is more: 15 px on a 1.5 Mpx photo) count neither as lesions nor as false lesions (they stay in
  Dice, IoU and the distances). A source mask's stray 2–9 px dots beside one polyp used to score "1/7 lesions
  found" at Dice 0.98.
- ``lesions``: 8-connected components of the truth, specks aside. A truth lesion is ``found`` when a predicted
  component has IoU ≥ `iou_match` with it; matching is one-to-one, greedy by decreasing IoU (for `iou_match` > 0.5 no
  choice arises). ``recall`` = found / lesions, NaN when the truth has no lesion (e.g. a PolypGen frame without a
  polyp).
- ``false_lesions``: predicted components (specks aside) that touch no truth pixel at all. A predicted blob that
  overlaps a lesion too little to match it is a poor outline (it lowers recall/Dice), not a false lesion.
- ``hd95``, ``assd``: boundary pixels are mask pixels with a 4-neighbour outside the mask (or on the image edge).
  HD95 is the 95th percentile (linear interpolation) of the pooled distances from each boundary pixel of one mask to
  the nearest boundary pixel of the other, both directions; ASSD is the mean of the two directed mean distances
  (the medpy definitions). Euclidean, in pixels; NaN when either mask is empty.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from medseg_gui.core.masks import clip_bbox, mask_bbox
from medseg_gui.core.metrics import as_bool, check_shapes, confusion, image_metrics, scorable

CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
MIN_LESION_PIXELS = 10
MIN_LESION_FRACTION = 1e-5
LESION_KEYS = ("lesions", "found", "recall", "false_lesions", "hd95", "assd")
METRIC_KEYS = ("auc", "dice", "iou", "sensitivity", "specificity", *LESION_KEYS, "threshold")
"""The keys of :func:`per_image_metrics`, in the order tables show them."""
COUNT_KEYS = ("lesions", "found", "recall", "false_lesions")  # lesion counts: meaningless for a vessel tree
REGIMES = ("lesions", "vessels")


def class_regime(cls: str, model_info: dict | None = None) -> str:
    """"lesions" or "vessels": the current model's regime when it recorded one, else from the class name."""
    regime = (model_info or {}).get("regime")
    if regime in REGIMES:
        return str(regime)
    return "lesions" if "lesion" in cls.lower() else "vessels"


def shown_keys(regime: str) -> tuple[str, ...]:
    """METRIC_KEYS a table shows for a class of `regime`: vessels without the lesion counts (a trial's vessel table
    read 'lesions 17 found 2')."""
    return METRIC_KEYS if regime == "lesions" else tuple(k for k in METRIC_KEYS if k not in COUNT_KEYS)


def per_image_metrics(
    prob: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None, threshold: float = 0.5,
    auc: float | None = None,
) -> dict[str, float]:
    """What is saved per labelled image (METRIC_KEYS): the pixel metrics of `prob` (float HxW) and the lesion
    metrics of prob ≥ threshold, inside `roi`, and the `threshold` they were computed at (`auc`: see image_metrics);
    all NaN but the threshold where the truth cannot be scored inside `roi` (core.metrics.scorable)."""
    if not scorable(truth, roi):
        return {**dict.fromkeys(METRIC_KEYS, math.nan), "threshold": float(threshold)}
    pixels = image_metrics(prob, truth, roi, threshold, auc)
    return {**pixels, **lesion_metrics(np.asarray(prob) >= threshold, truth, roi), "threshold": float(threshold)}


def lesion_metrics(
    pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None, iou_match: float = 0.5
) -> dict[str, float | int]:
    """{"dice", "iou", "lesions", "found", "recall", "false_lesions", "hd95", "assd"} inside `roi` (see module doc).

    The three counts are ints (a count reads 1, not 1.0); the rest are floats.
    """
    check_shapes(pred=pred, truth=truth, roi=roi)
    p, t = as_bool(pred), as_bool(truth)
    if roi is not None:
        r = as_bool(roi)
        p, t = p & r, t & r
    c = confusion(p, t)
    lesions, found, false_lesions = lesion_counts(p, t, iou_match, min_lesion_area(p.shape))
    hd95, assd = surface_distances(p, t)
    return {
        "dice": c.dice,
        "iou": c.iou,
        "lesions": lesions,  # counts stay integers (in metrics.json and `medseg evaluate --json` too)
        "found": found,
        "recall": found / lesions if lesions else math.nan,
        "false_lesions": false_lesions,
        "hd95": hd95,
        "assd": assd,
    }


def _components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(number of 8-connected components, label image with 0 = background, area per label incl. background)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(mask).view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    return n - 1, labels, stats[:, cv2.CC_STAT_AREA].astype(np.int64)


def min_lesion_area(shape: tuple[int, ...]) -> int:
    """The smallest component (pixels) counted as a lesion in an image of `shape`: MIN_LESION_PIXELS, or
    MIN_LESION_FRACTION of the image when that is more."""
    return max(MIN_LESION_PIXELS, math.ceil(MIN_LESION_FRACTION * shape[0] * shape[1]))


def lesion_counts(pred: np.ndarray, truth: np.ndarray, iou_match: float = 0.5, min_area: int = 1
                  ) -> tuple[int, int, int]:
    """(truth lesions, truth lesions matched one-to-one with IoU ≥ `iou_match`, predicted components touching no
    truth pixel) for bool HxW masks, components under `min_area` pixels left out of all three."""
    n_t, lab_t, area_t = _components(truth)
    n_p, lab_p, area_p = _components(pred)
    big_t, big_p = area_t >= min_area, area_p >= min_area  # index 0 is the background
    both = (lab_t > 0) & (lab_p > 0)
    pairs, inter = np.unique(lab_t[both].astype(np.int64) * (n_p + 1) + lab_p[both], return_counts=True)
    ti, pi = pairs // (n_p + 1), pairs % (n_p + 1)
    touching = np.unique(pi)
    keep = big_t[ti] & big_p[pi]
    ti, pi, inter = ti[keep], pi[keep], inter[keep]
    iou = inter / (area_t[ti] + area_p[pi] - inter)
    used_t, used_p = set(), set()
    for k in np.argsort(-iou, kind="stable"):
        if iou[k] < iou_match:
            break
        if ti[k] not in used_t and pi[k] not in used_p:
            used_t.add(ti[k])
            used_p.add(pi[k])
    lesions = int(big_t[1:].sum())
    return lesions, len(used_t), int(big_p[1:].sum() - big_p[touching].sum())


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Mask pixels with a 4-neighbour outside the mask; pixels outside the array count as outside."""
    m = mask.view(np.uint8)
    eroded = cv2.erode(m, CROSS, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return mask & (eroded == 0)


def _distances_to(boundary: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Euclidean distance from each True pixel of `queries` to the nearest True pixel of `boundary` (exact EDT)."""
    dist = cv2.distanceTransform((~boundary).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return dist[queries].astype(np.float64)


def surface_distances(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(HD95, ASSD) in pixels between the boundaries of two bool HxW masks; (NaN, NaN) when either is empty.

    Both boundaries lie inside the masks' joint bounding box, so the distance transforms run on that crop only.
    """
    box_p, box_t = mask_bbox(pred), mask_bbox(truth)
    if box_p is None or box_t is None:
        return math.nan, math.nan
    y0, x0 = min(box_p[0], box_t[0]) - 1, min(box_p[1], box_t[1]) - 1
    y1, x1 = max(box_p[2], box_t[2]) + 1, max(box_p[3], box_t[3]) + 1
    y0, x0, y1, x1 = clip_bbox((y0, x0, y1, x1), pred.shape)  # type: ignore[misc]
    # The 1-px margin is False (or the image edge), so erosion treats the crop's edge like the image's.
    bp = _boundary(np.ascontiguousarray(pred[y0:y1, x0:x1]))
    bt = _boundary(np.ascontiguousarray(truth[y0:y1, x0:x1]))
    d_pt, d_tp = _distances_to(bt, bp), _distances_to(bp, bt)
    hd95 = float(np.percentile(np.concatenate([d_pt, d_tp]), 95))
    assd = float((d_pt.mean() + d_tp.mean()) / 2.0)
    return hd95, assd
