"""How the pixel values of a label or mask file are read as one class: every rule in one place.

- **Two values** (0/1, 0/100, 0/127, 0/255, 16-bit 0/255 or 0/65535, 1-bit, two palette or RGB colours however dark):
  the brighter value is the object, the darker the background, so a third party's mask keeps its foreground whatever
  number encodes it. Two colours of equal brightness are refused (no way to tell the background).
- **Partial label**: 8-bit values all in {0, 128, 255} with 128 present: 255 = object, 0 = background,
  128 = not annotated. Never read as "128 = object".
- **Label map**: 3 to 32 distinct values that are small integers (all below 64, e.g. 0/1/2/3) or evenly spaced from
  0 (e.g. 0/85/170/255 or 0/127/255), or 3 to 32 distinct colours: refused with MaskFormatError. Reading
  "nonzero = object" would merge the classes and train the wrong thing without a word, and guessing one class is
  worse; the message names the file and asks for one class per file.
- **A few values with regions in between**: 3 to 32 distinct values (not a label map by the rule above, e.g. 0/77/255)
  where the values between the darkest and brightest fill regions (most of their pixels have four neighbours of the
  same value) rather than edges: refused as a label map too. Anti-aliasing and compression put in-between values on
  edges only; whole regions of one in-between value are another class, which the half-way rule would drop silently.
- **Soft masks** (anything else: JPEG-compressed or anti-aliased, like PolypGen's): object where the value is at least
  half-way between the darkest and brightest value. For a mask spanning 0..255 this is the usual >= 128 rule; a dark
  JPEG mask (0/100 compressed) keeps its object. Floats in [0, 1] use >= 0.5. Colour soft masks use the brightest
  channel. One value only: 0 (or black) is an empty mask, anything else a full one.
- **A photo is no mask**: when over a quarter of the pixels of a soft mask (or of one of its colour channels) lie in
  the middle three quarters of its range (a soft mask's in-between values are on its edges; at least 64), the file
  is refused as not a mask, naming it: a folder of photos given as masks is not cut half-way into nonsense labels.
- **Alpha**: where a colour image's alpha varies, transparent pixels (alpha below half-way) are background whatever
  their colour; the opaque ones are the object, or where they have two colours the brighter one (a red object on a
  transparent white background is the red object, not the white).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

from medseg_gui.core.errors import LabelMapError, MaskFormatError

MAX_MAP_VALUES = 32  # more distinct values than this is a soft (compressed, anti-aliased) mask, not a label map
UNANNOTATED = 128  # the value of "not annotated" in a partial label


class LabelPixels(NamedTuple):
    """`mask`: bool HxW object pixels; `annotated`: bool HxW pixels with a known answer, None for a complete label."""

    mask: np.ndarray
    annotated: np.ndarray | None

    @property
    def sparse(self) -> bool:
        """A sparse label (strokes): only its annotated pixels are known, and it is scored on those alone."""
        return self.annotated is not None


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 2-D array, in its dtype (a histogram for 8/16-bit: fast even at 8000 x 8000)."""
    if values.dtype in (np.uint8, np.uint16):
        bins = 256 if values.dtype == np.uint8 else 65536
        hist = cv2.calcHist([np.ascontiguousarray(values)], [0], None, [bins], [0, bins])
        return np.flatnonzero(hist.ravel()).astype(values.dtype)
    return np.unique(values)


