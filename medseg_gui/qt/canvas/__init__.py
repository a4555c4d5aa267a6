"""The drawing canvas: image, label, prediction, FP/FN and ROI layers with zoom/pan and per-class tools."""

from medseg_gui.qt.canvas.canvas import LAYERS, Canvas
from medseg_gui.qt.canvas.tools import TOOLS

__all__ = ["LAYERS", "TOOLS", "Canvas"]
