"""Known-answer tests for AUC (vs. a brute-force pair count), confusion counts, Dice/Se/Sp and FP/FN maps."""

import math

import numpy as np
import pytest

from medseg_gui.core.errors import LabelSizeError
from medseg_gui.core.metrics import (
    FN_CODE,
    FP_CODE,
    Confusion,
    confusion,
    dice,
    fp_fn_codes,
    fp_fn_maps,
    image_metrics,
    mean_metrics,
    roc_auc,
    sensitivity,
    specificity,
)


def brute_auc(prob, truth, roi=None):
    sel = np.ones(truth.shape, bool) if roi is None else roi
    pos, neg = prob[sel & truth], prob[sel & ~truth]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / (pos.size * neg.size)


TRUTH = np.array([[0, 0, 1, 1], [0, 1, 1, 0]], bool)


def test_auc_known_answers():
    perfect = TRUTH.astype(np.float32)
    assert roc_auc(perfect, TRUTH) == 1.0
    assert roc_auc(1 - perfect, TRUTH) == 0.0
    assert roc_auc(np.full(TRUTH.shape, 0.3), TRUTH) == 0.5
    assert math.isnan(roc_auc(perfect, np.zeros_like(TRUTH)))
    assert math.isnan(roc_auc(perfect, np.ones_like(TRUTH)))


def test_auc_roi_excludes_pixels():
    prob = np.array([[0.1, 0.9, 0.8, 0.7]], np.float32)
    truth = np.array([[0, 0, 1, 1]], bool)
    roi = np.array([[1, 0, 1, 1]], bool)
    assert roc_auc(prob, truth) == pytest.approx(0.5)  # the 0.9 negative beats both positives
    assert roc_auc(prob, truth, roi) == 1.0
    assert roc_auc(prob, truth, roi.astype(np.uint8)) == 1.0
    assert math.isnan(roc_auc(prob, truth, np.array([[0, 0, 1, 1]], bool)))


@pytest.mark.parametrize("seed", range(6))
def test_auc_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(3, 20)), int(rng.integers(3, 20)))
    prob = np.round(rng.random(shape), 1).astype(np.float32)  # few distinct values → many ties
    truth = rng.random(shape) < rng.uniform(0.1, 0.9)
    roi = rng.random(shape) < 0.8
    truth[0, 0], truth[0, 1], roi[0, :2] = True, False, True
    assert roc_auc(prob, truth) == pytest.approx(brute_auc(prob, truth), abs=1e-12)
    assert roc_auc(prob, truth, roi) == pytest.approx(brute_auc(prob, truth, roi), abs=1e-12)


def test_auc_matches_sklearn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    prob = np.round(rng.random((40, 30)), 2)
    truth = rng.random((40, 30)) < 0.3
    assert roc_auc(prob, truth) == pytest.approx(skm.roc_auc_score(truth.ravel(), prob.ravel()), abs=1e-12)


def test_auc_on_a_full_size_image_matches_mann_whitney():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(0)
    truth = rng.random((960, 999)) < 0.12
    prob = np.clip(rng.normal(0.3 + 0.3 * truth, 0.2), 0, 1).astype(np.float32)
    auc = roc_auc(prob, truth, np.ones_like(truth))
    u = mannwhitneyu(prob[truth], prob[~truth]).statistic  # ties (the clipped 0s and 1s) count one half
    assert auc == pytest.approx(u / (truth.sum() * (~truth).sum()), abs=1e-6)
    assert 0.8 < auc < 0.9


