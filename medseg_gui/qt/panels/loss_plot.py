"""The Train panel's loss curve: a small read-only pyqtgraph plot of the training loss per step with the validation
AUC (Dice for a lesion run) after each epoch as dots, and its key on a line above it (inside a 110-160 px plot
every corner covered the curve in some run)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

AUC_DOT_COLOUR = "#ffc83c"  # the validation dots on the loss curve, and their key above it


NEUTRAL = "score"  # the key until a run's first validation says which figure its dots are


def plot_key_text(figure: str = NEUTRAL) -> str:
    """The key above the plot; `figure`: what the dots are ("AUC", or "Dice" for a lesion run; `NEUTRAL` before the
    first validation: a lesion run's key said "AUC" until then)."""
    return f'━ training loss &nbsp; <span style="color:{AUC_DOT_COLOUR}">●</span> validation {figure}'


def plot_tip(figure: str = NEUTRAL) -> str:
    return f"Training loss per step; the dots are the validation {figure} after each epoch"


def make_loss_plot(parent: QWidget) -> tuple[QLabel, Any, Any, Any]:
    """(key label, plot widget, loss curve item, validation dots item), children of `parent`."""
    import pyqtgraph as pg

    key = QLabel(plot_key_text(), parent)
    key.setTextFormat(Qt.TextFormat.RichText)
    plot = pg.PlotWidget(parent)
    plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to type into; keep the keys for the window
    plot.setMinimumHeight(110)
    plot.setMaximumHeight(160)
    plot.setLabel("left", "loss / score")
    plot.getAxis("left").enableAutoSIPrefix(False)
    # the tick labels' room grows when they need it but never shrinks: pyqtgraph measures them while painting,
    # and each change re-lays out and repaints the plot (twice more when the window first shows, 5-8 ms each)
    plot.getAxis("left").setStyle(autoReduceTextSpace=False)
    plot.setLabel("bottom", "step")
    plot.showGrid(x=True, y=True, alpha=0.3)
    plot.setToolTip(plot_tip())
    plot.setMouseEnabled(x=False, y=False)  # a small read-only plot: the wheel scrolls the column (panels/column)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    curve = plot.plot([], [], pen=pg.mkPen(width=2), name="training loss")
    dots = plot.plot([], [], pen=None, symbol="o", symbolSize=7, symbolBrush=AUC_DOT_COLOUR, name="validation")
    return key, plot, curve, dots
