"""Overlay layers put exact colours on exactly the right pixels; composite blends them in order."""

import numpy as np
import pytest
from scipy import ndimage

from medseg_gui.core.overlays import any_pool2, boundary, boundary_u8, composite, contour_layer, fp_fn_layer


def test_fp_fn_colours_land_on_the_right_pixels():
    pred = np.array([[1, 1, 0, 0, 1]], bool)
    truth = np.array([[1, 0, 1, 0, 0]], bool)
    roi = np.array([[1, 1, 1, 1, 0]], bool)  # the FP at column 4 lies outside the ROI
    layer = fp_fn_layer(pred, truth, roi)
    assert layer.dtype == np.uint8 and layer.shape == (1, 5, 4)
    assert tuple(layer[0, 1]) == (255, 0, 0, 170)  # FP red
    assert tuple(layer[0, 2]) == (0, 0, 255, 170)  # FN blue
    for col in (0, 3, 4):  # TP, TN, outside ROI
        assert layer[0, col, 3] == 0
    assert tuple(fp_fn_layer(pred, truth, alpha=255)[0, 4]) == (255, 0, 0, 255)


def test_contour_lies_on_the_mask_boundary_only():
    mask = np.zeros((12, 14), bool)
    mask[3:9, 4:11] = True
    mask[5, 6] = False  # a hole has a boundary too
    layer = contour_layer(mask, (0, 200, 255))
    on = layer[:, :, 3] > 0
    inner_boundary = mask & ~ndimage.binary_erosion(mask, border_value=0)
    np.testing.assert_array_equal(on, inner_boundary)
    assert (layer[on] == (0, 200, 255, 255)).all() and (layer[~on] == 0).all()
    assert not (on & ~mask).any()
    thick = contour_layer(mask, (1, 2, 3), thickness=2)[:, :, 3] > 0
    assert on.sum() < thick.sum() and not (thick & ~mask).any()


def test_contour_closes_at_image_border_and_empty_mask():
    mask = np.ones((4, 4), bool)
    on = contour_layer(mask, (9, 9, 9))[:, :, 3] > 0
    assert on[0].all() and on[:, 0].all() and not on[1:3, 1:3].any()
    assert not contour_layer(np.zeros((4, 4), np.uint8), (9, 9, 9)).any()


def test_boundary_u8_matches_boundary_for_bool_and_0_255_masks():
    rng = np.random.default_rng(3)
    mask = rng.random((23, 31)) > 0.5  # many small blobs and holes, touching the border
    expected = mask & ~ndimage.binary_erosion(mask, border_value=0)
    for m in (mask, mask.astype(np.uint8) * 255, mask.astype(np.uint8)):
        b = boundary_u8(m)
        assert b.dtype == np.uint8 and set(np.unique(b)) <= {0, 1}
        np.testing.assert_array_equal(b.astype(bool), expected)
        np.testing.assert_array_equal(boundary(m), expected)
    with pytest.raises(ValueError):
        boundary_u8(mask, thickness=0)


@pytest.mark.parametrize("shape", [(1, 1), (2, 1), (3, 5), (4, 4), (7, 2), (10, 11)])
def test_any_pool2_keeps_every_set_pixel(shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    mask = rng.random(shape) > 0.8
    expected = np.zeros(((shape[0] + 1) // 2, (shape[1] + 1) // 2), bool)
    for y, x in zip(*np.nonzero(mask)):
        expected[y // 2, x // 2] = True
    for m in (mask, mask.astype(np.uint8)):
        pooled = any_pool2(m)
        assert pooled.dtype == np.uint8 and pooled.flags.c_contiguous
        np.testing.assert_array_equal(pooled.astype(bool), expected)
    line = np.zeros((6, 6), np.uint8)
    line[:, 3] = 1  # a 1-px line on an odd column survives halving (subsampling [::2] would drop it)
    assert any_pool2(line)[:, 1].all() and not line[::2, ::2].any()


def test_layer_colours_are_checked():
    mask = np.array([[0, 1]], np.uint8)
    with pytest.raises(ValueError):
        contour_layer(mask, (300, 0, 0))
    with pytest.raises(ValueError):
        fp_fn_layer(mask, mask, alpha=256)


def test_composite_opaque_replaces_transparent_keeps():
    image = np.full((1, 3, 3), 100, np.uint8)
    layer = np.zeros((1, 3, 4), np.uint8)
    layer[0, 0] = (10, 20, 30, 255)
    layer[0, 1] = (200, 200, 200, 0)
    layer[0, 2] = (255, 255, 255, 128)
    out = composite(image, layer)
    assert out.dtype == np.uint8 and out.shape == (1, 3, 3)
    assert tuple(out[0, 0]) == (10, 20, 30)
    assert tuple(out[0, 1]) == (100, 100, 100)
    assert tuple(out[0, 2]) == (178, 178, 178)  # (100*127 + 255*128) / 255
    np.testing.assert_array_equal(composite(image), image)


def test_composite_layers_in_order():
    image = np.zeros((1, 1, 3), np.uint8)
    red = np.array([[[255, 0, 0, 255]]], np.uint8)
    blue = np.array([[[0, 0, 255, 255]]], np.uint8)
    assert tuple(composite(image, red, blue)[0, 0]) == (0, 0, 255)
    assert tuple(composite(image, blue, red)[0, 0]) == (255, 0, 0)
    with pytest.raises(ValueError):
        composite(image, np.zeros((2, 2, 4), np.uint8))
