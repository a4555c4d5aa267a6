"""The model's metadata names the images it was trained on and the one(s) held out for validation."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest

from medseg_gui import pipeline
from medseg_gui.core.project import Project, labels_read_at
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
    read_at = labels_read_at(current)  # labels saved after it show "· new" in the list
    assert max(project.label_path("lesion", s).stat().st_mtime for s in labelled) <= read_at + 0.01
    assert read_at <= datetime.fromisoformat(current["trained_at"]).timestamp() + 1


@pytest.mark.slow
def test_a_retrain_judges_the_current_model_on_the_labels_it_was_made_by(tmp_path):
    """Each model stores which pixels of its validation image were annotated; after strokes on that image the next
    Retrain compares both models on those pixels only (ml/validation.py views_as_then), and says so."""
    from medseg_gui.ml import store
    from tests.workers.helpers import make_project

    project = make_project(tmp_path / "p", n=3, labelled=3)
    full = {stem: project.load_label("lesion", stem) for stem in project.labelled_stems("lesion")}
    for stem, mask in full.items():  # sparse labels: the upper half annotated
        upper = np.zeros(mask.shape, bool)
        upper[: mask.shape[0] // 2] = True
        project.save_label("lesion", stem, mask, annotated=upper)
    first = pipeline.train_class(project, "lesion", TINY_TRAIN)
    (val_stem,) = first.result.segmenter.metadata["val_stems"]
    then = store.validation_labels(project.model_dir("lesion"), first.decision.model_id)
    assert list(then) == [val_stem] and then[val_stem][: then[val_stem].shape[0] // 2].all()
    assert not then[val_stem][then[val_stem].shape[0] // 2:].any()
    for stem, mask in full.items():  # strokes since: every label complete
        project.save_label("lesion", stem, mask)
    second = pipeline.train_class(project, "lesion", TINY_TRAIN)
    assert second.result.comparison.basis and second.result.comparison.current is not None
    assert "this run shares with the current model, labelled as they were" in second.decision.reason


@pytest.mark.slow
def test_a_retrain_validates_on_a_label_that_looks_incomplete_last(tmp_path):
    """New-user trial, session 34: the held-out image of a run was a label the app itself doubted (a sliver where
    the model predicts a lesion), so the run's validation Dice judged every model by it."""
    from tests.workers.helpers import disc, make_project

    project = make_project(tmp_path / "p", n=3, labelled=3)
    samples, stems = pipeline.load_samples(project, "lesion")
    _train, val, _note = split_samples(samples, TINY_TRAIN.val_fraction, TINY_TRAIN.seed)
    held = stems[val[0]]  # the image this split validates on
    project.save_label("lesion", held, disc(r=1))  # now a sliver ...
    project.save_prediction("lesion", held, np.where(disc(r=12), 0.9, 0.05).astype(np.float32))  # ... of a lesion
    meta = pipeline.train_class(project, "lesion", TINY_TRAIN).result.segmenter.metadata
    assert held in meta["train_stems"] and held not in meta["val_stems"] and meta["val_stems"]


@pytest.mark.slow
def test_medseg_train_trains_on_an_accepted_prediction_but_never_validates_on_it(tmp_path):
    """Trial: the image whose label was made by Accept prediction validated the next Retrain ("✓ · val", Dice 0.98)
    and raised the new model's headline Dice; `medseg train` runs the same pipeline as Retrain."""
    from medseg_gui import cli
    from medseg_gui.core.label_status import ACCEPTED_KEY, set_mark
    from medseg_gui.training_data import accepted_labels
    from tests.workers.helpers import make_project

    project = make_project(tmp_path / "p", n=3, labelled=3)
    samples, stems = pipeline.load_samples(project, "lesion")
    _train, val, _note = split_samples(samples, TINY_TRAIN.val_fraction, TINY_TRAIN.seed)
    held = stems[val[0]]  # the image this split validates on
    set_mark(project, held, ACCEPTED_KEY, "lesion", True)  # as ImageSession.accept_prediction records it
    assert accepted_labels(Project.open(project.root), "lesion") == {held}  # project.json round trip
    tiny = ["--max-steps", "2", "--steps-per-epoch", "2", "--patch-size", "32", "--batch-size", "4",
            "--base-filters", "8"]
    assert cli.main(["train", str(project.root), "--class", "lesion", *tiny]) == 0
    current = json.loads((project.model_dir("lesion") / "current.json").read_text("utf-8"))
    assert held in current["train_stems"] and held not in current["val_stems"] and current["val_stems"]
