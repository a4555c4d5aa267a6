"""Known-answer tests for lesion metrics: hand-computed overlaps, lesion matching, boundary distances (and a
brute-force HD95/ASSD reference), empty-mask conventions and the ROI."""

import math

import numpy as np
import pytest
from skimage.measure import label

from medseg_gui.core.errors import LabelSizeError
from medseg_gui.core.lesions import lesion_metrics


def box(shape, y0, x0, h, w):
    m = np.zeros(shape, bool)
    m[y0:y0 + h, x0:x0 + w] = True
    return m


def test_two_squares_exact_dice_and_iou():
    truth, pred = box((20, 20), 0, 0, 10, 10), box((20, 20), 0, 5, 10, 10)  # 50 px shared of 100 + 100
    m = lesion_metrics(pred, truth)
    assert m["dice"] == 0.5
    assert m["iou"] == pytest.approx(1 / 3)
    assert (m["lesions"], m["found"], m["recall"], m["false_lesions"]) == (1, 0, 0.0, 0)  # IoU 1/3 < 0.5
    assert lesion_metrics(pred, truth, iou_match=0.3)["found"] == 1


def three_lesions():
    shape = (50, 50)
    truth = box(shape, 5, 5, 10, 10) | box(shape, 5, 30, 10, 10) | box(shape, 30, 5, 10, 10)
    pred = (box(shape, 5, 5, 10, 10)        # exact: IoU 1
            | box(shape, 5, 32, 10, 10)     # shifted 2 px: 80 / 120 = 0.67
            | box(shape, 30, 5, 10, 3)      # a third of it: 30 / 100 = 0.3
            | box(shape, 30, 30, 5, 5))     # nothing there: a false lesion
    return truth, pred


def test_lesion_recall_and_false_lesions():
    truth, pred = three_lesions()
    m = lesion_metrics(pred, truth)
    assert (m["lesions"], m["found"], m["false_lesions"]) == (3, 2, 1)
    assert m["recall"] == pytest.approx(2 / 3)
    tp, n_pred, n_true = 100 + 80 + 30, 100 + 100 + 30 + 25, 300
    assert m["dice"] == pytest.approx(2 * tp / (n_pred + n_true))
    assert m["iou"] == pytest.approx(tp / (n_pred + n_true - tp))
    assert lesion_metrics(pred, truth, iou_match=0.25)["recall"] == 1.0


def test_matching_is_one_to_one_and_8_connected():
    truth = box((12, 24), 0, 0, 10, 10) | box((12, 24), 0, 12, 10, 10)
    pred = box((12, 24), 0, 0, 10, 22)  # one blob over both lesions: IoU 100 / 220 with each
    m = lesion_metrics(pred, truth, iou_match=0.4)
    assert (m["lesions"], m["found"], m["recall"], m["false_lesions"]) == (2, 1, 0.5, 0)
    assert lesion_metrics(pred, truth)["found"] == 0
    diagonal = np.eye(12, dtype=bool)  # pixels touching at corners are one lesion
    assert lesion_metrics(diagonal, diagonal)["lesions"] == 1


def test_shifted_square_boundary_distances_by_hand():
    truth, pred = box((30, 30), 5, 5, 10, 10), box((30, 30), 5, 8, 10, 10)
    m = lesion_metrics(pred, truth)
    # Boundary of either square: 36 px. Distances to the other boundary: shared top/bottom rows 7 × 0 and 1, 2, 3
    # each; the inner side 1, 2, 3, 3, 3, 3, 2, 1; the outer side 8 × 3. Sum 54 → mean 1.5; 32 of 72 values are 3.
    assert m["hd95"] == pytest.approx(3.0)
    assert m["assd"] == pytest.approx(1.5)
    dot_a, dot_b = box((5, 12), 2, 2, 1, 1), box((5, 12), 2, 9, 1, 1)
    far = lesion_metrics(dot_a, dot_b)
    assert (far["hd95"], far["assd"]) == pytest.approx((7.0, 7.0))
    same = lesion_metrics(truth, truth)
    assert (same["hd95"], same["assd"], same["dice"]) == (0.0, 0.0, 1.0)


def test_empty_mask_conventions():
    empty, blob = np.zeros((8, 8), bool), box((8, 8), 2, 2, 4, 4)
    none = lesion_metrics(empty, empty)
    assert (none["dice"], none["iou"], none["lesions"], none["found"], none["false_lesions"]) == (1, 1, 0, 0, 0)
    assert math.isnan(none["recall"]) and math.isnan(none["hd95"]) and math.isnan(none["assd"])
    false_alarm = lesion_metrics(blob, empty)  # a frame without a lesion, something predicted
    assert (false_alarm["dice"], false_alarm["iou"], false_alarm["false_lesions"]) == (0, 0, 1)
    assert math.isnan(false_alarm["recall"]) and math.isnan(false_alarm["hd95"])
    missed = lesion_metrics(empty, blob)
    assert (missed["dice"], missed["iou"], missed["recall"], missed["false_lesions"]) == (0, 0, 0, 0)
    assert math.isnan(missed["hd95"]) and math.isnan(missed["assd"])


