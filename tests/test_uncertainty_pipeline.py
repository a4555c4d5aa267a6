"""pipeline.predict_class scores every predicted image's uncertainty, unlabelled ones included (uncertainty.json),
with a fake segmenter (the red channel is the probability), so no network is trained; a re-score at another threshold
(workers.training.rescore_class) scores it again, as predict_class would have (on the trained template's copy too)."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_gui import pipeline
from medseg_gui.core.images import write_png
from medseg_gui.core.interchange.manifest import read_provenance
from medseg_gui.core.project import Project
from medseg_gui.core.uncertainty import image_uncertainty, rank_next
from medseg_gui.workers.training import rescore_class


class RedIsProbability:
    """Stands in for ml.predict.Segmenter: probability = red / 255, 0 outside the ROI."""

    metadata = {"id": "20260101-000000-red", "trained_at": "2026-01-01T00:00:00+00:00", "preset": "fake"}

    def predict(self, image: np.ndarray, roi: np.ndarray | None = None, **_: object) -> np.ndarray:
        prob = image[..., 0].astype(np.float32) / 255
        return prob if roi is None else np.where(roi, prob, 0).astype(np.float32)


@pytest.fixture
def project(tmp_path, monkeypatch):
    from medseg_gui.ml import store

    monkeypatch.setattr(store, "load_segmenter", lambda model_dir: RedIsProbability())
    monkeypatch.setattr(store, "has_model", lambda model_dir: True)
    project = Project.create(tmp_path / "p")
    rng = np.random.default_rng(1)
    reds = {"certain": np.where(rng.random((32, 32)) < 0.5, 250, 5),
            "unsure": np.full((32, 32), 128), "labelled": np.where(rng.random((32, 32)) < 0.5, 230, 40)}
    for stem, red in reds.items():
        rgb = np.zeros((32, 32, 3), np.uint8)
        rgb[..., 0] = red
        write_png(tmp_path / f"{stem}.png", rgb)
        project.add_image(tmp_path / f"{stem}.png")
    project.save_label(project.class_names[0], "labelled", reds["labelled"] > 128)
    return project


def test_predict_class_writes_uncertainty_for_unlabelled_images_too(project):
    cls = project.class_names[0]
    metrics = pipeline.predict_class(project, cls)
    assert set(metrics) == {"labelled"}  # metrics: labelled images only
    scores = project.load_uncertainty(cls).scores
    assert set(scores) == {"certain", "unsure", "labelled"}
    assert project.load_uncertainty(cls).thresholds == dict.fromkeys(scores, 0.5)  # what they were computed at
    for stem, score in scores.items():  # the stored score is the one of the saved map
        assert score == pytest.approx(image_uncertainty(project.load_prediction(cls, stem)), abs=1e-3)
    assert scores["unsure"] == pytest.approx(1 - abs(2 * 128 / 255 - 1), abs=1e-3)
    assert rank_next(project.stems, scores, {"labelled": 1.0}) == ["unsure", "certain"]


def test_a_partial_prediction_keeps_the_other_scores(project):
    cls = project.class_names[0]
    pipeline.predict_class(project, cls)
    before = project.load_uncertainty(cls)
    pipeline.predict_class(project, cls, ["certain"])
    assert project.load_uncertainty(cls) == before
    made_by = read_provenance(project, cls)  # which model made each saved map, for export manifests
    assert set(made_by) == {"certain", "unsure", "labelled"}
    assert made_by["certain"]["id"] == RedIsProbability.metadata["id"] and made_by["certain"]["predicted_at"]


def test_predict_class_uses_the_segmenter_it_is_given_and_hands_over_the_saved_maps(project, monkeypatch):
    from medseg_gui.core.project_format import stored_probability
    from medseg_gui.ml import store

    monkeypatch.setattr(store, "load_segmenter", lambda model_dir: pytest.fail("the model was read back from disk"))
    cls, handed = project.class_names[0], {}
    pipeline.predict_class(project, cls, segmenter=RedIsProbability(), on_saved=handed.__setitem__)
    assert set(handed) == set(project.stems)
    for stem, stored in handed.items():  # what the window is handed is what the file holds
        assert stored.dtype == np.uint16
        np.testing.assert_array_equal(stored_probability(stored), project.load_prediction(cls, stem))


def test_a_cancelled_prediction_scores_the_maps_it_saved(project):
    """A helper's note, session 39: a prediction cancelled part-way kept its new maps but not their scores, their
    uncertainty or which model made them: the list showed an older model's scores beside the new maps."""
    from medseg_gui.core.errors import CancelledError

    cls, asked = project.class_names[0], []
    stems = ["labelled", "certain", "unsure"]

    def stop_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2  # asked before each image: the third is not predicted

    with pytest.raises(CancelledError):
        pipeline.predict_class(project, cls, stems, should_stop=stop_after_two)
    assert project.load_prediction(cls, "unsure") is None
    assert set(project.load_metrics(cls)) == {"labelled"}
    assert set(project.load_uncertainty(cls).scores) == {"labelled", "certain"}
    assert set(read_provenance(project, cls)) == {"labelled", "certain"}


