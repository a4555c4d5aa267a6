"""A finished Retrain predicts with the model it holds in memory (not read back from disk) and hands the window the
shown image's map as the prediction file holds it (train_process.run_job / run_rounds, run here in-process on the
session's trained template: no training, no child process)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medseg_gui import pipeline, train_process
from medseg_gui.core.project_format import stored_probability
from medseg_gui.ml import store
from medseg_gui.train_process import RoundReport, TrainJob, run_job, run_rounds
from tests.workers.helpers import TINY_TRAIN


@pytest.fixture
def retrained(trained_template, trained_project, monkeypatch):
    """(project, outcome): the trained copy, with train_class answering the template's (kept) outcome at once and
    loading a model from disk failing the test."""
    outcome = trained_template[1]
    monkeypatch.setattr(pipeline, "train_class", lambda *a, **k: outcome)
    before = {s: trained_project.load_prediction("lesion", s) for s in trained_project.stems}  # disk model's maps
    monkeypatch.setattr(store, "load_segmenter", lambda model_dir: pytest.fail("the new model was read back"))
    return trained_project, outcome, before


@pytest.mark.slow
def test_a_retrain_predicts_from_memory_and_hands_over_the_shown_map(retrained):
    project, outcome, before = retrained
    kept = outcome.kept_segmenter()
    current = json.loads((project.model_dir("lesion") / "current.json").read_text("utf-8"))
    assert kept.metadata == current  # as store.load_segmenter would read it
    shown = project.stems[1]
    run = run_job(TrainJob(project.root, "lesion", TINY_TRAIN, shown=project.stems[0]), lambda p: None,
                  lambda: False, shown=lambda: shown)  # the window moved on to another image meanwhile
    stem, stored = run.shown_prediction
    assert stem == shown and stored.dtype == np.uint16
    np.testing.assert_array_equal(stored_probability(stored), project.load_prediction("lesion", shown))
    for s in project.stems:  # the model in memory predicts what the same model read from its file did
        assert np.abs(project.load_prediction("lesion", s) - before[s]).max() <= 2 / 65535


@pytest.mark.slow
def test_a_kept_round_hands_over_the_shown_map_and_a_large_one_stays_on_disk(retrained, monkeypatch):
    project, _outcome, _before = retrained
    shown, reports = project.stems[2], []
    run_rounds(TrainJob(project.root, "lesion", TINY_TRAIN, continuous=True, shown=shown), reports.append,
               should_stop=lambda: len(reports) >= 1)
    (report,) = [r for r in reports if isinstance(r, RoundReport)]
    assert report.shown == shown and report.shown_prediction[0] == shown
    np.testing.assert_array_equal(stored_probability(report.shown_prediction[1]),
                                  project.load_prediction("lesion", shown))
    monkeypatch.setattr(train_process, "HANDOVER_MAX_BYTES", 10)  # too large for the pipe: the window reads the file
    run = run_job(TrainJob(project.root, "lesion", TINY_TRAIN, shown=shown), lambda p: None, lambda: False)
    assert run.shown_prediction is None and run.metrics
