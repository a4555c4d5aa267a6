"""Read any common 2-D image into canonical arrays (uint8 HxWx3 RGB, bool HxW masks) and write PNGs atomically.

OpenCV decodes from bytes (so non-ASCII paths work); imageio is the fallback for what OpenCV cannot read.
EXIF orientation is ignored on purpose so that image, label and prediction pixels always line up.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np

from medseg_gui.core.atomic import atomic_write_bytes
from medseg_gui.core.errors import ImageReadError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif", ".ppm", ".pgm", ".pbm", ".bmp"}
)

PathLike = str | os.PathLike[str]


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, or ImageReadError saying (for a clinician) why there are none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(f"Image file '{path.name}' was not found (looked in {path.parent}).") from None
    except IsADirectoryError:
        raise ImageReadError(f"'{path.name}' is a folder, not an image file.") from None
    except PermissionError:
        raise ImageReadError(f"Image file '{path.name}' could not be opened: permission denied.") from None
    except OSError as exc:
        raise ImageReadError(f"Image file '{path.name}' could not be read: {exc.strerror or exc}.") from None
    if not data:
        raise ImageReadError(f"Image file '{path.name}' is empty (0 bytes).")
    return data


def _not_2d(path: Path, what: str) -> ImageReadError:
    return ImageReadError(
        f"Image file '{path.name}' {what}; only single 2-D images are supported (no stacks, volumes or animations)."
    )


def _decode_cv2(path: Path, data: bytes) -> np.ndarray | None:
    """Decode with OpenCV; RGB(A) channel order; None when OpenCV cannot decode it."""
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        ok, pages = cv2.imdecodemulti(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        ok, pages = False, []
    if not ok or not pages:
        try:
            single = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        except cv2.error:
            return None
        if single is None:
            return None
        pages = [single]
    if len(pages) > 1:
        raise _not_2d(path, f"has {len(pages)} pages/frames")
    arr = pages[0]
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    return arr


def _decode_imageio(path: Path, data: bytes) -> np.ndarray | None:
    """Decode with imageio (GIF and anything OpenCV lacks); RGB(A) order; None when it cannot decode it either."""
    import imageio.v3 as iio  # lazy: only needed for the rare formats OpenCV cannot read

    try:
        props = iio.improps(data, index=None)
        arr = np.asarray(iio.imread(data, index=None))
    except Exception as exc:  # noqa: BLE001 - third-party decoders raise anything; we report "not readable"
        log.debug("imageio could not decode %s: %s", path, exc)
        return None
    if props.is_batch:
        if arr.shape[0] != 1:
            raise _not_2d(path, f"has {arr.shape[0]} pages/frames")
        arr = arr[0]
    return arr


def _decode(path: PathLike) -> np.ndarray:
    """Raw decoded pixels: HxW or HxWxC (C in 1, 3, 4, RGB(A) order), native dtype; ImageReadError otherwise."""
    p = Path(path)
    data = _read_bytes(p)
    arr = _decode_cv2(p, data)
    if arr is None:
        arr = _decode_imageio(p, data)
    if arr is None:
        raise ImageReadError(f"Image file '{p.name}' is not a readable image (corrupt or unsupported format).")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 2:  # gray + alpha
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise _not_2d(p, f"has shape {tuple(arr.shape)}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageReadError(f"Image file '{p.name}' contains no pixels.")
    return arr


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale any numeric array to uint8: 16-bit by /257 (full range), floats in [0, 1] by 255, others min–max."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype == np.uint16:
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    work = arr.astype(np.float64)
    lo, hi = float(np.nanmin(work)), float(np.nanmax(work))
    if np.issubdtype(arr.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        return np.round(np.nan_to_num(work) * 255.0).astype(np.uint8)
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    return np.round((np.nan_to_num(work, nan=lo) - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def read_image(path: PathLike) -> np.ndarray:
    """Canonical uint8 HxWx3 RGB (gray replicated, alpha dropped, 16-bit scaled); raises ImageReadError."""
    arr = _to_uint8(_decode(path))
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr)


def _threshold(arr: np.ndarray) -> np.ndarray:
    """0/1 data → nonzero; else ≥ half range (≥128 for 8-bit, ≥32768 for 16-bit, ≥0.5 for floats in [0, 1])."""
    if arr.dtype == np.bool_:
        return arr.copy()
    hi = float(arr.max()) if arr.size else 0.0
    if hi <= 1.0 and not np.issubdtype(arr.dtype, np.floating):
        return arr > 0
    if np.issubdtype(arr.dtype, np.floating):
        return arr >= (0.5 if hi <= 1.0 else 128.0)
    if arr.dtype == np.uint16:
        return arr >= 32768
    return arr >= 128


def read_mask(path: PathLike) -> np.ndarray:
    """bool HxW: 0/1, 0/255, 1-bit and soft masks (≥128) alike; RGB → any channel; a pure-alpha mask uses alpha."""
    arr = _decode(path)
    alpha = None
    if arr.ndim == 3:
        if arr.shape[2] == 4:
            alpha = arr[:, :, 3]
            arr = arr[:, :, :3]
        mask = _threshold(arr).any(axis=2)
    else:
        mask = _threshold(arr)
    if alpha is not None and not mask.any() and alpha.min() != alpha.max():
        mask = _threshold(alpha)
    return mask


def probe_image(path: PathLike) -> tuple[int, int]:
    """(H, W) of the image as read_image sees it; decodes the file (callers cache it); raises ImageReadError."""
    arr = _decode(path)
    return int(arr.shape[0]), int(arr.shape[1])


def write_png(path: PathLike, array: np.ndarray) -> Path:
    """Atomically write uint8/uint16 (bool → 0/255) HxW, HxWx3 RGB or HxWx4 RGBA as PNG; returns the path."""
    arr = np.asarray(array)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    if arr.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"write_png needs uint8 or uint16 data, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGBA2BGRA)
    elif arr.ndim != 2:
        raise ValueError(f"write_png needs HxW, HxWx3 or HxWx4 data, got shape {arr.shape}")
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(arr))
    if not ok:
        raise ValueError(f"OpenCV could not encode a PNG of shape {arr.shape} and dtype {arr.dtype}")
    return atomic_write_bytes(path, buf.tobytes())
