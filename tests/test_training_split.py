"""The model's metadata names the images it was trained on and the one(s) held out for validation."""

from __future__ import annotations

import json

import pytest

from medseg_gui import pipeline
from medseg_gui.core.project import Project
from medseg_gui.ml.train import split_samples
from tests.workers.helpers import TINY_TRAIN


@pytest.mark.slow
def test_train_class_records_training_and_validation_stems(trained_template):
    root, outcome = trained_template  # pipeline.train_class(project, "lesion", TINY_TRAIN) on 3 labelled images
    project = Project.open(root)
    meta = outcome.result.segmenter.metadata
    labelled = set(project.labelled_stems("lesion"))
    assert set(meta["train_stems"]) | set(meta["val_stems"]) == labelled
    assert not set(meta["train_stems"]) & set(meta["val_stems"])
    assert (len(meta["train_stems"]), len(meta["val_stems"])) == (meta["train_images"], meta["val_images"])
    samples, stems = pipeline.load_samples(project, "lesion")
    _train, val, _note = split_samples(samples, TINY_TRAIN.val_fraction, TINY_TRAIN.seed, outcome.result.preset.scale)
    assert meta["val_stems"] == [stems[i] for i in val]  # the run's own split, not another draw
    current = json.loads((project.model_dir("lesion") / "current.json").read_text("utf-8"))
    assert current["val_stems"] == meta["val_stems"] and current["train_stems"] == meta["train_stems"]
