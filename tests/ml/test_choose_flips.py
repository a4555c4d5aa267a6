"""How many flips a lesion model averages (validation.choose_prediction): the run's default (one flip for a run that
fine-tunes, Preset.full_rate_flips for the others) unless the other count validates clearly better on every image."""

import numpy as np
import pytest

from medseg_gui.ml.samples import Sample
from medseg_gui.ml.validation import choice_cost, choose_prediction


def _disc(shift: int = 0) -> np.ndarray:
    yy, xx = np.mgrid[:48, :48]
    return (yy - 24) ** 2 + (xx - 24 - shift) ** 2 <= 100


class _Stub:
    """A segmenter whose map is the true disc with `good` flips, the disc shifted by 4 px with the others; at other
    working scales (metadata "scales" without 1) the disc is `scaled_shift` px off, and so is the map averaged over
    (0.8, 1, 1.25) at threshold 0.5 (two of its three maps agree)."""

    def __init__(self, good: set[int], scaled_shift: int = 4, metadata: dict | None = None) -> None:
        self.metadata = metadata or {"threshold": 0.5}
        self.good, self.scaled_shift = good, scaled_shift

    def variant(self, **metadata):
        return _Stub(self.good, self.scaled_shift, {**self.metadata, **metadata})

    def predict(self, image, roi=None, *, tta=None, clean=True, should_stop=None):
        shift = 0 if tta in self.good else 4
        if self.metadata.get("scales") and 1.0 not in self.metadata["scales"]:
            shift = self.scaled_shift
        return np.where(_disc(shift), 0.9, 0.1).astype(np.float32)


def _views() -> list[Sample]:
    return [Sample(np.zeros((48, 48, 3), np.uint8), _disc(), None, None, f"v{i}") for i in range(4)]


@pytest.mark.parametrize("default_flips, good, want", [
    (4, {1, 2, 4}, 4),  # as good either way: the default stands
    (4, {1}, 1),  # one flip clearly better on every image: taken
    (4, {4}, 4),
    (1, {1, 2, 4}, 1),
    (1, {2}, 2),  # two flips clearly better: taken
    (1, {1}, 1),
])
def test_the_default_flips_stand_unless_the_other_count_wins_clearly(default_flips, good, want):
    stub = _Stub(good)
    choose_prediction(stub, _views(), False, None, default_flips)
    assert stub.metadata.get("tta", 1) == want


@pytest.mark.parametrize("scaled_shift, taken", [(0, True), (3, True), (4, False), (6, False)])
def test_several_scales_are_averaged_only_when_they_validate_clearly_better(scaled_shift, taken):
    stub = _Stub(set(), scaled_shift)  # one or two flips: the disc 4 px off
    choose_prediction(stub, _views(), False, None, 1, (0.8, 1.0, 1.25))
    assert stub.metadata.get("scales") == ([0.8, 1.0, 1.25] if taken else None)
    stub = _Stub(set(), 0)
    choose_prediction(stub, _views(), False, None, 1, ())  # none asked: none tried
    assert "scales" not in stub.metadata


def test_the_scales_are_scored_on_the_mean_of_the_maps_at_each_and_the_working_scale_is_predicted_once():
    stub, asked = _Stub(set(), 0), []
    predict = stub.predict
    stub.variant = lambda **md: _Recording(_Stub(set(), 0, {**stub.metadata, **md}), asked)
    stub.predict = lambda *a, **k: (asked.append((None, k["tta"])), predict(*a, **k))[1]
    choose_prediction(stub, _views(), False, None, 1, (0.8, 1.0, 1.25))
    per_view = sorted(set(asked), key=str)
    assert per_view == sorted({(None, 1), (None, 2), ((0.8,), 1), ((1.25,), 1)}, key=str)  # one flip chosen
    assert len(asked) == 4 * len(_views())
    assert stub.metadata["scales"] == [0.8, 1.0, 1.25]


