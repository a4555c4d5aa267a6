"""The recipe read from the labels: thin lines vs blobs, the working scale, and the presets it picks."""

import numpy as np
import pytest

from medseg_gui.ml.config import PRESETS, Recipe, TrainConfig
from medseg_gui.ml.regime import MIN_LONG_SIDE, TARGET_WIDTH, read_recipe


def lines(h=400, w=400, seed=0):
    """A vessel-like tree: random 2-4 px wide polylines."""
    import cv2

    rng = np.random.default_rng(seed)
    m = np.zeros((h, w), np.uint8)
    for _ in range(12):
        pts = np.cumsum(rng.integers(-40, 41, (8, 2)), axis=0) + rng.integers(50, 350, 2)
        cv2.polylines(m, [pts.astype(np.int32)], False, 255, int(rng.integers(2, 5)))
    return m > 0


def blobs(h=1000, w=1200, radius=150, n=2, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    m = np.zeros((h, w), bool)
    for _ in range(n):
        cy, cx = rng.integers(radius, h - radius), rng.integers(radius, w - radius)
        m |= (yy - cy) ** 2 + ((xx - cx) / 1.5) ** 2 < radius**2
    return m


def band(mask, gap, width):
    """The background band a clinician draws around each lesion: from `gap` to `gap + width` px outside it."""
    import cv2

    def grown(r):
        return cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)) > 0

    return grown(gap + width) & ~grown(gap)


def test_lines_read_as_vessels_at_full_resolution():
    r = read_recipe([lines(seed=s) for s in range(3)])
    assert r.regime == "vessels" and r.scale == 1.0
    assert r.width < 12


def test_blobs_read_as_lesions_and_are_shrunk():
    r = read_recipe([blobs(seed=s) for s in range(3)])
    assert r.regime == "lesions" and r.elongation < 3
    assert 250 < r.width < 320  # inscribed diameter of the 300 px discs (stretched 1.5x sideways)
    # the long side floor (1200 px -> MIN_LONG_SIDE) wins over TARGET_WIDTH / width
    assert r.scale == pytest.approx(max(TARGET_WIDTH / r.width, MIN_LONG_SIDE / 1200), rel=1e-3)


def test_small_blobs_are_not_enlarged_and_specks_do_not_make_lines_blobs():
    assert read_recipe([blobs(200, 200, radius=10, n=3)]).scale == 1.0
    vessels = lines()
    vessels[::37, ::41] = True  # isolated single-pixel specks
    assert read_recipe([vessels]).regime == "vessels"


def test_empty_labels_give_no_recipe():
    assert read_recipe([np.zeros((50, 50), bool)]) is None


def test_adaptive_preset_picks_the_recipe_and_overrides_still_apply():
    lesion = Recipe("lesions", 300.0, 1.1, 0.25)
    p = TrainConfig(preset="default").resolved(lesion)
    assert p.name == "default" and p.regime == "lesions" and p.scale == 0.25
    assert p.unet == PRESETS["lesions"].unet and p.loss == "bce_dice"
    v = TrainConfig(preset="default").resolved(Recipe("vessels", 5.0, 80.0, 1.0))
    assert v.regime == "vessels" and v.scale == 1.0 and v.unet == PRESETS["vessels"].unet
    assert TrainConfig(preset="default", base_filters=8).resolved(lesion).unet.filters[0] == 8
    # references stay exactly as written whatever the labels say
    assert TrainConfig(preset="cvxtz").resolved(lesion) == PRESETS["cvxtz"]
    assert TrainConfig(preset="fxfviolet").resolved(lesion) == PRESETS["fxfviolet"]


def test_default_vessel_recipe_is_the_vessels_preset():
    d, v = PRESETS["default"], PRESETS["vessels"]
    assert d.adapt and not v.adapt
    assert (d.unet, d.patch_size, d.batch_size, d.late_patch_size, d.learning_rate) == \
        (v.unet, v.patch_size, v.batch_size, v.late_patch_size, v.learning_rate)