def test_confusion_dice_se_sp_hand_computed():
    pred = np.array([[1, 1, 0, 0], [1, 0, 0, 1]], bool)  # exactly the complement of TRUTH
    c = confusion(pred, TRUTH)
    assert c == Confusion(tp=0, fp=4, tn=0, fn=4)
    pred2 = np.array([[0, 1, 1, 0], [0, 1, 1, 0]], bool)  # TP (0,2) (1,1) (1,2); FP (0,1); FN (0,3)
    c2 = confusion(pred2, TRUTH)
    assert c2 == Confusion(tp=3, fp=1, tn=3, fn=1)
    assert dice(pred2, TRUTH) == pytest.approx(6 / 8)
    assert c2.iou == pytest.approx(3 / 5) and c.iou == 0.0
    assert sensitivity(pred2, TRUTH) == pytest.approx(3 / 4)
    assert specificity(pred2, TRUTH) == pytest.approx(3 / 4)
    roi = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)  # drops the FN at (0, 3)
    assert confusion(pred2, TRUTH, roi) == Confusion(tp=3, fp=1, tn=3, fn=0)
    assert sensitivity(pred2, TRUTH, roi) == 1.0
    assert c + c2 == Confusion(3, 5, 3, 5)


def test_empty_denominators():
    empty = np.zeros((3, 3), bool)
    full = np.ones((3, 3), bool)
    assert dice(empty, empty) == 1.0
    assert dice(full, empty) == 0.0
    assert confusion(empty, empty).iou == 1.0 and confusion(full, empty).iou == 0.0
    assert math.isnan(sensitivity(full, empty))
    assert math.isnan(specificity(empty, full))
    assert specificity(empty, empty) == 1.0


def test_fp_fn_maps():
    pred = np.array([[1, 1, 0, 0]], bool)
    truth = np.array([[1, 0, 1, 0]], bool)
    fp, fn = fp_fn_maps(pred, truth)
    np.testing.assert_array_equal(fp, [[0, 1, 0, 0]])
    np.testing.assert_array_equal(fn, [[0, 0, 1, 0]])
    fp, fn = fp_fn_maps(pred.astype(np.uint8), truth, roi=np.array([[1, 0, 0, 1]], bool))
    assert fp.dtype == np.bool_ and not fp.any() and not fn.any()


def test_image_metrics():
    prob = np.array([[0.1, 0.6, 0.5, 0.4]], np.float32)
    truth = np.array([[0, 0, 1, 1]], bool)
    m = image_metrics(prob, truth)
    assert set(m) == {"auc", "dice", "iou", "sensitivity", "specificity"}
    assert m["iou"] == pytest.approx(1 / 3)
    assert m["auc"] == pytest.approx(0.5)
    assert m["dice"] == pytest.approx(2 / 4) and m["sensitivity"] == 0.5 and m["specificity"] == 0.5
    assert image_metrics(prob, truth, threshold=0.45)["sensitivity"] == 0.5


def test_mean_metrics_skips_undefined_values():
    means = mean_metrics({"a": {"dice": 0.2, "recall": math.nan}, "b": {"dice": 0.6, "recall": 0.5},
                          "c": {"dice": 1.0, "recall": 1.0, "hd95": math.nan}})
    assert means["dice"] == pytest.approx(0.6) and means["recall"] == pytest.approx(0.75)
    assert math.isnan(means["hd95"]) and mean_metrics({}) == {}


def test_shape_mismatch_is_label_size_error():
    with pytest.raises(LabelSizeError, match="4×1"):
        roc_auc(np.zeros((1, 4)), np.zeros((2, 4), bool))
    with pytest.raises(LabelSizeError):
        confusion(np.zeros((2, 4), bool), np.zeros((2, 4), bool), roi=np.ones((4, 2), bool))


def test_fp_fn_codes_inside_roi():
    pred = np.array([[1, 1, 0, 0]], bool)
    truth = np.array([[1, 0, 1, 0]], bool)
    assert fp_fn_codes(pred, truth).tolist() == [[0, FP_CODE, FN_CODE, 0]]
    roi = np.array([[1, 0, 1, 1]], bool)
    assert fp_fn_codes(pred, truth, roi).tolist() == [[0, 0, FN_CODE, 0]]


def test_fp_fn_codes_skip_unannotated_label_codes():
    pred = np.array([[1, 0, 1, 0]], bool)
    codes = np.array([[0, 1, 2, 2]], np.uint8)  # background, object, not annotated x2
    assert fp_fn_codes(pred, codes).tolist() == [[FP_CODE, FN_CODE, 0, 0]]
