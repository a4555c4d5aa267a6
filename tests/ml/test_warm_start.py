"""Warm start: a stored model keeps its training-form weights, and the next run starts from them."""

import numpy as np
import pytest

from medseg_gui.ml import store
from medseg_gui.ml.init import fits

from .conftest import tiny_config

pytestmark = pytest.mark.slow


def test_retrain_starts_from_the_current_model(samples, tiny_preset, tmp_path):
    from medseg_gui.ml.train import train

    first = train(samples, tiny_config(tiny_preset, max_steps=6))
    assert store.current_start(tmp_path) is None
    decision = store.save_if_better(tmp_path, first)
    assert decision.kept_new
    init = store.current_start(tmp_path)
    assert init is not None and fits(init, first.preset) == "" and init.source.startswith("the model of")
    kernels = [i for i, w in enumerate(first.model.get_weights()) if np.ndim(w) == 4]
    again = train(samples, tiny_config(tiny_preset, max_steps=1, learning_rate=1e-12), init=init)
    assert again.segmenter.metadata["init"] == init.source
    for i in kernels:
        np.testing.assert_allclose(np.array(again.model.get_weights()[i]), np.array(first.model.get_weights()[i]),
                                   atol=1e-6)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp files left behind


def test_the_start_is_kept_only_when_it_validates_better_by_the_regimes_lead_figure():
    from medseg_gui.ml.train import ValScore
    from medseg_gui.ml.train import _start_validates_better as better

    start = ValScore(auc=0.95, threshold=0.4, dice=0.62)
    assert better(start, {"regime": "lesions", "val_dice": 0.58, "val_auc": 0.99})  # Dice leads for lesions
    assert not better(start, {"regime": "lesions", "val_dice": 0.62, "val_auc": 0.5})  # a tie: the trained model
    assert not better(start, {"regime": "vessels", "val_auc": 0.96, "val_dice": 0.1})  # AUC leads for vessels
    assert better(start, {"regime": "vessels", "val_auc": 0.94})
    assert not better(ValScore(float("nan")), {"regime": "vessels", "val_auc": 0.9})  # nothing to compare
    assert not better(start, {"regime": "lesions", "val_dice": None})


def test_a_first_model_that_validates_worse_than_its_start_is_that_start(samples, tiny_preset, tmp_path,
                                                                            monkeypatch):
    from medseg_gui.ml import train as train_module

    first = train_module.train(samples, tiny_config(tiny_preset, max_steps=6))
    store.save_if_better(tmp_path / "a", first)
    init = store.current_start(tmp_path / "a")
    judged = []
    monkeypatch.setattr(train_module, "_start_validates_better", lambda start, trained: judged.append(1) or True)
    run = train_module.train(samples, tiny_config(tiny_preset, max_steps=4, learning_rate=1e-2), init=init)
    assert judged and run.steps == 4
    kept = run.segmenter.metadata["start_kept"]
    assert kept["metric"] in ("AUC", "Dice") and run.segmenter.metadata["init"] == init.source
    for got, want in zip(run.model.get_weights(), first.model.get_weights()):  # every weight, batch-norm's too
        np.testing.assert_array_equal(np.array(got), np.array(want))
    decision = store.save_if_better(tmp_path / "b", run)
    assert decision.kept_new and "start it began from" in decision.reason

    monkeypatch.setattr(train_module, "_start_validates_better", lambda start, trained: False)
    trained = train_module.train(samples, tiny_config(tiny_preset, max_steps=4, learning_rate=1e-2), init=init)
    assert "start_kept" not in trained.segmenter.metadata
    assert any(not np.array_equal(np.array(a), np.array(b))
               for a, b in zip(trained.model.get_weights(), first.model.get_weights()))
