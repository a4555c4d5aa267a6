"""Zoom/pan state of the canvas: ``widget = image * zoom + offset`` (pure arithmetic, no Qt)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

MAX_ZOOM = 32.0
WHEEL_STEP = 1.25  # zoom factor per wheel notch (120 units of angle delta)


@dataclass(frozen=True)
class View:
    """``zoom`` = widget pixels per image pixel; ``ox, oy`` = widget position of the image's top-left corner.
    ``fitted`` stays true until the user zooms or pans, so a resize re-fits. A high-DPI screen shows each widget
    pixel as ``ratio`` (devicePixelRatioF) device pixels: "100 %" is ``zoom = 1 / ratio`` (``actual_size_zoom``)."""

    zoom: float = 1.0
    ox: float = 0.0
    oy: float = 0.0
    fitted: bool = True

    def to_widget(self, x: float, y: float) -> tuple[float, float]:
        return x * self.zoom + self.ox, y * self.zoom + self.oy

    def to_image(self, wx: float, wy: float) -> tuple[float, float]:
        return (wx - self.ox) / self.zoom, (wy - self.oy) / self.zoom

    def widget_box(self, bbox: tuple[int, int, int, int], grow: int = 2) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the widget pixels showing image ``bbox`` (y0, x0, y1, x1), grown by ``grow`` px
        on each side for smoothing and rounding."""
        y0, x0, y1, x1 = bbox
        wx0, wy0 = self.to_widget(x0, y0)
        wx1, wy1 = self.to_widget(x1, y1)
        return (math.floor(wx0) - grow, math.floor(wy0) - grow,
                math.ceil(wx1 - wx0) + 2 * grow + 1, math.ceil(wy1 - wy0) + 2 * grow + 1)

    def zoomed(self, factor: float, anchor: tuple[float, float], min_zoom: float) -> View:
        """Absolute zoom ``factor`` (1.0 = 100 %), keeping the image point under ``anchor`` (widget) in place."""
        z = min(max(float(factor), min_zoom), MAX_ZOOM)
        ix, iy = self.to_image(*anchor)
        return View(z, round(anchor[0] - ix * z), round(anchor[1] - iy * z), fitted=False)

    def panned(self, dx: float, dy: float) -> View:
        return replace(self, ox=self.ox + dx, oy=self.oy + dy, fitted=False)


def stepped_zoom(zoom: float, notches: float) -> float:
    """The zoom `notches` wheel notches (or Zoom in / out steps) away from `zoom`; negative: zoomed out."""
    return zoom * WHEEL_STEP ** notches


def fit_zoom(image_size: tuple[int, int], widget_size: tuple[int, int], margin: int = 4) -> float:
    """Largest zoom showing the whole ``image_size`` (w, h) inside ``widget_size`` (w, h), capped at MAX_ZOOM."""
    iw, ih = image_size
    ww, wh = max(widget_size[0] - 2 * margin, 1), max(widget_size[1] - 2 * margin, 1)
    if iw <= 0 or ih <= 0:
        return 1.0
    return min(ww / iw, wh / ih, MAX_ZOOM)


def fitted_view(image_size: tuple[int, int], widget_size: tuple[int, int]) -> View:
    """The whole image centred in the widget, on whole widget pixels."""
    z = fit_zoom(image_size, widget_size)
    ox = round((widget_size[0] - image_size[0] * z) / 2)
    oy = round((widget_size[1] - image_size[1] * z) / 2)
    return View(z, ox, oy, fitted=True)


def actual_size_zoom(ratio: float) -> float:
    """The zoom of "100 %": one image pixel per device pixel, ``ratio`` (devicePixelRatioF) being device pixels per
    widget pixel."""
    return 1.0 / ratio if ratio > 0 else 1.0


def min_zoom(image_size: tuple[int, int], widget_size: tuple[int, int], ratio: float = 1.0) -> float:
    """Zooming out stops at half of the fit (or of 100 % for images smaller than the widget)."""
    return max(min(fit_zoom(image_size, widget_size), actual_size_zoom(ratio)) / 2, 1 / 256)


def image_span(view: View, wx0: float, wy0: float, wx1: float, wy1: float, shape: tuple[int, int], pad: int = 0
               ) -> tuple[int, int, int, int] | None:
    """Image bbox (y0, x0, y1, x1) covering a widget rectangle, grown by ``pad`` image pixels, clipped to ``shape``."""
    ix0, iy0 = view.to_image(wx0, wy0)
    ix1, iy1 = view.to_image(wx1, wy1)
    y0, x0 = max(math.floor(iy0) - pad, 0), max(math.floor(ix0) - pad, 0)
    y1, x1 = min(math.ceil(iy1) + pad, shape[0]), min(math.ceil(ix1) + pad, shape[1])
    return (y0, x0, y1, x1) if y1 > y0 and x1 > x0 else None
