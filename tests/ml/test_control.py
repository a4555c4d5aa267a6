"""RunControl on a stub model (no training): weight averaging, what validation sees, what is kept."""

import time

import numpy as np

from medseg_gui.ml.control import RunControl, RunLimits


class _StubModel:
    """One weight vector whose value is set by the test; records nothing else."""

    def __init__(self):
        self.w = np.zeros(3, np.float32)
        self.stop_training = False

    def get_weights(self):
        return [self.w.copy()]

    def set_weights(self, weights):
        self.w = np.array(weights[0], np.float32)


def _run(weight_ema: float, steps: int) -> tuple[RunControl, _StubModel, list[float]]:
    model = _StubModel()
    seen: list[float] = []

    def validate() -> float:
        seen.append(float(model.w[0]))
        return 0.5 + 0.001 * len(seen)

    control = RunControl(RunLimits(steps, None, 5, 1e-3, "constant", weight_ema=weight_ema), validate, "held-out",
                         None, None, val_seconds=0.0)
    control.set_model(model)
    control.on_train_begin()
    for step in range(1, steps + 1):
        model.w[:] = step  # the "weights" after this step
        control.on_train_batch_end(step - 1, {"loss": 0.1})
    control.on_epoch_end(0)
    return control, model, seen


def test_without_averaging_validation_sees_and_keeps_the_raw_weights():
    control, model, seen = _run(0.0, 400)
    assert seen == [400.0]
    assert control.ema is None
    np.testing.assert_array_equal(control.best_weights[0], model.w)


def test_averaging_validates_and_keeps_the_average_and_restores_the_raw_weights():
    control, model, seen = _run(0.99, 400)
    # weights rise by 1 per step; the average lags: by 99 steps at momentum 0.99, less while the cap
    # (1 + step) / (10 + step) = 0.978 at step 400 still holds it down (~45 steps)
    assert 400 - 110 < seen[0] < 400 - 30
    np.testing.assert_allclose(control.best_weights[0], seen[0])
    np.testing.assert_array_equal(model.w, 400.0)  # training continues from the raw weights


def test_short_runs_are_not_dominated_by_the_initial_weights():
    _, _, seen = _run(0.999, 40)  # a 1000-step average would still be mostly step 4 after 40 steps
    assert seen[0] > 25


def _declining_run(deadline: float | None, epochs: int = 12) -> RunControl:
    """Validation AUC only falls after the first epoch; patience 3; every epoch is validated."""
    model = _StubModel()
    aucs = iter(np.linspace(0.9, 0.5, epochs))
    control = RunControl(RunLimits(10_000, deadline, 3, 1e-3, "constant"), lambda: float(next(aucs)), "held-out",
                         None, None, val_seconds=0.0)
    control.set_model(model)
    control.on_train_begin()
    for epoch in range(epochs):
        control.on_train_batch_end(0, {"loss": 0.1})
        control.val_seconds = 0.0  # validation counts as free: it is never skipped as too frequent
        control.on_epoch_end(epoch)
        if model.stop_training:
            break
    return control


def test_early_stopping_ends_runs_without_a_time_box():
    control = _declining_run(None)
    assert control.stop_reason == "early_stopping" and control.epoch == 4


def test_a_time_box_is_used_whole_and_keeps_the_best_weights():
    control = _declining_run(time.monotonic() + 3600)
    assert control.stop_reason != "early_stopping" and control.epoch == 12
    assert control.best_auc == 0.9 and control.best_step == 1
