"""A model's JSON records the whole recipe it trained with ("recipe"): loss, optimiser, network, augmentation...
An outside trial could not confirm from a model's JSON that a reference preset matched its reference: loss, optimiser,
dropout, batch-norm, up-sampling, initializer and augmentation were nowhere in the project."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from medseg_gui.ml.config import PRESETS, TrainConfig
from medseg_gui.ml.predict import preset_metadata


@pytest.mark.parametrize("name", ["cvxtz", "fxfviolet"])
def test_the_reference_presets_recipe_is_recorded_whole(name):
    preset = TrainConfig(preset=name).resolved()
    recipe = json.loads(json.dumps(preset_metadata(preset)))["recipe"]  # as a saved model's JSON reads back
    ref = PRESETS[name]
    assert recipe["loss"] == ref.loss and recipe["optimizer"] == ref.optimizer
    assert recipe["learning_rate"] == ref.learning_rate and recipe["schedule"] == ref.schedule
    assert recipe["batch_size"] == ref.batch_size and recipe["crops_per_image"] == ref.crops_per_image
    assert recipe["patch_size"] == ref.patch_size and recipe["positive_fraction"] == ref.positive_fraction
    assert recipe["input_mode"] == ref.input_mode and recipe["contrast"] == ref.contrast
    assert recipe["normalise_in_roi"] == ref.normalise_in_roi and recipe["scale"] == ref.scale
    assert recipe["augment"] == asdict(ref.augment)
    unet = recipe["unet"]
    for key in ("dropout", "dropout_at", "batchnorm", "upsampling", "skip", "kernel_initializer", "in_channels"):
        assert unet[key] == getattr(ref.unet, key), key
    assert unet["filters"] == list(ref.unet.filters)
    assert "description" not in recipe and "name" not in recipe


def test_a_trained_model_json_holds_its_recipe(trained_template):
    """pipeline.train_class with TINY_TRAIN (default preset, read as lesions; base 8 filters, 32 px patches)."""
    from tests.workers.helpers import TINY_TRAIN

    root, outcome = trained_template
    model_id = json.loads((root / "models" / "lesion" / "current.json").read_text())["id"]
    md = json.loads((root / "models" / "lesion" / f"{model_id}.json").read_text())
    preset = outcome.result.preset
    recipe = md["recipe"]
    assert recipe["loss"] == preset.loss == "bce_dice" and recipe["optimizer"] == preset.optimizer
    assert recipe["augment"] == json.loads(json.dumps(asdict(preset.augment)))
    assert recipe["unet"]["dropout"] == preset.unet.dropout
    assert recipe["unet"]["filters"][0] == TINY_TRAIN.base_filters
    assert recipe["patch_size"] == TINY_TRAIN.patch_size and recipe["batch_size"] == TINY_TRAIN.batch_size
    assert recipe["scale"] == preset.scale
    assert md["preset"] == "default" and md["filters"] == recipe["unet"]["filters"]  # the old keys stay
