"""Qt views of the document's arrays: zero-copy QImages (RGB888 image, 8-bit indexed masks) and vector contours.

A mask layer is an ``Format_Indexed8`` QImage sharing the numpy buffer, with a colour table mapping values to
colours; painting into the numpy label is therefore visible at the next repaint with no conversion, and only the
dirty rectangle needs repainting. Layer opacity is applied with ``QPainter.setOpacity``.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF, qRgba

from medseg_gui.core.masks import contour_polylines

LAYERS = ("image", "label", "others", "contours", "fpfn", "roi")
OVERLAYS = LAYERS[1:]
DEFAULT_OPACITY = {"image": 1.0, "label": 0.5, "others": 0.35, "contours": 1.0, "fpfn": 170 / 255, "roi": 0.45}
FP_RGB, FN_RGB = (255, 0, 0), (0, 0, 255)
TRANSPARENT = qRgba(0, 0, 0, 0)


class ArrayImage:
    """A QImage over a C-contiguous numpy array that it keeps alive (the QImage does not own the memory)."""

    def __init__(self, array: np.ndarray, fmt: QImage.Format, colors: list[int] | None = None) -> None:
        self.array = np.ascontiguousarray(array)
        h, w = self.array.shape[:2]
        self.image = QImage(self.array.data, w, h, self.array.strides[0], fmt)
        if colors is not None:
            self.image.setColorTable(colors)

    def draw(self, painter: QPainter, src: QRectF) -> None:
        """Draw the ``src`` part (image coordinates) in place; the painter carries the view transform."""
        painter.drawImage(src, self.image, src)


class ImagePyramid:
    """The RGB image plus area-averaged half-size levels, built lazily when zoomed out: below 50 % the canvas
    draws the level closest above the zoom, which is faster and avoids the aliasing of sampling the full image."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.levels = [ArrayImage(rgb, QImage.Format.Format_RGB888)]
        self._shape = rgb.shape[:2]

    def _level(self, zoom: float) -> ArrayImage:
        k = 0
        while zoom <= 0.5 ** (k + 1) and min(self.levels[k].array.shape[:2]) >= 64:
            k += 1
            if k == len(self.levels):
                prev = self.levels[-1].array
                half = cv2.resize(prev, (prev.shape[1] // 2, prev.shape[0] // 2), interpolation=cv2.INTER_AREA)
                self.levels.append(ArrayImage(half, QImage.Format.Format_RGB888))
        return self.levels[k]

    def draw(self, painter: QPainter, src: QRectF, zoom: float) -> None:
        level = self._level(zoom)
        h, w = level.array.shape[:2]
        sx, sy = w / self._shape[1], h / self._shape[0]
        painter.drawImage(src, level.image, QRectF(src.x() * sx, src.y() * sy, src.width() * sx, src.height() * sy))


def mask_layer(mask: np.ndarray, rgb: tuple[int, int, int]) -> ArrayImage:
    """Value 1 drawn opaque in ``rgb``, 0 transparent (opacity comes from the painter)."""
    return ArrayImage(mask, QImage.Format.Format_Indexed8, [TRANSPARENT, qRgba(*rgb, 255)])


def fpfn_layer(codes: np.ndarray) -> ArrayImage:
    """Codes from ``core.masks.fp_fn_codes``: 1 = FP red, 2 = FN blue."""
    return ArrayImage(codes, QImage.Format.Format_Indexed8, [TRANSPARENT, qRgba(*FP_RGB, 255), qRgba(*FN_RGB, 255)])


def roi_layer(roi: np.ndarray) -> ArrayImage:
    """Darkens what lies outside the region of interest."""
    return ArrayImage(roi, QImage.Format.Format_Indexed8, [qRgba(0, 0, 0, 255), TRANSPARENT])


class ContourSet:
    """Closed polylines of a binary mask in image coordinates, each with its bounds so a partial repaint only
    strokes the contours it intersects. Drawn with a cosmetic pen: always ``width`` screen pixels wide."""

    def __init__(self, mask: np.ndarray, rgb: tuple[int, int, int], width: int = 1) -> None:
        self.rgb = rgb
        self.pen = QPen(QColor(*rgb), width)
        self.pen.setCosmetic(True)
        self.items: list[tuple[QRectF, QPolygonF]] = []
        for line in contour_polylines(mask):
            poly = QPolygonF([QPointF(x, y) for x, y in line.tolist()])
            poly.append(poly.first())
            self.items.append((poly.boundingRect().adjusted(-1, -1, 1, 1), poly))

    def recolored(self, rgb: tuple[int, int, int]) -> ContourSet:
        """The same polylines in another colour (no contour extraction)."""
        if rgb != self.rgb:
            self.rgb = rgb
            self.pen.setColor(QColor(*rgb))
        return self

    def draw(self, painter: QPainter, src: QRectF) -> None:
        painter.setPen(self.pen)
        for bounds, poly in self.items:
            if bounds.intersects(src):
                painter.drawPolyline(poly)
