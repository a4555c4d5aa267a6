"""Warm start: a stored model keeps its training-form weights, and the next run starts from them."""

import numpy as np
import pytest

from medseg_gui.core.model_names import START_MODEL, local_time
from medseg_gui.ml import store
from medseg_gui.ml.init import fits

from .conftest import tiny_config

pytestmark = pytest.mark.slow


def test_retrain_starts_from_the_current_model(samples, tiny_preset, tmp_path):
    from medseg_gui.ml.train import train

    told = []
    first = train(samples, tiny_config(tiny_preset, max_steps=6), progress=told.append)
    assert {p.began for p in told if p.step == 0} >= {"This run starts from scratch."}
    assert store.current_start(tmp_path) is None
    decision = store.save_if_better(tmp_path, first)
    assert decision.kept_new
    init = store.current_start(tmp_path)
    assert init is not None and fits(init, first.preset) == "" and init.source.startswith("the model of")
    trained_at = first.segmenter.metadata["trained_at"]
    assert init.model == (decision.model_id, trained_at)  # which model the next run continues from
    kernels = [i for i, w in enumerate(first.model.get_weights()) if np.ndim(w) == 4]
    told.clear()
    again = train(samples, tiny_config(tiny_preset, max_steps=1, learning_rate=1e-12), init=init,
                  progress=told.append)
    assert again.segmenter.metadata["init"] == init.source
    # an outside trial could not tell that Retrain continued from yesterday's model: said before the first step
    assert again.segmenter.metadata[START_MODEL] == {"id": decision.model_id, "trained_at": trained_at}
    began = f"This run continues from the model trained {local_time(trained_at)}."
    assert [p.began for p in told if p.step == 0][-1] == began and not first.segmenter.metadata.get(START_MODEL)
    for i in kernels:
        np.testing.assert_allclose(np.array(again.model.get_weights()[i]), np.array(first.model.get_weights()[i]),
                                   atol=1e-6)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp files left behind


def test_the_start_is_kept_only_when_it_validates_better_by_the_regimes_lead_figure():
    from medseg_gui.ml.validation import ValScore
    from medseg_gui.ml.validation import start_validates_better as better

    start = ValScore(auc=0.95, threshold=0.4, dice=0.62)
    assert better(start, ValScore(auc=0.99, dice=0.58), "Dice")  # Dice leads for lesions
    assert not better(start, ValScore(auc=0.5, dice=0.62), "Dice")  # a tie: the trained weights
    assert not better(start, ValScore(auc=0.96, dice=0.1), "AUC")  # AUC leads for vessels
    assert better(start, ValScore(auc=0.94), "AUC")
    assert not better(ValScore(float("nan")), ValScore(auc=0.9), "AUC")  # nothing to compare
    assert not better(start, ValScore(auc=0.9), "Dice")  # the trained Dice unknown


def test_the_start_must_beat_the_trained_weights_too_not_only_their_average_with_it():
    """A new user's CLI run (12 C6 photos, 2 min): start 0.7913, the average with it 0.7902, trained 0.822: the
    start had been kept, two minutes of training dropped over 0.001 Dice on two validation photos."""
    from medseg_gui.ml.validation import ValScore, start_is_the_model

    start, mixed, trained = ValScore(0.9, dice=0.7913), ValScore(0.9, dice=0.7902), ValScore(0.9, dice=0.822)
    assert not start_is_the_model(start, [mixed, trained], "Dice")
    assert start_is_the_model(start, [mixed, ValScore(0.9, dice=0.78)], "Dice")
    assert start_is_the_model(start, [mixed], "Dice") and not start_is_the_model(start, [], "Dice")


def test_a_first_model_that_validates_worse_than_its_start_is_that_start(samples, tiny_preset, tmp_path,
                                                                            monkeypatch):
    from medseg_gui.ml import run_end
    from medseg_gui.ml import train as train_module

    first = train_module.train(samples, tiny_config(tiny_preset, max_steps=6))
    store.save_if_better(tmp_path / "a", first)
    init = store.current_start(tmp_path / "a")
    judged = []
    monkeypatch.setattr(run_end, "start_is_the_model", lambda *args: judged.append(1) or True)
    run = train_module.train(samples, tiny_config(tiny_preset, max_steps=4, learning_rate=1e-2), init=init)
    assert judged and run.steps == 4
    md = run.segmenter.metadata
    assert md["start_kept"]["metric"] in ("AUC", "Dice") and md["start_kept"]["steps"] == 4
    assert md["init"] == init.source and md["train_stems"] == [] and md["steps"] == 0  # it learnt nothing here
    for got, want in zip(run.model.get_weights(), first.model.get_weights()):  # every weight, batch-norm's too
        np.testing.assert_array_equal(np.array(got), np.array(want))
    image = samples[0].image
    np.testing.assert_allclose(run.segmenter.predict(image, tta=1, clean=False),  # the start's map (calibrated
                               first.segmenter.predict(image, tta=1, clean=False), atol=0.02)  # on other images)
    decision = store.save_if_better(tmp_path / "b", run)
    assert decision.kept_new and "start it began from" in decision.reason
    assert [e.decision for e in store.list_models(tmp_path / "b")] == ["kept (its start)"]  # Models dialog, CLI
    assert [e.decision for e in store.list_models(tmp_path / "a")] == ["kept"]
    stored = store.current_start(tmp_path / "b")  # the next run continues from the start's weights
    again = train_module.train(samples, tiny_config(tiny_preset, max_steps=1, learning_rate=1e-12), init=stored)
    for got, want in zip(again.model.get_weights(), first.model.get_weights()):
        if np.ndim(want) == 4:
            np.testing.assert_allclose(np.array(got), np.array(want), atol=1e-6)

    monkeypatch.setattr(run_end, "start_is_the_model", lambda *args: False)
    trained = train_module.train(samples, tiny_config(tiny_preset, max_steps=4, learning_rate=1e-2), init=init)
    assert "start_kept" not in trained.segmenter.metadata
    assert any(not np.array_equal(np.array(a), np.array(b))
               for a, b in zip(trained.model.get_weights(), first.model.get_weights()))


def test_a_first_run_that_diverges_keeps_its_start_and_one_from_scratch_says_so(samples, tiny_preset, tmp_path,
                                                                                 monkeypatch):
    from medseg_gui.core.errors import MedsegError
    from medseg_gui.ml import train as train_module

    first = train_module.train(samples, tiny_config(tiny_preset, max_steps=6))
    store.save_if_better(tmp_path / "a", first)
    init = store.current_start(tmp_path / "a")

    def diverging(model, batches, epochs, steps_per_epoch, control, between_epochs=None):  # NaN before validating
        model.set_weights([np.full_like(np.array(w), np.nan) for w in model.get_weights()])
        control.stop_reason = "diverged"
        return 0, 0

    monkeypatch.setattr(train_module, "run_steps", diverging)
    run = train_module.train(samples, tiny_config(tiny_preset, max_steps=4), init=init)
    assert run.segmenter.metadata["start_kept"]["diverged"] is True
    for got, want in zip(run.model.get_weights(), first.model.get_weights()):
        np.testing.assert_array_equal(np.array(got), np.array(want))
    decision = store.save_if_better(tmp_path / "b", run)
    assert decision.kept_new and "numerically unstable" in decision.reason
    with pytest.raises(MedsegError, match="numerically unstable"):
        train_module.train(samples, tiny_config(tiny_preset, max_steps=4, init="scratch"))
