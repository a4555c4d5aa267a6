"""What to label next: how unsure a prediction is, per pixel and per image, and the order to label images in.

Per pixel, uncertainty is closeness to the decision threshold ``t``: ``u = p / t`` below it, ``(1 - p) / (1 - t)``
from it on, so ``u`` is 1 where ``p == t`` and 0 at ``p`` = 0 or 1 (for ``t = 0.5``: ``1 - |2p - 1|``). It needs
only the saved probability map, no extra network pass.

Per image, the score is the mean ``u`` of the most uncertain ``TOP_SHARE`` (5 %) of the pixels inside the class's
region, not the mean of all of them: a large, confidently empty background would otherwise dilute a lesion the model
is unsure about into a low score, and a small image-wide mean would rank images by their size of background.

uncertainty.json holds {stem: score} and, under ``THRESHOLDS_KEY``, the threshold each score was computed at, so a
score made at another threshold than the one set is known to be due again (as metrics.json's "threshold").
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from medseg_gui.core.masks import share_text

TOP_SHARE = 0.05
"""Share of the region's pixels, the most uncertain ones, whose mean uncertainty is the image's score."""
THRESHOLDS_KEY = "/thresholds"
"""uncertainty.json's entry {stem: threshold its score was computed at}: no stem holds '/' (a file name cannot), and
versions before it drop it (not a number); files written by them have none (their scores are never greyed)."""


@dataclass
class UncertaintyScores:
    """The uncertainty score of each predicted image ({stem: score}, NaN for an empty region) and the threshold it was
    computed at ({stem: threshold}; unknown for scores saved by an older version)."""

    scores: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)

    def put(self, stem: str, score: float, threshold: float) -> None:
        """Record `stem`'s `score`, computed at `threshold`."""
        self.scores[stem] = score
        self.thresholds[stem] = float(threshold)

    def only(self, stems: Collection[str]) -> UncertaintyScores:
        """The scores of `stems` (an image removed from the project drops out)."""
        return UncertaintyScores({s: v for s, v in self.scores.items() if s in stems},
                                 {s: t for s, t in self.thresholds.items() if s in stems})


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")


