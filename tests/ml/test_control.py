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

    def validate() -> tuple[float, float]:
        seen.append(float(model.w[0]))
        return 0.5 + 0.001 * len(seen), float("nan")

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


def _validated_run(figures, deadline: float | None, lead: str = "AUC") -> tuple[RunControl, _StubModel]:
    """Every epoch is validated and returns the next (AUC, Dice) of `figures`; patience 3; the weights are the epoch
    number."""
    model = _StubModel()
    figures = list(figures)
    it = iter(figures)
    control = RunControl(RunLimits(10_000, deadline, 3, 1e-3, "constant", lead=lead), lambda: next(it), "held-out",
                         None, None, val_seconds=0.0)
    control.set_model(model)
    control.on_train_begin()
    for epoch in range(len(figures)):
        model.w[:] = epoch + 1
        control.on_train_batch_end(0, {"loss": 0.1})
        control.val_seconds = 0.0  # validation counts as free: it is never skipped as too frequent
        control.on_epoch_end(epoch)
        if model.stop_training:
            break
    return control, model


def _declining_run(deadline: float | None, epochs: int = 12) -> RunControl:
    """Validation AUC only falls after the first epoch."""
    return _validated_run([(float(a), float("nan")) for a in np.linspace(0.9, 0.5, epochs)], deadline)[0]


def test_early_stopping_ends_runs_without_a_time_box():
    control = _declining_run(None)
    assert control.stop_reason == "early_stopping" and control.epoch == 4


def test_a_time_box_is_used_whole_and_keeps_the_best_weights():
    control = _declining_run(time.monotonic() + 3600)
    assert control.stop_reason != "early_stopping" and control.epoch == 12
    assert control.best_auc == 0.9 and control.best_step == 1


def test_a_lesion_run_keeps_the_weights_of_its_best_validation_dice_not_auc():
    figures = [(0.90, 0.60), (0.95, 0.55), (0.93, 0.70), (0.96, 0.65)]
    by_dice, _ = _validated_run(figures, time.monotonic() + 3600, lead="Dice")
    assert by_dice.best_step == 3 and by_dice.best_weights[0][0] == 3.0
    assert by_dice.best_auc == 0.93 and by_dice.best_score == 0.70  # the AUC reported is that of the kept weights
    assert [h["val_dice"] for h in by_dice.history] == [0.60, 0.55, 0.70, 0.65]
    by_auc, _ = _validated_run(figures, time.monotonic() + 3600)
    assert by_auc.best_step == 4 and by_auc.best_auc == 0.96


def test_a_time_box_ends_training_early_enough_for_the_work_after_it():
    """Training stops `after` validations (of val_seconds each) before the deadline: 5 s left, 2 s a validation."""
    stopped = {}
    for after in (1.0, 3.0):
        model = _StubModel()
        control = RunControl(RunLimits(10_000, time.monotonic() + 5.0, 3, 1e-3, "cosine", after=after),
                             lambda: (0.5, float("nan")), "held-out", None, None, val_seconds=2.0)
        control.set_model(model)
        control.on_train_begin()
        control.on_train_batch_end(0, {"loss": 0.1})
        stopped[after] = (control.stop_reason, model.stop_training)
    assert stopped == {3.0: ("time", True),  # 6 s of work after it: no time to train
                       1.0: ("epochs", False)}  # 3 s left to train


def test_the_estimate_of_a_run_without_a_time_box_leaves_out_its_slow_first_step(monkeypatch):
    """The first step also builds the training graph (5 s here, then 0.1 s a step): an outside trial's `--epochs 2`
    run showed '0:06 of 2:46', then '0:11 of 0:42'. Before the second step there is no pace to tell."""
    clock = [0.0]
    monkeypatch.setattr("medseg_gui.ml.control.time.monotonic", lambda: clock[0])
    heard = []
    control = RunControl(RunLimits(100, None, 5, 1e-3, "constant", started=0.0), lambda: (0.5, float("nan")),
                         "held-out", heard.append, None, val_seconds=1.0)
    control.set_model(_StubModel())
    control.on_train_begin()
    for step in range(1, 4):
        clock[0] = 5.0 + 0.1 * (step - 1)
        control.on_train_batch_end(step - 1, {"loss": 0.1})
    assert np.isnan(heard[0].eta_s)
    assert [round(p.eta_s, 6) for p in heard[1:]] == [9.8 + 1.0, 9.7 + 1.0]  # 98 / 97 steps of 0.1 s, a validation
    assert heard[0].fraction == 0.01  # no estimate yet: the bar follows the steps


def test_a_time_boxed_run_estimates_its_time_box_before_it_has_a_pace(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("medseg_gui.ml.control.time.monotonic", lambda: clock[0])
    heard = []
    control = RunControl(RunLimits(10_000, 60.0, 5, 1e-3, "constant", started=0.0), lambda: (0.5, float("nan")),
                         "held-out", heard.append, None, val_seconds=1.0)
    control.set_model(_StubModel())
    control.on_train_begin()
    clock[0] = 5.0
    control.on_train_batch_end(0, {"loss": 0.1})
    assert heard[0].eta_s == 55.0
