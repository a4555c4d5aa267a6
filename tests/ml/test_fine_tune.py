"""Fine-tuning: a run that starts from trained weights trains at the recipe's learning rate x `warm_lr_factor`
(bench/annotator.py: at the from-scratch rate a short retrain on a few strokes undid the start) and keeps
`warm_mix` x the trained weights + the rest of the start's (suite c1-20)."""

import dataclasses

import numpy as np
import pytest

from medseg_gui.ml.config import PRESETS, Recipe, TrainConfig
from medseg_gui.ml.train import Sample

from .conftest import tiny_config


def _labels(n: int, sparse: bool = False) -> list[Sample]:
    image, mask = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), bool)
    return [Sample(image, mask, None, np.ones((8, 8), bool) if sparse else None) for _ in range(n)]


class _Weights:  # the part of a Keras model settle_mix uses
    def __init__(self, weights):
        self.weights = weights

    def get_weights(self):
        return list(self.weights)

    def set_weights(self, weights):
        self.weights = list(weights)


@pytest.mark.parametrize("regime", ["vessels", "lesions"])
def test_warm_starts_on_sparse_labels_train_at_a_lower_rate(regime):
    from medseg_gui.ml.fine_tune import run_learning_rate

    config = TrainConfig()
    preset = config.resolved(Recipe(regime, 10.0, 1.0, 0.5))
    assert preset.regime == regime
    sparse = _labels(300, sparse=True)
    assert run_learning_rate(preset, config, True, sparse) < preset.learning_rate
    assert run_learning_rate(preset, config, False, sparse) == preset.learning_rate
    more_sparse = _labels(max(preset.full_rate_images, 2)) + _labels(max(preset.full_rate_images, 2) + 1, sparse=True)
    assert run_learning_rate(preset, config, True, more_sparse) < preset.learning_rate
    explicit = dataclasses.replace(config, learning_rate=0.02)  # a rate the user gives is used as given
    assert run_learning_rate(explicit.resolved(Recipe(regime, 10.0, 1.0, 0.5)), explicit, True, sparse) == 0.02


def test_many_complete_labels_fine_tune_at_the_full_rate():
    """Complete vessel labels keep the recipe's rate (suite chase, 20 images, 3 min: AUC 0.9808 against 0.9680 at
    1/30); lesions do from 50 complete labels on (c1-20 was better at 1/10, c1 with 231 photos at the full rate)."""
    from medseg_gui.ml.fine_tune import run_learning_rate

    config = TrainConfig()
    vessels = config.resolved(Recipe("vessels", 3.0, 10.0, 1.0))
    assert run_learning_rate(vessels, config, True, _labels(20)) == vessels.learning_rate
    lesions = config.resolved(Recipe("lesions", 40.0, 1.0, 0.3))
    assert run_learning_rate(lesions, config, True, _labels(20)) < lesions.learning_rate
    assert run_learning_rate(lesions, config, True, _labels(lesions.full_rate_images)) == lesions.learning_rate
    # sparse labels beside as many complete ones or fewer keep the full rate (session 39: CHASE_DB1, four complete
    # labels and four of strokes, test AUC 0.9788 gently against 0.9822 at the full rate)
    assert run_learning_rate(vessels, config, True, _labels(4) + _labels(4, sparse=True)) == vessels.learning_rate
    assert run_learning_rate(vessels, config, True, _labels(4) + _labels(5, sparse=True)) < vessels.learning_rate
    assert run_learning_rate(lesions, config, True, _labels(60) + _labels(10, sparse=True)) == lesions.learning_rate
    assert run_learning_rate(lesions, config, True, _labels(40) + _labels(10, sparse=True)) < lesions.learning_rate


@pytest.mark.parametrize("name", ["cvxtz", "fxfviolet"])
def test_reference_presets_fine_tune_at_their_own_rate(name):
    from medseg_gui.ml.fine_tune import run_learning_rate

    config = TrainConfig(preset=name)
    for labels in (_labels(3), _labels(3, sparse=True)):
        assert run_learning_rate(config.resolved(), config, True, labels) == PRESETS[name].learning_rate


@pytest.mark.slow
def test_a_run_from_given_weights_trains_at_the_fine_tuning_rate(samples, tiny_preset, tmp_path, monkeypatch):
    from medseg_gui.ml.init import read_init, save_start
    from medseg_gui.ml.train import train
    from medseg_gui.ml.unet import build_unet

    preset = dataclasses.replace(PRESETS[tiny_preset], learning_rate=0.5, warm_lr_factor=1e-12,
                                 full_rate_images=10**6)
    monkeypatch.setitem(PRESETS, tiny_preset, preset)
    start = build_unet(preset.unet)
    save_start(start, preset, tmp_path / "start.weights.h5", "a test start")
    result = train(samples, tiny_config(tiny_preset, max_steps=2), init=read_init(tmp_path / "start.weights.h5"))
    assert result.segmenter.metadata["init"] == "a test start"
    md = result.segmenter.metadata  # the rate is recorded (a verification trial could not tell which one ran)
    assert md["fine_tuned"] is True and md["learning_rate"] == pytest.approx(0.5e-12)
    for before, after in zip(start.get_weights(), result.model.get_weights()):
        if np.ndim(before) == 4:  # convolution kernels: at 0.5 they would move by ~0.05 a step
            np.testing.assert_allclose(np.asarray(after), np.asarray(before), atol=1e-6)


