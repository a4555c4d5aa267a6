"""A Retrain whose new model is rejected predicts only what the kept model has not (prediction_update): its saved
maps and their provenance stay as they are, a newly added image is predicted, and a label changed since is re-scored
from its saved map (an outside trial: 344 images predicted again with the unchanged model over 1 min 44 s)."""

from __future__ import annotations

import dataclasses
import logging
import os

import pytest

from medseg_gui import pipeline
from medseg_gui.core.images import write_png
from medseg_gui.core.interchange.manifest import read_provenance
from medseg_gui.core.project import ClassSpec, Project
from medseg_gui.prediction_update import predict_unmade, unmade_by, unscored_labels
from medseg_gui.train_process import PredictProgress, TrainJob, run_job
from tests.workers.helpers import TINY_TRAIN, disc, make_images, make_project, synthetic_image

pytestmark = pytest.mark.slow


def _files(project, stems):
    """stem → (mtime_ns, bytes) of its saved lesion prediction."""
    paths = {s: project.prediction_path("lesion", s) for s in stems}
    return {s: (p.stat().st_mtime_ns, p.read_bytes()) for s, p in paths.items()}


def test_a_rejected_run_keeps_the_current_models_maps_and_predicts_only_a_new_image(
        trained_template, trained_project, tmp_path, monkeypatch):
    project, outcome = trained_project, trained_template[1]
    rejected = dataclasses.replace(outcome, decision=dataclasses.replace(outcome.decision, kept_new=False,
                                                                         current=None))
    monkeypatch.setattr(pipeline, "train_class", lambda *a, **k: rejected)
    old = list(project.stems)
    before, made, scores = _files(project, old), read_provenance(project, "lesion"), project.load_metrics("lesion")
    model_id = project.current_model_info("lesion")["id"]
    assert {made[s]["id"] for s in old} == {model_id}
    corrected = project.labelled_stems("lesion")[1]
    project.save_label("lesion", corrected, disc(r=4))  # smaller than the disc predicted: its Dice falls
    write_png(tmp_path / "new.png", synthetic_image(9, disc(cx=40)))
    new = project.add_image(tmp_path / "new.png").stem

    progress, decided = [], []
    run = run_job(TrainJob(project.root, "lesion", TINY_TRAIN), progress.append, lambda: False,
                  trained=lambda o: decided.append(len(progress)))
    assert not run.outcome.decision.kept_new and run.predictions_complete
    assert [p.stem for p in progress if isinstance(p, PredictProgress)] == [new]
    assert decided == [0]  # the decision was handed over before any prediction
    assert _files(project, old) == before  # not rewritten: same bytes, same time
    after = read_provenance(project, "lesion")
    assert {s: after[s] for s in old} == {s: made[s] for s in old} and after[new]["id"] == model_id
    assert project.load_prediction("lesion", new) is not None and unmade_by(project, "lesion", model_id) == []
    fresh = pipeline.evaluate_class(project, "lesion").per_image  # scored now, from the saved maps
    assert run.metrics[corrected]["dice"] == pytest.approx(fresh[corrected]["dice"])
    assert run.metrics[corrected]["dice"] < scores[corrected]["dice"] - 0.1
    saved = project.load_metrics("lesion")
    assert set(saved) == set(run.metrics) == set(scores)
    for stem in scores:
        assert saved[stem] == pytest.approx(run.metrics[stem], nan_ok=True)
        if stem != corrected:
            assert run.metrics[stem] == pytest.approx(scores[stem], nan_ok=True)  # untouched


def test_maps_of_another_model_or_unreadable_ones_are_predicted_again(trained_project):
    project = trained_project
    model_id = project.current_model_info("lesion")["id"]
    assert unmade_by(project, "lesion", model_id) == []
    first, second, third = project.stems[:3]
    project.prediction_path("lesion", first).write_bytes(b"not a png")
    project.prediction_path("lesion", second).unlink()
    assert unmade_by(project, "lesion", "another-model") == project.stems
    assert unmade_by(project, "lesion", model_id) == [first, second]
    metrics = predict_unmade(project, "lesion", threshold=0.3)  # another threshold: every label re-scored
    assert unmade_by(project, "lesion", model_id) == []
    assert {m["threshold"] for m in metrics.values()} == {0.3} and set(metrics) == set(project.labelled_stems("lesion"))
    assert third in metrics


def _after_metrics(project, path):
    """Make `path`'s time a second after the lesion metrics.json's (written after it, as by another program)."""
    later = project.metrics_path("lesion").stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))


