"""core.fov.estimate_fov: the field of view of a fundus photo that came without one."""

from pathlib import Path

import numpy as np
import pytest

from medseg_gui.core.fov import estimate_fov

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

    for stem in ("Image_01L", "Image_05R", "Image_12L"):
        truth = read_mask(DATA / "chase_db1" / f"{stem}_mask.png")
        fov = estimate_fov(read_image(DATA / "chase_db1" / f"{stem}.jpg"))
        assert fov[truth].mean() > 0.999 and (fov & truth).sum() / (fov | truth).sum() > 0.9
