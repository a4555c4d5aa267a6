"""Validation of weights on held-out labelled images: AUC and the best-Dice threshold (`evaluate_views`), Dice as a
model predicts (`dice_as_predicted`), how a lesion model predicts from then on (`choose_prediction`: flips and
clean-up), whether a first model's start validates better than what a run made of it (`start_validates_better`) and
the pixels keep-unless-better may compare a new model with the current one on (`views_as_then`). Used by ml/train.py.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from medseg_gui.core import postprocess
from medseg_gui.core.errors import CancelledError
from medseg_gui.core.metrics import dice
from medseg_gui.ml.auc import fast_auc
from medseg_gui.ml.predict import Segmenter
from medseg_gui.ml.samples import Sample, val_view

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValScore:
    """Validation of one set of weights: mean per-image AUC (nan when no view has both classes), and the
    threshold in `THRESHOLDS` with the best mean per-image Dice (with that Dice)."""

    auc: float
    threshold: float = 0.5
    dice: float = float("nan")
    at_best: tuple[float, ...] = ()  # per-image Dice at `threshold`
    at_half: tuple[float, ...] = ()  # per-image Dice at 0.5
    filled: tuple[float, float, tuple[float, ...]] | None = None  # see `evaluate_views`' fills: (its best threshold,
    #                                                                the mean and per-image Dice of the labels there)


THRESHOLDS = np.round(np.arange(0.2, 0.81, 0.05), 2)


def _dices(prob: np.ndarray, truth: np.ndarray, roi: np.ndarray | None) -> np.ndarray:
    """Dice at every threshold in THRESHOLDS (1 when truth and prediction are both empty)."""
    p, t = (prob, truth) if roi is None else (prob[roi], truth[roi])
    p, t = p.ravel(), t.ravel().astype(bool)
    hist_pos = np.histogram(p[t], bins=np.r_[THRESHOLDS, np.inf])[0][::-1].cumsum()[::-1]
    hist_all = np.histogram(p, bins=np.r_[THRESHOLDS, np.inf])[0][::-1].cumsum()[::-1]
    denom = hist_all + t.sum()
    return np.where(denom > 0, 2.0 * hist_pos / np.maximum(denom, 1), 1.0)


Fill = tuple[np.ndarray, np.ndarray | None]
"""A validation view's stand-in for a complete label (truth, scored pixels): see ml.fine_tune.anchor_fills."""


def evaluate_views(segmenter: Segmenter, views: list[Sample], tta: bool = False,
                   should_stop: Callable[[], bool] | None = None, fills: Sequence[Fill] | None = None) -> ValScore:
    """AUC inside the ROI and the best-Dice threshold over the validation views. `fills` (one per view): a truth
    for every pixel where a view's label is strokes; the threshold with the best Dice against them goes to
    `ValScore.filled`, with the labels' own Dice there (the same maps: no second prediction)."""
    aucs, dices, filled = [], [], []
    for i, v in enumerate(views):
        prob = segmenter.predict(v.image, v.roi, tta=tta, clean=False, should_stop=should_stop)
        aucs.append(fast_auc(prob, v.mask, v.scored))
        dices.append(_dices(prob, v.mask, v.scored))
        if fills is not None:
            filled.append(_dices(prob, *fills[i]))
    aucs = [a for a in aucs if not math.isnan(a)]
    mean_dice = np.mean(dices, axis=0)
    best = int(np.argmax(mean_dice))
    half = int(np.argmin(np.abs(THRESHOLDS - 0.5)))
    at_fill = None
    if filled:
        k = int(np.argmax(np.mean(filled, axis=0)))
        at_fill = (float(THRESHOLDS[k]), float(mean_dice[k]), tuple(float(d[k]) for d in dices))
    return ValScore(float(np.mean(aucs)) if aucs else float("nan"), float(THRESHOLDS[best]), float(mean_dice[best]),
                    tuple(float(d[best]) for d in dices), tuple(float(d[half]) for d in dices), at_fill)


def operating_point(score: ValScore, regime: str) -> tuple[float, float]:
    """(the threshold a new model's maps are calibrated to show as 0.5, the validation Dice there). Vessels: the
    best-Dice threshold; with strokes among the validation labels, the best against them filled in by the shipped
    start where unpainted, when there are such fills (`ValScore.filled`, ml.fine_tune.anchor_fills). Lesions: that
    one only when it beats 0.5 clearly on these images (`postprocess.wins`: three images or more, a mean gain of
    MIN_GAIN and two standard errors), else 0.5: a lesion image is one or a few
    objects, so a handful of them pick a threshold by chance (suite c1-20, 4 validation images: 0.2-0.75 chosen,
    test Dice -0.002 to -0.039 against 0.5 in four runs of five, +0.007 in one)."""
    if regime == "vessels" and score.filled is not None:
        return score.filled[0], score.filled[1]
    if _best_threshold(score, regime):
        return score.threshold, score.dice
    return 0.5, float(np.mean(score.at_half)) if score.at_half else score.dice