def test_sparse_strokes_do_not_shrink_the_lesions_read():
    """Strokes inside a lesion are narrower than it: complete labels are measured when there are any, a sparse-only
    run that continues from given weights is capped at the scale their lesions call for on these images (a start
    whose scale was its own bigger images' long-side floor does not shrink these below theirs), and one that does
    not at the scale the shipped lesion start's lesions call for."""
    import cv2

    from dataclasses import replace

    from medseg_gui.ml.init import InitWeights, shipped_init
    from medseg_gui.ml.regime import lesion_scale
    from medseg_gui.ml.regime import labels_recipe
    from medseg_gui.ml.samples import Sample

    image = np.zeros((1000, 1200, 3), np.uint8)
    full = blobs(radius=60, seed=1)  # lesions ~100-180 px wide: scale ~0.2-0.3, above the long-side floor
    strokes = cv2.erode(full.astype(np.uint8), np.ones((61, 61), np.uint8)) > 0  # discs inside each lesion
    annotated = strokes | band(full, 5, 20)
    dense, sparse = Sample(image, full), Sample(image, strokes, annotated=annotated)
    cfg = TrainConfig(preset="default")
    from_dense = labels_recipe([dense], cfg)
    from_strokes = labels_recipe([sparse], cfg)
    raw = read_recipe([strokes], [1200]).scale  # the strokes alone read the lesions as smaller
    assert from_dense.regime == from_strokes.regime == "lesions" and raw > from_dense.scale
    prior = lesion_scale(TARGET_WIDTH / shipped_init("lesions").scale, [1200])  # the shipped start's lesions
    assert from_strokes.scale == min(raw, prior) < raw
    assert labels_recipe([sparse, dense], cfg).scale == from_dense.scale  # complete labels are what is measured
    start = InitWeights(PRESETS["lesions"].unet, {}, None, "the current model", scale=0.3)
    assert raw > 0.3 and labels_recipe([sparse], cfg, start).scale == 0.3
    from_big_photos = replace(start, scale=0.1)  # e.g. trained at the floor of 3200 px photos, 320 / 3200
    assert labels_recipe([sparse], cfg, from_big_photos).scale == round(MIN_LONG_SIDE / 1200, 4)
    assert labels_recipe([sparse], TrainConfig(preset="default", init="scratch"), start).scale == from_strokes.scale


def test_background_drawn_around_a_lesion_bounds_it():
    """A closed background stroke (or the ROI's edge) around foreground strokes encloses their lesion; an open one
    bounds nothing, and one lesion left open voids the others' bounds."""
    from medseg_gui.ml.regime import enclosures

    full = blobs(300, 400, radius=40, n=1, seed=2)
    strokes = full & np.roll(full, 30, axis=1) & np.roll(full, -30, axis=1)
    ring = band(full, 4, 6)
    inside = enclosures(strokes, strokes | ring)
    assert inside is not None and inside[full].all() and not inside[ring].any()
    assert inside.sum() < 1.5 * full.sum()
    cut = ring.copy()
    cut[:, : int(np.flatnonzero(full.any(axis=0)).mean())] = False  # half a ring: open
    assert enclosures(strokes, strokes | cut) is None
    roi = band(full, 0, 20) | full | ring  # the ROI's edge closes the half ring
    assert enclosures(strokes, strokes | cut, roi)[full].all()
    other = np.roll(strokes, 200, axis=1)  # strokes in a second lesion, not ringed: no bound at all
    assert enclosures(strokes | other, strokes | ring | other) is None


def test_rings_around_small_lesions_lift_the_scale_a_start_would_set():
    """Lesions smaller than the shipped start's (135 px) painted with strokes: without closed rings the start's
    lesions set the scale; background rings around them say they are small, and the scale rises to what the rings
    allow (never above the strokes' own bound)."""
    from medseg_gui.ml.init import shipped_init
    from medseg_gui.ml.regime import lesion_scale
    from medseg_gui.ml.regime import labels_recipe
    from medseg_gui.ml.samples import Sample

    image = np.zeros((1000, 1200, 3), np.uint8)
    full = blobs(radius=40, n=4, seed=3)  # ~80 px across
    strokes = full & np.roll(full, 20, axis=0) & np.roll(full, -20, axis=0)
    rings = band(full, 3, 4)
    gaps = (np.arange(1000) % 20 < 4)[:, None]  # every ring is cut open by a few rows
    cfg = TrainConfig(preset="default")
    opened = labels_recipe([Sample(image, strokes, annotated=strokes | (rings & ~gaps))], cfg)
    ringed = labels_recipe([Sample(image, strokes, annotated=strokes | rings)], cfg)
    raw = read_recipe([strokes], [1200]).scale
    prior = lesion_scale(TARGET_WIDTH / shipped_init("lesions").scale, [1200])
    bound = read_recipe([full | band(full, 0, 3)], [1200]).scale  # the regions the rings enclose
    assert opened.regime == ringed.regime == "lesions" and prior < bound < raw
    assert opened.scale == prior
    assert ringed.scale == pytest.approx(bound, abs=0.01)
