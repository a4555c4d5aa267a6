"""The Train panel's loss curve: a small read-only pyqtgraph plot of the training loss per step, smoothed
(`LossSmoother`: one step's loss jumps with the patches drawn; the panel's text shows the same smoothed value), with
the validation AUC (Dice for a lesion run) after each epoch as dots, and its key on a line above it (inside a
110-160 px plot every corner covered the curve in some run)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

AUC_DOT_COLOUR = "#ffc83c"  # the validation dots on the loss curve, and their key above it


SMOOTHING = 0.95  # the weight of the steps before in the loss shown: about the last 20 steps count


class LossSmoother:
    """An exponential moving average of the step losses with the start-up bias removed (as TensorBoard's): the
    first value is the first step's loss, not a fraction of it."""

    def __init__(self, smoothing: float = SMOOTHING) -> None:
        self._smoothing = smoothing
        self.reset()

    def reset(self) -> None:
        self._sum, self._weight = 0.0, 0.0

    def add(self, loss: float) -> float:
        """The smoothed loss once `loss` is added."""
        self._sum = self._smoothing * self._sum + (1.0 - self._smoothing) * loss
        self._weight = self._smoothing * self._weight + (1.0 - self._smoothing)
        return self._sum / self._weight


NEUTRAL = "score"  # the key until a run's first validation says which figure its dots are


def plot_key_text(figure: str = NEUTRAL) -> str:
    """The key above the plot; `figure`: what the dots are ("AUC", or "Dice" for a lesion run; `NEUTRAL` before the
    first validation: a lesion run's key said "AUC" until then)."""
    return f'━ training loss &nbsp; <span style="color:{AUC_DOT_COLOUR}">●</span> validation {figure}'


def plot_tip(figure: str = NEUTRAL) -> str:
    return (f"Training loss per step, averaged over about the last {round(1 / (1 - SMOOTHING))} steps; the dots are "
            f"the validation {figure} after each epoch")


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
