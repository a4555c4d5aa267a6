"""Read any common 2-D image into canonical arrays (uint8 HxWx3 RGB, bool HxW masks) and write PNGs atomically.

OpenCV decodes from bytes (so non-ASCII paths work); imageio is the fallback for what OpenCV cannot read.
EXIF orientation is applied once (JPEG here; a TIFF's by OpenCV or recent Pillow itself, else here, decided per
decoder; `exif_orientation` says which formats), so a camera photo, its size probe and a label drawn on it are upright
the way photo viewers show them; labels are stored in that upright orientation.
IMAGE_FORMATS is the one list of the image types read (file choosers, folders, messages).
How mask pixel values are read (two-valued, soft, partial 0/128/255, label maps) is `core/label_encoding.py`.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

import cv2
import numpy as np

from medseg_gui.core.atomic import atomic_write_bytes
from medseg_gui.core.errors import ImageReadError, LabelReadError, MaskFormatError
from medseg_gui.core.file_end import ENDS_EARLY, ends_early
from medseg_gui.core.label_encoding import LabelPixels, decode_pixels
from medseg_gui.core.names import shown_name
from medseg_gui.core.project_format import PROJECT_DATA_DIRS

log = logging.getLogger(__name__)

IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    "PNG": (".png",), "JPEG": (".jpg", ".jpeg"), "TIFF": (".tif", ".tiff"), "BMP": (".bmp",), "GIF": (".gif",),
    "WebP": (".webp",), "PPM/PGM": (".ppm", ".pgm", ".pbm"),
}
"""The image types read (a name for messages: its file name endings, lower case)."""
IMAGE_SUFFIXES: frozenset[str] = frozenset(suffix for suffixes in IMAGE_FORMATS.values() for suffix in suffixes)
IMAGE_TYPES_TEXT = ", ".join(list(IMAGE_FORMATS)[:-1]) + f" or {list(IMAGE_FORMATS)[-1]}"  # "PNG, JPEG, … or PPM/PGM"

PathLike = str | os.PathLike[str]

_BIT_DEPTHS = (8, 10, 12, 14, 16)


IMAGE_FILE = "Image file"  # how an ImageReadError of a photo (not a mask) names it: "Image file '<name>' …"


@dataclass(frozen=True)
class _Kind:
    """A file and what it is for, in messages and in the error type: "Image file" (ImageReadError) or a mask's."""

    path: Path
    title: str = IMAGE_FILE
    error: type[ImageReadError] = ImageReadError

    @property
    def name(self) -> str:
        return f"{self.title} '{shown_name(self.path.name)}'"

    def fail(self, what: str) -> ImageReadError:
        return self.error(f"{self.name} {what}")


def _read_bytes(kind: _Kind, limit: int = -1) -> bytes:
    """The file's bytes (its first `limit` ones when given), or the kind's error saying (for a clinician) why there
    are none; only regular files."""
    path = kind.path
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise kind.fail("is a folder, not a file.")
        if not stat.S_ISREG(st.st_mode):
            raise kind.fail("is not a regular file (a pipe or device); it was not read.")
        with path.open("rb") as f:
            data = f.read(limit)
    except FileNotFoundError:
        raise kind.fail(f"was not found (looked in {shown_name(path.parent)}).") from None
    except PermissionError:
        raise kind.fail("could not be opened: permission denied.") from None
    except OSError as exc:
        raise kind.fail(f"could not be read: {exc.strerror or exc}.") from None
    if not data:
        raise kind.fail("is empty (0 bytes).")
    return data


def _not_2d(kind: _Kind, what: str) -> ImageReadError:
    return kind.fail(f"{what}; only single 2-D images are supported (no stacks, volumes or animations).")


def _decode_cv2(kind: _Kind, data: bytes) -> np.ndarray | None:
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
        raise _not_2d(kind, f"has {len(pages)} pages/frames")
    arr = pages[0]
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    return arr


def _decode_imageio(kind: _Kind, data: bytes) -> tuple[np.ndarray, bool] | None:
    """Decode with imageio (GIF and anything OpenCV lacks): RGB(A) order, and whether that decoder already turned it
    upright (recent Pillow turns a TIFF by its orientation tag); None when it cannot decode it either."""
    import imageio.v3 as iio  # lazy: only needed for the rare formats OpenCV cannot read

    # a TIFF: Pillow first (palettes, modes), tifffile (never turns) where Pillow fails
    for plugin in ("pillow", "tifffile") if data.startswith(_TIFF) else (None,):
        try:
            props = iio.improps(data, index=None, plugin=plugin)
            arr = np.asarray(iio.imread(data, index=None, plugin=plugin))
            break
        except Exception as exc:  # noqa: BLE001 - third-party decoders raise anything; we report "not readable"
            log.debug("imageio (%s) could not decode %s: %s", plugin or "any plugin", shown_name(kind.path), exc)
    else:
        return None
    if props.is_batch:
        if arr.shape[0] != 1:
            raise _not_2d(kind, f"has {arr.shape[0]} pages/frames")
        arr = arr[0]
    return arr, plugin == "pillow" and _pillow_turns_tiff(data)


