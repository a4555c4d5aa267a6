"""How a training run ends: which weights it keeps (`settle`: its best validated weights, their average with the
start, or the start itself), what the work after its last step costs (`after_the_box`, reserved inside the time
box by ml/control.py) and whether that leaves the box enough time to train (`short_box`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from medseg_gui.ml.keras_quiet import keras
import numpy as np

from medseg_gui.core.errors import CancelledError
from medseg_gui.ml.control import RunControl
from medseg_gui.ml.fine_tune import settle_mix
from medseg_gui.ml.validation import ValScore, choice_cost, lead, lead_metric, start_is_the_model

log = logging.getLogger(__name__)

BOX_SHARE = 0.25  # the most of a time box the work after the last step may take before optional choices are dropped
TRAINING_SHARE = 0.5  # a time box leaving training steps less than this share of it is too short (short_box)


@dataclass(frozen=True)
class Start:
    """What a run began from, for its end: the weights (when it mixes with them or must beat them), their
    validation score (None: not checked) and the share of its trained weights it keeps (None: no mix)."""

    weights: list[np.ndarray] | None
    score: ValScore | None
    mix: float | None


def settle(model: keras.Model, control: RunControl, scores: dict[int, ValScore], start: Start,
           score: Callable[[], ValScore] | None, regime: str, diverged: bool) -> tuple[ValScore, float, dict]:
    """The weights a run ends with, set in `model`: its best validated weights, averaged with the start unless that
    validates clearly worse (fine_tune.settle_mix), or the start itself when it validates better than them and
    than the trained weights (validation.start_is_the_model) or the run diverged. Returns their validation score
    and AUC (nan: none) and what the metadata records of the choice (weight_mix, weight_mix_rejected or
    start_kept). A cancel while the mix is scored sets `control.cancelled`."""
    if control.best_weights is not None and not control.cancelled:
        model.set_weights(control.best_weights)
    val_auc = control.best_auc
    best = scores.get(control.best_step, ValScore(val_auc))
    trained = best  # the best trained weights' score, before any average with the start
    outcome: dict = {}
    if start.mix is not None and control.step > 0 and not diverged and not control.cancelled:
        try:
            best, outcome = settle_mix(model, start.weights, start.mix, best, score, regime)
            val_auc = best.auc if score is not None else val_auc
        except CancelledError:
            control.cancelled, control.stop_reason = True, "cancelled"
            outcome = {"weight_mix": start.mix}
    metric = lead_metric(regime)
    ends = [best] if best is trained else [best, trained]
    if start.score is not None and not control.cancelled and (diverged or start_is_the_model(start.score, ends,
                                                                                             metric)):
        model.set_weights(start.weights)
        trained_lead = max((v for v in (lead(e, metric) for e in ends) if v is not None), default=None)
        outcome = {"start_kept": {"metric": metric, "start": lead(start.score, metric), "trained": trained_lead,
                                  "steps": control.step, **({"diverged": True} if diverged else {})}}
        log.info("the start validates better than the trained weights (%s); the model is the start",
                 outcome["start_kept"])
        best, val_auc = start.score, start.score.auc
    return best, val_auc, outcome


def after_the_box(chooses: bool, choice: float, mixes: bool, compares_then: bool) -> float:
    """Validations' worth of work a run does after its last step, all of it inside the time box: the final
    validation; the weight average's (`mixes`); a lesion model's choice of how it predicts (`chooses`, costing
    `choice`: validation.choice_cost); and the new model's score on the validation labels as they were for the
    current one (`compares_then`, compare.py): one validation, or for a lesion model at most its choice's cost.
    (Measured before this reserve: a 600-s PolypGen C1 run ended after 632 s, 660 s once it tried scales.)"""
    return 1.0 + mixes + (choice if chooses else 0.0) * (2 if compares_then else 1) + (compares_then and not chooses)


@dataclass(frozen=True)
class AfterBox:
    """What a lesion run tries after its last step (validation.choose_prediction: the other flip count, `scales`)
    and what all its work after the last step costs, in validations (`after`: RunLimits.after)."""

    other_flips: bool
    scales: tuple[float, ...]
    after: float


def plan_after_box(box_s: float | None, val_s: float, tta: bool, flips: int, scales: tuple[float, ...],
                   chooses: bool, mixes: bool, compares_then: bool) -> AfterBox:
    """The choices a run tries after training, dropping the optional ones (the scales, then the other flip count)
    while the work after the last step (`after_the_box`, `val_s` seconds a validation) would take more than
    BOX_SHARE of the time box (`box_s`; None: no box, everything is tried). A full-rate C1 run reserves 15.8
    validations of ~2.5 s: 40 s, all of a one-minute continuous round's box but for 20 s, or none when it compares
    with the current model on changed labels."""
    plans = [(True, scales), (True, ()), (False, ())]
    for other, tried in plans:  # the last plan stands when none fits
        after = after_the_box(chooses, choice_cost(tta, flips, tried, other), mixes, compares_then)
        if box_s is None or after * val_s <= BOX_SHARE * box_s:
            break
    if (other, tried) != plans[0] and chooses:
        log.info("a %.0f-s time box: %s not tried after training (%.1f validations reserved)", box_s,
                 "the other scales" if other else "the other scales and flip count" if scales else
                 "the other flip count", after)
    return AfterBox(other, tried, after)


def short_box(box_s: float | None, ready_s: float, after_s: float, images: int, val_images: int) -> str:
    """What to tell the user when a time box of `box_s` seconds (None: no box) leaves training less than
    TRAINING_SHARE of it, after the `ready_s` seconds the run took to get ready and the `after_s` seconds kept for
    the work after its last step: how long is left, and the box (in half minutes) that would leave that share; ''
    otherwise. (An outside trial's 1-minute box with 64 labels trained one step, and nothing said so.)"""
    if box_s is None or box_s - ready_s - after_s >= TRAINING_SHARE * box_s:
        return ""
    left = max(0.0, box_s - ready_s - after_s)
    need = math.ceil((ready_s + after_s) / (1.0 - TRAINING_SHARE) / 30.0) / 2.0
    return (f"A {box_s / 60:g}-minute time box leaves about {left:.0f} s for training with {images} labelled images "
            f"({ready_s:.0f} s to get ready, {after_s:.0f} s kept for validating the result on {val_images} of them): "
            f"choose {need:g} minutes or more.")