def test_mix_weights_averages_every_float_weight():
    import keras

    from medseg_gui.ml.fine_tune import mix_weights

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()])
    start = [np.full(w.shape, 2.0, np.float32) for w in model.get_weights()]
    model.set_weights([np.full(w.shape, 10.0, np.float32) for w in model.get_weights()])
    mix_weights(model, start, 0.25)
    for w in model.get_weights():  # kernel, bias, gamma, beta and the moving mean and variance
        np.testing.assert_allclose(w, 0.25 * 10.0 + 0.75 * 2.0)


def test_the_share_of_trained_weights_kept_depends_on_the_labels():
    from medseg_gui.ml.fine_tune import weight_mix

    lesions = TrainConfig().resolved(Recipe("lesions", 40.0, 1.0, 0.3))
    assert weight_mix(lesions, True, _labels(20)) == lesions.warm_mix < 1  # few labels
    assert weight_mix(lesions, True, _labels(300, sparse=True)) == lesions.warm_mix  # strokes
    assert weight_mix(lesions, True, _labels(lesions.full_rate_images)) == lesions.full_rate_mix < 1
    assert weight_mix(lesions, False, _labels(20)) is None  # from scratch: nothing to mix with
    vessels = TrainConfig().resolved(Recipe("vessels", 3.0, 10.0, 1.0))
    assert weight_mix(vessels, True, _labels(20)) is None  # CHASE lost AUC with any mix
    assert weight_mix(vessels, True, _labels(3, sparse=True)) is None


def test_a_kept_mix_records_the_trained_weights_dice_and_a_rejected_one_restores_them():
    from medseg_gui.ml.fine_tune import settle_mix
    from medseg_gui.ml.validation import ValScore

    Weights = _Weights
    trained = ValScore(0.92, 0.5, 0.613)
    model = Weights([np.ones(2, np.float32)])
    score, meta = settle_mix(model, [np.zeros(2, np.float32)], 0.25, trained, lambda: ValScore(0.9, 0.5, 0.496),
                             "lesions")
    assert meta == {"weight_mix": 0.25, "weight_mix_trained": 0.613} and score.dice == 0.496
    np.testing.assert_allclose(model.weights[0], 0.25)
    model = Weights([np.ones(2, np.float32)])
    score, meta = settle_mix(model, [np.zeros(2, np.float32)], 0.25, trained, lambda: ValScore(0.9, 0.5, 0.1),
                             "lesions")
    assert meta == {"weight_mix_rejected": {"share": 0.25, "mixed": 0.1, "trained": 0.613}} and score is trained
    np.testing.assert_allclose(model.weights[0], 1.0)
    _, meta = settle_mix(Weights([np.ones(2, np.float32)]), [np.zeros(2, np.float32)], 0.25,
                         ValScore(0.9), lambda: ValScore(0.9), "lesions")  # no lesion to judge by: no Dice to record
    assert meta == {"weight_mix": 0.25}


def test_a_mix_is_kept_unless_it_validates_at_under_half_the_trained_dice_or_clearly_worse():
    from medseg_gui.ml.fine_tune import MIX_KEEP, keeps_mix
    from medseg_gui.ml.validation import ValScore

    trained = ValScore(0.92, 0.5, 0.66)
    assert keeps_mix(trained, ValScore(0.81, 0.5, 0.44), "lesions")  # suite c1-20: 0.64-0.97 x, better on test
    assert not keeps_mix(trained, ValScore(0.81, 0.2, 0.16), "lesions")  # the lesion demo: a start blind to them
    assert keeps_mix(trained, ValScore(0.9, 0.5, MIX_KEEP * 0.66), "lesions")  # the bound itself keeps it
    assert keeps_mix(ValScore(0.9, 0.5, float("nan")), ValScore(0.9, 0.5, 0.0), "lesions")  # no lesion to judge
    assert keeps_mix(trained, ValScore(0.9, 0.5, float("nan")), "lesions")
    # image by image: a lower mean that one image makes is kept, one that every image shows is not
    per_image = (0.7, 0.6, 0.8, 0.5)
    one_worse = ValScore(0.9, 0.5, 0.6, (0.7, 0.6, 0.8, 0.3))
    all_worse = ValScore(0.9, 0.5, 0.58, (0.62, 0.52, 0.72, 0.44))
    assert keeps_mix(ValScore(0.9, 0.5, 0.65, per_image), one_worse, "lesions")
    assert not keeps_mix(ValScore(0.9, 0.5, 0.65, per_image), all_worse, "lesions")