def _ranks(channel: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """uint16 HxW: each pixel's rank among `levels` (the channel's distinct values)."""
    if channel.dtype == np.uint8:
        lut = np.zeros(256, np.uint8)
        lut[levels] = np.arange(len(levels))
        return cv2.LUT(np.ascontiguousarray(channel), lut).astype(np.uint16)
    lut16 = np.zeros(65536, np.uint16)
    lut16[levels] = np.arange(len(levels))
    return lut16[channel]


def _colours(rgb: np.ndarray) -> tuple[list[tuple[int, int, int]], np.ndarray, np.ndarray] | None:
    """(colours, their codes, code HxW) of an 8/16-bit colour array; None when it has more than MAX_MAP_VALUES."""
    levels = [_distinct(rgb[:, :, c]) for c in range(3)]
    if any(len(level) > MAX_MAP_VALUES for level in levels):
        return None
    key = np.zeros(rgb.shape[:2], np.uint16)  # mixed-radix code of the channel ranks: < 32**3 fits
    for c, level in enumerate(levels):
        key *= len(level)
        key += _ranks(rgb[:, :, c], level)
    codes = _distinct(key)
    if len(codes) > MAX_MAP_VALUES:
        return None
    ng, nb = len(levels[1]), len(levels[2])
    colours = [
        (int(levels[0][k // (ng * nb)]), int(levels[1][(k // nb) % ng]), int(levels[2][k % nb]))
        for k in codes.tolist()
    ]
    return colours, codes, key


def _shown(values: np.ndarray) -> str:
    items = [f"{v:g}" if isinstance(v, float) else str(v) for v in values.tolist()]
    return ",".join(items) if len(items) <= 8 else ",".join(items[:6]) + ",…," + items[-1]


def _looks_like_label_map(values: np.ndarray, floating: bool) -> bool:
    if floating or not 3 <= len(values) <= MAX_MAP_VALUES:
        return False
    ints = values.astype(np.float64)
    evenly_from_zero = ints[0] == 0 and np.abs(ints - np.arange(len(ints)) * ints[-1] / (len(ints) - 1)).max() <= 1
    return bool(ints[-1] < 64 or evenly_from_zero)


def _fills_regions(gray: np.ndarray, lo, hi) -> bool:
    """True when most pixels of values strictly between `lo` and `hi` have four neighbours of their own value (whole
    regions, as a label map's classes), at least 16 of them; anti-aliased or compressed edges have almost none."""
    between = (gray != lo) & (gray != hi)
    count = int(np.count_nonzero(between))
    if count < 16 or min(gray.shape) < 3:
        return False
    core = gray[1:-1, 1:-1]
    flat = ((core == gray[:-2, 1:-1]) & (core == gray[2:, 1:-1]) & (core == gray[1:-1, :-2]) & (core == gray[1:-1, 2:])
            & between[1:-1, 1:-1])
    inside = int(np.count_nonzero(flat))
    return inside >= 16 and inside * 2 >= count


def _refuse_photo(channels: list[np.ndarray], name: str) -> None:
    """MaskFormatError when over a quarter of the pixels of any channel lie in the middle three quarters of that
    channel's range (at least 64 of them): photos have 54-97 % there (CHASE_DB1, HRF, PolypGen, the demos), masks
    and soft JPEG masks 0 %."""
    for channel in channels:
        lo, hi = float(channel.min()), float(channel.max())
        eighth = (hi - lo) / 8.0
        middle = int(np.count_nonzero((channel > lo + eighth) & (channel < hi - eighth)))
        if middle * 4 > channel.size and middle >= 64:  # a few pixels' edge profile cannot tell
            raise MaskFormatError(
                f"{name} does not look like a mask: {middle / channel.size:.0%} of its pixels are mid-tones (a photo, "
                f"or an unsure probability map?). A mask holds two values (0 = background, 255 = the class), or a "
                f"soft mask mostly near them; threshold a probability map first."
            )


def _label_map_error(name: str, what: str) -> LabelMapError:
    return LabelMapError(
        f"{name} looks like a label map with {what}: export one class per file (0 = background, 255 = the class); "
        f"reading every nonzero value as the class would merge the classes."
    )


def decode_gray(gray: np.ndarray, name: str) -> LabelPixels:
    """Read a 2-D array of values by the rules above; `name` (e.g. "Label file 'a.png'") starts error messages."""
    if gray.dtype == np.bool_:
        return LabelPixels(gray.copy(), None)
    floating = bool(np.issubdtype(gray.dtype, np.floating))
    if floating:
        gray = np.nan_to_num(gray, nan=0.0)
    values = _distinct(gray)
    if gray.dtype == np.uint8 and UNANNOTATED in values and set(values.tolist()) <= {0, UNANNOTATED, 255}:
        return LabelPixels(gray == 255, gray != UNANNOTATED)
    if len(values) == 1:
        return LabelPixels(np.full(gray.shape, bool(values[0] > 0)), None)
    if len(values) == 2:
        return LabelPixels(gray == values[1], None)
    if _looks_like_label_map(values, floating):
        raise _label_map_error(name, f"values {_shown(values)}")
    if not floating and len(values) <= MAX_MAP_VALUES and _fills_regions(gray, values[0], values[-1]):
        raise _label_map_error(name, f"values {_shown(values)} (the ones in between fill whole regions)")
    lo, hi = float(values[0]), float(values[-1])
    _refuse_photo([gray], name)
    if floating:
        return LabelPixels(gray >= (0.5 if lo >= 0.0 and hi <= 1.0 else (lo + hi) / 2.0), None)
    return LabelPixels(gray >= gray.dtype.type(math.ceil((lo + hi) / 2.0)), None)


def decode_color(rgb: np.ndarray, name: str) -> LabelPixels:
    """Read an HxWx3 colour array by the rules above (equal channels are gray); `name` starts error messages."""
    if np.array_equal(rgb[:, :, 0], rgb[:, :, 1]) and np.array_equal(rgb[:, :, 1], rgb[:, :, 2]):
        return decode_gray(rgb[:, :, 0], name)
    table = _colours(rgb) if rgb.dtype in (np.uint8, np.uint16) else None
    if table is None:  # float, or many colours: a soft (compressed, anti-aliased) colour mask
        _refuse_photo([rgb[:, :, c] for c in range(3)], name)
        return decode_gray(rgb.max(axis=2), name)
    colours, codes, key = table
    if len(colours) > 2:
        listed = " ".join(str(c) for c in colours[:4]) + (" …" if len(colours) > 4 else "")
        raise _label_map_error(name, f"{len(colours)} colours {listed}")
    if len(colours) == 1:
        return LabelPixels(np.full(rgb.shape[:2], any(colours[0])), None)
    brightness = [sum(c) for c in colours]
    if brightness[0] == brightness[1]:
        raise MaskFormatError(
            f"{name} has two colours of equal brightness {colours[0]} and {colours[1]}, so it is unclear which "
            f"is the background; save it with a black background."
        )
    return LabelPixels(key == codes[int(np.argmax(brightness))], None)


MOSTLY_OBJECT = 0.9  # a complete label covering more of its image than this is worth a word on import
LIKE_FIELD_OF_VIEW = 0.5  # most labels of an import covering more than this look like fields of view (or inverted)


def object_share(pixels: LabelPixels) -> float | None:
    """The share (0-1) of its image a complete label's object covers; None for a partial label or an empty image."""
    if pixels.annotated is not None or pixels.mask.size == 0:
        return None
    return float(np.count_nonzero(pixels.mask)) / pixels.mask.size


def inverted_note(pixels: LabelPixels) -> str | None:
    """For an imported complete label that covers over MOSTLY_OBJECT of its image: why it may be inverted (a black
    object on a white background reads as the white, by the brighter-value rule); else None (fault injection: a mask
    read as 98 % object was imported without a word)."""
    share = object_share(pixels)
    if share is None or share <= MOSTLY_OBJECT:
        return None
    return (f"covers {share:.0%} of its image (the brighter value is read as the object; if the object is the dark "
            "part, save the mask with a black background and import it again)")


def encode_label(mask: np.ndarray, annotated: np.ndarray | None = None) -> np.ndarray:
    """uint8 HxW of a label file: 255 object, 0 background, and with `annotated` (bool HxW) UNANNOTATED where it is
    false (a sparse label)."""
    png = (np.asarray(mask) != 0).astype(np.uint8) * 255
    return png if annotated is None else np.where(np.asarray(annotated, bool), png, np.uint8(UNANNOTATED))


def decode_pixels(arr: np.ndarray, name: str) -> LabelPixels:
    """Read HxW, HxWx3 or HxWx4 (alpha) decoded pixels by the rules above; MaskFormatError when they do not fit."""
    if arr.ndim == 2:
        return decode_gray(arr, name)
    rgb = arr[:, :, :3]
    if arr.shape[2] == 4 and arr[:, :, 3].min() != arr[:, :, 3].max():
        return _decode_alpha(rgb, arr[:, :, 3], name)
    return decode_color(rgb, name)


def _decode_alpha(rgb: np.ndarray, alpha: np.ndarray, name: str) -> LabelPixels:
    """A colour mask whose alpha varies: transparent pixels (alpha below half-way between its lowest and highest
    value) are background whatever their colour; the opaque ones are the object, or where they have two colours the
    brighter one (fault injection: a red object on a transparent white background was read as 87 % object, inverted;
    one drawn at alpha 128 as a partial label without object)."""
    lo, hi = float(alpha.min()), float(alpha.max())
    opaque = alpha >= (lo + hi) / 2.0
    shown = rgb[opaque]
    if len(shown) == 0 or (shown == shown[0]).all():
        return LabelPixels(opaque, None)
    inside = decode_color(shown[None], name).mask[0]
    mask = np.zeros(alpha.shape, bool)
    mask[opaque] = inside
    return LabelPixels(mask, None)
