"""core.fov.estimate_fov: the field of view of a fundus photo that came without one."""

from pathlib import Path

import numpy as np
import pytest

from medseg_gui.core.fov import estimate_fov, prediction_region

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _fundus(h=200, w=240, r=90, outside=3):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < r ** 2
    image = np.full((h, w, 3), outside, np.uint8)
    image[disc] = (190, 90, 40)
    image = np.clip(image + rng.normal(0, 4, image.shape) * disc[..., None], 0, 255).astype(np.uint8)
    return image, disc


def test_a_bright_disc_on_a_dark_border_is_found_whole_and_widened_a_little():
    image, disc = _fundus()
    fov = estimate_fov(image)
    assert fov.shape == disc.shape and fov[disc].all()  # never cuts the rim
    assert not fov[0, 0] and not fov[-1, -1] and fov.sum() < 1.2 * disc.sum()
    assert estimate_fov(image[..., 0]) is not None  # grey photos too


def test_the_edge_of_a_large_photos_field_follows_the_photo_not_the_coarse_estimate():
    """The estimate is made at 512 px and widened by 1 % of the long side; its edge is then drawn at full resolution:
    a 3504-px HRF photo kept a ~35-px band of black border inside, which a vessel model painted as a ring."""
    image, disc = _fundus(h=1400, w=1700, r=640)
    fov = estimate_fov(image)
    assert fov[disc].all()  # the rim is still never cut
    ring = 2 * np.pi * 640
    assert (fov & ~disc).sum() < 3 * ring  # at most ~2 px of border all round (the 1 % margin alone: 17 px)
    dim = image.copy()
    dim[disc] = (60, 30, 10)  # a dim photo: the level follows its brightness
    assert (estimate_fov(dim) & ~disc).sum() < 3 * ring and estimate_fov(dim)[disc].all()


def test_a_prediction_leaves_out_a_thin_band_along_the_fields_edge_not_along_the_photos():
    """Models trained inside fields of view paint the field's rim (session 40): predictions of a photo without a
    field are trusted from 0.2 % of the long side inside the estimated edge; where the field reaches the photo's own
    edge (a disc cut at top and bottom) nothing is left out there."""
    image, disc = _fundus(h=1000, w=1500, r=560)  # cut at top and bottom
    field, region = estimate_fov(image), prediction_region(image)
    assert not (region & ~field).any()
    band = field & ~region
    assert band.sum() > 0 and not band[:, 700:800].any()  # the photo's top and bottom edges are not the field's
    assert not region[500, 750 - 560 + 1] and region[500, 750 - 560 + 6]  # left: ~3 px of 1500 left out
    assert prediction_region(np.full((120, 160, 3), 5, np.uint8)) is None


@pytest.mark.parametrize("case", ["texture", "dark", "float", "tiny-disc"])
def test_photos_without_a_dark_border_have_none(case):
    rng = np.random.default_rng(1)
    image = {"texture": rng.integers(60, 255, (120, 160, 3), dtype=np.uint8),
             "dark": np.full((120, 160, 3), 5, np.uint8),
             "float": _fundus()[0].astype(np.float32),
             "tiny-disc": _fundus(r=30)[0]}[case]
    assert estimate_fov(image) is None


@pytest.mark.skipif(not (DATA / "chase_db1").is_dir(), reason="needs ../shared/data/chase_db1")
def test_chase_db1_fields_of_view_are_covered():
    from medseg_gui.core.images import read_image, read_mask

    for stem in ("Image_01L", "Image_05R", "Image_12L", "Image_06L"):
        truth = read_mask(DATA / "chase_db1" / f"{stem}_mask.png")
        vessels = read_mask(DATA / "chase_db1" / f"{stem}_1stHO.png") & truth
        fov = estimate_fov(read_image(DATA / "chase_db1" / f"{stem}.jpg"))
        # CHASE_DB1's masks reach into the rim's darkest pixels, which the drawn edge leaves out (06L: 0.7 % of the
        # field, 0.9 % of its vessel pixels)
        assert fov[truth].mean() > 0.99 and fov[vessels].mean() > 0.99
        assert (fov & truth).sum() / (fov | truth).sum() > 0.98  # 0.9 with the 1 % margin alone