def test_a_mix_is_judged_at_the_threshold_each_weights_would_predict_at():
    """A new-user trial's cervix class (one validation photo) kept a blend at Dice 0.200 against 0.537 trained: the
    blend's best threshold (0.2) gave it 0.27, over half the trained weights' best, but a lesion model with one
    validation photo predicts at 0.5, where the blend scored 0.200 and the trained weights 0.45."""
    from medseg_gui.ml.fine_tune import keeps_mix, settle_mix
    from medseg_gui.ml.validation import ValScore

    trained = ValScore(0.8, 0.3, 0.537, at_best=(0.537,), at_half=(0.45,))
    mixed = ValScore(0.7, 0.2, 0.27, at_best=(0.27,), at_half=(0.2003,))
    assert not keeps_mix(trained, mixed, "lesions")
    assert keeps_mix(trained, mixed, "vessels")  # vessel maps are calibrated to the best threshold: 0.27 >= 0.2685
    _, meta = settle_mix(_Weights([np.ones(2, np.float32)]), [np.zeros(2, np.float32)], 0.25, trained,
                         lambda: mixed, "lesions")
    assert meta == {"weight_mix_rejected": {"share": 0.25, "mixed": 0.2003, "trained": 0.45}}
    # at least three photos where the best threshold wins clearly: both judged there
    trained = ValScore(0.8, 0.3, 0.6, at_best=(0.6, 0.62, 0.58), at_half=(0.4, 0.41, 0.39))
    mixed = ValScore(0.8, 0.3, 0.55, at_best=(0.62, 0.50, 0.53), at_half=(0.1, 0.1, 0.1))
    _, meta = settle_mix(_Weights([np.ones(2, np.float32)]), [np.zeros(2, np.float32)], 0.25, trained,
                         lambda: mixed, "lesions")
    assert meta == {"weight_mix": 0.25, "weight_mix_trained": 0.6}


def test_the_trained_weights_figure_a_kept_blend_records_is_not_the_best_threshold_dice_the_progress_showed():
    """A trial's lesion run (2 validation photos) showed "val Dice 0.436" in its progress (ValScore.dice: the best
    threshold, what picks the best weights) and recorded the trained weights alone at 0.289: their Dice at 0.5, where
    a lesion model validated on fewer than three photos predicts, and the blend is judged; the texts now say which."""
    from medseg_gui.ml.fine_tune import settle_mix
    from medseg_gui.ml.validation import ValScore

    trained = ValScore(0.699, 0.3, 0.436, at_best=(0.5, 0.372), at_half=(0.33, 0.248))
    mixed = ValScore(0.68, 0.3, 0.3, at_best=(0.35, 0.25), at_half=(0.22, 0.23))
    _, meta = settle_mix(_Weights([np.ones(2, np.float32)]), [np.zeros(2, np.float32)], 0.25, trained,
                         lambda: mixed, "lesions")
    assert meta == {"weight_mix": 0.25, "weight_mix_trained": 0.289}  # not trained.dice, 0.436


@pytest.mark.slow
@pytest.mark.parametrize("full_rate_images, warm_mix, full_rate_mix, mixed, keep", [
    (10**6, 0.0, 1.0, True, True), (1, 0.0, 1.0, False, True), (1, 1.0, 0.0, True, True),
    (10**6, 0.0, 1.0, False, False)])
def test_a_run_keeps_its_share_of_the_trained_weights(samples, tiny_preset, tmp_path, monkeypatch, full_rate_images,
                                                      warm_mix, full_rate_mix, mixed, keep):
    """A share of 0 keeps exactly the start however far the run trained; a share of 1 keeps the trained weights; a
    mix that validates too badly (`keeps_mix` False) leaves the trained weights."""
    import medseg_gui.ml.fine_tune as fine_tune
    from medseg_gui.ml.init import read_init, save_start
    from medseg_gui.ml.train import train
    from medseg_gui.ml.unet import build_unet

    monkeypatch.setattr(fine_tune, "keeps_mix", lambda trained, mix, regime: keep)

    start = build_unet(PRESETS[tiny_preset].unet)
    save_start(start, PRESETS[tiny_preset], tmp_path / "start.weights.h5", "a test start")
    monkeypatch.setitem(PRESETS, tiny_preset, dataclasses.replace(
        PRESETS[tiny_preset], learning_rate=0.05, warm_lr_factor=1.0, warm_mix=warm_mix, full_rate_mix=full_rate_mix,
        full_rate_images=full_rate_images))
    result = train(samples, tiny_config(tiny_preset, max_steps=4), init=read_init(tmp_path / "start.weights.h5"))
    assert ("weight_mix" in result.segmenter.metadata) is mixed
    assert ("weight_mix_rejected" in result.segmenter.metadata) is not keep
    moved = [not np.array_equal(before, after) for before, after in zip(start.get_weights(),
                                                                          result.model.get_weights())]
    assert not any(moved) if mixed else any(moved)
