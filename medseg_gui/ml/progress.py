"""Training progress record handed from the training thread to the GUI/CLI (no Keras import)."""

from __future__ import annotations

from dataclasses import dataclass


DICE_SHOWN = "at best threshold"
"""What a progress report's val Dice is, said beside it: the mean per-image Dice of the weights being trained, at the
threshold (0.2-0.8) best for them on the validation images, of their plain map (ml.validation.evaluate_views)."""

AS_PREDICTED = ("The decision after training scores each model's Dice as it predicts: at its threshold (0.5 unless "
                "another wins clearly on three or more images), with the flips and clean-up it chose, as the blend "
                "with its start where it is one; the training progress showed the trained weights alone, each epoch "
                "at its best threshold.")
"""Why a lesion run's decision (keep-unless-better: ml.compare) may score its model under what its progress showed
(an outside trial: progress 0.436 at its best threshold; the same weights 0.289 at 0.5, where a lesion model validated
on fewer than three images predicts; the blend with the start it ended with 0.225)."""


@dataclass(frozen=True)
class TrainProgress:
    """One progress report; `step` counts optimiser steps done, `total_steps` is the planned maximum.

    `eta_s` is the estimated seconds left (time box or step cap, whichever comes first; nan while not known: before
    the second step of a run without a time box); `val_auc` is the latest
    validation AUC (None before the first validation); `val_dice` for a lesion model the weights' Dice at its best
    threshold (`DICE_SHOWN`: what picks a run's best weights, not what keep-unless-better compares: `AS_PREDICTED`;
    None otherwise); `message` is a short human-readable status line; `note`, sent once
    before the first step, a warning to keep in view until the run ends (ml.run_end.short_box); `began`, before the
    first step once known, what the run starts from (core.model_names.began_text).
    """

    step: int
    total_steps: int
    epoch: int
    loss: float
    elapsed_s: float
    eta_s: float
    val_auc: float | None
    message: str
    val_dice: float | None = None
    note: str = ""
    began: str = ""

    @property
    def epoch_shown(self) -> int:
        """The 1-based epoch this report is about: the one being trained, or the one that just ended (`epoch` counts
        finished epochs; ml.control sends "validating", then "epoch N: ...", at an epoch's end)."""
        ended = self.message == "validating" or self.message.startswith(f"epoch {self.epoch}:")
        return self.epoch if ended else self.epoch + 1

    @property
    def fraction(self) -> float:
        """Fraction done in [0, 1], for a progress bar."""
        done = self.elapsed_s + self.eta_s
        by_time = self.elapsed_s / done if done > 0 else 0.0
        by_step = self.step / self.total_steps if self.total_steps > 0 else 0.0
        return min(1.0, max(by_time, by_step))
