"""Fine-tuning: a run that starts from trained weights trains at the recipe's learning rate x `warm_lr_factor`
(bench/annotator.py: at the from-scratch rate a short retrain on a few strokes undid the start)."""

import dataclasses

import numpy as np
import pytest

from medseg_gui.ml.config import PRESETS, Recipe, TrainConfig

from .conftest import tiny_config


@pytest.mark.parametrize("regime", ["vessels", "lesions"])
def test_warm_starts_of_the_default_recipe_train_at_a_lower_rate(regime):
    from medseg_gui.ml.train import run_learning_rate

    config = TrainConfig()
    preset = config.resolved(Recipe(regime, 10.0, 1.0, 0.5))
    assert preset.regime == regime
    assert run_learning_rate(preset, config, warm=True, sparse=True) < preset.learning_rate
    assert run_learning_rate(preset, config, warm=False, sparse=True) == preset.learning_rate
    assert run_learning_rate(preset, config, warm=False, sparse=False) == preset.learning_rate
    explicit = dataclasses.replace(config, learning_rate=0.02)  # a rate the user gives is used as given
    assert run_learning_rate(explicit.resolved(Recipe(regime, 10.0, 1.0, 0.5)), explicit, warm=True, sparse=True) \
        == 0.02


def test_complete_vessel_labels_fine_tune_at_the_full_rate():
    """A dense vessel run from the shipped start keeps the recipe's rate (suite chase, 3 min: 0.9808 against 0.9680
    at 1/30); lesions fine-tune lower either way (c1-20)."""
    from medseg_gui.ml.train import run_learning_rate

    config = TrainConfig()
    vessels = config.resolved(Recipe("vessels", 3.0, 10.0, 1.0))
    assert run_learning_rate(vessels, config, warm=True, sparse=False) == vessels.learning_rate
    lesions = config.resolved(Recipe("lesions", 40.0, 1.0, 0.3))
    assert run_learning_rate(lesions, config, warm=True, sparse=False) < lesions.learning_rate


@pytest.mark.parametrize("name", ["cvxtz", "fxfviolet"])
def test_reference_presets_fine_tune_at_their_own_rate(name):
    from medseg_gui.ml.train import run_learning_rate

    config = TrainConfig(preset=name)
    for sparse in (True, False):
        assert run_learning_rate(config.resolved(), config, warm=True, sparse=sparse) == PRESETS[name].learning_rate


@pytest.mark.slow
def test_a_run_from_given_weights_trains_at_the_fine_tuning_rate(samples, tiny_preset, tmp_path, monkeypatch):
    from medseg_gui.ml.init import read_init, save_start
    from medseg_gui.ml.train import train
    from medseg_gui.ml.unet import build_unet

    preset = dataclasses.replace(PRESETS[tiny_preset], learning_rate=0.5, warm_lr_factor=1e-12,
                                 dense_warm_lr_factor=1e-12)
    monkeypatch.setitem(PRESETS, tiny_preset, preset)
    start = build_unet(preset.unet)
    save_start(start, preset, tmp_path / "start.weights.h5", "a test start")
    result = train(samples, tiny_config(tiny_preset, max_steps=2), init=read_init(tmp_path / "start.weights.h5"))
    assert result.segmenter.metadata["init"] == "a test start"
    for before, after in zip(start.get_weights(), result.model.get_weights()):
        if np.ndim(before) == 4:  # convolution kernels: at 0.5 they would move by ~0.05 a step
            np.testing.assert_allclose(np.asarray(after), np.asarray(before), atol=1e-6)
