"""Fast ROC AUC for validation during training (numpy only).

Probabilities are binned to 2**16 levels (the resolution of the 16-bit prediction PNGs), so ties inside a bin count
one half, as in the Mann-Whitney statistic; this runs in O(n) and is exact up to that quantisation.
`core.metrics.roc_auc` is the reference implementation used for reported metrics.
"""

from __future__ import annotations

import numpy as np

_BINS = 65536


def binned_counts(prob: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(positive, negative) histograms of the quantised probabilities inside roi; sums of these pool images."""
    p, t = np.asarray(prob).ravel(), np.asarray(truth).ravel().astype(bool)
    if roi is not None:
        r = np.asarray(roi).ravel().astype(bool)
        p, t = p[r], t[r]
    q = np.clip(np.rint(p.astype(np.float64) * (_BINS - 1)), 0, _BINS - 1).astype(np.int64)
    pos = np.bincount(q[t], minlength=_BINS).astype(np.float64)
    neg = np.bincount(q[~t], minlength=_BINS).astype(np.float64)
    return pos, neg


def auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUC from binned counts; nan when one class is absent."""
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + 0.5 * neg)).sum() / (n_pos * n_neg))


def fast_auc(prob: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None) -> float:
    """AUC of prob against bool truth over the pixels inside roi (all pixels when roi is None)."""
    return auc_from_counts(*binned_counts(prob, truth, roi))
