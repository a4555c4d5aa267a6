"""images: every common 2-D format → uint8 HxWx3 RGB; masks → bool; clear ImageReadError otherwise."""

import re

import cv2
import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from medseg_gui.core.errors import ImageReadError, MaskFormatError
from medseg_gui.core.file_end import ENDS_EARLY
from medseg_gui.core.images import (IMAGE_SUFFIXES, IMAGE_TYPES_TEXT, probe_image, read_image, read_mask,
                                   write_png)

H, W = 12, 10


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    img[0, 0] = (255, 0, 0)  # a pure red pixel pins the channel order
    return img


def _bgr(a):
    return cv2.cvtColor(a, cv2.COLOR_RGB2BGR)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".ppm", ".bmp"])
def test_lossless_rgb_formats(tmp_path, rgb, suffix):
    path = tmp_path / f"img{suffix}"
    cv2.imwrite(str(path), _bgr(rgb))
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (H, W, 3)
    np.testing.assert_array_equal(out, rgb)
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert probe_image(path) == (H, W)


def test_jpeg(tmp_path, rgb):
    path = tmp_path / "img.jpg"
    cv2.imwrite(str(path), _bgr(np.full((H, W, 3), (200, 30, 90), np.uint8)))
    out = read_image(path)
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - (200, 30, 90)).max() < 8


def test_gray_pgm_and_png_replicated(tmp_path, rgb):
    gray = rgb[:, :, 1]
    for name in ("g.pgm", "g.png"):
        cv2.imwrite(str(tmp_path / name), gray)
        out = read_image(tmp_path / name)
        assert out.shape == (H, W, 3)
        for c in range(3):
            np.testing.assert_array_equal(out[:, :, c], gray)


def test_16bit_scaled(tmp_path):
    data = np.array([[0, 257, 65535, 32896]], dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "d.png"), data)
    out = read_image(tmp_path / "d.png")
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 255, 128])
    iio.imwrite(tmp_path / "d.tif", np.dstack([data] * 3))
    np.testing.assert_array_equal(read_image(tmp_path / "d.tif")[0, :, 2], [0, 1, 255, 128])


def test_rgba_drops_alpha(tmp_path, rgb):
    rgba = np.dstack([rgb, np.full((H, W), 7, np.uint8)])
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)


def test_palette_png_and_gif(tmp_path):
    idx = (np.arange(H * W).reshape(H, W) % 3).astype(np.uint8)
    pal = Image.fromarray(idx, mode="P")
    pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    pal.save(tmp_path / "p.png")
    pal.save(tmp_path / "p.gif")
    expected = np.array([(255, 0, 0), (0, 255, 0), (0, 0, 255)], np.uint8)[idx]
    np.testing.assert_array_equal(read_image(tmp_path / "p.png"), expected)
    np.testing.assert_array_equal(read_image(tmp_path / "p.gif"), expected)
    assert probe_image(tmp_path / "p.gif") == (H, W)


def test_non_ascii_path(tmp_path, rgb):
    folder = tmp_path / "Patienten_Größe_眼底"
    folder.mkdir()
    write_png(folder / "bild_ü.png", rgb)
    np.testing.assert_array_equal(read_image(folder / "bild_ü.png"), rgb)


@pytest.mark.parametrize(
    "content, reason", [(b"", "empty (0 bytes)"), (b"this is not an image at all" * 10, "not a readable image")]
)
def test_empty_and_garbage(tmp_path, content, reason):
    path = tmp_path / "Image_07.png"
    path.write_bytes(content)
    for fn in (read_image, read_mask, probe_image):
        with pytest.raises(ImageReadError, match=re.escape(reason)) as info:
            fn(path)
        assert "Image_07.png" in str(info.value)


def test_truncated_png(tmp_path, rgb):
    write_png(tmp_path / "t.png", rgb)
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="t.png"):
        read_image(tmp_path / "t.png")


def test_missing_and_folder(tmp_path):
    with pytest.raises(ImageReadError, match="nope.png.*not found"):
        read_image(tmp_path / "nope.png")
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path / "dir.png")


def test_multipage_tiff_and_animated_gif_rejected(tmp_path):
    g = np.arange(H * W, dtype=np.uint8).reshape(H, W)
    cv2.imwritemulti(str(tmp_path / "stack.tif"), [g] * 5)
    with pytest.raises(ImageReadError, match="stack.tif.*5 pages"):
        read_image(tmp_path / "stack.tif")
    Image.fromarray(g).save(tmp_path / "anim.gif", save_all=True, append_images=[Image.fromarray(255 - g)])
    with pytest.raises(ImageReadError, match="anim.gif"):
        read_image(tmp_path / "anim.gif")


def test_mask_conventions_agree(tmp_path):
    m = np.zeros((H, W), bool)
    m[2:6, 3:8] = True
    cv2.imwrite(str(tmp_path / "m01.png"), m.astype(np.uint8))
    cv2.imwrite(str(tmp_path / "m255.png"), m.astype(np.uint8) * 255)
    Image.fromarray(m).save(tmp_path / "m1bit.png")
    Image.fromarray(m.astype(np.uint8) * 255).save(tmp_path / "m.gif")
    Image.fromarray(m).save(tmp_path / "m.pbm")
    cv2.imwrite(str(tmp_path / "m16.png"), m.astype(np.uint16) * 65535)
    for name in ("m01.png", "m255.png", "m1bit.png", "m.gif", "m.pbm", "m16.png"):
        out = read_mask(tmp_path / name)
        assert out.dtype == np.bool_ and out.shape == (H, W), name
        np.testing.assert_array_equal(out, m, err_msg=name)


