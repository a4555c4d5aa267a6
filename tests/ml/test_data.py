import dataclasses

import numpy as np

from medseg_gui.ml.config import PRESETS, Augment
from medseg_gui.ml.data import crop_reflect, crop_zero, enhance, prepare, preprocess, reflect_index, sample_batch


def _image(h=40, w=30):
    return np.random.default_rng(1).integers(0, 256, (h, w, 3)).astype(np.uint8)


def test_preprocess_modes_and_roi_normalisation():
    img = _image()
    roi = np.zeros(img.shape[:2], bool)
    roi[5:30, 5:20] = True
    for mode, c in [("rgb", 3), ("gray", 1), ("green", 1)]:
        x = preprocess(img, roi, mode, "clahe" if mode == "green" else "none")
        assert x.shape == (40, 30, c) and x.dtype == np.float32
        assert np.allclose(x[roi].mean(axis=0), 0, atol=1e-3) and np.allclose(x[roi].std(axis=0), 1, atol=1e-2)
    assert enhance(img[..., 0], "rgb").shape == (40, 30, 3)  # gray 2-D input is accepted


def test_reflect_and_zero_crops():
    a = np.arange(5)
    assert list(reflect_index(np.arange(-3, 9), 5)) == [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0]
    img = np.arange(12).reshape(3, 4)
    assert np.array_equal(crop_reflect(img, -1, -1, 5, 6), np.pad(img, ((1, 1), (1, 1)), mode="reflect"))
    z = crop_zero(img, -1, 2, 3, 4)
    assert z.shape == (3, 4) and z[0].sum() == 0 and np.array_equal(z[1:, :2], img[:2, 2:])
    assert crop_reflect(a[None], 0, -7, 1, 20).shape == (1, 20)  # far outside a tiny image


def _tagged_sample(h=50, w=60):
    """Image whose green channel equals the label, so image/label alignment survives any augmentation."""
    rng = np.random.default_rng(3)
    mask = np.zeros((h, w), bool)
    mask[10:14, :] = True
    mask[30:45, 20:25] = True
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 1] = np.where(mask, 200, 20)
    roi = np.zeros((h, w), bool)
    roi[5:45, 10:50] = True
    return img, mask, roi, rng


def _check_alignment(preset):
    img, mask, roi, rng = _tagged_sample()
    prepared = [prepare(img, mask, roi, preset, rng)]
    x, y = sample_batch(prepared, preset, np.random.default_rng(0))
    P = preset.patch_size
    assert x.shape == (preset.batch_size, P, P, 1) and y.shape == (preset.batch_size, P, P, 2)
    assert x.dtype == np.float32 and y.dtype == np.float32
    inside = y[..., 1] > 0.5
    assert inside.any()
    bright = x[..., 0] > x[..., 0].min() + 0.5 * (x[..., 0].max() - x[..., 0].min())
    agree = (bright == (y[..., 0] > 0.5))[inside].mean()
    assert agree > 0.97
    return x, y


def test_patches_are_aligned_and_weighted_by_roi():
    preset = dataclasses.replace(PRESETS["default"], input_mode="green", contrast="none", batch_size=8,
                                 patch_size=32, augment=Augment(flips=True, rot90=True))
    x, y = _check_alignment(preset)
    assert set(np.unique(y[..., 1])) <= {0.0, 1.0} and (y[..., 1] == 0).any()  # outside ROI is weight 0
    # centres are inside the ROI: the central pixel always has weight 1 (flips/rotations keep the centre region)
    c = preset.patch_size // 2
    assert (y[:, c - 1:c + 1, c - 1:c + 1, 1].max(axis=(1, 2)) == 1).all()


def test_affine_augmentation_keeps_alignment():
    preset = dataclasses.replace(PRESETS["cvxtz"], input_mode="green", batch_size=8, patch_size=32,
                                 augment=Augment(flips=True, affine=True, shear=0.2, shift=0.1, zoom=0.2))
    _check_alignment(preset)


def test_class_balanced_sampling_finds_small_lesions():
    h = w = 200
    img = np.full((h, w, 3), 30, np.uint8)
    mask = np.zeros((h, w), bool)
    mask[100:103, 50:53] = True  # 9 labelled pixels out of 40,000
    for frac, expect in [(0.0, False), (0.5, True)]:
        preset = dataclasses.replace(PRESETS["default"], batch_size=32, patch_size=16, positive_fraction=frac)
        prepared = [prepare(img, mask, None, preset, np.random.default_rng(0))]
        _, y = sample_batch(prepared, preset, np.random.default_rng(0))
        hits = (y[..., 0].reshape(32, -1).max(axis=1) > 0).mean()
        assert (hits > 0.3) == expect


def test_sampling_is_deterministic_with_a_seed():
    img, mask, roi, _ = _tagged_sample()
    preset = dataclasses.replace(PRESETS["cvxtz"], batch_size=4, patch_size=32)
    runs = []
    for _ in range(2):
        prepared = [prepare(img, mask, roi, preset, np.random.default_rng(5))]
        runs.append(sample_batch(prepared, preset, np.random.default_rng(7)))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