def _pillow_turns_tiff(data: bytes) -> bool:
    """Whether Pillow turned the TIFF `data` upright while decoding it: versions that do drop its orientation tag."""
    try:
        with _pillow().open(io.BytesIO(data)) as im:
            if im.tag_v2.get(0x0112, 1) == 1:
                return False  # nothing to turn
            im.load()
            return 0x0112 not in im.tag_v2
    except Exception as exc:  # noqa: BLE001 - it was decoded a moment ago; taken as not turned
        log.debug("ignoring a TIFF Pillow cannot reopen: %s", exc)
        return False


_JPEG, _TIFF = (b"\xff\xd8",), (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # TIFF, BigTIFF


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation (1-8) that reading applies to the JPEG's or TIFF's bytes `data`; 1 (upright) when absent,
    unreadable or another format (OpenCV ignores a PNG's or WebP's EXIF, and so does this program)."""
    return _orientation(io.BytesIO(data)) if data.startswith(_JPEG + _TIFF) else 1


def _pillow() -> ModuleType:
    """PIL.Image (lazy; Pillow comes with imageio) without its pixel limit: MAX_PIXELS is applied, with a clearer
    message (Pillow refuses a 12000 x 9000 photo's header)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    return Image


def _orientation(f: BinaryIO) -> int:
    """The EXIF orientation (1-8) of the image file readable from `f`; 1 when absent or unreadable."""
    try:
        with _pillow().open(f) as img:
            value = img.getexif().get(0x0112, 1)
    except Exception as exc:  # noqa: BLE001 - a damaged EXIF block must not make the photo unreadable
        log.debug("ignoring unreadable EXIF data: %s", exc)
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """`arr` (HxW or HxWxC, stored pixel order) turned upright for EXIF `orientation` 1-8, as photo viewers show it."""
    if orientation in (5, 6, 7, 8):
        arr = np.swapaxes(arr, 0, 1)  # 5: transpose; 6/7/8 add a flip to it
    if orientation in (2, 3, 6, 7):
        arr = arr[:, ::-1]
    if orientation in (3, 4, 7, 8):
        arr = arr[::-1]
    return np.ascontiguousarray(arr)


MAX_PIXELS = 1 << 28  # 268 Mpx (16384 x 16384): a larger image would need gigabytes; refused before decoding


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the file's header without decoding the pixels (a TIFF's may be its upright one, by the
    Pillow version; its pixel count is what is used); None when the header is not understood."""
    try:
        with _pillow().open(io.BytesIO(data)) as im:
            return int(im.size[0]), int(im.size[1])
    except Exception:  # noqa: BLE001 - any unreadable header: the decoders below give the error
        return None


def _decode(kind: _Kind, data: bytes | None = None) -> np.ndarray:
    """Upright decoded pixels: HxW or HxWxC (C in 3, 4, RGB(A) order), native dtype; the kind's error otherwise.
    ``data``: the file's bytes when already read."""
    data = _read_bytes(kind) if data is None else data
    size = header_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise kind.fail(f"is too large to open ({size[0]} x {size[1]} pixels; the limit is "
                        f"{MAX_PIXELS // 1_000_000} megapixels).")
    arr = _decode_cv2(kind, data)
    turned = arr is not None and data.startswith(_TIFF)  # OpenCV applies a TIFF's orientation itself
    if arr is None and (decoded := _decode_imageio(kind, data)) is not None:
        arr, turned = decoded  # decided per decoder: Pillow may have turned a TIFF, tifffile never does
    if arr is None:
        raise kind.fail(ENDS_EARLY if ends_early(io.BytesIO(data)) else
                        "is not a readable image (corrupt or unsupported format).")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] == 2:  # gray + alpha
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise _not_2d(kind, f"has shape {tuple(arr.shape)}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise kind.fail("contains no pixels.")
    return arr if turned else apply_orientation(arr, exif_orientation(data))


def bit_depth(arr: np.ndarray) -> int:
    """The bits a 16-bit image really uses: the smallest of 8, 10, 12, 14, 16 that holds its largest value.

    Cameras and scanners store 10-, 12- or 14-bit data in 16-bit files; scaling those by 65535 shows them nearly
    black. Decided per file from its pixels (TIFF's BitsPerSample says 16 either way).
    """
    top = int(arr.max()) if arr.size else 0
    return next(bits for bits in _BIT_DEPTHS if top < 1 << bits)


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale any numeric array to uint8: 16-bit by its bit depth, floats in [0, 1] by 255, others min–max."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype == np.uint16:
        top = (1 << bit_depth(arr)) - 1
        return ((arr.astype(np.uint32) * 510 + top) // (2 * top)).astype(np.uint8)  # round(v * 255 / top)
    work = arr.astype(np.float64)
    lo, hi = float(np.nanmin(work)), float(np.nanmax(work))
    if np.issubdtype(arr.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        return np.round(np.nan_to_num(work) * 255.0).astype(np.uint8)
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    return np.round((np.nan_to_num(work, nan=lo) - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def read_image(path: PathLike) -> np.ndarray:
    """Canonical uint8 HxWx3 RGB (upright, gray replicated, alpha dropped, 16-bit scaled); raises ImageReadError."""
    arr = _to_uint8(_decode(_Kind(Path(path))))
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    return np.ascontiguousarray(arr)


def _mask_kind(path: PathLike, what: str) -> _Kind:
    return _Kind(Path(path), f"{what[:1].upper()}{what[1:]} file", LabelReadError)


def read_label(path: PathLike, what: str = "label") -> LabelPixels:
    """(mask, annotated) of a label file by the rules of `core/label_encoding.py`: `mask` bool HxW object pixels;
    `annotated` bool HxW for a partial 0/128/255 label (128 = not annotated), None for a complete one.

    `what` names the file in messages ("lesion label" → "Lesion label file 'a.png' …"). Raises LabelReadError
    (unreadable) or MaskFormatError (a label map or colours that cannot be read as one class).
    """
    kind = _mask_kind(path, what)
    return decode_pixels(_decode(kind), kind.name)


def read_mask(path: PathLike, what: str = "label") -> np.ndarray:
    """bool HxW of a complete mask (0/1, 0/255, 0/100, 16-bit, palette, soft …; see `read_label`).

    A partial 0/128/255 label raises MaskFormatError instead of being read as complete: its unannotated pixels
    would silently become background (or, by the half-range rule, object).
    """
    mask, annotated = read_label(path, what)
    if annotated is not None:
        raise MaskFormatError(
            f"{_mask_kind(path, what).name} is a partial label (values 0/128/255: "
            f"128 = not annotated); this program needs a complete label here (0 = background, 255 = the class)."
        )
    return mask


_HEADER_BYTES = 1 << 20  # a JPEG's EXIF block (at most 64 kB) and frame header, a PNG's IHDR come first


def header_orientation(path: PathLike) -> int:
    """The EXIF orientation (1-8) that reading applies to the image file at `path` (exif_orientation), without
    decoding its pixels: Pillow reads only its header (a TIFF's tags, wherever they lie in the file)."""
    kind = _Kind(Path(path))
    if not _read_bytes(kind, 4).startswith(_JPEG + _TIFF):
        return 1
    try:
        with kind.path.open("rb") as f:
            return _orientation(f)
    except OSError:
        return 1  # gone or locked since its first bytes were read: taken as upright


def probe_image(path: PathLike) -> tuple[int, int]:
    """(H, W) of the image as read_image sees it (upright); ImageReadError. A JPEG's or PNG's size comes from its
    header (and EXIF orientation), without decoding the pixels (an 8000² JPEG took seconds on a loaded VM); other
    formats (a TIFF's orientation tag, multi-page files) are decoded. A PNG or JPEG that is cut off is refused by its
    last bytes (core.file_end): its header reads fine (a trial's truncated PNG was listed as good until clicked)."""
    kind = _Kind(Path(path))
    head = _read_bytes(kind, _HEADER_BYTES)
    try:
        with io.BytesIO(head) if len(head) < _HEADER_BYTES else kind.path.open("rb") as f:
            cut = ends_early(f)
    except OSError:
        cut = False  # gone or locked since its header was read: judged by that header alone
    if cut:
        raise kind.fail(ENDS_EARLY)
    size = header_size(head) if head.startswith((b"\xff\xd8", b"\x89PNG")) else None
    if size is not None and 0 < size[0] * size[1] <= MAX_PIXELS:
        w, h = size
        return (w, h) if exif_orientation(head) in (5, 6, 7, 8) else (h, w)
    arr = _decode(kind, head if len(head) < _HEADER_BYTES else None)
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


def subfolder_images(folder: Path) -> dict[str, int]:
    """{subfolder name: image files directly in it} for the subfolders of `folder` that hold images, except a
    project's own folders and exports (a manifest.json): a folder is listed without its subfolders, and a trial's
    images one folder down were skipped without a word. Unreadable subfolders count as none."""
    found: dict[str, int] = {}
    try:
        subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return found
    for sub in subs:
        if sub.name in PROJECT_DATA_DIRS or (sub / "manifest.json").exists():
            continue
        try:
            n = sum(1 for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                    and not p.name.startswith("."))
        except OSError:
            continue
        if n:
            found[sub.name] = n
    return found


def subfolders_text(found: dict[str, int]) -> str:
    """'12 images in the subfolders patient1, patient2 and 1 more' (found: subfolder_images)."""
    names = list(found)
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    n = sum(found.values())
    return f"{n} image{'' if n == 1 else 's'} in the subfolder{'' if len(names) == 1 else 's'} {shown}"