def uncertainty_map(prob: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """float32 HxW in [0, 1]: 1 where ``prob == threshold``, falling linearly to 0 at ``prob`` 0 and 1.
    ``prob``: float HxW in [0, 1]; ``threshold`` in (0, 1)."""
    _check_threshold(threshold)
    p = np.clip(np.asarray(prob, dtype=np.float32), 0.0, 1.0)
    below = p < threshold
    u = np.empty_like(p)
    np.divide(p, np.float32(threshold), out=u, where=below)
    np.divide(1.0 - p, np.float32(1.0 - threshold), out=u, where=~below)
    return u


def uncertainty_u8(prob: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """uint8 HxW ``round(255 * u)`` of :func:`uncertainty_map` (what the canvas layer shows as alpha), within 1 of
    it. Made on the GUI thread when the layer is first shown, so in OpenCV passes (0.1 s for an 8000² map, where
    numpy's float temporaries took about 1 s): each side of the threshold is a saturated linear map of ``p``, and
    the smaller of the two is the side ``p`` lies on."""
    _check_threshold(threshold)
    p = np.asarray(prob, dtype=np.float32)
    low, high = cv2.minMaxLoc(p.reshape(p.shape[0], -1))[:2] if p.size else (0.0, 0.0)
    if low < 0.0 or high > 1.0:  # a map from the app is in [0, 1] already: one read, no copies
        p = cv2.threshold(cv2.threshold(p, 1.0, 1.0, cv2.THRESH_TRUNC)[1], 0.0, 0.0, cv2.THRESH_TOZERO)[1]
    rising = cv2.convertScaleAbs(p, alpha=255.0 / threshold)  # 255 p / t, saturated at 255 from p = t on
    falling = cv2.convertScaleAbs(p, alpha=-255.0 / (1.0 - threshold), beta=255.0 / (1.0 - threshold))
    return cv2.min(rising, falling)  # falling is 255 (saturated) or more below t, at most 255 from t on


def image_uncertainty(prob: np.ndarray, roi: np.ndarray | None = None, threshold: float = 0.5,
                      top: float = TOP_SHARE) -> float:
    """Mean uncertainty of the ``top`` share (at least one pixel) of the most uncertain pixels inside ``roi`` (bool
    HxW; None = the whole image); NaN when ``roi`` is empty."""
    u = uncertainty_map(prob, threshold)
    values = u[roi] if roi is not None else u.ravel()
    if values.size == 0:
        return math.nan
    k = max(1, math.ceil(top * values.size))
    return float(np.partition(values, values.size - k)[values.size - k:].mean(dtype=np.float64))


def rank_next(stems: Sequence[str], scores: Mapping[str, float], labelled: Mapping[str, float]) -> list[str]:
    """The images worth labelling, most informative first: unlabelled images by uncertainty (highest first), then
    unlabelled ones without a score (not predicted yet) in the given order, then sparse labels by annotated share
    (least annotated first). ``labelled``: stem → annotated share of its label (1.0 complete: never suggested);
    stems absent from it are unlabelled. Ties keep the order of ``stems``."""
    order = {stem: i for i, stem in enumerate(stems)}

    def key(stem: str) -> tuple[int, float, int]:
        if stem in labelled:
            return (2, labelled[stem], order[stem])
        score = _score(scores.get(stem))
        return (0, -score, order[stem]) if score is not None else (1, 0.0, order[stem])

    return sorted((s for s in stems if labelled.get(s, 0.0) < 1.0), key=key)


def next_reason(stem: str, scores: Mapping[str, float], labelled: Mapping[str, float], unlabelled: int = 2,
                shown_unlabelled: bool = True) -> str:
    """Why :func:`rank_next` put ``stem`` first, in words for the status bar; ``unlabelled``: how many unlabelled
    images it was chosen from, the one shown left out (one: it is the only one left, whatever its score);
    ``shown_unlabelled``: the image shown has no label either, so the others are "other" (a trial on a labelled
    image read "the only other image without a label")."""
    if stem in labelled:
        return f"its sparse label is the least annotated ({share_text(labelled[stem])} of the image)"
    score = _score(scores.get(stem))
    other = "other " if shown_unlabelled else ""
    if unlabelled == 1:
        return f"it is the only {other}image without a label" + ("" if score is None else f" (uncertainty {score:.2f})")
    if score is None:
        return "it is not labelled and has no prediction yet"
    return f"the model is least sure about it among the {other}unlabelled images (uncertainty {score:.2f})"


def scores_from_json(data: Any) -> UncertaintyScores:
    """The scores of a reading of uncertainty.json (project_format.read_rewritable_json; null → NaN); none when there
    was none or it could not be read (the next prediction rewrites it); entries that are not numbers are dropped, and
    so are thresholds that are not, or have no score."""
    if not isinstance(data, dict):
        return UncertaintyScores()
    scores = {str(stem): math.nan if value is None else float(value) for stem, value in data.items()
              if value is None or _is_number(value)}
    made = data.get(THRESHOLDS_KEY)
    made = made if isinstance(made, dict) else {}
    return UncertaintyScores(scores, {stem: float(t) for stem, t in made.items() if stem in scores and _is_number(t)})


def scores_to_json(unsure: UncertaintyScores) -> dict[str, Any]:
    """JSON-ready {stem: score rounded to 4 decimals}, NaN → null, with the thresholds under THRESHOLDS_KEY."""
    data: dict[str, Any] = {stem: None if math.isnan(v) else round(float(v), 4) for stem, v in unsure.scores.items()}
    if unsure.thresholds:
        data[THRESHOLDS_KEY] = {stem: round(t, 4) for stem, t in unsure.thresholds.items()}
    return data


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _score(value: object) -> float | None:
    """A usable score, or None (absent or NaN)."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number
