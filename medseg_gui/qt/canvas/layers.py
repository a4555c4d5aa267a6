"""Qt views of the document's arrays: QImages over numpy (RGB image, 8-bit indexed masks and contours).

A mask layer is an ``Format_Indexed8`` QImage sharing the numpy buffer, with a colour table mapping values to
colours; painting into the numpy label is therefore visible at the next repaint with no conversion, and only the
dirty rectangle needs repainting.

Drawing: Qt scales an indexed image through a slow generic path (3–4 ms per layer per screen megapixel) but an
``ARGB32_Premultiplied`` one through a fast path, at full speed only without a painter opacity. So the visible part
of each mask is converted (0.4 ms per megapixel, the layer's opacity baked into its colour table), the masks are
stacked 1:1 into one buffer, and that buffer is scaled once (:func:`draw_masks`). Zoomed out, where the visible
part has many more pixels than the screen shows, the masks are drawn directly instead.

Predicted contours are rasters too (the mask's boundary pixels), not vector polylines: a noisy prediction has
thousands of blobs, and extracting plus stroking that many polylines took seconds per image and froze painting,
while the boundary raster takes a few ms per megapixel to build and the same to draw however many blobs there are.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QImage, QPainter, QTransform, qAlpha, qBlue, qGreen, qRed, qRgba

from medseg_gui.core.overlays import any_pool2, boundary_u8
from medseg_gui.qt.defaults import BACKGROUND_RGB, FN_COLOR, FP_COLOR, UNCERTAINTY_RGB

LAYERS = ("image", "label", "others", "contours", "fpfn", "roi", "probability", "uncertainty")
OVERLAYS = LAYERS[1:]
TRANSPARENT = qRgba(0, 0, 0, 0)
ARGB32_PM = QImage.Format.Format_ARGB32_Premultiplied


def layer_name(layer: str) -> str:
    """``layer`` when it is one of ``LAYERS``, else ValueError."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
    return layer


class ArrayImage:
    """A QImage over a C-contiguous numpy array that it keeps alive (the QImage does not own the memory)."""

    def __init__(self, array: np.ndarray, fmt: QImage.Format, colors: list[int] | None = None) -> None:
        self.array = np.ascontiguousarray(array)
        h, w = self.array.shape[:2]
        self.image = QImage(self.array.data, w, h, self.array.strides[0], fmt)
        self.colors = colors or []
        self.sparse = False
        self.knockout = False  # its opaque pixels replace the masks beneath it (draw_masks) instead of mixing
        if colors is not None:
            self.image.setColorTable(colors)

    def draw(self, painter: QPainter, src: QRectF) -> None:
        """Draw the ``src`` part (image coordinates) in place; the painter carries the view transform."""
        painter.drawImage(src, self.image, src)

    def faded_crop(self, rect: QRect, opacity: float) -> QImage:
        """An owned ARGB32 premultiplied copy of ``rect`` of an indexed image, its colours' alpha times ``opacity``."""
        part = self.image.copy(rect)
        part.setColorTable([qRgba(qRed(c), qGreen(c), qBlue(c), round(qAlpha(c) * opacity)) for c in self.colors])
        return part.convertToFormat(ARGB32_PM)


STACK_MIN_ZOOM = 0.7
"""Below this zoom the visible part of a mask has over twice as many pixels as the screen shows: each mask is then
drawn directly (sampled) rather than converted whole."""


def draw_masks(painter: QPainter, src: QRectF, masks: list[tuple[ArrayImage, float]], zoom: float) -> None:
    """Draw indexed ``(layer, opacity)`` masks back to front over ``src`` (image coordinates; the painter carries the
    view transform): stacked 1:1 into one buffer that is scaled once, or one by one below ``STACK_MIN_ZOOM``. A
    ``knockout`` layer (FP/FN) first clears the masks beneath its pixels, so a false negative shows its own blue over
    the image, not blue mixed into the label's colour; zoomed out, that needs a screen-sized buffer."""
    rect = src.toAlignedRect()
    if not masks or rect.isEmpty():
        return
    if zoom < STACK_MIN_ZOOM:
        if any(layer.knockout for layer, _ in masks[1:]):
            _draw_buffered(painter, src, masks)
        else:
            _draw_each(painter, src, masks)
        return
    stack = masks[0][0].faded_crop(rect, masks[0][1])
    if len(masks) > 1:
        p = QPainter(stack)
        for layer, opacity in masks[1:]:
            if layer.knockout:
                _knock_out(p, lambda: p.drawImage(0, 0, layer.faded_crop(rect, 1.0)))
            p.drawImage(0, 0, layer.faded_crop(rect, opacity))
        p.end()
    painter.drawImage(QRectF(rect), stack)


