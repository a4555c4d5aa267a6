import dataclasses
import math
import time

import numpy as np
import pytest

from medseg_gui.core.errors import LabelSizeError, NoLabelsError
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.ml.train import Sample, split_samples, train

from .conftest import blob_sample, tiny_config

pytestmark = pytest.mark.slow


def test_errors_before_any_training():
    with pytest.raises(NoLabelsError):
        train([], tiny_config("default"))
    img = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(LabelSizeError):
        train([Sample(img, np.zeros((20, 21), bool))], tiny_config("default"))
    with pytest.raises(LabelSizeError):
        train([Sample(img, np.zeros((20, 20), bool), np.zeros((19, 20), bool))], tiny_config("default"))


def test_split_holds_out_labelled_images():
    rng = np.random.default_rng(0)
    many = [blob_sample(rng, 16, 16) for _ in range(10)]
    tr, va, note = split_samples(many, 0.2, 0)
    assert len(va) == 2 and not set(tr) & set(va) and len(tr) == 8 and note == "held-out images"
    assert split_samples(many[:1], 0.2, 0) == ([0], [0], "training image (only one labelled image)")
    tr, va, _ = split_samples(many[:2], 0.2, 0)
    assert len(tr) == 1 and len(va) == 1


def test_a_large_labelled_set_validates_on_at_most_max_images_and_trains_on_the_rest():
    named = _named(60)
    tr, va, _ = split_samples(named, 0.2, 0, max_images=5)
    assert len(va) == 5 and len(tr) == 55 and not set(tr) & set(va)
    assert len(split_samples(named, 0.2, 0)[1]) == 12  # no cap: a fifth
    assert len(split_samples(named[:10], 0.2, 0, max_images=5)[1]) == 2  # under the cap: a fifth


def _named(n: int) -> list[Sample]:
    rng = np.random.default_rng(1)
    return [dataclasses.replace(blob_sample(rng, 16, 16), name=f"img{i:02d}") for i in range(n)]


def test_a_label_that_looks_incomplete_validates_last_and_only_candidates_are_asked():
    """New-user trial, session 34: the run's one validation image was a sliver where the model saw a lesion."""
    named = _named(40)
    _, (first, *_rest), _ = split_samples(named, 0.05, 0)
    asked: list[str] = []

    def doubtful(name: str) -> bool:
        asked.append(name)
        return name == named[first].name

    tr, va, _ = split_samples(named, 0.05, 0, doubtful=doubtful)
    assert first in tr and first not in va and len(va) == 2
    assert len(asked) == 2 + 8  # the candidates and a few spares, not all 40 labels
    _, va_all, _ = split_samples(named[:3], 0.3, 0, doubtful=lambda _name: True)  # all doubtful: still validated
    assert len(va_all) == 1


def test_split_keeps_an_image_held_out_as_others_are_labelled():
    named = _named(14)
    for n in range(4, 14):  # labelling one more image never moves a held-out image into training
        _, before, _ = split_samples(named[:n], 0.2, 0)
        _, after, _ = split_samples(named[:n + 1], 0.2, 0)
        assert set(before) <= set(after) if len(after) > len(before) else set(after) <= set(before) | {n}


def test_split_validates_on_an_image_the_current_model_did_not_train_on():
    named = _named(6)
    for fresh in range(6):
        seen = [s.name for i, s in enumerate(named) if i != fresh]
        train_idx, val_idx, note = split_samples(named, 0.2, 0, seen=seen)
        assert val_idx == [fresh] and fresh not in train_idx and note == "held-out images"
    _, val_idx, note = split_samples(named, 0.2, 0, seen=[s.name for s in named])
    assert len(val_idx) == 1 and note == "held-out images (the current model trained on them)"


def test_a_warm_run_is_compared_on_an_image_the_current_model_never_saw(trained, tiny_preset):
    from medseg_gui.ml.predict import Segmenter

    named = _named(5)
    old = trained[0].segmenter
    previous = Segmenter(old.model, {**old.metadata, "train_stems": [s.name for s in named[1:]]})
    result = train(named, tiny_config(tiny_preset, max_steps=2), previous=previous)
    md = result.segmenter.metadata
    assert md["val_stems"] == ["img00"] and sorted(md["train_stems"]) == [s.name for s in named[1:]]


