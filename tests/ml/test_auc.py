import numpy as np

from medseg_gui.ml.auc import fast_auc


def _brute(prob, truth):
    pos, neg = prob[truth], prob[~truth]
    gt = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return gt / (pos.size * neg.size)


def test_fast_auc_matches_brute_force_and_known_answers():
    rng = np.random.default_rng(0)
    truth = rng.random((30, 20)) < 0.3
    prob = np.clip(truth * 0.3 + rng.random((30, 20)) * 0.8, 0, 1).astype(np.float32)
    prob = np.round(prob * 65535) / 65535
    assert abs(fast_auc(prob, truth) - _brute(prob.ravel(), truth.ravel())) < 1e-9
    assert fast_auc(truth.astype(np.float32), truth) == 1.0
    assert fast_auc(1 - truth.astype(np.float32), truth) == 0.0
    assert np.isnan(fast_auc(prob, np.zeros_like(truth)))
    roi = np.zeros_like(truth)
    roi[:10] = True
    assert abs(fast_auc(prob, truth, roi) - _brute(prob[roi], truth[roi])) < 1e-9