def test_soft_and_rgb_masks(tmp_path):
    soft = np.array([[0, 1, 127, 128, 200, 255]], np.uint8)
    cv2.imwrite(str(tmp_path / "soft.png"), soft)
    np.testing.assert_array_equal(read_mask(tmp_path / "soft.png")[0], [0, 0, 0, 1, 1, 1])
    rgb = np.zeros((1, 4, 3), np.uint8)
    rgb[0, 1:3] = (255, 0, 0)
    write_png(tmp_path / "rgb.png", rgb)
    np.testing.assert_array_equal(read_mask(tmp_path / "rgb.png")[0], [0, 1, 1, 0])
    rgb[0, 2] = (0, 0, 200)
    rgb[0, 3] = (50, 50, 50)
    write_png(tmp_path / "rgb4.png", rgb)  # four colours: a label map, not one class
    with pytest.raises(MaskFormatError, match="rgb4.png.*4 colours"):
        read_mask(tmp_path / "rgb4.png")


def test_alpha_only_mask(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0, 3] = 255
    write_png(tmp_path / "alpha.png", rgba)
    np.testing.assert_array_equal(read_mask(tmp_path / "alpha.png"), [[1, 0], [0, 0]])


def test_write_png_round_trips(tmp_path, rgb):
    write_png(tmp_path / "rgb.png", rgb)
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "rgb.png"))[:, :, ::-1], rgb)
    p16 = np.array([[0, 1, 40000, 65535]], np.uint16)
    write_png(tmp_path / "p16.png", p16)
    back = cv2.imread(str(tmp_path / "p16.png"), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, p16)
    write_png(tmp_path / "sub" / "b.png", np.eye(3, dtype=bool))
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "sub" / "b.png"), 0), np.eye(3) * 255)
    assert not [p for p in tmp_path.rglob(".*")]


def test_write_png_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError):
        write_png(tmp_path / "f.png", np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError):
        write_png(tmp_path / "f.png", np.zeros((2, 2, 2), np.uint8))


def test_suffixes():
    assert {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif", ".ppm", ".pgm", ".pbm", ".bmp", ".webp"} == IMAGE_SUFFIXES
    assert all(s == s.lower() and s.startswith(".") for s in IMAGE_SUFFIXES)
    assert IMAGE_TYPES_TEXT == "PNG, JPEG, TIFF, BMP, GIF, WebP or PPM/PGM"


def test_webp_is_read_like_the_other_formats(tmp_path, rgb):
    """A trial's web.webp was read by `medseg predict` but left out of folders without a word: it is an image type."""
    from medseg_gui.core.mask_files import image_files
    from medseg_gui.core.project import Project

    Image.fromarray(rgb).save(tmp_path / "web.webp", lossless=True)
    assert image_files(tmp_path) == [tmp_path / "web.webp"]  # listed by `medseg import --layout folder`
    assert Project.open_or_create_for_folder(tmp_path).stems == ["web"]  # and by File → Open folder
    np.testing.assert_array_equal(read_image(tmp_path / "web.webp"), rgb)
    assert probe_image(tmp_path / "web.webp") == rgb.shape[:2]


def test_a_truncated_jpeg_says_it_ends_early_when_read_too(tmp_path, rgb):
    """The window said "not a readable image" of a cut-off JPEG that the folder scan said "ends early" of."""
    Image.fromarray(np.tile(rgb, (20, 20, 1))).save(tmp_path / "t.jpg", quality=90)
    data = (tmp_path / "t.jpg").read_bytes()
    (tmp_path / "t.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageReadError) as read:
        read_image(tmp_path / "t.jpg")
    with pytest.raises(ImageReadError) as probed:
        probe_image(tmp_path / "t.jpg")
    assert str(read.value) == str(probed.value) == f"Image file 't.jpg' {ENDS_EARLY}"


def test_imageio_fallback_when_opencv_cannot_decode(tmp_path, monkeypatch, rgb):
    """OpenCV < 4.11 cannot read GIF; the imageio path must give the same canonical result."""
    from medseg_gui.core import images

    Image.fromarray(rgb[:, :, 0]).save(tmp_path / "g.gif")
    expected = read_image(tmp_path / "g.gif")
    monkeypatch.setattr(images, "_decode_cv2", lambda path, data: None)
    np.testing.assert_array_equal(read_image(tmp_path / "g.gif"), expected)
    np.testing.assert_array_equal(expected[:, :, 0], rgb[:, :, 0])
    g = rgb[:, :, 0]
    Image.fromarray(g).save(tmp_path / "anim.gif", save_all=True, append_images=[Image.fromarray(255 - g)])
    with pytest.raises(ImageReadError, match="2 pages"):
        read_image(tmp_path / "anim.gif")
    (tmp_path / "junk.gif").write_bytes(b"GIF89a garbage")
    with pytest.raises(ImageReadError, match="not a readable image"):
        read_image(tmp_path / "junk.gif")


@pytest.mark.parametrize("which", ["vessel", "lesion"])
def test_the_demos_own_folders_are_no_subfolders_of_images(tmp_path, which):
    """The vessel demo's fields of view (roi/) were named as '6 images in the subfolder roi … not listed' on its first
    open (session 36): a project's own folders never count."""
    from medseg_gui.core.demo import ensure_demo_copy
    from medseg_gui.core.images import subfolder_images

    root = ensure_demo_copy(tmp_path / which, which)
    assert any((root / name).is_dir() for name in ("roi", "labels"))
    assert subfolder_images(root) == {}
