"""Keep-unless-better: what a run's new model is compared with the current one on (`Comparison`), scored on the
validation images by the regime's lead metric (lesions: Dice as each model predicts; vessels: AUC), on the labels as
they were when the current model was trained where those changed since (validation.views_as_then)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from medseg_gui.core.errors import CancelledError
from medseg_gui.ml.predict import Segmenter
from medseg_gui.ml.samples import Sample
from medseg_gui.ml.validation import dice_as_predicted, evaluate_views, lead_metric

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Comparison:
    """What keep-unless-better compares on the validation images: the regime's lead metric ("AUC" for vessels;
    "Dice" for lesions, each model as it predicts: its threshold, flips and clean-up, the val_dice the user is shown)
    of the new model and of the current one (None: no current model, or it could not be evaluated). `basis`: on
    which pixels, when not the validation labels as they are (validation.views_as_then)."""

    metric: str
    new: float
    current: float | None
    basis: str = ""


BASIS_THEN = ("on only the validation images this run shares with the current model, labelled as they were when it "
              "was trained")


@dataclass(frozen=True)
class CurrentScore:
    """The current model on a run's validation views (`score_current`): its AUC and (lesions) Dice as it predicts,
    None where there is none or it could not be evaluated (then any new model replaces it); `pass_s`: the seconds
    one validation of these views took (the AUC pass, per working scale the model averages), None when unknown."""

    auc: float | None = None
    dice: float | None = None
    cancelled: bool = False
    pass_s: float | None = None


def score_current(previous: Segmenter | None, views: list[Sample], regime: str, tta: bool,
                  should_stop: Callable[[], bool] | None) -> CurrentScore:
    """The current model's scores on the validation views, and what one validation costs. Only the AUC pass is
    timed, per scale: its Dice as it predicts costs its own flips and scales (up to 4 flips for a lesion model);
    timed on both, an outside trial's 1-minute box stopped training after one step, 15 s in, for work that ended 14 s
    later."""
    if previous is None:
        return CurrentScore()
    try:
        t0 = time.monotonic()
        auc = evaluate_views(previous, views, tta, should_stop).auc
        pass_s = (time.monotonic() - t0) / max(1, len(previous.scales))
        dice = dice_as_predicted(previous, views, should_stop) if regime == "lesions" else None
    except CancelledError:
        return CurrentScore(cancelled=True)
    except Exception as exc:  # noqa: BLE001 - an unusable old model must not prevent training a new one
        log.warning("the current model could not be evaluated (%s); it will be replaced", exc)
        return CurrentScore()
    return CurrentScore(auc, dice, False, pass_s)


def compare_with_current(segmenter: Segmenter, regime: str, val_auc: float, previous_auc: float | None,
                         previous_dice: float | None, then: list[Sample] | None, tta: bool,
                         should_stop: Callable[[], bool] | None) -> Comparison:
    """What keep-unless-better compares: lesions the Dice of each model as it predicts, vessels AUC; on `then` (the
    validation labels as they were when the current model was trained) when those differ from today's."""
    metric = lead_metric(regime)
    current = previous_dice if metric == "Dice" else previous_auc
    if then is not None and current is not None:
        new = (dice_as_predicted(segmenter, then, should_stop) if metric == "Dice"
               else evaluate_views(segmenter, then, tta, should_stop).auc)
        return Comparison(metric, new, current, BASIS_THEN)
    final_dice = segmenter.metadata.get("val_dice")  # with the flips and clean-up it chose
    new = (float("nan") if final_dice is None else final_dice) if metric == "Dice" else val_auc
    return Comparison(metric, new, current)
