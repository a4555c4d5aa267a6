"""Continuous training's labels join a run between epochs (issue 12): a new image joins the training images, a
changed label replaces its image's, a validation image's new label waits for the next run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from .conftest import blob_sample

pytestmark = pytest.mark.slow


def named(sample, name):
    return dataclasses.replace(sample, name=name)


def test_labels_saved_during_a_run_join_it_between_epochs(monkeypatch):
    from medseg_gui.ml import train as train_module
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.ml.samples import split_samples

    rng = np.random.default_rng(3)
    samples = [named(blob_sample(rng), f"img{i}") for i in range(4)]
    cfg = TrainConfig(minutes=None, max_steps=9, steps_per_epoch=3, batch_size=2, patch_size=32, base_filters=4)
    _, val_idx, _ = split_samples(samples, cfg.val_fraction, cfg.seed, 1.0, ())
    held_out = samples[val_idx[0]].name
    trained_name = next(s.name for i, s in enumerate(samples) if i not in val_idx)
    odd = blob_sample(rng)
    odd = dataclasses.replace(odd, mask=odd.mask[:40], name="odd")  # label and image sizes differ: left out
    seen_sizes, saved = [], [
        [named(blob_sample(rng), "late"), named(blob_sample(rng), held_out), odd],  # after epoch 1
        [named(blob_sample(rng, n=5), trained_name)],  # after epoch 2: a corrected label
    ]
    polls = []

    def poll():
        polls.append(len(seen_sizes))
        return saved.pop(0) if saved else []

    real = train_module.sample_batch

    def spy(images, preset, generator):
        seen_sizes.append(len(images))
        return real(images, preset, generator)

    monkeypatch.setattr(train_module, "sample_batch", spy)
    result = train_module.train(samples, cfg, joined=poll)
    n_train = len(samples) - len(val_idx)
    assert len(polls) == 2  # between epochs 1-2 and 2-3, not after the last
    assert seen_sizes[:3] == [n_train] * 3 and seen_sizes[3:] == [n_train + 1] * 6  # "late" joined after epoch 1
    assert result.joined == ("late", trained_name)  # the held-out image's label waits for the next run
    stems = result.segmenter.metadata["train_stems"]
    assert "late" in stems and held_out not in stems and len(stems) == n_train + 1
    assert result.segmenter.metadata["train_images"] == n_train + 1
    assert "2 labels saved meanwhile joined it" in result.message
    assert len(samples) == 4  # the caller's list is left as it was