def _knock_out(p: QPainter, draw: Callable[[], None]) -> None:
    """Clear what ``p`` holds under the opaque pixels that ``draw`` paints (their alpha removes the destination)."""
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationOut)
    draw()
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)


def _draw_each(p: QPainter, src: QRectF, masks: list[tuple[ArrayImage, float]]) -> None:
    """The zoomed-out drawing: each mask (sampled) at its opacity, a ``knockout`` layer after the first clearing the
    masks beneath it first (the first has none beneath it: what ``p`` holds there is the image or nothing)."""
    for i, (layer, opacity) in enumerate(masks):
        if layer.knockout and i:
            p.setOpacity(1.0)
            _knock_out(p, lambda: layer.draw(p, src))
        p.setOpacity(opacity)
        layer.draw(p, src)
    p.setOpacity(1.0)


def _draw_buffered(painter: QPainter, src: QRectF, masks: list[tuple[ArrayImage, float]]) -> None:
    """The zoomed-out path with a knockout layer: the masks are drawn (sampled) into a transparent buffer of the
    screen area ``src`` covers, then that buffer over the image."""
    dev = painter.transform().mapRect(src).toAlignedRect()
    if dev.isEmpty():
        return
    ratio = painter.device().devicePixelRatioF()
    buf = QImage(round(dev.width() * ratio), round(dev.height() * ratio), ARGB32_PM)
    buf.setDevicePixelRatio(ratio)
    buf.fill(0)
    p = QPainter(buf)
    p.setTransform(painter.transform() * QTransform.fromTranslate(-dev.x(), -dev.y()))
    _draw_each(p, src, masks)
    p.end()
    painter.save()
    painter.resetTransform()
    painter.drawImage(dev.topLeft(), buf)
    painter.restore()


def rgb32(rgb: np.ndarray) -> ArrayImage:
    """``Format_RGB32`` copy of a uint8 HxWx3 RGB array: 4 bytes per pixel, but Qt draws it scaled 3–4x faster."""
    return ArrayImage(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA), QImage.Format.Format_RGB32)


