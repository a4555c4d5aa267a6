"""Pure-numpy mask tools behind the canvas: brush discs/segments, polygons, flood fill, magic wand, label codes.

Coordinates are continuous image coordinates ``(x, y)``: pixel ``(col, row)`` covers ``[col, col+1) x [row, row+1)``
and its centre is ``(col + 0.5, row + 0.5)``. Masks are HxW ``uint8`` {0, 1} (or bool for read-only inputs); an
editable label is HxW ``uint8`` *codes*: ``BACKGROUND`` 0, ``OBJECT`` 1, ``UNANNOTATED`` 2 (a sparse label).
The tools select: they return a :class:`Region` (or ``None``) and the canvas' label document applies it, having
captured the "before" pixels for undo first. Bounding boxes are ``(y0, x0, y1, x1)``, half-open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from medseg_gui.core.label_encoding import LabelPixels

BBox = tuple[int, int, int, int]
"""(y0, x0, y1, x1), half-open, in pixel rows/columns."""

BACKGROUND, OBJECT, UNANNOTATED = 0, 1, 2  # label codes (the canvas' editable label; UNANNOTATED: sparse labels)


@dataclass(frozen=True)
class Region:
    """A selection: ``mask`` (bool, cropped) placed with its top-left corner at ``(y0, x0)``."""

    y0: int
    x0: int
    mask: np.ndarray

    @property
    def bbox(self) -> BBox:
        h, w = self.mask.shape
        return (self.y0, self.x0, self.y0 + h, self.x0 + w)

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.mask))


def bbox_slices(bbox: BBox) -> tuple[slice, slice]:
    y0, x0, y1, x1 = bbox
    return slice(y0, y1), slice(x0, x1)


def bbox_union(a: BBox | None, b: BBox | None) -> BBox | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def mask_bbox(mask: np.ndarray) -> BBox | None:
    """Tight bounding box of the nonzero pixels of a 2-D mask; ``None`` when there are none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


def clip_bbox(bbox: BBox, shape: tuple[int, ...]) -> BBox | None:
    """Intersect ``bbox`` with an array of ``shape`` (H, W, ...); ``None`` when empty."""
    y0, x0 = max(bbox[0], 0), max(bbox[1], 0)
    y1, x1 = min(bbox[2], shape[0]), min(bbox[3], shape[1])
    return (y0, x0, y1, x1) if y1 > y0 and x1 > x0 else None


def brush_center(x: float, y: float, size: int) -> tuple[float, float]:
    """Snap a brush position so that a ``size``-px brush covers whole pixels: odd sizes centre on the pixel that
    contains the point, even sizes on the nearest pixel corner. A 1-px brush therefore paints exactly that pixel."""
    half = size / 2.0
    return float(np.floor(x - half + 0.5) + half), float(np.floor(y - half + 0.5) + half)


def capsule_region(shape: tuple[int, ...], p0: tuple[float, float], p1: tuple[float, float], size: int
                   ) -> Region | None:
    """Pixels whose centres lie within ``size/2`` of the segment between the snapped brush centres of ``p0`` and
    ``p1`` (a stroke segment with round caps); ``p0 == p1`` gives the brush disc. A 1-px segment is the thin
    8-connected digital line between the two pixels (one pixel per step along its major axis)."""
    size = max(1, int(size))
    if size == 1:
        return _thin_line(shape, p0, p1)
    r = size / 2.0
    ax, ay = brush_center(*p0, size)
    bx, by = brush_center(*p1, size)
    bbox = clip_bbox(
        (int(np.floor(min(ay, by) - r)), int(np.floor(min(ax, bx) - r)),
         int(np.ceil(max(ay, by) + r)), int(np.ceil(max(ax, bx) + r))),
        shape,
    )
    if bbox is None:
        return None
    y0, x0, y1, x1 = bbox
    lo, hi = _capsule_rows(np.arange(y0, y1, dtype=np.float64) + 0.5, (ax, ay), (bx, by), r + 1e-9)
    # Pixel centres col + 0.5 inside [lo, hi]: the capsule is convex, so each row is one interval.
    cols = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5
    inside = (cols >= lo[:, None]) & (cols <= hi[:, None])
    return Region(y0, x0, inside)


