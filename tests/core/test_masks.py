"""Known-answer tests of the pure mask tools behind the canvas."""

import numpy as np
import pytest
from skimage.measure import points_in_poly

from medseg_gui.core import masks


def as_full(shape, region):
    out = np.zeros(shape, bool)
    if region is not None:
        out[masks.bbox_slices(region.bbox)] = region.mask
    return out


def apply(mask, region, value=1):
    """The region's pixels set in place; its bbox, or None without a region."""
    return None if region is None else masks.apply_region(mask, region, value)


def paint_line(mask, p0, p1, size, value=1):
    return apply(mask, masks.capsule_region(mask.shape, p0, p1, size), value)


def paint_disc(mask, center, size, value=1):
    return paint_line(mask, center, center, size, value)


@pytest.mark.parametrize(("size", "expected"), [(1, 1), (2, 4), (3, 9), (4, 12), (5, 21)])
def test_disc_areas(size, expected):
    m = np.zeros((20, 20), np.uint8)
    paint_disc(m, (10.3, 10.7), size)
    assert m.sum() == expected


def test_one_px_brush_paints_the_pixel_under_the_point():
    m = np.zeros((10, 10), np.uint8)
    assert paint_disc(m, (3.99, 7.01), 1) == (7, 3, 8, 4)
    assert m.sum() == 1 and m[7, 3] == 1


def test_odd_brush_is_centred_on_the_pixel():
    m = np.zeros((10, 10), np.uint8)
    paint_disc(m, (4.2, 5.9), 3)
    assert np.array_equal(np.argwhere(m), [[r, c] for r in range(4, 7) for c in range(3, 6)])


def test_one_px_line_is_eight_connected_one_pixel_per_column():
    m = np.zeros((20, 30), np.uint8)
    paint_line(m, (1.5, 2.5), (25.5, 11.5), 1)
    cols = np.argwhere(m)[:, 1]
    assert np.array_equal(np.unique(cols), np.arange(1, 26))
    assert len(cols) == 25  # shallow slope: exactly one pixel per column
    assert m[2, 1] and m[11, 25]


def test_horizontal_line_round_caps():
    m = np.zeros((10, 20), np.uint8)
    paint_line(m, (3.5, 5.5), (12.5, 5.5), 3)
    expected = np.zeros_like(m)
    expected[4:7, 2:14] = 1
    assert np.array_equal(m, expected)


def test_erase_value_and_clipping_outside_the_image():
    m = np.ones((5, 5), np.uint8)
    assert paint_line(m, (-10, -10), (-5, -5), 3, 0) is None
    assert paint_disc(m, (0.5, 0.5), 3, 0) == (0, 0, 2, 2)
    assert m.sum() == 25 - 4


def test_polygon_matches_point_in_polygon_reference():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:24, :24]
    centres = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], 1)
    for _ in range(60):
        pts = rng.uniform(-3, 27, (rng.integers(3, 10), 2))
        ref = points_in_poly(centres, pts).reshape(24, 24)
        assert np.array_equal(as_full((24, 24), masks.polygon_region((24, 24), pts)), ref)


def test_fill_polygon_rectangle_on_pixel_edges():
    m = np.zeros((12, 12), np.uint8)
    assert apply(m, masks.polygon_region(m.shape, [(2, 2), (10, 2), (10, 8), (2, 8)])) is not None
    expected = np.zeros_like(m)
    expected[2:8, 2:10] = 1
    assert np.array_equal(m, expected)
    apply(m, masks.polygon_region(m.shape, [(4, 4), (6, 4), (6, 6), (4, 6)]), 0)
    expected[4:6, 4:6] = 0
    assert np.array_equal(m, expected)


def test_flood_region_fills_a_closed_region_only():
    m = np.zeros((10, 10), np.uint8)
    m[2:8, 2] = m[2:8, 7] = m[2, 2:8] = m[7, 2:8] = 1
    assert apply(m, masks.flood_region(m, (4.5, 4.5))) == (3, 3, 7, 7)
    expected = np.zeros_like(m)
    expected[2:8, 2:8] = 1
    assert np.array_equal(m, expected)
    apply(m, masks.flood_region(m, (2.5, 2.5)), 0)
    assert m.sum() == 0


def test_flood_region_is_four_connected():
    m = np.zeros((4, 4), np.uint8)
    m[0, 0] = m[1, 1] = 1
    assert masks.flood_region(m, (0.5, 0.5)).area == 1


def test_magic_wand_tolerance_is_monotone_and_exact():
    img = np.zeros((10, 12, 3), np.uint8)
    img[:, 4:] = (30, 30, 30)
    img[:, 8:] = (60, 62, 60)
    img[5, 5] = (30, 30, 45)
    areas = [masks.magic_wand(img, (5.5, 1.5), t).area for t in (0, 14, 15, 30, 32)]
    assert areas == [39, 39, 40, 80, 120]  # G=62 needs tolerance 32
    assert all(a <= b for a, b in zip(areas, areas[1:]))
    assert masks.magic_wand(img, (50, 1), 10) is None


def test_bbox_helpers():
    assert masks.bbox_union(None, (1, 2, 3, 4)) == (1, 2, 3, 4)
    assert masks.bbox_union((0, 5, 2, 6), (1, 2, 3, 4)) == (0, 2, 3, 6)
    assert masks.clip_bbox((-2, -2, 3, 30), (10, 20)) == (0, 0, 3, 20)
    assert masks.clip_bbox((12, 0, 14, 3), (10, 20)) is None


def test_capsule_matches_the_distance_definition():
    """Pixels whose centre is within size/2 of the segment between the snapped brush centres."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[:40, :50] + 0.5
    for _ in range(200):
        size = int(rng.integers(2, 12))
        p0, p1 = tuple(rng.uniform(-5, 55, 2)), tuple(rng.uniform(-5, 45, 2))
        if rng.random() < 0.2:
            p1 = (p0[0], p1[1])  # vertical
        (ax, ay), (bx, by) = masks.brush_center(*p0, size), masks.brush_center(*p1, size)
        d2 = (bx - ax) ** 2 + (by - ay) ** 2
        t = np.clip(((xx - ax) * (bx - ax) + (yy - ay) * (by - ay)) / d2, 0, 1) if d2 else 0.0
        ref = (xx - ax - t * (bx - ax)) ** 2 + (yy - ay - t * (by - ay)) ** 2 <= (size / 2) ** 2 + 1e-9
        got = as_full((40, 50), masks.capsule_region((40, 50), p0, p1, size))
        assert np.array_equal(got, ref), (size, p0, p1)


def test_mask_bbox_is_tight_and_none_when_empty():
    m = np.zeros((20, 30), bool)
    assert masks.mask_bbox(m) is None
    m[3, 7] = m[11, 25] = True
    assert masks.mask_bbox(m) == (3, 7, 12, 26)
    m[:] = True
    assert masks.mask_bbox(m) == (0, 0, 20, 30)
