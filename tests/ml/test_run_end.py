"""A time box too short to train says so (run_end.short_box), and the validation time the box reserves is measured
on one validation pass (compare.score_current), not on the current model's own flips and scales as well (an outside
trial's 1-minute box with 64 labels trained one step, and nothing said why)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from medseg_gui.ml.compare import score_current
from medseg_gui.ml.run_end import short_box
from medseg_gui.ml.samples import Sample


def test_a_box_leaving_training_under_half_of_it_says_so_and_what_would_do():
    trial = short_box(60.0, 14.0, 45.0, 64, 13)  # the trial's box: 14 s to get ready, 10 validations of 4.5 s
    assert trial == ("A 1-minute time box leaves about 1 s for training with 64 labelled images (14 s to get ready, "
                     "45 s kept for validating the result on 13 of them): choose 2 minutes or more.")
    assert "choose 1.5 minutes or more" in short_box(60.0, 20.0, 20.0, 64, 13)
    assert "leaves about 0 s" in short_box(30.0, 20.0, 20.0, 8, 2)  # never a negative time
    assert short_box(60.0, 14.0, 14.0, 64, 13) == ""  # 32 s of 60 to train: enough
    assert short_box(180.0, 14.0, 45.0, 64, 13) == ""
    assert short_box(None, 14.0, 45.0, 64, 13) == ""  # no time box


class _Slow:
    """A segmenter whose every prediction costs `unit` seconds per flip and per scale it averages."""

    def __init__(self, unit: float, flips: int, scales: tuple[float, ...]) -> None:
        self.unit, self.tta, self.scales = unit, flips, scales
        self.metadata = {"threshold": 0.5, "tta": flips, "scales": list(scales)}

    def predict(self, image, roi=None, *, tta=None, clean=True, should_stop=None):
        time.sleep(self.unit * max(1, int(self.tta if tta is None else tta)) * len(self.scales))
        return np.full(image.shape[:2], 0.7, np.float32)


def test_one_validation_pass_is_timed_without_the_models_own_flips_and_scales():
    views = [Sample(np.zeros((16, 16, 3), np.uint8), np.eye(16, dtype=bool), None, None, f"v{i}") for i in range(2)]
    current = score_current(_Slow(0.05, 4, (0.8, 1.0, 1.25)), views, "lesions", False, None)
    assert current.auc is not None and current.dice is not None and not current.cancelled
    assert current.pass_s == pytest.approx(2 * 0.05, rel=0.5)  # two views, one flip at the working scale
    assert score_current(None, views, "lesions", False, None).pass_s is None


@pytest.mark.slow
def test_a_run_in_a_box_too_short_says_so_before_its_first_step_and_in_its_result(samples, tiny_preset):
    from medseg_gui.ml.train import train
    from tests.ml.conftest import tiny_config

    reports = []
    # a 0.3-s box: the reserve alone (one validation, estimated at 0.3 s an image without a current model) fills it
    result = train(samples, tiny_config(tiny_preset, minutes=0.005, max_steps=None), progress=reports.append)
    noted = [i for i, p in enumerate(reports) if p.note]
    assert len(noted) == 1 and reports[noted[0]].step == 0 and result.note == reports[noted[0]].note
    assert result.note.startswith("A 0.005-minute time box leaves about 0 s for training with 3 labelled images (")