def _capsule_rows(yc: np.ndarray, a: tuple[float, float], b: tuple[float, float], r: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per row centre ``yc``, the x-interval covered by the capsule (disc a ∪ disc b ∪ the band between them);
    empty rows get lo > hi."""
    lo, hi = np.full(yc.shape, np.inf), np.full(yc.shape, -np.inf)
    for cx, cy in (a, b):
        h2 = r * r - (yc - cy) ** 2
        ok = h2 >= 0
        h = np.sqrt(np.where(ok, h2, 0.0))
        lo = np.where(ok, np.minimum(lo, cx - h), lo)
        hi = np.where(ok, np.maximum(hi, cx + h), hi)
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = float(np.hypot(dx, dy))
    if length > 0:
        ux, uy = dx / length, dy / length
        blo, bhi = np.full(yc.shape, -np.inf), np.full(yc.shape, np.inf)
        # 0 <= (p - a)·u <= length  and  -r <= (p - a)·n <= r, with n = (-uy, ux); solve each for x on the row.
        for coef, offset, lower, upper in ((ux, (yc - a[1]) * uy, 0.0, length), (-uy, (yc - a[1]) * ux, -r, r)):
            if abs(coef) < 1e-12:
                ok = (offset >= lower) & (offset <= upper)
                blo, bhi = np.where(ok, blo, np.inf), np.where(ok, bhi, -np.inf)
                continue
            e0, e1 = a[0] + (lower - offset) / coef, a[0] + (upper - offset) / coef
            blo, bhi = np.maximum(blo, np.minimum(e0, e1)), np.minimum(bhi, np.maximum(e0, e1))
        band = blo <= bhi
        lo, hi = np.where(band, np.minimum(lo, blo), lo), np.where(band, np.maximum(hi, bhi), hi)
    return lo, hi


def _thin_line(shape: tuple[int, ...], p0: tuple[float, float], p1: tuple[float, float]) -> Region | None:
    (ax, ay), (bx, by) = brush_center(*p0, 1), brush_center(*p1, 1)
    n = int(max(abs(bx - ax), abs(by - ay)))
    t = np.linspace(0.0, 1.0, n + 1)
    cols = np.floor(ax + t * (bx - ax)).astype(np.int64)
    rows = np.floor(ay + t * (by - ay)).astype(np.int64)
    keep = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    rows, cols = rows[keep], cols[keep]
    if not len(rows):
        return None
    y0, x0 = int(rows.min()), int(cols.min())
    sel = np.zeros((int(rows.max()) - y0 + 1, int(cols.max()) - x0 + 1), dtype=bool)
    sel[rows - y0, cols - x0] = True
    return Region(y0, x0, sel)


def apply_region(mask: np.ndarray, region: Region, value: int) -> BBox:
    """Set the selected pixels of ``mask`` to ``value`` in place; returns the region's bbox."""
    mask[bbox_slices(region.bbox)][region.mask] = value
    return region.bbox


def polygon_region(shape: tuple[int, ...], points: np.ndarray | list[tuple[float, float]]) -> Region | None:
    """Pixels whose centres lie inside the closed polygon ``points`` (N x 2, ``(x, y)``), even-odd rule."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        return None
    bbox = clip_bbox(
        (int(np.floor(pts[:, 1].min())), int(np.floor(pts[:, 0].min())),
         int(np.ceil(pts[:, 1].max())), int(np.ceil(pts[:, 0].max()))),
        shape,
    )
    if bbox is None:
        return None
    y0, x0, y1, x1 = bbox
    a, b = pts, np.roll(pts, -1, axis=0)
    ylo, yhi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    # Rows whose centre y = row + 0.5 satisfies ylo <= y < yhi cross the edge (half-open: no double counting).
    r0 = np.clip(np.ceil(ylo - 0.5).astype(np.int64), y0, y1)
    r1 = np.clip(np.ceil(yhi - 0.5).astype(np.int64), y0, y1)
    counts = np.maximum(r1 - r0, 0)
    total = int(counts.sum())
    toggles = np.zeros((y1 - y0, x1 - x0 + 1), dtype=np.uint8)
    if total:
        edge = np.repeat(np.arange(len(a)), counts)
        rows = r0[edge] + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
        yc = rows + 0.5
        ax, ay, bx, by = a[edge, 0], a[edge, 1], b[edge, 0], b[edge, 1]
        xc = ax + (yc - ay) * (bx - ax) / (by - ay)
        # Pixel centres at or right of the crossing flip parity: first such column is ceil(x - 0.5).
        cols = np.clip(np.ceil(xc - 0.5).astype(np.int64), x0, x1) - x0
        np.add.at(toggles, (rows - y0, cols), 1)
    inside = (np.cumsum(toggles, axis=1, dtype=np.uint8)[:, :-1] & 1).astype(bool)
    return Region(y0, x0, inside)


def _flood(image: np.ndarray, seed: tuple[float, float], tolerance: int) -> Region | None:
    h, w = image.shape[:2]
    col, row = int(np.floor(seed[0])), int(np.floor(seed[1]))
    if not (0 <= col < w and 0 <= row < h):
        return None
    sel = np.zeros((h + 2, w + 2), dtype=np.uint8)
    diff = (tolerance,) * 3 if image.ndim == 3 else tolerance
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    _, _, _, (rx, ry, rw, rh) = cv2.floodFill(np.ascontiguousarray(image), sel, (col, row), 0, diff, diff, flags)
    if rw <= 0 or rh <= 0:
        return None
    return Region(ry, rx, sel[ry + 1:ry + 1 + rh, rx + 1:rx + 1 + rw].astype(bool))


def flood_region(mask: np.ndarray, seed: tuple[float, float]) -> Region | None:
    """The 4-connected region of pixels with the same label value as the pixel under ``seed``."""
    return _flood(np.ascontiguousarray(mask, dtype=np.uint8), seed, 0)


def magic_wand(image: np.ndarray, seed: tuple[float, float], tolerance: int) -> Region | None:
    """The 4-connected region of ``image`` (uint8 HxW or HxWx3) whose every channel is within ``tolerance``
    (0–255) of the seed pixel's colour. A lower tolerance never selects more pixels."""
    return _flood(image, seed, int(np.clip(tolerance, 0, 255)))


class LabelCodes(NamedTuple):
    """A label as codes (uint8 HxW, see ``label_codes``): what the canvas hands the saver for a sparse label, so the
    split into (mask, annotated) happens on the saver's thread, not the GUI's."""

    codes: np.ndarray

    def pixels(self) -> LabelPixels:
        return label_pixels(self.codes)


def label_codes(mask: np.ndarray, annotated: np.ndarray | None = None) -> np.ndarray:
    """uint8 HxW codes of a label: ``OBJECT`` where ``mask`` (bool or nonzero), ``UNANNOTATED`` where ``annotated``
    is false, ``BACKGROUND`` elsewhere; ``annotated`` None = a complete (dense) label."""
    codes = (np.asarray(mask) != 0).view(np.uint8)
    if annotated is None:
        return np.ascontiguousarray(codes)
    return np.where(np.asarray(annotated, dtype=bool), codes, np.uint8(UNANNOTATED)).astype(np.uint8)


def label_pixels(codes: np.ndarray) -> LabelPixels:
    """(mask, annotated) of label codes; ``annotated`` is None when no pixel is ``UNANNOTATED`` (a dense label)."""
    unannotated = codes == UNANNOTATED
    return LabelPixels(codes == OBJECT, ~unannotated if unannotated.any() else None)


def scored_region(roi: np.ndarray | None, annotated: np.ndarray | None) -> np.ndarray | None:
    """Where a label is scored: inside ``roi`` and annotated (None = everywhere). Metrics and FP/FN count only
    annotated pixels of a sparse label."""
    if annotated is None:
        return roi
    return annotated if roi is None else np.logical_and(roi, annotated)


def share_text(share: float, decimals: int | None = None) -> str:
    """'12 %' for a share from 0 to 1, '0.5 %' below 10 % (`decimals` None: one decimal there, none above; a trial
    read 0.52 % as '1 %' in the list beside 'Only 0.5 %' in the Train panel); '<0.1 %' for a share above 0 that
    would round to 0, so a few strokes on a sparse label never read as nothing."""
    auto = decimals is None
    decimals = (1 if share < 0.0995 else 0) if decimals is None else decimals
    text = f"{100 * share:.{decimals}f}"
    if auto and "." in text:
        text = text.rstrip("0").rstrip(".")  # '5 %', not '5.0 %'
    return f"<{10 ** -decimals:g} %" if share > 0 and float(text) == 0 else f"{text} %"


def code_counts(codes: np.ndarray) -> tuple[int, int]:
    """(class pixels, not-annotated pixels) of label codes (any shape). Codes are 0, OBJECT (1) or UNANNOTATED (2), so
    the non-zero count and the sum tell them apart: two SIMD passes of OpenCV, no temporary (a 64 MB label in ~8 ms
    instead of ~100 ms)."""
    if codes.size == 0:
        return 0, 0
    m = codes if codes.ndim == 2 else codes.reshape(-1, 1)
    nonzero, total = cv2.countNonZero(m), round(cv2.sumElems(m)[0])
    return 2 * nonzero - total, total - nonzero


class ReadyLabel(NamedTuple):
    """A label made ready for the canvas on a loading thread (``ready_label``, ``blank_label``): its codes, handed
    over (the canvas takes them without a copy), and their (class, not-annotated) pixel counts, so the GUI thread
    passes over none of an 8000² label's 64 MB. ``labelled`` False: no label yet, only the array a first edit paints."""

    codes: np.ndarray
    counts: tuple[int, int]
    labelled: bool = True


def ready_label(label: np.ndarray | LabelPixels) -> ReadyLabel:
    """``label`` (a freshly read mask or ``LabelPixels`` nobody else keeps; spent) as a ``ReadyLabel`` (thread-safe)."""
    codes = as_codes(label, owned=True)
    return ReadyLabel(codes, code_counts(codes))


def label_fits(label: np.ndarray | tuple | None, shape: tuple[int, int]) -> bool:
    """Whether a label (a mask, or a ``LabelPixels`` / ``LabelCodes`` / ``ReadyLabel``: by its first array) is
    ``shape`` (H, W); None (no label) fits any image."""
    arr = label[0] if isinstance(label, tuple) else label
    return arr is None or tuple(np.shape(arr)[:2]) == tuple(shape)


def blank_label(shape: tuple[int, int]) -> ReadyLabel:
    """No label yet: all background, in memory already written (a fresh zero array's pages are only mapped when first
    written, which made a sparse start, setting every pixel, cost the GUI thread 80 ms of CPU at 8000²)."""
    return ReadyLabel(np.full(shape, BACKGROUND, np.uint8), (0, 0), labelled=False)


def as_codes(label: np.ndarray | LabelPixels | LabelCodes, owned: bool) -> np.ndarray:
    """Label codes of a mask (complete label), ``LabelPixels`` (sparse when ``annotated`` is set) or ``LabelCodes``.
    ``owned``: nobody else keeps ``label``'s arrays, so a writeable bool one may become the codes (no copy)."""
    if isinstance(label, LabelCodes):
        return np.array(label.codes, dtype=np.uint8, order="C", copy=True)
    if isinstance(label, LabelPixels):
        if owned and _reusable(label.mask) and (label.annotated is None or _reusable(label.annotated)):
            return _codes_in_place(label.mask, label.annotated)
        return label_codes(label.mask, label.annotated)
    return as_u8_mask(label, copy=not owned or not label.flags.writeable)


def _reusable(arr: np.ndarray) -> bool:
    return arr.dtype == bool and arr.flags.c_contiguous and arr.flags.writeable


def _codes_in_place(mask: np.ndarray, annotated: np.ndarray | None) -> np.ndarray:
    """``label_codes(mask, annotated)`` written into ``mask``'s buffer (``annotated`` is spent too): no 64 MB
    temporaries for an 8000² label, which cost the GUI thread over a second on a loaded VM."""
    codes = mask.view(np.uint8)
    if annotated is not None:
        np.copyto(codes, np.uint8(UNANNOTATED), where=np.logical_not(annotated, out=annotated))
    return codes


def as_u8_mask(mask: np.ndarray, copy: bool) -> np.ndarray:
    """uint8 {0, 1} C-contiguous version of a bool/0-1/0-255 mask (a view when possible and ``copy`` is false)."""
    if mask.dtype == bool:
        m = mask.view(np.uint8)
        return np.array(m, order="C", copy=True) if copy else np.ascontiguousarray(m)
    return np.ascontiguousarray((mask > 0).view(np.uint8))
