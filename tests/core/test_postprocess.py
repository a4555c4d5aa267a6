import numpy as np
import pytest

from medseg_gui.core import postprocess
from medseg_gui.core.postprocess import PostProcess, apply, choose, clean_mask


def _ring_and_speck() -> np.ndarray:
    m = np.zeros((100, 100), bool)
    m[20:60, 20:60] = True
    m[35:45, 35:45] = False  # a 100 px hole
    m[80, 80] = True  # a 1 px speck
    return m


def test_clean_mask_fills_holes_and_drops_specks():
    m = _ring_and_speck()
    filled = clean_mask(m, PostProcess(fill_holes=True))
    assert filled[40, 40] and filled[80, 80] and filled.sum() == m.sum() + 100
    no_specks = clean_mask(m, PostProcess(min_area=1e-3))  # components under 10 px of 10,000 go
    assert not no_specks[80, 80] and no_specks.sum() == m.sum() - 1
    assert (clean_mask(m, PostProcess()) == m).all()


def test_apply_changes_probabilities_so_that_thresholding_gives_the_clean_mask():
    rng = np.random.default_rng(0)
    prob = np.where(_ring_and_speck(), rng.uniform(0.5, 1.0, (100, 100)), rng.uniform(0.0, 0.3, (100, 100)))
    pp = PostProcess(fill_holes=True, min_area=1e-3)
    out = apply(prob.astype(np.float32), 0.4, pp)
    assert ((out >= 0.4) == clean_mask(prob >= 0.4, pp)).all()
    untouched = (prob >= 0.4) == clean_mask(prob >= 0.4, pp)
    assert np.allclose(out[untouched], prob[untouched])


def test_choose_prefers_the_clean_up_that_raises_validation_dice_and_none_otherwise():
    truth = _ring_and_speck()
    truth[35:45, 35:45] = True
    truth[80, 80] = False
    holey = _ring_and_speck().astype(np.float32)
    pp, dice, plain = choose([holey] * 3, [truth] * 3, [None] * 3, 0.5)
    assert pp.fill_holes and pp.min_area > 0 and (dice == 1.0).all() and (plain < 1.0).all()
    pp, dice, plain = choose([truth.astype(np.float32)] * 3, [truth] * 3, [None] * 3, 0.5)
    assert pp == PostProcess() and (dice == 1.0).all() and (plain == 1.0).all()


def test_choose_takes_no_clean_up_on_the_gain_of_one_image():
    truth = _ring_and_speck()
    truth[35:45, 35:45] = True
    truth[80, 80] = False
    holey = _ring_and_speck().astype(np.float32)
    pp, dice, plain = choose([holey], [truth], [None], 0.5)  # one validation image: never enough
    assert pp == PostProcess() and dice[0] == plain[0] < 1.0
    other = np.zeros((100, 100), bool)
    other[10:30, 60:90] = True  # a plain square: the clean-ups change nothing there
    pp, _, _ = choose([holey, other.astype(np.float32), other.astype(np.float32)], [truth, other, other],
                      [None] * 3, 0.5)
    assert pp == PostProcess()  # a gain on one image of three, none on the others: within the noise


def test_wins_needs_a_mean_gain_above_min_gain_and_twice_its_standard_error():
    base = [0.5, 0.5, 0.5, 0.5]
    assert postprocess.wins([0.52, 0.53, 0.51, 0.52], base)  # small but steady
    assert postprocess.wins([0.5, 0.6, 0.6, 0.6], base)  # three images of four: 3 standard errors
    assert not postprocess.wins([0.5, 0.5, 0.5, 0.58], base)  # one image: mean 0.02 = its standard error
    assert not postprocess.wins([0.5] * 20 + [0.9], [0.5] * 21)  # one image of many: the same
    assert not postprocess.wins([0.503, 0.503, 0.503, 0.503], base)  # steady but under MIN_GAIN
    assert not postprocess.wins([0.9], [0.5])  # one or two images never show it
    assert not postprocess.wins([0.9, 0.9], [0.5, 0.5])
    assert not postprocess.wins([0.45, 0.45], [0.5, 0.5])


def test_json_round_trip_and_rejects_bad_values():
    pp = PostProcess(True, 1e-3)
    assert PostProcess.from_json(pp.to_json()) == pp
    for bad in ([1], {"fill_holes": "yes"}, {"min_area": 1.5}, {"min_area": True}):
        with pytest.raises(ValueError):
            PostProcess.from_json(bad)
    assert postprocess.CANDIDATES[0] == PostProcess()


def test_specks_on_large_masks_are_found_on_a_pooled_copy():
    """Above `work_pixels` the search runs on an OR-pooled copy (here 6 x 6): isolated specks are found exactly as
    by the full-resolution search; a speck touching a large region's pooled pixels stays; nothing of a large region
    is ever returned, for any size (lengths no multiple of the factor included) or density."""
    from medseg_gui.core.postprocess import specks

    m = np.zeros((601, 499), bool)
    m[100:300, 100:300] = True  # 40,000 px: far above 0.05 % of 300,000 (150 px)
    m[500:503, 400:404] = m[20, 20] = m[600, 498] = True  # three isolated specks, one in the last partial cell
    m[100, 302] = True  # a speck 2 px from the large region: its 6 x 6 cell touches the region's
    pooled, n = specks(m, 0.0005, work_pixels=10_000)
    exact, n_exact = specks(m, 0.0005, work_pixels=10**9)
    assert (n, n_exact) == (3, 4)
    expected = exact.copy()
    expected[100, 302] = False
    assert (pooled == expected).all()
    rng = np.random.default_rng(0)
    for shape, density in (((301, 257), 0.001), ((640, 480), 0.01), ((97, 1003), 0.05)):
        r = rng.random(shape) < density
        r[shape[0] // 4: shape[0] // 2, shape[1] // 4: shape[1] // 2] = True
        got, _ = specks(r, 0.001, work_pixels=5_000)
        want, _ = specks(r, 0.001, work_pixels=10**9)
        assert not (got & ~want).any()  # every pixel returned is a real speck's
        assert not got[shape[0] // 4: shape[0] // 2, shape[1] // 4: shape[1] // 2].any()