def test_labels_saved_after_their_scores_or_never_scored_are_found_and_only_those(trained_project):
    project = trained_project
    first, second, third, unlabelled = project.stems
    assert unscored_labels(project, "lesion") == []  # as trained: every score holds
    project.save_label("lesion", unlabelled, disc(cx=40))  # saved as the window closed: no score yet
    project.save_label("lesion", second, disc(r=4))
    _after_metrics(project, project.label_path("lesion", second))
    project.prediction_path("lesion", third).unlink()  # no map: nothing to re-score it from
    _after_metrics(project, project.label_path("lesion", third))
    assert unscored_labels(project, "lesion") == [second, unlabelled]
    project.metrics_path("lesion").unlink()
    assert unscored_labels(project, "lesion") == [first, second, unlabelled]


def _run(project, progress, threshold=0.5):
    """One real Retrain of the lesion class (run_job: train, keep-unless-better, predict); the stems it predicted."""
    run = run_job(TrainJob(project.root, "lesion", TINY_TRAIN, threshold=threshold), progress.append, lambda: False)
    assert run.predictions_complete
    return run, [p.stem for p in progress if isinstance(p, PredictProgress)]


def _reject_next_models(monkeypatch):
    """Keep-unless-better keeps the current model whatever the new one scores (a margin no model can beat)."""
    from medseg_gui.ml import store

    monkeypatch.setattr(store, "tie_margin", lambda metric: 10.0)


def test_after_a_kept_run_a_rejected_one_predicts_nothing_again(tmp_path, monkeypatch):
    """The first Retrain predicts from memory (TrainOutcome.kept_segmenter): its maps are recorded under the id
    current.json gives the model, so the next Retrain, rejected, finds every map made by the current model."""
    project = make_project(tmp_path / "p", n=4, labelled=3)
    first, predicted = _run(project, [])
    assert first.outcome.decision.kept_new and predicted == project.stems
    model_id = project.current_model_info("lesion")["id"]
    assert {made["id"] for made in read_provenance(project, "lesion").values()} == {model_id}
    _reject_next_models(monkeypatch)
    before = _files(project, project.stems)
    second, predicted = _run(project, [])
    assert not second.outcome.decision.kept_new and predicted == []
    assert _files(project, project.stems) == before


def test_a_class_inside_a_region_predicts_again_only_where_that_region_changed(tmp_path, monkeypatch, caplog):
    """lesion restricted to cervix (an outside trial: a rejected Retrain predicted all 21 images again, its log saying
    the current model made none of them): only images whose cervix label or prediction is newer than their lesion
    map are predicted again, and the log says why."""
    classes = (ClassSpec("cervix", (0, 200, 255)), ClassSpec("lesion", (255, 215, 0), roi_class="cervix"))
    project = Project.create(tmp_path / "p", classes)
    for path in make_images(tmp_path / "src", 4):
        project.add_image(path)
    big = disc(r=20, cx=32)
    for i, stem in enumerate(project.stems):
        if i < 3:
            project.save_label("cervix", stem, big)
            project.save_label("lesion", stem, disc(cx=20 + 10 * i) & big)
        else:  # its cervix region comes from a prediction
            project.save_prediction("cervix", stem, big.astype("float32"))
    first, predicted = _run(project, [])
    assert first.outcome.decision.kept_new and predicted == project.stems
    _reject_next_models(monkeypatch)
    before = _files(project, project.stems)
    with caplog.at_level(logging.INFO, logger="medseg_gui.prediction_update"):
        second, predicted = _run(project, [])
    assert not second.outcome.decision.kept_new and predicted == []
    assert _files(project, project.stems) == before
    labelled, predicted_region = project.stems[0], project.stems[3]
    project.save_label("cervix", labelled, disc(r=18, cx=30))
    project.save_prediction("cervix", predicted_region, disc(r=18, cx=30).astype("float32"))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="medseg_gui.prediction_update"):
        _, predicted = _run(project, [])
    assert predicted == [labelled, predicted_region]
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "made 4 of the 4" in said and "2 whose 'cervix' region changed since" in said
    _, predicted = _run(project, [], threshold=0.4)  # the predicted cervix region moves with the threshold
    assert predicted == [predicted_region]
    assert read_provenance(project, "lesion")[predicted_region]["region_threshold"] == 0.4
    project.prediction_path("cervix", predicted_region).unlink()  # no region source left: its model predicts it first
    pipeline.train_class(project, "cervix", TINY_TRAIN)
    _, predicted = _run(project, [])
    assert predicted == [predicted_region] and project.prediction_path("cervix", predicted_region).is_file()