class _Recording:
    def __init__(self, inner: _Stub, asked: list) -> None:
        self.inner, self.asked = inner, asked

    def predict(self, *args, **kwargs):
        self.asked.append((tuple(self.inner.metadata["scales"]), kwargs["tta"]))
        return self.inner.predict(*args, **kwargs)


@pytest.mark.parametrize("tta, flips, scales, want", [
    (False, 1, (), 1 + 2),  # one flip and two
    (False, 4, (), 4 + 1),
    (False, 4, (0.8, 1.0, 1.25), 4 + 1 + 4 * (0.64 + 1.5625)),  # the other scales at four flips
    (True, 1, (), 1),  # four flips, counted in validations that average four flips themselves
    (True, 1, (0.5, 1.0), 1 + 0.25),
])
def test_the_cost_of_the_choice_counts_each_prediction_it_makes(tta, flips, scales, want):
    assert choice_cost(tta, flips, scales) == pytest.approx(want)


def test_asking_for_flips_validates_all_four():
    stub = _Stub({4})
    choose_prediction(stub, _views(), True, None, 1)
    assert stub.metadata["tta"] == 4


@pytest.mark.slow
@pytest.mark.parametrize("warm, want", [(False, 4), (True, 1)])
def test_a_lesion_run_starts_from_its_recipes_flips_and_scales(samples, tiny_preset, tmp_path, monkeypatch, warm, want):
    """From scratch (or at the full rate) the default is Preset.full_rate_flips; a run that fine-tunes starts from
    one flip (suite: four flips cost the 20-photo runs 0.010 Dice and gave the 231-photo runs 0.028)."""
    import dataclasses

    import medseg_gui.ml.train as train_module
    from medseg_gui.ml.config import PRESETS
    from medseg_gui.ml.init import read_init, save_start
    from medseg_gui.ml.unet import build_unet

    from .conftest import tiny_config

    monkeypatch.setitem(PRESETS, tiny_preset, dataclasses.replace(
        PRESETS[tiny_preset], regime="lesions", full_rate_flips=4, full_rate_images=10**6,
        full_rate_scales=(0.8, 1.0, 1.25)))
    asked = []
    monkeypatch.setattr(train_module, "choose_prediction", lambda *args: asked.append(args[4:]))
    init = None
    if warm:
        save_start(build_unet(PRESETS[tiny_preset].unet), PRESETS[tiny_preset], tmp_path / "s.weights.h5", "a start")
        init = read_init(tmp_path / "s.weights.h5")
    train_module.train(samples, tiny_config(tiny_preset, max_steps=2), init=init)
    assert asked == [(want, () if warm else (0.8, 1.0, 1.25), True)]  # a fine-tuning run tries no other scales


def test_a_short_time_box_drops_the_scales_then_the_other_flip_count():
    from medseg_gui.ml.run_end import BOX_SHARE, plan_after_box

    def plan(box_s, compares_then=False):
        return plan_after_box(box_s, 2.5, False, 4, (0.8, 1.0, 1.25), True, True, compares_then)

    full = 2 + choice_cost(False, 4, (0.8, 1.0, 1.25))  # the final validation, the mix's, the choice: 15.8
    assert plan(None) == plan(600.0) and plan(600.0).after == pytest.approx(full)
    assert plan(600.0).scales == (0.8, 1.0, 1.25) and plan(600.0).other_flips
    short = plan(full * 2.5 / BOX_SHARE - 1.0)  # a second short of fitting: the scales go
    assert short.scales == () and short.other_flips and short.after == pytest.approx(2 + 4 + 1)
    tiny = plan(60.0, compares_then=True)  # a one-minute continuous round comparing on changed labels
    assert tiny.scales == () and not tiny.other_flips and tiny.after == pytest.approx(2 + 2 * 4)
    assert plan_after_box(10.0, 2.5, False, 1, (), False, False, False).after == 1.0  # vessels: the final one



def test_without_the_other_flip_count_the_default_stands_untried():
    stub = _Stub({1})  # one flip would win clearly
    choose_prediction(stub, _views(), False, None, 4, (), other_flips=False)
    assert stub.metadata.get("tta") == 4
