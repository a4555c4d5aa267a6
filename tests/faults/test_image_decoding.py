"""Issue 13 #10: 12-bit data in 16-bit files showed nearly black; EXIF orientation was ignored, so camera photos
appeared sideways and masks did not line up in EXIF-aware tools. Also: an image path that is a FIFO hung the reader."""

import io
import os
import threading

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageOps

from medseg_gui.core import images
from medseg_gui.core.errors import ImageReadError
from medseg_gui.core.images import bit_depth, probe_image, read_image, read_mask
from medseg_gui.core.importers import import_dataset

H, W = 6, 10  # not square, so a sideways image has the wrong shape


def _photo():
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def _jpeg(arr, orientation, path):
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(arr).save(path, "JPEG", exif=exif, quality=95)
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_exif_orientation_is_applied_like_photo_viewers(tmp_path, orientation, monkeypatch):
    path = _jpeg(_photo(), orientation, tmp_path / "cam.jpg")
    with Image.open(path) as img:
        expected = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    got = read_image(path)
    monkeypatch.setattr(images, "_decode", None)  # a JPEG's (and PNG's) size probe reads only the header
    assert got.shape == expected.shape and probe_image(path) == expected.shape[:2]
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 3  # two JPEG decoders, same pixels


def test_tiff_orientation_is_applied_once(tmp_path):
    photo = _photo()
    buf = io.BytesIO()
    tifffile.imwrite(buf, photo, photometric="rgb", extratags=[(274, "H", 1, 6, True)])  # 90° clockwise
    (tmp_path / "cam.tif").write_bytes(buf.getvalue())
    np.testing.assert_array_equal(read_image(tmp_path / "cam.tif"), np.rot90(photo, -1))
    assert probe_image(tmp_path / "cam.tif") == (W, H)



@pytest.mark.parametrize("pillow_fails", [False, True])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_tiff_opencv_cannot_decode_is_turned_once(tmp_path, orientation, pillow_fails, monkeypatch):
    """A tiled grey TIFF with partial edge tiles goes to imageio, whose Pillow turns it itself (review 2 #1: it was
    turned again); tifffile, where Pillow fails, never turns it. Either way upright once, and the probe agrees."""
    grey = np.arange(H * W, dtype=np.uint8).reshape(H, W)
    path = tmp_path / "tiled.tif"
    tifffile.imwrite(path, grey, tile=(16, 16), photometric="minisblack", extratags=[(274, "H", 1, orientation, True)])
    assert images._decode_cv2(images._Kind(path), path.read_bytes()) is None  # really the fallback
    if pillow_fails:
        import imageio.v3 as iio

        real = iio.imread

        def no_pillow(data, *args, plugin=None, **kwargs):
            if plugin == "pillow":
                raise OSError("Pillow cannot decode it")
            return real(data, *args, plugin=plugin, **kwargs)

        monkeypatch.setattr(iio, "imread", no_pillow)
    want = images.apply_orientation(grey, orientation)
    np.testing.assert_array_equal(read_image(path)[..., 0], want)
    assert probe_image(path) == want.shape


def test_label_of_a_rotated_photo_is_stored_upright(tmp_path):
    """A mask is taken in the photo's upright orientation (as EXIF-aware tools draw it) and stored that way."""
    src, masks = tmp_path / "src", tmp_path / "masks"
    src.mkdir()
    masks.mkdir()
    _jpeg(_photo(), 6, src / "cam.jpg")
    upright = np.zeros((W, H), bool)
    upright[1:4, 2:5] = True
    cv2.imwrite(str(masks / "cam.png"), upright.astype(np.uint8) * 255)
    p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    assert p.image_size("cam") == (W, H) and p.load_image("cam").shape == (W, H, 3)
    np.testing.assert_array_equal(p.load_label("lesion", "cam"), upright)
    np.testing.assert_array_equal(read_mask(p.label_path("lesion", "cam")), upright)


@pytest.mark.parametrize("bits", [10, 12, 14, 16])
def test_16bit_files_are_scaled_by_the_bits_they_use(tmp_path, bits):
    top = (1 << bits) - 1
    data = np.array([[0, top // 2 + 1, top, top // 4]], np.uint16)
    tifffile.imwrite(tmp_path / "scan.tif", data)
    out = read_image(tmp_path / "scan.tif")[0, :, 0]
    np.testing.assert_allclose(out, np.round(data[0] * 255.0 / top), atol=1)
    assert out.max() == 255 and bit_depth(data) == bits


def test_12bit_image_is_not_nearly_black(tmp_path):
    ramp = np.linspace(0, 4095, 64 * 64).astype(np.uint16).reshape(64, 64)
    cv2.imwrite(str(tmp_path / "ramp.png"), ramp)
    out = read_image(tmp_path / "ramp.png")
    assert len(np.unique(out)) == 256  # was 17 grey levels (0..16) with the /257 rule


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_is_refused_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    result = {}

    def read():
        try:
            read_image(tmp_path / "pipe.png")
        except ImageReadError as err:
            result["err"] = str(err)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # unblock the hung reader so the test run can end
        with open(tmp_path / "pipe.png", "wb"):
            pass
        pytest.fail("reading a FIFO hung")
    assert "'pipe.png' is not a regular file" in result["err"]


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height 8-bit gray pixels (the data is a few zero rows): a bomb's header."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_as_too_large_not_corrupt(tmp_path):
    from medseg_gui.core.errors import ImageReadError
    from medseg_gui.core.images import MAX_PIXELS, header_size, read_image

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(30000, 30000))
    assert header_size(bomb.read_bytes()) == (30000, 30000) and 30000 * 30000 > MAX_PIXELS
    with pytest.raises(ImageReadError, match=r"bomb\.png.*too large to open \(30000 x 30000 pixels"):
        read_image(bomb)