def test_default_preset_trains_reports_and_caps_steps(trained):
    result, reports = trained
    assert result.steps == 24 and result.stop_reason == "max_steps" and not result.cancelled
    assert result.val_auc > 0.8 and result.previous_val_auc is None
    assert result.history and result.history[-1]["epoch"] == 3 and result.history[-1]["step"] == 24
    assert all(h["validation"] == "held-out images" for h in result.history)
    steps = [r.step for r in reports if isinstance(r, TrainProgress)]
    assert steps[-1] == 24 and set(range(1, 25)) <= set(steps)
    assert all(math.isfinite(r.loss) for r in reports if r.step > 0)
    dices = {r.val_dice for r in reports if r.val_auc is not None}  # a lesion run also reports what its guard leads
    # with
    assert (None not in dices) if result.preset.regime == "lesions" else dices == {None}
    md = result.segmenter.metadata
    assert md["preset"] == "default" and md["filters"][0] == 8 and md["val_auc"] == pytest.approx(result.val_auc)
    assert md["input_mode"] == "rgb" and "trained_at" in md


def test_previous_model_is_evaluated_on_the_same_validation_images(trained, samples, tiny_preset):
    previous, _ = trained
    result = train(samples, tiny_config(tiny_preset, max_steps=3), previous=previous.segmenter)
    assert result.previous_val_auc == pytest.approx(previous.val_auc, abs=1e-4)  # folded BN: float noise
    compared = result.comparison  # keep-unless-better's figures: the lead metric of both models on those images
    assert compared.metric == ("Dice" if result.preset.regime == "lesions" else "AUC") and compared.current is not None
    if compared.metric == "AUC":
        assert compared.current == result.previous_val_auc
    else:  # the previous model as it predicts: the Dice it reported on these images
        assert compared.current == pytest.approx(previous.segmenter.metadata["val_dice"], abs=2e-3)
        assert compared.new == result.segmenter.metadata["val_dice"]


def test_time_box_is_honoured(samples, tiny_preset):
    result = train(samples, tiny_config(tiny_preset, minutes=0.02, max_steps=100_000))
    assert result.stop_reason == "time" and result.steps < 100_000


def test_cancel_stops_within_a_couple_of_batches(samples, tiny_preset):
    seen: list[int] = []
    stop_at: list[float] = []

    def should_stop():
        if seen and seen[-1] >= 2:
            stop_at.append(time.monotonic())
            return True
        return False

    result = train(samples, tiny_config(tiny_preset, max_steps=10_000), progress=lambda p: seen.append(p.step),
                   should_stop=should_stop)
    assert result.cancelled and result.stop_reason == "cancelled"
    assert result.steps <= 4
    assert time.monotonic() - stop_at[0] < 3.0


def test_single_image_validates_on_itself(samples, tiny_preset):
    result = train(samples[:1], tiny_config(tiny_preset, max_steps=5))
    assert result.history and result.history[-1]["validation"].startswith("training image")


def test_same_seed_same_weights(samples, tiny_preset):
    runs = [train(samples, tiny_config(tiny_preset, max_steps=6, seed=3)) for _ in range(2)]
    w0, w1 = (r.segmenter.model.get_weights() for r in runs)
    assert all(np.array_equal(a, b) for a, b in zip(w0, w1))
    assert runs[0].history[-1]["loss"] == runs[1].history[-1]["loss"]


def test_cancel_while_evaluating_the_current_model(trained, samples, tiny_preset):
    result = train(samples, tiny_config(tiny_preset), should_stop=lambda: True, previous=trained[0].segmenter)
    assert result.cancelled and result.steps == 0 and result.stop_reason == "cancelled"


def test_late_phase_switches_patch_size_during_a_run(samples, tiny_preset, monkeypatch):
    """A preset with a late phase trains on its small patches first, then on the large ones, and the weight average
    is what gets validated and kept (the run completes with both traced shapes)."""

    import medseg_gui.ml.train as train_module
    from medseg_gui.ml.config import PRESETS

    sizes: list[tuple[int, int]] = []
    real = train_module.sample_batch

    def recording(images, preset, rng):
        sizes.append((preset.batch_size, preset.patch_size))
        return real(images, preset, rng)

    monkeypatch.setattr(train_module, "sample_batch", recording)
    name = tiny_preset + "_late"
    monkeypatch.setitem(PRESETS, name, dataclasses.replace(PRESETS[tiny_preset], name=name, late_patch_size=64,
                                                           late_batch_size=2, late_start=0.5, weight_ema=0.99))
    result = train(samples, tiny_config(name, max_steps=8))
    assert result.steps == 8 and result.stop_reason == "max_steps"
    assert sizes[:4] == [(4, 32)] * 4 and sizes[4:8] == [(2, 64)] * 4
    assert (result.patches, result.pixels) == (4 * 4 + 4 * 2, 4 * 4 * 32**2 + 4 * 2 * 64**2)
    assert math.isfinite(result.val_auc)