class ImagePyramid:
    """The RGB image plus area-averaged half-size levels, built lazily when zoomed out: below 50 % the canvas
    draws the level closest above the zoom, which is faster and avoids the aliasing of sampling the full image.
    Levels are RGB32 copies; so is the full-size level up to ``RGB32_MAX_PIXELS`` (above, the caller's RGB888
    array is shown without a copy, to spare memory)."""

    RGB32_MAX_PIXELS = 4096 * 4096

    def __init__(self, rgb: np.ndarray) -> None:
        small = rgb.shape[0] * rgb.shape[1] <= self.RGB32_MAX_PIXELS
        self.levels = [rgb32(rgb) if small else ArrayImage(rgb, QImage.Format.Format_RGB888)]
        self._rgb = rgb
        self._shape = rgb.shape[:2]

    def build_levels(self) -> ImagePyramid:
        """Make every level now (e.g. on a loading thread) instead of at the first zoomed-out paint."""
        self._level(0.0)
        return self

    def _level(self, zoom: float) -> ArrayImage:
        k = 0
        while zoom <= 0.5 ** (k + 1) and min(self.levels[k].array.shape[:2]) >= 64:
            k += 1
            if k == len(self.levels):
                prev = self._rgb if k == 1 else self.levels[-1].array
                half = cv2.resize(prev, (prev.shape[1] // 2, prev.shape[0] // 2), interpolation=cv2.INTER_AREA)
                self.levels.append(rgb32(half) if k == 1 else ArrayImage(half, QImage.Format.Format_RGB32))
        return self.levels[k]

    def draw(self, painter: QPainter, src: QRectF, zoom: float) -> None:
        level = self._level(zoom)
        h, w = level.array.shape[:2]
        sx, sy = w / self._shape[1], h / self._shape[0]
        painter.drawImage(src, level.image, QRectF(src.x() * sx, src.y() * sy, src.width() * sx, src.height() * sy))


def mask_layer(mask: np.ndarray, rgb: tuple[int, int, int], sparse: bool = False) -> ArrayImage:
    """Value 1 drawn opaque in ``rgb``, 0 transparent (opacity is applied when drawing). ``sparse`` (label codes of a
    sparse label): 0 = annotated background in ``BACKGROUND_RGB``, 2 = not annotated transparent."""
    background = qRgba(*BACKGROUND_RGB, 255) if sparse else TRANSPARENT
    layer = ArrayImage(mask, QImage.Format.Format_Indexed8, [background, qRgba(*rgb, 255), TRANSPARENT])
    layer.sparse = sparse
    return layer


def fpfn_layer(codes: np.ndarray) -> ArrayImage:
    """Codes from ``core.metrics.fp_fn_codes``: 1 = FP red, 2 = FN blue; drawn in place of the masks beneath
    (``knockout``: a false negative lies on the label, whose colour would otherwise turn the blue purple)."""
    layer = ArrayImage(codes, QImage.Format.Format_Indexed8,
                       [TRANSPARENT, qRgba(*FP_COLOR, 255), qRgba(*FN_COLOR, 255)])
    layer.knockout = True
    return layer


def uncertainty_layer(u8: np.ndarray) -> ArrayImage:
    """``core.uncertainty.uncertainty_u8`` (0–255) drawn in ``UNCERTAINTY_RGB`` with that value as alpha."""
    return ArrayImage(u8, QImage.Format.Format_Indexed8, [qRgba(*UNCERTAINTY_RGB, a) for a in range(256)])


_VIRIDIS = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(-1, 1), cv2.COLORMAP_VIRIDIS).reshape(256, 3)


def viridis_rgb(p: float) -> tuple[int, int, int]:
    """The heat map's colour at probability `p` (drawn with alpha p)."""
    b, g, r = _VIRIDIS[min(255, max(0, round(255 * p)))]
    return int(r), int(g), int(b)


def probability_layer(prob: np.ndarray) -> ArrayImage:
    """The probability heat map of a float HxW map in [0, 1]: viridis (dark purple → green → yellow), its alpha the
    probability, so 0 stays clear and the image shows through where the model sees nothing. Built on the GUI thread
    at the first paint: one OpenCV pass (0.02 s for 8000², where numpy's rint/clip/astype took 1.2 s)."""
    u8 = cv2.convertScaleAbs(np.asarray(prob, np.float32), alpha=255.0)  # round(255 p), saturated
    return ArrayImage(u8, QImage.Format.Format_Indexed8,
                      [qRgba(int(r), int(g), int(b), a) for a, (b, g, r) in enumerate(_VIRIDIS)])


def roi_layer(roi: np.ndarray) -> ArrayImage:
    """Darkens what lies outside the region of interest."""
    return ArrayImage(roi, QImage.Format.Format_Indexed8, [qRgba(0, 0, 0, 255), TRANSPARENT])


class ContourLayer:
    """The inner boundary pixels of a binary mask in one colour, plus max-pooled half-size levels: zoomed out, the
    canvas draws the finest level whose pixels cover at least one screen pixel, so no outline pixel is skipped by
    nearest-neighbour sampling (an outline is 1 image pixel wide, 1–2 screen pixels when zoomed out)."""

    MIN_SIDE = 16

    def __init__(self, mask: np.ndarray, rgb: tuple[int, int, int]) -> None:
        """``mask``: bool or uint8 HxW (non-zero = inside)."""
        self.rgb = rgb
        self.levels = [mask_layer(boundary_u8(mask), rgb)]
        while min(self.levels[-1].array.shape) > self.MIN_SIDE:
            self.levels.append(mask_layer(any_pool2(self.levels[-1].array), rgb))

    def recolored(self, rgb: tuple[int, int, int]) -> ContourLayer:
        """The same outline in another colour (no boundary extraction)."""
        if rgb != self.rgb:
            self.rgb = rgb
            for level in self.levels:
                level.colors = [TRANSPARENT, qRgba(*rgb, 255)]
                level.image.setColorTable(level.colors)
        return self

    def level_for(self, zoom: float) -> int:
        """Index of the finest level with at least one screen pixel per level pixel (level k: 2**k image px)."""
        k = 0
        while k + 1 < len(self.levels) and zoom * 2 ** k < 1 - 1e-6:
            k += 1
        return k

    def draw(self, painter: QPainter, src: QRectF, zoom: float, opacity: float) -> None:
        """Draw the level pixels covering ``src`` (image coordinates) onto their exact image-space squares."""
        k = self.level_for(zoom)
        level, s = self.levels[k], 2 ** k
        x0, y0 = math.floor(src.left()) // s, math.floor(src.top()) // s
        x1 = min(-(-math.ceil(src.right()) // s), level.image.width())
        y1 = min(-(-math.ceil(src.bottom()) // s), level.image.height())
        if x1 > x0 and y1 > y0:
            part = level.faded_crop(QRect(x0, y0, x1 - x0, y1 - y0), opacity)
            painter.drawImage(QRectF(x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s), part)
