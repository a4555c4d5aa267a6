"""The threshold a new model's maps are calibrated to (validation.operating_point): a lesion model keeps 0.5 unless
its best-Dice threshold wins clearly on its validation images; a vessel model takes the best one."""

import dataclasses

import numpy as np

from medseg_gui.ml.validation import ValScore, operating_point


def test_a_lesion_threshold_chosen_by_one_or_two_images_stays_at_half():
    few = ValScore(0.9, 0.25, 0.8, at_best=(0.9, 0.7), at_half=(0.5, 0.6))
    assert operating_point(few, "lesions") == (0.5, 0.55)


def test_a_lesion_threshold_that_one_image_of_four_makes_stays_at_half():
    one_image = ValScore(0.9, 0.7, 0.625, at_best=(0.9, 0.5, 0.5, 0.6), at_half=(0.5, 0.5, 0.5, 0.6))
    threshold, dice = operating_point(one_image, "lesions")
    assert threshold == 0.5 and abs(dice - 0.525) < 1e-9


def test_a_lesion_threshold_better_on_every_image_is_taken():
    steady = ValScore(0.9, 0.35, 0.7, at_best=(0.7, 0.75, 0.65, 0.7), at_half=(0.6, 0.64, 0.56, 0.62))
    assert operating_point(steady, "lesions") == (0.35, 0.7)


def test_a_vessel_model_takes_its_best_threshold():
    few = ValScore(0.97, 0.7, 0.8, at_best=(0.8,), at_half=(0.7,))
    assert operating_point(few, "vessels") == (0.7, 0.8)


def _vessel_view(width: int):
    """A 40×40 view: a vessel 4 px wide (rows 18-21) whose map fades over its edges, painted as a stroke `width` px
    wide (as a brush wider than the vessel paints it) plus background strokes far from it."""
    import numpy as np

    from medseg_gui.ml.samples import Sample

    truth = np.zeros((40, 40), bool)
    truth[18:22] = True
    prob = np.full((40, 40), 0.05, np.float32)
    prob[18:22] = 0.9
    prob[[16, 17, 22, 23]] = 0.3  # the edges: below the vessel's own map, above the background's
    stroke = np.zeros((40, 40), bool)
    stroke[20 - width // 2: 20 + (width + 1) // 2, 15:25] = True  # a short stroke on a long vessel
    annotated = stroke.copy()
    annotated[:6] = annotated[-6:] = True  # background strokes far from the vessel
    return Sample(np.zeros((40, 40, 3), np.uint8), stroke, None, annotated, "v"), prob, truth


class _Fixed:
    """A segmenter whose map is given."""

    def __init__(self, prob):
        self.prob = prob

    def predict(self, image, roi=None, **_kw):
        return self.prob


def test_a_vessel_threshold_is_chosen_against_its_strokes_filled_in_where_there_are_fills():
    """Strokes wider than the vessel (a trial's brush) pick a low threshold: their edges are 'vessel'. Filled in with
    a mask of the whole vessel where unpainted (ml.fine_tune.anchor_fills: the shipped start's), the threshold is
    the one that keeps the vessel and drops its edges; the Dice reported is the strokes' own there."""
    from medseg_gui.ml.validation import evaluate_views

    view, prob, truth = _vessel_view(width=8)
    plain = evaluate_views(_Fixed(prob), [view])
    assert plain.filled is None and operating_point(plain, "vessels")[0] <= 0.3  # the painted edges count
    fill = (np.where(view.annotated, view.mask, truth), None)
    filled = evaluate_views(_Fixed(prob), [view], fills=[fill])
    threshold, dice = operating_point(filled, "vessels")
    assert 0.3 < threshold <= 0.8 and filled.filled[0] == threshold
    assert dice == filled.filled[1] and dice < plain.dice  # the strokes' Dice at that threshold: their edges missed
    assert operating_point(filled, "lesions") == operating_point(plain, "lesions")  # lesions: fills play no part


def test_anchor_fills_use_the_shipped_vessel_start_only_where_it_agrees_with_the_strokes(monkeypatch):
    from medseg_gui.ml import fine_tune
    from medseg_gui.ml.config import Recipe, TrainConfig

    vessels = TrainConfig().resolved(Recipe("vessels", 3.0, 20.0, 1.0))
    lesions = TrainConfig().resolved(Recipe("lesions", 40.0, 1.0, 0.5))
    view, prob, truth = _vessel_view(width=8)
    assert fine_tune._shipped_start(vessels) is not None  # the real one fits the vessel recipe
    monkeypatch.setattr(fine_tune, "_shipped_start", lambda _preset: _Fixed(prob))
    complete = dataclasses.replace(view, annotated=None, mask=truth)
    assert fine_tune.anchor_fills(lesions, [view], None) is None
    assert fine_tune.anchor_fills(vessels, [complete], None) is None  # complete labels: the usual threshold
    fills = fine_tune.anchor_fills(vessels, [view, complete], None)
    assert fills is not None and len(fills) == 2
    expected = np.where(view.annotated, view.mask, prob >= 0.5)
    assert np.array_equal(fills[0][0], expected) and fills[0][1] is None
    assert fills[1][0] is truth  # a complete label is its own fill
    monkeypatch.setattr(fine_tune, "_shipped_start", lambda _preset: _Fixed(1.0 - prob))  # another kind of image
    assert fine_tune.anchor_fills(vessels, [view], None) is None
