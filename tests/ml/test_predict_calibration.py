"""A model's probability maps are calibrated so that 0.5 is its operating point (the best validation-Dice threshold)."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_gui.ml.auc import fast_auc
from medseg_gui.ml.predict import Segmenter, calibrate


@pytest.mark.parametrize("point", [0.05, 0.2, 0.35, 0.65, 0.95])
def test_calibration_moves_the_operating_point_to_one_half_and_keeps_the_order(point):
    rng = np.random.default_rng(0)
    raw = np.concatenate([rng.random(20_000).astype(np.float32), np.float32([0.0, 1.0, point]),
                          np.nextafter(np.float32([point]), np.float32(0))])
    truth = rng.random(raw.size) < raw  # any labels: AUC must not change
    out = calibrate(raw.copy(), point)
    assert np.array_equal(out >= 0.5, raw >= point)
    assert np.all(np.diff(out[np.argsort(raw, kind="stable")]) >= 0)  # monotone
    assert out.min() >= 0 and out.max() <= 1 and out[-4] == 0 and out[-3] == 1 and out[-2] == 0.5
    assert fast_auc(out, truth, None) == pytest.approx(fast_auc(raw, truth, None), abs=1e-6)  # float32 ties only
    assert calibrate(raw.copy(), None).tobytes() == raw.tobytes()


def test_a_trained_model_maps_its_best_threshold_to_one_half(trained, samples):
    result, _ = trained
    md = result.segmenter.metadata
    assert md["threshold"] == 0.5 and 0 < md["operating_point"] < 1
    raw = Segmenter(result.segmenter.model, {**md, "operating_point": None})
    for s in samples:
        plain = raw.predict(s.image, s.roi, clean=False)
        calibrated = result.segmenter.predict(s.image, s.roi, clean=False)
        assert np.array_equal(calibrated >= 0.5, plain >= md["operating_point"])
