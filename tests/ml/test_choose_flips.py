"""How many flips a lesion model averages (validation.choose_prediction): the run's default (one flip for a run that
fine-tunes, Preset.full_rate_flips for the others) unless the other count validates clearly better on every image."""

import numpy as np
import pytest

from medseg_gui.ml.samples import Sample
from medseg_gui.ml.validation import choose_prediction


def _disc(shift: int = 0) -> np.ndarray:
    yy, xx = np.mgrid[:48, :48]
    return (yy - 24) ** 2 + (xx - 24 - shift) ** 2 <= 100


class _Stub:
    """A segmenter whose map is the true disc with `good` flips, the disc shifted by 4 px with the others."""

    def __init__(self, good: set[int]) -> None:
        self.metadata = {"threshold": 0.5}
        self.good = good

    def predict(self, image, roi=None, *, tta=None, clean=True, should_stop=None):
        return np.where(_disc(0 if tta in self.good else 4), 0.9, 0.1).astype(np.float32)


def _views() -> list[Sample]:
    return [Sample(np.zeros((48, 48, 3), np.uint8), _disc(), None, None, f"v{i}") for i in range(4)]


@pytest.mark.parametrize("default_flips, good, want", [
    (4, {1, 2, 4}, 4),  # as good either way: the default stands
    (4, {1}, 1),  # one flip clearly better on every image: taken
    (4, {4}, 4),
    (1, {1, 2, 4}, 1),
    (1, {2}, 2),  # two flips clearly better: taken
    (1, {1}, 1),
])
def test_the_default_flips_stand_unless_the_other_count_wins_clearly(default_flips, good, want):
    stub = _Stub(good)
    choose_prediction(stub, _views(), False, None, default_flips)
    assert stub.metadata.get("tta", 1) == want


def test_asking_for_flips_validates_all_four():
    stub = _Stub({4})
    choose_prediction(stub, _views(), True, None, 1)
    assert stub.metadata["tta"] == 4