def test_a_photo_predicted_inside_its_found_field_is_scored_as_a_rescore_scores_it(tmp_path, monkeypatch):
    """A model trained inside fields of view predicts a photo without one inside the field found in it, less a band
    along its edge (core.fov.prediction_region); its scores stay in the class's region (here the whole photo), as a
    re-score at another threshold and `medseg evaluate` compute them: scored inside that region, the band's missed
    pixels did not count until the threshold moved (review, session 40)."""
    from medseg_gui.ml import store

    class Fielded(RedIsProbability):
        metadata = {**RedIsProbability.metadata, "trained_in_roi": True}

    monkeypatch.setattr(store, "load_segmenter", lambda model_dir: Fielded())
    monkeypatch.setattr(store, "has_model", lambda model_dir: True)
    project = Project.create(tmp_path / "p")
    yy, xx = np.mgrid[:1500, :1750]  # the band: 0.2 % of the long side, ~2.5 px inside the disc
    disc = (yy - 750) ** 2 + (xx - 875) ** 2 < 680 ** 2
    rgb = np.full((1500, 1750, 3), 3, np.uint8)
    rgb[disc] = (200, 90, 40)
    write_png(tmp_path / "fundus.png", rgb)
    project.add_image(tmp_path / "fundus.png")
    cls = project.class_names[0]
    project.save_label(cls, "fundus", disc)
    dice = pipeline.predict_class(project, cls)["fundus"]["dice"]
    assert 0.9 < dice < 1  # the band along the edge is left out of the prediction, and counted
    again = pipeline.rethreshold_class(project, cls, 0.5, changed={"fundus"})["fundus"]["dice"]
    assert again == pytest.approx(dice)


def test_rescoring_at_another_threshold_rescores_the_saved_uncertainty(trained_project):
    """Unsure is closeness to the threshold and ranks "Next image to label": a threshold change kept the old
    threshold's values until the images were predicted again. The re-score recomputes it from the saved maps, for
    every predicted image (unlabelled ones too), saves it with the threshold it was made at and hands it over."""
    project, cls = trained_project, "lesion"
    before = project.load_uncertainty(cls)
    assert set(before.scores) == set(project.stems) and set(project.labelled_stems(cls)) < set(project.stems)
    assert before.thresholds == dict.fromkeys(project.stems, 0.5)
    run = rescore_class(project.root, cls, 0.7)
    saved = project.load_uncertainty(cls)
    assert saved.thresholds == dict.fromkeys(project.stems, 0.7)
    for stem in project.stems:  # no ROI and a model trained without: the whole image, as predict_class scored it
        expected = image_uncertainty(project.load_prediction(cls, stem), None, 0.7)
        assert saved.scores[stem] == pytest.approx(expected, abs=1e-4)
        assert abs(saved.scores[stem] - before.scores[stem]) > 1e-3  # moved with the threshold
        assert run.uncertainty.scores[stem] == pytest.approx(expected)
    assert rescore_class(project.root, cls, 0.5).uncertainty.scores == pytest.approx(before.scores, abs=1e-4)


def test_a_rescore_scores_uncertainty_in_the_found_field_the_photo_was_predicted_in(tmp_path, monkeypatch):
    """A model trained inside fields of view predicts a photo without one inside the field found in it, and
    predict_class scores its uncertainty there (pipeline.predicted_region); a re-score does the same (the whole photo
    gives another score: the share of most uncertain pixels is taken of another region)."""
    import json

    from medseg_gui.core.project_format import MODEL_POINTER
    from medseg_gui.ml import store

    class Fielded(RedIsProbability):
        metadata = {**RedIsProbability.metadata, "trained_in_roi": True}

    monkeypatch.setattr(store, "load_segmenter", lambda model_dir: Fielded())
    monkeypatch.setattr(store, "has_model", lambda model_dir: True)
    project = Project.create(tmp_path / "p")
    yy, xx = np.mgrid[:300, :350]
    disc = (yy - 150) ** 2 + (xx - 175) ** 2 < 130 ** 2
    rgb = np.full((300, 350, 3), 3, np.uint8)
    rgb[disc] = np.stack(np.broadcast_arrays(60 + xx * 190 // 350, 90, 40), axis=-1)[disc]  # p from 0.24 to 0.98
    write_png(tmp_path / "fundus.png", rgb)
    project.add_image(tmp_path / "fundus.png")
    cls = project.class_names[0]
    pipeline.predict_class(project, cls)
    project.model_dir(cls).mkdir(parents=True, exist_ok=True)  # the current model's metadata, as store writes it
    (project.model_dir(cls) / MODEL_POINTER).write_text(json.dumps(Fielded.metadata), encoding="utf-8")
    saved = project.load_uncertainty(cls).scores["fundus"]
    whole = image_uncertainty(project.load_prediction(cls, "fundus"), None, 0.5)
    assert abs(saved - whole) > 0.01
    assert rescore_class(project.root, cls, 0.5).uncertainty.scores["fundus"] == pytest.approx(saved, abs=1e-4)
