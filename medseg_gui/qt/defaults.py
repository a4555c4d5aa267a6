"""UI defaults in one place: layer opacities, brush and wand ranges, overlay colours. The canvas and the panels both
read them, so a canvas on its own (tests, bench) looks and clamps like the one in the window."""

from __future__ import annotations

from medseg_gui.core.overlays import FN_COLOR, FP_COLOR

LAYER_OPACITY: dict[str, float] = {"image": 1.0, "label": 0.45, "others": 0.25, "contours": 1.0, "fpfn": 0.45,
                                   "roi": 0.35, "probability": 0.6, "uncertainty": 0.7}
"""Opacity in [0, 1] of each canvas layer (the Layers panel's sliders start here). FP/FN at 0.45, not 0.65: a
new-user trial found the red and blue hid the tissue they mark (the label fill uses the same)."""
LAYER_HIDDEN = frozenset({"probability", "uncertainty"})  # layers that start switched off (the others start shown)
UNCERTAINTY_RGB = (255, 0, 255)  # the uncertainty layer: magenta, its alpha the pixel's uncertainty
HEATMAP_HIGH_RGB = (253, 231, 37)  # the probability heat map (viridis, its alpha the probability) at 1

BRUSH_RANGE = (1, 1000)  # brush/eraser diameter in image pixels ([ and ] step beyond what a slider drag reaches)
BRUSH_SIZE = 12
WAND_RANGE = (0, 100)  # magic-wand tolerance, per colour channel (0-255 scale)
WAND_TOLERANCE = 20

THRESHOLD_RANGE = (0.05, 0.95)  # the probability threshold box (a remembered value is clamped to it)


def threshold_in_range(value: float) -> float:
    """`value` clamped to THRESHOLD_RANGE and rounded to the box's two decimals."""
    return round(min(max(float(value), THRESHOLD_RANGE[0]), THRESHOLD_RANGE[1]), 2)


CONTOUR_CHOICES = ((0, 255, 0), (0, 255, 255), (255, 255, 255), (255, 140, 0))  # never FP red, FN blue, magenta


def contour_rgb(class_rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """The predicted outline's colour for a class: the one of CONTOUR_CHOICES farthest from the class colour, so
    the outline stands out from the class's label fill beneath it (new-user trial: a yellow outline on a yellow
    label) and is never mistaken for FP red, FN blue or the magenta uncertainty."""
    return max(CONTOUR_CHOICES, key=lambda c: sum((a - b) ** 2 for a, b in zip(c, class_rgb)))


THIN_OUTLINE_MIN_ZOOM = 1.0
"""A thin-structure class's (vessels') predicted outlines are drawn only from this zoom (100 %: one image pixel per
screen pixel): zoomed out, both outlines of every vessel merged into one thick tree that hid the label, FP/FN, heat
map and uncertainty beneath (outside trial, 3504x2336 HRF photos at 17 %); FP/FN and the heat map show it there."""

BACKGROUND_RGB = (200, 200, 200)  # annotated background of a sparse label (not-annotated pixels stay clear)
PREDICTION_FILL_OPACITY = 0.4  # the corrective mode's prediction beneath the label, relative to the label opacity

__all__ = ["BACKGROUND_RGB", "HEATMAP_HIGH_RGB", "CONTOUR_CHOICES", "contour_rgb", "BRUSH_RANGE", "BRUSH_SIZE",
           "FN_COLOR", "FP_COLOR", "LAYER_HIDDEN", "LAYER_OPACITY", "PREDICTION_FILL_OPACITY", "THIN_OUTLINE_MIN_ZOOM",
           "THRESHOLD_RANGE", "UNCERTAINTY_RGB", "WAND_RANGE", "WAND_TOLERANCE",
           "threshold_in_range"]