def per_image_at_point(score: ValScore, regime: str) -> tuple[float, ...]:
    """The per-image validation Dice at `operating_point`'s threshold (as `score.at_best` or `score.at_half`)."""
    if regime == "vessels" and score.filled is not None:
        return score.filled[2]
    return score.at_best if _best_threshold(score, regime) else score.at_half or score.at_best


def _best_threshold(score: ValScore, regime: str) -> bool:
    return regime != "lesions" or (len(score.at_best) == len(score.at_half)
                                   and postprocess.wins(score.at_best, score.at_half))


def dice_as_predicted(segmenter: Segmenter, views: list[Sample], should_stop: Callable[[], bool] | None = None
                      ) -> float:
    """Mean per-image Dice on the validation views of `segmenter` as it predicts for the user (its own flips and
    clean-up, at its threshold): what its metadata's val_dice says for a model trained here."""
    threshold = float(segmenter.metadata.get("threshold") or 0.5)
    return float(np.mean([dice(segmenter.predict(v.image, v.roi, should_stop=should_stop) >= threshold, v.mask,
                               v.scored) for v in views]))


def choose_prediction(segmenter: Segmenter, views: list[Sample], tta: bool,
                        should_stop: Callable[[], bool] | None, default_flips: int = 1,
                        scales: tuple[float, ...] = (), other_flips: bool = True) -> None:
    """Pick how the model predicts from now on by its validation Dice at its threshold: how many flips of the image
    it averages (metadata "tta"; `default_flips`: Preset.full_rate_flips or 1, see ml/train.py; `tta`: four, as
    asked), whether it averages its predictions at several working scales (metadata "scales": `scales`, the
    factors tried, Preset.full_rate_scales; () tries none) and the clean-up (core/postprocess.py). The other flip
    count (default 1: two; else one), the scales and the clean-up are taken only when they clearly beat what was
    chosen before them on these images (`postprocess.wins`); `other_flips` False tries the default count alone (a
    short time box: ml/run_end.py). A cancel here keeps the model as it is."""
    threshold = float(segmenter.metadata.get("threshold") or 0.5)
    truths, scored = [v.mask for v in views], [v.scored for v in views]

    def predict(seg: Segmenter, view: Sample, flips: int) -> np.ndarray:
        return seg.predict(view.image, view.roi, tta=flips, clean=False, should_stop=should_stop)

    def option(probs: list[np.ndarray], flips: int) -> tuple:
        return (flips, *postprocess.choose(probs, truths, scored, threshold), probs)

    try:  # at most two lists of maps are held at once (30 validation views of 1024² pixels: 126 MB a list)
        counts = _flip_counts(tta, default_flips, other_flips)
        flips, pp, dices, plains, probs = option([predict(segmenter, v, counts[0]) for v in views], counts[0])
        if len(counts) > 1:
            other = option([predict(segmenter, v, counts[1]) for v in views], counts[1])
            if postprocess.wins(other[2], dices):
                flips, pp, dices, _, probs = other
            del other
        averaged = None
        if len(scales) > 1:  # the mean of the calibrated maps at each scale, as predict makes it (the working
            at = {f: segmenter.variant(scales=[f]) for f in scales if f != 1.0}  # scale's maps reused)
            averaged = option([sum(p if f == 1.0 else predict(at[f], v, flips) for f in scales) / len(scales)
                               for p, v in zip(probs, views)], flips)
    except CancelledError:
        return
    if averaged is not None and postprocess.wins(averaged[2], dices):
        _, pp, dices, _, _ = averaged
        segmenter.metadata["scales"] = list(scales)
    dice, plain = float(np.mean(dices)), float(np.mean(plains))
    log.info("prediction on the validation images: %d flip(s), scales %s, clean-up %s: Dice %.4f (plain %.4f)",
             flips, segmenter.metadata.get("scales", [1.0]), pp.describe(), dice, plain)
    if flips > 1:
        segmenter.metadata["tta"] = flips
    if pp.active:
        segmenter.metadata["postprocess"] = pp.to_json()
    if flips > 1 or pp.active or "scales" in segmenter.metadata:
        segmenter.metadata.update(val_dice=round(dice, 4), val_dice_plain=round(plain, 4))


