"""The threshold a new model's maps are calibrated to (validation.operating_point): a lesion model keeps 0.5 unless
its best-Dice threshold wins clearly on its validation images; a vessel model takes the best one."""

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
