"""The Keras callback that drives a training run: progress, cancel, time box, step cap, LR schedule,
per-epoch validation, early stopping and best-weight tracking."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from medseg_gui.ml.keras_quiet import keras
import numpy as np

from medseg_gui.core.errors import CancelledError
from medseg_gui.ml.progress import TrainProgress

_EMA_EVERY = 4  # steps between weight-average updates (get_weights costs a few ms)
_VAL_SHARE = 0.05  # validate at an epoch end only if that keeps validation under ~5% of the training time


@dataclass
class RunLimits:
    """When to stop: `deadline` (time.monotonic, None = no time box), `total_steps`, early-stopping `patience`."""

    total_steps: int
    deadline: float | None
    patience: int
    base_lr: float
    schedule: str
    started: float = field(default_factory=time.monotonic)
    weight_ema: float = 0.0  # > 0: validate and keep an exponential moving average of the weights (per step)
    lead: str = "AUC"  # what picks the best weights: "AUC", or "Dice" (a lesion run: validation.lead_metric)
    after: float = 1.0  # validations' worth of work after the last step (ml/train.py), reserved inside the time box


class RunControl(keras.callbacks.Callback):
    """Polled on every batch from the training thread. `validate()` returns the validation AUC and best-threshold
    Dice (either may be nan); the best weights are those of the best `limits.lead` figure (a nan counts as better).

    Validation runs at epoch ends, skipped while it would take more than `_VAL_SHARE` of the time since the last
    one, and always once when training stops (so the best-weights choice sees the final weights)."""

    def __init__(self, limits: RunLimits, validate: Callable[[], tuple[float, float]], validation_note: str,
                 progress: Callable[[TrainProgress], None] | None, should_stop: Callable[[], bool] | None,
                 val_seconds: float):
        super().__init__()
        self.limits = limits
        self.validate = validate
        self.note = validation_note
        self.progress = progress
        self.should_stop = should_stop
        self.val_seconds = val_seconds  # estimated cost of one validation (limits.after of them end the time box)
        self.step = 0
        self.epoch = 0
        self.loss = float("nan")
        self.cancelled = False
        self.stop_reason = "epochs"
        self.best_score = -math.inf  # the best validation figure `limits.lead` names
        self.best_auc = float("nan")  # the validation AUC of the best weights
        self.best_weights: list[np.ndarray] | None = None
        self.best_step = 0
        self.last_auc: float | None = None
        self.last_dice: float | None = None
        self.bad_epochs = 0
        self.history: list[dict] = []
        self._fit_start = time.monotonic()
        self._last_val = self._fit_start
        self._steps_since_val = 0
        self._first_step_end: float | None = None  # the pace of a run is measured from here (`_eta`)
        self.ema: list[np.ndarray] | None = None

    # --- helpers -------------------------------------------------------------------------------------------
    def fraction(self) -> float:
        """Share of the run done: steps over the step cap, or time over the time box, whichever is further."""
        lim = self.limits
        f = self.step / max(1, lim.total_steps)
        if lim.deadline is not None:
            span = max(1e-3, self._last_step_by(lim.deadline) - self._fit_start)
            f = max(f, (time.monotonic() - self._fit_start) / span)
        return min(1.0, f)

    def _last_step_by(self, deadline: float) -> float:
        """When training must stop for the work after it (`limits.after` validations) to end by `deadline`."""
        return deadline - self.val_seconds * self.limits.after

    def _learning_rate(self) -> float:
        lim = self.limits
        if lim.schedule != "cosine":
            return lim.base_lr
        f, warm = self.fraction(), 0.05
        if f < warm:
            return lim.base_lr * (0.1 + 0.9 * f / warm)
        return lim.base_lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (f - warm) / (1 - warm))))

    def _eta(self, now: float) -> float:
        """Seconds left: the steps to go at the pace since the first step (which also builds the training graph:
        seconds that once made a 35 s run's first estimate 7:44), the work after them, within the time box; nan
        while there is no pace yet (before the second step) and no time box."""
        lim = self.limits
        steps_left = max(0, lim.total_steps - self.step)
        eta = math.nan
        if steps_left == 0 or (self.step >= 2 and self._first_step_end is not None):
            per_step = (now - self._first_step_end) / (self.step - 1) if steps_left else 0.0
            eta = max(0.0, steps_left * per_step + self.val_seconds * lim.after)
        if lim.deadline is not None:
            box = max(0.0, lim.deadline - now)
            eta = box if math.isnan(eta) else min(eta, box)
        return eta

    def report(self, message: str) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        self.progress(TrainProgress(step=self.step, total_steps=self.limits.total_steps, epoch=self.epoch,
                                    loss=self.loss, elapsed_s=now - self.limits.started, eta_s=self._eta(now),
                                    val_auc=self.last_auc, message=message, val_dice=self.last_dice))

    def _update_ema(self) -> None:
        """ema <- m * ema + (1 - m) * weights every _EMA_EVERY steps, with m the per-step momentum capped at
        (1 + step) / (10 + step) (so short runs are not dominated by early weights), raised to _EMA_EVERY."""
        if self.limits.weight_ema <= 0 or self.step % _EMA_EVERY:
            return
        weights = self.model.get_weights()
        if self.ema is None:
            self.ema = [np.array(w, dtype=np.float32) for w in weights]
            return
        m = min(self.limits.weight_ema, (1 + self.step) / (10 + self.step)) ** _EMA_EVERY
        for e, w in zip(self.ema, weights):
            e *= m
            e += (1.0 - m) * w

    def _validate_weights(self) -> tuple[float, float]:
        """validate() on the averaged weights when EMA is on (the raw weights are restored afterwards)."""
        if self.ema is None:
            return self.validate()
        raw = self.model.get_weights()
        self.model.set_weights(self.ema)
        try:
            return self.validate()
        finally:
            self.model.set_weights(raw)

    def _stop(self, reason: str) -> None:
        self.model.stop_training = True
        self.stop_reason = reason

    # --- Keras hooks ----------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._fit_start = self._last_val = time.monotonic()

    def on_train_batch_begin(self, batch, logs=None):
        if self.limits.schedule != "constant":
            self.model.optimizer.learning_rate = self._learning_rate()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step == 1:
            self._first_step_end = time.monotonic()
        self._steps_since_val += 1
        self._update_ema()
        if logs and "loss" in logs:
            self.loss = float(logs["loss"])
        lim = self.limits
        if self.should_stop is not None and self.should_stop():
            self.cancelled = True
            self._stop("cancelled")
        elif not math.isfinite(self.loss):
            self._stop("diverged")
        elif self.step >= lim.total_steps:
            self._stop("max_steps")
        elif lim.deadline is not None and time.monotonic() >= self._last_step_by(lim.deadline):
            self._stop("time")
        self.report(f"epoch {self.epoch + 1}, step {self.step}/{lim.total_steps}, loss {self.loss:.4f}")

    def on_epoch_end(self, epoch, logs=None):
        self.epoch = epoch + 1
        if self.cancelled or self.stop_reason == "diverged" or self._steps_since_val == 0:
            return
        final = self.model.stop_training or self.step >= self.limits.total_steps
        if not final and time.monotonic() - self._last_val < self.val_seconds / _VAL_SHARE:
            return  # validation would cost more than its share of the run; the final one always happens
        self.report("validating")
        t0 = time.monotonic()
        try:
            auc, dice = self._validate_weights()
        except CancelledError:
            self.cancelled = True
            self._stop("cancelled")
            return
        self.val_seconds = 0.5 * self.val_seconds + 0.5 * (time.monotonic() - t0)
        self._last_val = time.monotonic()
        self._steps_since_val = 0
        self.last_auc = None if math.isnan(auc) else auc
        self.last_dice = None if math.isnan(dice) else dice
        figure = dice if self.limits.lead == "Dice" else auc
        improved = math.isnan(figure) or figure > self.best_score + 1e-4
        if improved or self.best_weights is None:
            self.best_score = figure if not math.isnan(figure) else self.best_score
            self.best_auc = auc
            self.best_weights = [np.array(w) for w in (self.ema or self.model.get_weights())]
            self.best_step = self.step
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
            # a time box is used whole (a noisy one- or two-image validation must not end a run that still learns);
            # the best validated weights are kept either way
            if self.bad_epochs >= self.limits.patience and self.limits.deadline is None:
                self._stop("early_stopping")
        self.history.append({"epoch": self.epoch, "step": self.step, "loss": self.loss,
                             "val_auc": self.last_auc, "val_dice": self.last_dice,
                             "lr": self._learning_rate(), "elapsed_s": time.monotonic() - self.limits.started,
                             "validation": self.note})
        self.report(f"epoch {self.epoch}: loss {self.loss:.4f}, validation AUC "
                    f"{'n/a' if math.isnan(auc) else f'{auc:.4f}'}")
