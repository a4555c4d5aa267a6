"""Per-image segmentation metrics inside an optional ROI: ROC AUC (rank-based), Dice, IoU, sensitivity, specificity,
FP/FN (lesion-level metrics and boundary distances: core/lesions.py).

Inputs: `prob` float HxW in [0, 1]; `pred`, `truth`, `roi` bool (or {0,1}) HxW; `roi=None` means the whole image.
Empty denominators: Dice and IoU of two empty masks are 1.0 (an empty truth and an empty prediction inside a
non-empty ROI: nothing to find, nothing found); sensitivity without positives and specificity without negatives are
NaN; AUC is NaN unless both classes occur inside the ROI.
Not scored at all (every metric NaN, left out of means: `scorable`): an image whose ROI has no pixel, or whose truth
lies wholly outside its ROI. Inside an empty region (a two-stage class whose region class was predicted empty there)
an empty prediction would otherwise score a missed lesion Dice 1 (an outside trial's best-scored image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from medseg_gui.core.errors import LabelSizeError
from medseg_gui.core.masks import OBJECT, UNANNOTATED

FP_CODE = 1
FN_CODE = 2
NOT_SCORED = "not_scored"  # a per-image metrics entry's key: why the image has no scores (words; not a metric)


@dataclass(frozen=True)
class Confusion:
    """Pixel counts inside the ROI; add two to pool images."""

    tp: int
    fp: int
    tn: int
    fn: int

    def __add__(self, other: Confusion) -> Confusion:
        return Confusion(self.tp + other.tp, self.fp + other.fp, self.tn + other.tn, self.fn + other.fn)

    @property
    def dice(self) -> float:
        """2TP / (2TP + FP + FN); 1.0 when prediction and truth are both empty."""
        denom = 2 * self.tp + self.fp + self.fn
        return 1.0 if denom == 0 else 2.0 * self.tp / denom

    @property
    def iou(self) -> float:
        """TP / (TP + FP + FN) (Jaccard); 1.0 when prediction and truth are both empty."""
        denom = self.tp + self.fp + self.fn
        return 1.0 if denom == 0 else self.tp / denom

    @property
    def sensitivity(self) -> float:
        """TP / (TP + FN); NaN when the truth has no positive pixel."""
        denom = self.tp + self.fn
        return math.nan if denom == 0 else self.tp / denom

    @property
    def specificity(self) -> float:
        """TN / (TN + FP); NaN when the truth has no negative pixel."""
        denom = self.tn + self.fp
        return math.nan if denom == 0 else self.tn / denom


def check_shapes(**arrays: np.ndarray | None) -> None:
    """LabelSizeError naming every size (width×height) unless all given arrays have one shape; None is skipped."""
    shapes = {name: np.shape(a) for name, a in arrays.items() if a is not None}
    first = next(iter(shapes.values()))
    if any(s != first for s in shapes.values()):
        detail = ", ".join(f"{name} {s[1]}×{s[0]}" if len(s) == 2 else f"{name} {s}" for name, s in shapes.items())
        raise LabelSizeError(f"Cannot compare masks of different sizes ({detail}, width×height).")


def scorable(truth: np.ndarray, roi: np.ndarray | None) -> bool:
    """Whether bool HxW `truth` can be scored inside `roi` (None = whole image): not when `roi` has no pixel, or when
    the truth has foreground but none of it inside `roi` (what was to be found lies where nothing is looked for)."""
    if roi is None:
        return True
    inside = as_bool(roi)
    if not inside.any():
        return False
    t = as_bool(truth)
    return not t.any() or bool((t & inside).any())


def as_bool(a: np.ndarray) -> np.ndarray:
    """A bool view of a bool or {0,1} mask (no copy when it is bool already)."""
    a = np.asarray(a)
    return a if a.dtype == np.bool_ else a != 0


def roc_auc(prob: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None) -> float:
    """ROC AUC over the pixels inside `roi` = Mann–Whitney U / (n_pos · n_neg), ties counted ½; NaN if one class.

    Sorts only the negatives and binary-searches the positives: O(n log n), about 0.1 s for a 1 M pixel image.
    """
    check_shapes(prob=prob, truth=truth, roi=roi)
    scores = np.asarray(prob)
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    labels = as_bool(truth)
    if roi is not None:
        inside = as_bool(roi)
        scores, labels = scores[inside], labels[inside]
    else:
        scores, labels = scores.ravel(), labels.ravel()
    pos, neg = scores[labels], scores[~labels]
    if pos.size == 0 or neg.size == 0:
        return math.nan
    if np.isnan(pos).any() or np.isnan(neg).any():
        pos, neg = np.nan_to_num(pos, nan=0.0), np.nan_to_num(neg, nan=0.0)
    neg_sorted = np.sort(neg)
    below = np.searchsorted(neg_sorted, pos, side="left").sum(dtype=np.int64)
    below_or_equal = np.searchsorted(neg_sorted, pos, side="right").sum(dtype=np.int64)
    u = (int(below) + int(below_or_equal)) / 2.0  # each tie contributes ½
    return u / (float(pos.size) * float(neg.size))


def confusion(pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None) -> Confusion:
    """TP/FP/TN/FN pixel counts inside `roi`."""
    check_shapes(pred=pred, truth=truth, roi=roi)
    p, t = as_bool(pred), as_bool(truth)
    if roi is None:
        n = p.size
        tp, n_pred, n_true = np.count_nonzero(p & t), np.count_nonzero(p), np.count_nonzero(t)
    else:
        r = as_bool(roi)
        n = np.count_nonzero(r)
        tp, n_pred, n_true = np.count_nonzero(p & t & r), np.count_nonzero(p & r), np.count_nonzero(t & r)
    fp, fn = n_pred - tp, n_true - tp
    return Confusion(int(tp), int(fp), int(n - tp - fp - fn), int(fn))


def dice(pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None) -> float:
    """Dice overlap inside `roi`; 1.0 when both are empty there."""
    return confusion(pred, truth, roi).dice


def sensitivity(pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None) -> float:
    """True-positive rate inside `roi`; NaN when the truth has no positives there."""
    return confusion(pred, truth, roi).sensitivity


def specificity(pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None) -> float:
    """True-negative rate inside `roi`; NaN when the truth has no negatives there."""
    return confusion(pred, truth, roi).specificity


def fp_fn_codes(pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None, rows: int = 512) -> np.ndarray:
    """uint8 map: ``FP_CODE`` where predicted but not labelled, ``FN_CODE`` where labelled but missed, 0 elsewhere and
    outside ``roi``. The one definition of FP/FN: ``fp_fn_maps``, ``core.overlays.fp_fn_layer`` and the canvas' 8-bit
    indexed layer all read it. ``truth`` is bool, or label codes (``core.masks``) whose ``UNANNOTATED`` pixels are
    neither FP nor FN. Works in blocks of ``rows`` rows so large images need no full-size temporaries."""
    out = np.empty(pred.shape[:2], dtype=np.uint8)
    for r0 in range(0, pred.shape[0], rows):
        s = slice(r0, r0 + rows)
        p, tb = pred[s].astype(bool, copy=False), truth[s]
        t = tb.astype(bool, copy=False) if tb.dtype == np.bool_ else tb == OBJECT
        block = out[s]
        np.multiply((p & ~t).view(np.uint8), FP_CODE, out=block)
        block += (t & ~p).view(np.uint8) * np.uint8(FN_CODE)
        if tb.dtype != np.bool_:
            block[tb == UNANNOTATED] = 0
        if roi is not None:
            block[~roi[s].astype(bool, copy=False)] = 0
    return out


def fp_fn_maps(
    pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(false positives, false negatives) as bool HxW maps, False outside `roi` (``fp_fn_codes`` unpacked)."""
    check_shapes(pred=pred, truth=truth, roi=roi)
    codes = fp_fn_codes(as_bool(pred), as_bool(truth), None if roi is None else as_bool(roi))
    return codes == FP_CODE, codes == FN_CODE