def test_roi_restricts_everything():
    truth, pred = three_lesions()
    roi = np.zeros(truth.shape, np.uint8)
    roi[:, :25] = 1  # keeps the exact lesion and the 0.3 one; drops the shifted one and the false blob
    m = lesion_metrics(pred, truth, roi)
    assert (m["lesions"], m["found"], m["false_lesions"]) == (2, 1, 0)
    assert m["dice"] == pytest.approx(2 * 130 / (130 + 200))
    only_false = np.zeros(truth.shape, bool)
    only_false[28:40, 28:40] = True
    assert lesion_metrics(pred, truth, only_false)["false_lesions"] == 1
    assert math.isnan(lesion_metrics(pred, truth, only_false)["recall"])


def test_specks_are_not_lesions():
    """Components under 10 px (or 0.001 % of a larger image) are neither lesions nor false lesions, but stay in the
    pixel metrics: a source mask with stray dots beside one polyp found by the prediction is 1/1 found."""
    truth = box((60, 60), 10, 10, 20, 20) | box((60, 60), 50, 50, 3, 3) | box((60, 60), 2, 50, 1, 2)  # 9 px, 2 px
    pred = box((60, 60), 10, 10, 20, 20) | box((60, 60), 40, 2, 3, 3)  # the polyp and a 9-px false speck
    m = lesion_metrics(pred, truth)
    assert (m["lesions"], m["found"], m["recall"], m["false_lesions"]) == (1, 1, 1.0, 0)
    assert m["dice"] == pytest.approx(2 * 400 / (409 + 411))
    pred_lesion = pred | box((60, 60), 40, 2, 4, 3)  # the false blob grows to 12 px: a false lesion
    assert lesion_metrics(pred_lesion, truth)["false_lesions"] == 1
    # On a 1500 x 1000 image the floor is 15 px: a 12-px blob is a speck there, a 16-px one a lesion.
    big_truth = box((1000, 1500), 100, 100, 40, 40)
    assert lesion_metrics(big_truth | box((1000, 1500), 500, 500, 4, 3), big_truth)["false_lesions"] == 0
    assert lesion_metrics(big_truth | box((1000, 1500), 500, 500, 4, 4), big_truth)["false_lesions"] == 1
    only_specks = box((60, 60), 50, 50, 3, 3)
    m = lesion_metrics(only_specks, only_specks)
    assert m["lesions"] == 0 and math.isnan(m["recall"]) and m["dice"] == 1.0


def test_size_mismatch_is_a_clear_error():
    with pytest.raises(LabelSizeError):
        lesion_metrics(np.zeros((4, 5), bool), np.zeros((5, 4), bool))


def brute_boundary(mask):
    h, w = mask.shape
    pts = []
    for y in range(h):
        for x in range(w):
            if mask[y, x] and any(not (0 <= y + dy < h and 0 <= x + dx < w) or not mask[y + dy, x + dx]
                                  for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))):
                pts.append((y, x))
    return np.array(pts, float)


def brute_surface(pred, truth):
    a, b = brute_boundary(pred), brute_boundary(truth)
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    d_ab, d_ba = d.min(axis=1), d.min(axis=0)
    return np.percentile(np.concatenate([d_ab, d_ba]), 95), (d_ab.mean() + d_ba.mean()) / 2


@pytest.mark.parametrize("seed", range(8))
def test_surface_distances_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(8, 24)), int(rng.integers(8, 24)))
    pred, truth = rng.random(shape) < 0.3, rng.random(shape) < 0.3
    if seed % 2:  # masks in a corner of a larger image: exercises the crop (and, for even seeds, the image edge)
        pred[:, shape[1] // 2:] = False
        truth[shape[0] // 2:, :] = False
    pred[1, 1] = truth[1, 2] = True
    roi = rng.random(shape) < 0.9 if seed % 3 == 0 else None
    m = lesion_metrics(pred, truth, roi)
    p, t = (pred, truth) if roi is None else (pred & roi, truth & roi)
    hd95, assd = brute_surface(p, t)
    assert m["hd95"] == pytest.approx(hd95, abs=1e-5)
    assert m["assd"] == pytest.approx(assd, abs=1e-5)
    areas = np.bincount(label(t, connectivity=2).ravel())[1:]
    assert m["lesions"] == (areas >= 10).sum()  # specks under 10 px are not lesions (test_specks_are_not_lesions)


def test_saved_metrics_record_their_threshold():
    from medseg_gui.core.lesions import per_image_metrics

    prob = np.zeros((20, 20), np.float32)
    prob[5:10, 5:10] = 0.6
    truth = prob > 0
    assert per_image_metrics(prob, truth, threshold=0.5)["threshold"] == 0.5
    m = per_image_metrics(prob, truth, threshold=0.7)
    assert m["threshold"] == 0.7 and m["dice"] == 0.0