def test_patch_batches_switch_to_the_late_phase_by_run_fraction():
    from medseg_gui.ml.train import patch_batches

    img, mask, roi, _ = _tagged_sample()
    preset = dataclasses.replace(PRESETS["default"], input_mode="green", contrast="none", batch_size=6, patch_size=16,
                                 late_patch_size=32, late_batch_size=2, late_start=0.5)
    prepared = [prepare(img, mask, roi, preset, np.random.default_rng(0))]
    done = [0.0]
    batches = patch_batches(prepared, preset, seed=3, fraction=lambda: done[0])
    shapes = []
    for f in (0.0, 0.49, 0.5, 0.9):
        done[0] = f
        x, y = next(batches)
        shapes.append((x.shape[:3], y.shape[:3]))
    assert shapes == [((6, 16, 16), (6, 16, 16))] * 2 + [((2, 32, 32), (2, 32, 32))] * 2
    # without a fraction (or without a late phase) the size never changes
    assert next(patch_batches(prepared, preset, seed=3))[0].shape[:3] == (6, 16, 16)


def test_resize_to_scale_shrinks_image_label_and_roi():
    from medseg_gui.ml.data import resize_to_scale

    img = np.zeros((100, 80, 3), np.uint8)
    mask = np.zeros((100, 80), bool)
    mask[20:60, 20:60] = True
    roi = np.zeros((100, 80), bool)
    roi[0:3, 0:3] = True  # a ROI smaller than one output pixel still covers it
    small, m, r = resize_to_scale(img, mask, roi, 0.25)
    assert small.shape == (25, 20, 3) and m.shape == r.shape == (25, 20)
    assert m.sum() == 100 and m[5:15, 5:15].all()  # the 40 px square -> 10 px
    assert r[0, 0] and r.sum() == 1
    assert resize_to_scale(img, mask, roi, 1.0)[1] is mask


def _noise_image_and_plain_preset():
    """A prepared 64 px noise image with a square label, and the lesion preset without augmentation."""
    from medseg_gui.ml.data import prepare

    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 64, 3)).astype(np.uint8)
    mask = np.zeros((64, 64), bool)
    mask[10:30, 10:30] = True
    plain = dataclasses.replace(PRESETS["lesions"], patch_size=32, scale=1.0,
                                augment=Augment(flips=False, rot90=False))
    return prepare(img, mask, None, plain, rng), plain


def test_colour_and_gamma_change_pixels_not_labels():
    from medseg_gui.ml.data import sample_patch

    prep, plain = _noise_image_and_plain_preset()
    jitter = dataclasses.replace(plain, augment=Augment(flips=False, rot90=False, colour=0.3, gamma=0.4))
    x0, y0 = sample_patch(prep, plain, np.random.default_rng(5))
    x1, y1 = sample_patch(prep, jitter, np.random.default_rng(5))
    np.testing.assert_array_equal(y0, y1)
    assert not np.allclose(x0, x1)
    # the per-channel colour shift moves channel means differently
    d = (x1 - x0).reshape(-1, 3).mean(axis=0)
    assert np.ptp(d) > 0.01


def test_camera_augmentations_change_pixels_not_labels():
    """Per-channel gamma, saturation, blur and noise each change the patch's pixels (per-channel gamma unevenly
    across channels), never its labels; with all of them off the patch is the plain one."""
    from medseg_gui.ml.data import sample_patch

    prep, plain = _noise_image_and_plain_preset()
    x0, _ = sample_patch(prep, plain, np.random.default_rng(5))
    for change in ({"channel_gamma": 0.5}, {"saturation": 0.5}, {"blur": 2.0}, {"noise": 0.5}):
        aug = Augment(flips=False, rot90=False, **change)
        jitter = dataclasses.replace(plain, augment=aug)
        changed = 0
        for seed in range(6):  # blur and noise touch a third of the patches
            x1, y1 = sample_patch(prep, jitter, np.random.default_rng(seed))
            xp, yp = sample_patch(prep, plain, np.random.default_rng(seed))
            np.testing.assert_array_equal(y1, yp)
            changed += not np.allclose(x1, xp, atol=1e-4)
        assert changed >= 1, change
    x1, _ = sample_patch(prep, dataclasses.replace(plain, augment=Augment(flips=False, rot90=False,
                                                                          channel_gamma=0.5)),
                         np.random.default_rng(5))
    assert np.ptp((x1 - x0).reshape(-1, 3).mean(axis=0)) > 0.01
    blurred = dataclasses.replace(plain, augment=Augment(flips=False, rot90=False, blur=3.0))
    rough = [np.abs(np.diff(sample_patch(prep, blurred, np.random.default_rng(s))[0], axis=0)).mean()
             for s in range(9)]
    assert min(rough) < 0.5 * max(rough)  # the blurred patches are smoother than the sharp ones


def test_a_validation_view_is_cropped_only_when_huge_at_the_working_scale():
    """A lesion photo (worked at a quarter of its size) validates whole, as the window predicts it: a trial's
    1350 px photo cropped to 1024 px validated at Dice 0.11 where the list showed 0.00 for the same model (session
    36). A vessel image (full resolution) over 1024 px is still cropped around its labelled pixels."""
    from medseg_gui.ml.samples import Sample, val_view

    mask = np.zeros((1080, 1350), bool)
    mask[100:200, 1200:1300] = True
    sample = Sample(np.zeros((1080, 1350, 3), np.uint8), mask, name="photo")
    assert val_view(sample, 0.25) is sample
    cropped = val_view(sample)
    assert cropped.mask.shape == (1024, 1024) and cropped.mask.sum() == mask.sum()  # around the label
    assert val_view(sample, 0.5).mask.shape == (1080, 1350)  # 675 × 540 px at the working scale
    assert val_view(sample, 0.7).mask.shape == (1080, 1350)  # 945 × 756
    assert val_view(sample, 0.9).mask.shape == (1080, 1138)  # 1215 × 972: cropped to 1024 / 0.9 px
