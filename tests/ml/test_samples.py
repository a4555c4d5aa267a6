"""ml.samples.split_samples and labels accepted from a prediction: they train, never validate (trial: the image an
Accept prediction labelled validated the next Retrain at Dice 0.98 and raised its headline Dice)."""

from __future__ import annotations

import dataclasses

import numpy as np

from medseg_gui.ml.samples import Sample, split_samples

from .conftest import blob_sample


def _named(n: int) -> list[Sample]:
    rng = np.random.default_rng(1)
    return [dataclasses.replace(blob_sample(rng, 16, 16), name=f"img{i:02d}") for i in range(n)]


def _names(samples: list[Sample], idx: list[int]) -> list[str]:
    return [samples[i].name for i in idx]


def test_an_accepted_prediction_trains_but_never_validates_and_the_others_keep_their_places():
    samples = _named(10)
    train, val, _ = split_samples(samples, 0.2, 0)
    first, second = _names(samples, val)
    train_acc, val_acc, note = split_samples(samples, 0.2, 0, accepted={first})
    assert first in _names(samples, train_acc) and first not in _names(samples, val_acc)
    assert len(val_acc) == 2 and second in _names(samples, val_acc) and note == "held-out images"
    assert sorted(train_acc + val_acc) == list(range(10))
    trained = samples[train[0]].name  # accepting a training image's prediction moves nothing
    assert split_samples(samples, 0.2, 0, accepted={trained}) == (train, val, "held-out images")


def test_one_hand_made_label_validates_beside_accepted_predictions():
    samples = _named(3)
    _, (held,), _ = split_samples(samples, 0.2, 0)
    hand = next(s.name for i, s in enumerate(samples) if i != held)
    train, val, _ = split_samples(samples, 0.2, 0, accepted={s.name for s in samples} - {hand})
    assert _names(samples, val) == [hand] and sorted(train) == sorted(set(range(3)) - set(val))


def test_only_accepted_predictions_still_train_and_validate_and_the_note_says_so():
    samples = _named(3)
    train, val, note = split_samples(samples, 0.2, 0, accepted={s.name for s in samples})
    assert (train, val) == split_samples(samples, 0.2, 0)[:2] and val
    assert "every label is an accepted prediction" in note
