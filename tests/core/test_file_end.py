"""core.file_end: a PNG or JPEG that is cut off is told by its last bytes; no good file is ever judged cut off."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from medseg_gui.core.errors import ImageReadError
from medseg_gui.core.file_end import _first_scan, ends_early
from medseg_gui.core.images import IMAGE_SUFFIXES, probe_image, write_png
from medseg_gui.core.resources import resource_path

def _arrays() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    noisy = (rng.random((300, 500, 3)) * 255).astype(np.uint8)
    return [noisy, cv2.GaussianBlur(noisy, (9, 9), 3), noisy[:40, :60, 0]]


def _encoded(arr: np.ndarray, tmp_path: Path) -> list[bytes]:
    """The same pixels as PNG and JPEG by the project's own writer, OpenCV (several settings) and PIL."""
    from PIL import Image

    blobs = [write_png(tmp_path / "w.png", arr).read_bytes()]
    blobs += [cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, level])[1].tobytes() for level in (0, 3, 9)]
    for flags in ([], [cv2.IMWRITE_JPEG_PROGRESSIVE, 1], [cv2.IMWRITE_JPEG_OPTIMIZE, 1, cv2.IMWRITE_JPEG_RST_INTERVAL,
                                                          4]):
        blobs += [cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, q, *flags])[1].tobytes() for q in (10, 95)]
    exif = Image.Exif()
    exif[0x0112] = 6  # a camera's orientation tag
    for fmt, options in (("JPEG", {}), ("JPEG", {"progressive": True}), ("JPEG", {"exif": exif.tobytes()}),
                         ("PNG", {}), ("PNG", {"optimize": True})):
        out = io.BytesIO()
        Image.fromarray(arr).save(out, fmt, **options)
        blobs.append(out.getvalue())
    return blobs


def test_files_written_by_the_project_opencv_and_pil_are_complete_and_every_cut_is_found(tmp_path):
    for arr in _arrays():
        for blob in _encoded(arr, tmp_path):
            assert not ends_early(io.BytesIO(blob))
            assert not ends_early(io.BytesIO(blob + b"\x00" * 700))  # zero padding after the end
            image_data = _first_scan(blob) if blob.startswith(b"\xff\xd8") else 8
            for cut in (len(blob) // 2, len(blob) - 20):
                if cut > image_data:  # a cut within a JPEG's header: its header read refuses it
                    assert ends_early(io.BytesIO(blob[:cut])), (blob[:4], cut, len(blob))


def test_data_after_the_end_is_fine_and_other_formats_are_not_judged(tmp_path):
    arr = _arrays()[1]
    jpeg = cv2.imencode(".jpg", arr)[1].tobytes()
    png = cv2.imencode(".png", arr)[1].tobytes()
    assert not ends_early(io.BytesIO(jpeg + b"SEFH" + b"\x01" * 5000 + b"SEFT"))  # a phone's trailer
    assert not ends_early(io.BytesIO(jpeg + jpeg[:3000]))  # a second picture after the first (cut: not judged)
    assert not ends_early(io.BytesIO(png + b"trailing text"))
    assert not ends_early(io.BytesIO(png[:-12]))  # only IEND missing: the decoders read it whole
    tiff = cv2.imencode(".tif", arr)[1].tobytes()
    assert not ends_early(io.BytesIO(tiff[: len(tiff) // 2]))
    assert ends_early(io.BytesIO(png[: len(png) // 2] + b"\x00" * 40_000))  # being copied into a preallocated file


def test_the_shipped_images_are_complete():
    demos = [resource_path(name) for name in ("demo", "demo_lesion")]
    files = [p for folder in demos if folder is not None for p in folder.rglob("*")
             if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    assert len(files) >= 10
    for path in files:
        with path.open("rb") as f:
            assert not ends_early(f), path


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_probe_refuses_a_cut_off_file_by_its_end(tmp_path, suffix):
    """A fault-injection trial's truncated PNG read fine by its header and was listed as good until clicked."""
    arr = _arrays()[0]
    whole = cv2.imencode(suffix, arr)[1].tobytes()
    path = tmp_path / f"trunc{suffix}"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(ImageReadError, match="ends early.*still being copied"):
        probe_image(path)
    big = tmp_path / f"big{suffix}"  # larger than the header probe_image reads: its end is read on its own
    big.write_bytes(whole + b"\x00" * (2 << 20))
    assert probe_image(big) == arr.shape[:2]
    path.write_bytes(whole)
    assert probe_image(path) == arr.shape[:2]
