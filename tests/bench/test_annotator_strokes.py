"""The simulated clinician's strokes (bench/annotator_strokes.py): never wrong, and the reported share is what was
painted. No training."""

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "annotator_strokes.py"
_spec = importlib.util.spec_from_file_location("annotator_strokes", _PATH)
strokes = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = strokes  # dataclasses look their module up there
_spec.loader.exec_module(strokes)


def _lesions() -> tuple[np.ndarray, np.ndarray]:
    truth, roi = np.zeros((160, 200), np.uint8), np.zeros((160, 200), np.uint8)
    cv2.circle(truth, (60, 70), 30, 1, -1)
    cv2.ellipse(truth, (150, 110), (20, 12), 30, 0, 360, 1, -1)
    cv2.circle(roi, (100, 80), 95, 1, -1)
    return truth.astype(bool), roi.astype(bool)


def _vessels() -> tuple[np.ndarray, np.ndarray]:
    truth = np.zeros((160, 200), np.uint8)
    cv2.line(truth, (10, 20), (190, 60), 1, 7)
    cv2.line(truth, (100, 40), (90, 150), 1, 5)
    cv2.line(truth, (20, 140), (180, 120), 1, 2)
    return truth.astype(bool), np.ones(truth.shape, bool)


def _check(ann, truth: np.ndarray, roi: np.ndarray) -> None:
    assert not (ann.fg & ann.bg).any()
    assert not (ann.fg & ~(truth & roi)).any(), "an object stroke left the object"
    assert not (ann.bg & (truth | ~roi)).any(), "a background stroke touched the object or left the ROI"


@pytest.mark.parametrize("regime, make", [("lesions", _lesions), ("vessels", _vessels)])
def test_strokes_stay_in_their_class_and_the_share_is_what_was_painted(regime, make):
    truth, roi = make()
    ann = strokes.first_strokes(truth, roi, regime, np.random.default_rng(0))
    _check(ann, truth, roi)
    assert ann.fg.any() and ann.bg.any() and ann.strokes >= 2
    for lesion in strokes._components(truth) if regime == "lesions" else []:
        assert (ann.fg & lesion).any(), "every lesion gets object strokes"
    assert 0 < ann.annotated.sum() < roi.sum()
    assert strokes.annotated_share([ann], [roi]) == pytest.approx(ann.annotated.sum() / roi.sum())

    pred = np.roll(truth, 9, axis=1) & roi  # a shifted prediction: missed object on one side, false on the other
    before, painted = ann.strokes, strokes.corrections(ann, pred, truth, roi, regime, 2)
    _check(ann, truth, roi)
    assert 1 <= painted <= 2 and ann.strokes == before + painted
    assert strokes.annotated_share([ann, ann], [roi, None]) == pytest.approx(
        2 * ann.annotated.sum() / (roi.sum() + roi.size))
