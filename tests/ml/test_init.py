"""Starting weights: a start is used only when it fits the network and input; train() loads it."""

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pytest

from medseg_gui.ml.config import PRESETS, Recipe, TrainConfig
from medseg_gui.ml.init import describe, fits, read_init, save_start, shipped_init

from .conftest import tiny_config

pytestmark = pytest.mark.slow


def test_fits_checks_network_and_input(tmp_path, tiny_preset):
    p = PRESETS[tiny_preset]
    w = tmp_path / "a.weights.h5"
    w.write_bytes(b"x")
    (tmp_path / "a.json").write_text(json.dumps(describe(p, "test start")))
    init = read_init(w)
    assert init is not None and init.source == "test start" and fits(init, p) == ""
    assert "network" in fits(init, dataclasses.replace(p, unet=p.unet.with_base(8)))
    assert "prepared" in fits(init, dataclasses.replace(p, contrast="clahe"))
    (tmp_path / "a.json").write_text("{broken")
    assert read_init(w) is None
    assert read_init(tmp_path / "missing.weights.h5") is None


@pytest.mark.parametrize("regime", ["lesions", "vessels"])
def test_a_shipped_start_fits_its_recipe_when_present(regime):
    init = shipped_init(regime)
    if init is None:
        pytest.skip(f"no shipped {regime} start in this checkout")
    preset = TrainConfig(preset="default").resolved(Recipe(regime, 300.0, 1.0, 0.25))
    assert fits(init, preset) == ""
    other = TrainConfig(preset="default").resolved(Recipe("vessels" if regime == "lesions" else "lesions",
                                                          300.0, 1.0, 0.25))
    assert fits(init, other) != ""  # the two starts are for different networks
    assert shipped_init("") is None and shipped_init("other") is None


def test_training_starts_from_given_weights(samples, tiny_preset, tmp_path):
    from medseg_gui.ml.train import train

    first = train(samples, tiny_config(tiny_preset, max_steps=6))
    path = tmp_path / "start.weights.h5"
    save_start(first.model, first.preset, path, "earlier run")
    init = read_init(path)
    start = [np.array(w) for w in first.model.get_weights()]
    # a vanishing learning rate: the kept weights are the start's (conv kernels; BN statistics still move)
    again = train(samples, tiny_config(tiny_preset, max_steps=2, learning_rate=1e-12), init=init)
    assert again.segmenter.metadata["init"] == "earlier run"
    kernel = next(i for i, w in enumerate(start) if w.ndim == 4)
    np.testing.assert_allclose(np.array(again.model.get_weights()[kernel]), start[kernel], atol=1e-6)
    fresh = train(samples, tiny_config(tiny_preset, max_steps=2, learning_rate=1e-12, init="scratch"), init=init)
    assert fresh.segmenter.metadata["init"] == "scratch"
    assert not np.allclose(np.array(fresh.model.get_weights()[kernel]), start[kernel])
    other = train(samples, tiny_config(tiny_preset, max_steps=1, base_filters=8, init="current"), init=init)
    assert other.segmenter.metadata["init"].startswith("scratch (not earlier run: it was trained for another")


def test_a_model_from_weights_trained_in_fields_of_view_is_restricted_to_one_too(samples, tiny_preset, tmp_path):
    """A model fine-tuned from the shipped vessel start on photos without a field of view painted the border's
    edge (outside trial, session 40): it knows the outside no better than its start, so it says trained_in_roi and
    prediction restricts it to an estimated field of view (pipeline, `medseg predict`)."""
    import dataclasses

    from medseg_gui.ml.train import train

    plain = [dataclasses.replace(s, roi=None) for s in samples]
    first = train(plain, tiny_config(tiny_preset, max_steps=2))
    assert first.segmenter.metadata["trained_in_roi"] is False
    for flag in (True, False):
        path = tmp_path / f"{flag}.weights.h5"
        save_start(first.model, first.preset, path, "earlier run", trained_in_roi=flag)
        assert read_init(path).trained_in_roi is flag
        again = train(plain, tiny_config(tiny_preset, max_steps=2), init=read_init(path))
        assert again.segmenter.metadata["init"] == "earlier run"
        assert again.segmenter.metadata["trained_in_roi"] is flag
    vessels = shipped_init("vessels")
    assert vessels is None or vessels.trained_in_roi  # HRF's fields of view


def test_a_run_not_from_a_start_fingerprints_only_its_validation_images(monkeypatch):
    """Review: a run that did not begin from the shipped start (only the model it must beat did) fingerprinted every
    image for a record it then dropped; ~50 ms an 8-Mpx photo, every Retrain and continuous round."""
    from medseg_gui.ml import init

    looked: list[list[str]] = []
    monkeypatch.setattr(init, "shipped_seen", lambda regime: SimpleNamespace(photos="PolypGen"))
    monkeypatch.setattr(init, "seen_among", lambda images, seen: looked.append([n for n, _ in images]) or [])
    monkeypatch.setattr(init, "seen_note", lambda names, seen, previous_from_start: "")
    images = [(f"img{i}", None) for i in range(5)]
    assert init.start_seen_text(images, ["img3"], None, {init.FROM_START: "vessels"}) == ("", None)
    note, record = init.start_seen_text(images, ["img3"], "vessels", None)
    assert looked == [["img3"], [f"img{i}" for i in range(5)]] and record["checked"] == [n for n, _ in images]