def image_metrics(
    prob: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None, threshold: float = 0.5,
    auc: float | None = None,
) -> dict[str, float]:
    """{"auc", "dice", "iou", "sensitivity", "specificity"} inside `roi`, the binary prediction being prob ≥ threshold.

    Pixel metrics only, so that pooling works on flattened pixels; core.lesions.per_image_metrics adds the lesion
    metrics of one HxW image. `auc`: the AUC already known for these pixels (it does not depend on the threshold),
    so only the confusion metrics are computed.
    """
    c = confusion(np.asarray(prob) >= threshold, truth, roi)
    return {
        "auc": roc_auc(prob, truth, roi) if auc is None else float(auc),
        "dice": c.dice,
        "iou": c.iou,
        "sensitivity": c.sensitivity,
        "specificity": c.specificity,
    }


def mean_metrics(per_image: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean over images of each metric, skipping NaN (e.g. lesion recall of an image without a lesion, every metric of
    an image not scored: `scorable`); NaN when no image has a value."""
    keys = dict.fromkeys(k for m in per_image.values() for k in m if k != NOT_SCORED)
    means = {}
    for key in keys:
        values = np.array([m[key] for m in per_image.values() if key in m], dtype=np.float64)
        values = values[~np.isnan(values)]
        means[key] = float(values.mean()) if values.size else math.nan
    return means