def _flip_counts(tta: bool, default_flips: int, other: bool = True) -> tuple[int, ...]:
    """The flip counts choose_prediction tries, in order: four when asked (`tta`), else the default and, with
    `other`, the other (default 1: two; else one)."""
    if tta:
        return (4,)
    return (default_flips, 2 if default_flips == 1 else 1) if other else (default_flips,)


def choice_cost(tta: bool, default_flips: int = 1, scales: tuple[float, ...] = (), other_flips: bool = True) -> float:
    """What choose_prediction with these arguments costs at most, in validations (evaluate_views at `tta`): one
    prediction per flip count tried, plus each other scale at the most flips, its pixels growing as the factor
    squared. ml/train.py reserves it inside a run's time box."""
    counts = _flip_counts(tta, default_flips, other_flips)
    others = sum(f * f for f in scales if f != 1.0) if len(scales) > 1 else 0.0
    return (sum(counts) + max(counts) * others) / (4 if tta else 1)


def lead_metric(regime: str) -> str:
    """What a regime's models are judged by first: "Dice" for lesions, "AUC" for vessels (and unknown regimes)."""
    return "Dice" if regime == "lesions" else "AUC"


def lead(score: ValScore, metric: str) -> float | None:
    """A ValScore's figure for `metric` ("Dice": the best-threshold Dice, else AUC), None when unknown."""
    value = score.dice if metric == "Dice" else score.auc
    return None if math.isnan(value) else round(float(value), 4)


def start_validates_better(start: ValScore, trained: ValScore, metric: str) -> bool:
    """Whether the weights a first model started from (the shipped start, or weights given without a current model)
    validate better than the best weights the run made of them, on equal terms: `metric` "Dice" (lesions) compares
    each one's best-threshold Dice of the plain map, else AUC (vessels). Ties go to the trained weights. Then the run
    keeps the start: a few labels can fine-tune a good start away from the images it will see (C1 test Dice: the
    lesion start alone 0.644 (its raw map at 0.5); fine-tuned on 20 photos for 3 minutes 0.60-0.70, on 3 photos'
    strokes 0.62)."""
    start_value, new_value = lead(start, metric), lead(trained, metric)
    return start_value is not None and new_value is not None and start_value > new_value


def start_is_the_model(start: ValScore, ends: Sequence[ValScore], metric: str) -> bool:
    """Whether the start validates better (`start_validates_better`) than every set of weights the run could end
    with: its best trained weights and, when it mixes, their average with the start. A run whose trained weights
    beat the start keeps what it learnt even when the average (a hedge towards the start) validates a hair under
    the start (a new user's 2-minute CLI run on 12 C6 photos: start 0.7913, average 0.7902, trained weights 0.822,
    and the start had been kept)."""
    return bool(ends) and all(start_validates_better(start, end, metric) for end in ends)


def views_as_then(samples: list[Sample], val_idx: list[int], then: Mapping[str, np.ndarray | None] | None,
                  scale: float = 1.0) -> list[Sample] | None:
    """The validation views restricted to the pixels that were annotated when the current model was made (`then`:
    its validation images' annotated pixels by name, None for a complete label; see ml/store.py), or None when that
    restricts nothing (or nothing is known): then keep-unless-better compares on the views as they are.

    Why: a clinician corrects where the current model errs. On a held-out image those corrective strokes mark the
    current model's mistakes and nobody else's, so on them the current model loses by construction and any new model
    looked better (simulated clinician, PolypGen C1: three worse models in a row were taken). On the annotation both
    models could have been judged by before the corrections, neither is favoured. Images the current model did not
    validate on are left out; if none is left, the views are used as they are."""
    if not then:
        return None
    views, restricted = [], False
    for i in val_idx:
        s = samples[i]
        if not s.name or s.name not in then:
            restricted = True
            continue
        old = then[s.name]
        if old is not None and old.shape != s.mask.shape:
            restricted = True
            continue
        annotated = s.annotated if old is None else (old if s.annotated is None else old & s.annotated)
        if annotated is not None and not annotated.any():
            restricted = True
            continue
        changed = annotated is not s.annotated and (s.annotated is None or not np.array_equal(annotated, s.annotated))
        restricted |= changed
        views.append(val_view(replace(s, annotated=annotated) if changed else s, scale))
    return views if views and restricted else None
