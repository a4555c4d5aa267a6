"""core.uncertainty: known answers for the pixel and image scores, the next-image order, and the file round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from medseg_gui.core.project import Project
from medseg_gui.core.project_format import read_rewritable_json
from medseg_gui.core.uncertainty import (THRESHOLDS_KEY, UncertaintyScores, image_uncertainty, next_reason, rank_next,
                                         scores_from_json, scores_to_json, uncertainty_map, uncertainty_u8)


def test_pixel_uncertainty_known_answers_at_half():
    prob = np.array([[0.0, 0.25, 0.5, 0.75, 1.0]], np.float32)
    np.testing.assert_allclose(uncertainty_map(prob), [[0.0, 0.5, 1.0, 0.5, 0.0]], atol=1e-6)
    np.testing.assert_allclose(uncertainty_map(prob), 1 - np.abs(2 * prob - 1), atol=1e-6)  # the t = 0.5 formula


def test_pixel_uncertainty_is_closeness_to_another_threshold():
    prob = np.array([[0.0, 0.1, 0.2, 0.6, 1.0]], np.float32)
    np.testing.assert_allclose(uncertainty_map(prob, 0.2), [[0.0, 0.5, 1.0, 0.5, 0.0]], atol=1e-6)
    np.testing.assert_allclose(uncertainty_u8(prob, 0.2), [[0, 128, 255, 128, 0]], atol=1)  # float32 rounding
    with pytest.raises(ValueError):
        uncertainty_map(prob, 1.0)


@pytest.mark.parametrize("threshold", [0.05, 0.3, 0.5, 0.95])
def test_the_layers_8_bit_map_is_the_rounded_map(threshold):
    """uncertainty_u8 (OpenCV passes, for speed) agrees with round(255 u) of the float map within 1, also for values
    just outside [0, 1] (clipped as uncertainty_map clips them) and exactly at the threshold."""
    rng = np.random.default_rng(0)
    prob = np.concatenate([rng.random(5000, dtype=np.float32), [0, 1, threshold, -0.2, 1.3]]).astype(np.float32)
    prob = prob.reshape(1, -1)
    got = uncertainty_u8(prob, threshold).astype(int)
    want = np.round(255 * uncertainty_map(prob, threshold)).astype(int)
    assert np.abs(got - want).max() <= 1
    assert got[0, -5:].tolist() == [0, 0, 255, 0, 0]


def test_image_score_is_the_mean_of_the_top_share():
    prob = np.zeros((10, 10), np.float32)  # 100 pixels: the top 5 % are 5 pixels
    prob.flat[:5] = [0.5, 0.5, 0.25, 0.25, 0.75]  # u = 1, 1, 0.5, 0.5, 0.5
    prob.flat[5:10] = 0.05  # u = 0.1: outside the top 5
    assert image_uncertainty(prob) == pytest.approx((1 + 1 + 0.5 + 0.5 + 0.5) / 5)
    assert image_uncertainty(prob, top=1.0) == pytest.approx((3.5 + 5 * 0.1) / 100)


def test_image_score_counts_only_the_roi():
    prob = np.full((8, 8), 0.5, np.float32)
    roi = np.zeros((8, 8), bool)
    roi[:2] = True
    prob[:2] = 1.0  # certain inside the ROI, unsure outside it
    assert image_uncertainty(prob, roi) == pytest.approx(0.0)
    assert math.isnan(image_uncertainty(prob, np.zeros((8, 8), bool)))


def test_a_confident_background_does_not_dilute_an_unsure_lesion():
    small_unsure = np.zeros((100, 100), np.float32)
    small_unsure[:20, :30] = 0.5  # 6 % of the image: the model cannot decide there
    widely_lukewarm = np.full((100, 100), 0.1, np.float32)  # u = 0.2 everywhere: higher mean, nothing unsure
    assert image_uncertainty(small_unsure) > image_uncertainty(widely_lukewarm)
    assert uncertainty_map(small_unsure).mean() < uncertainty_map(widely_lukewarm).mean()  # the plain mean would not


def test_ranking_puts_the_deliberately_uncertain_image_first():
    rng = np.random.default_rng(0)
    confident = np.where(rng.random((64, 64)) < 0.3, 0.98, 0.02).astype(np.float32)
    mostly_confident = confident.copy()
    mostly_confident[:8, :8] = 0.8
    uncertain = confident.copy()
    uncertain[16:48, 16:48] = rng.uniform(0.45, 0.55, (32, 32))  # many pixels near p = 0.5
    probs = {"a_confident": confident, "b_mostly": mostly_confident, "c_uncertain": uncertain}
    scores = {stem: image_uncertainty(p) for stem, p in probs.items()}
    order = rank_next(list(probs), scores, labelled={})
    assert order == ["c_uncertain", "b_mostly", "a_confident"]
    assert "least sure about it among the other unlabelled images" in next_reason(order[0], scores, {})


def test_ranking_unlabelled_first_then_least_annotated_and_never_complete_labels():
    stems = ["done", "sparse_big", "sparse_small", "unpredicted", "sure", "unsure"]
    scores = {"done": 0.99, "sparse_big": 0.9, "sparse_small": 0.1, "sure": 0.1, "unsure": 0.7, "unpredicted": math.nan}
    labelled = {"done": 1.0, "sparse_big": 0.4, "sparse_small": 0.05}
    assert rank_next(stems, scores, labelled) == ["unsure", "sure", "unpredicted", "sparse_small", "sparse_big"]
    assert "5 %" in next_reason("sparse_small", scores, labelled)
    assert "no prediction" in next_reason("unpredicted", scores, labelled)
    # one unlabelled image left: chosen because it is the only one, not for its score (new-user trial, session 32)
    only = next_reason("sure", scores, labelled, unlabelled=1)
    assert only == "it is the only other image without a label (uncertainty 0.10)"  # the one shown may be unlabelled
    assert next_reason("sure", scores, labelled, unlabelled=1, shown_unlabelled=False) == (
        "it is the only image without a label (uncertainty 0.10)")  # the one shown is labelled: no "other" (trial)
    assert rank_next(["x", "y"], {}, {}) == ["x", "y"]  # nothing known: the list's order


def test_scores_round_trip_through_the_project(tmp_path):
    project = Project.create(tmp_path / "p")
    cls = project.class_names[0]
    assert project.load_uncertainty(cls) == UncertaintyScores()
    project.save_uncertainty(cls, UncertaintyScores({"a": 0.123456, "b": math.nan}, {"a": 0.5, "b": 0.35}))
    loaded = project.load_uncertainty(cls)
    assert loaded.scores["a"] == pytest.approx(0.1235) and math.isnan(loaded.scores["b"])
    assert loaded.thresholds == {"a": 0.5, "b": 0.35}
    project.uncertainty_path(cls).write_text("{not json", encoding="utf-8")
    assert project.load_uncertainty(cls) == UncertaintyScores()


def test_the_threshold_each_score_was_made_at_is_recorded_the_way_older_files_and_versions_understand(tmp_path):
    """uncertainty.json was {stem: score}: a file without thresholds still loads (none known, so never greyed), and
    in a new one every entry but THRESHOLDS_KEY is still a score, that key's value not a number (what the older
    reader dropped)."""
    path = tmp_path / "uncertainty.json"
    path.write_text(json.dumps({"a": 0.25, "b": None, "c": "odd"}), encoding="utf-8")
    old = scores_from_json(read_rewritable_json(path))
    assert old.scores["a"] == 0.25 and math.isnan(old.scores["b"]) and set(old.scores) == {"a", "b"}
    assert old.thresholds == {}
    data = scores_to_json(UncertaintyScores({"a": 0.25, "b": math.nan}, {"a": 0.4, "b": 0.4}))
    assert data == {"a": 0.25, "b": None, THRESHOLDS_KEY: {"a": 0.4, "b": 0.4}}
    data[THRESHOLDS_KEY]["gone"] = 0.4  # a threshold without a score is dropped
    assert scores_from_json(data).thresholds == {"a": 0.4, "b": 0.4}
