"""The Train panel's loss curve: a small read-only pyqtgraph plot of the training loss per step, smoothed
(`LossSmoother`: one step's loss jumps with the patches drawn; the panel's text shows the same smoothed value), with
the validation AUC (Dice for a lesion run) after each epoch as dots, and its key on a line above it (inside a
110-160 px plot every corner covered the curve in some run). `LossCurve` keeps the run's points and draws them."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from medseg_gui.ml.progress import AS_PREDICTED, DICE_SHOWN, TrainProgress
from medseg_gui.qt.panels.column import text_line
from medseg_gui.qt.panels.train_text import started, validation_point

AUC_DOT_COLOUR = "#ffc83c"  # the validation dots on the loss curve, and their key above it
LOSS_COLOUR = "#5fa8ff"  # the loss curve and its key's mark: seen on the black plot and on a light or dark panel (the
#                          mark took the text's colour, black in the light look beside a white line: trial)


CURVE_REDRAW_MS = 500  # the loss curve redraws at most twice a second
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
    """The key above the plot; `figure`: what the dots are ("AUC", or "Dice" for a lesion run, said with its
    threshold: ml.progress.DICE_SHOWN; `NEUTRAL` before the first validation: a lesion run's key said "AUC" until
    then)."""
    return (f'<span style="color:{LOSS_COLOUR}">━</span> training loss &nbsp; '
            f'<span style="color:{AUC_DOT_COLOUR}">●</span> validation {_named(figure)}')


def plot_tip(figure: str = NEUTRAL) -> str:
    return (f"Training loss per step, averaged over about the last {round(1 / (1 - SMOOTHING))} steps; the dots are "
            f"the validation {_named(figure)} after each epoch" + (f". {AS_PREDICTED}" if figure == "Dice" else ""))


def _named(figure: str) -> str:
    return f"{figure} {DICE_SHOWN}" if figure == "Dice" else figure


def make_loss_plot(parent: QWidget) -> tuple[QLabel, Any, Any, Any]:
    """(key label, plot widget, loss curve item, validation dots item), children of `parent`."""
    import pyqtgraph as pg

    key = text_line(plot_key_text(), parent)  # wraps: on one line it widened the column as a run began (trial)
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
    curve = plot.plot([], [], pen=pg.mkPen(LOSS_COLOUR, width=2), name="training loss")
    dots = plot.plot([], [], pen=None, symbol="o", symbolSize=7, symbolBrush=AUC_DOT_COLOUR, name="validation")
    return key, plot, curve, dots


class LossCurve(QObject):
    """The curve of the run shown: its smoothed step losses (`losses`, (step, loss)) and validation figure per epoch,
    drawn in `plot` under its `key` (both None when the panel has no plot: the losses are still kept, for the text)."""

    def __init__(self, parent: QWidget, *, plot: bool = True) -> None:
        super().__init__(parent)
        self.key: QLabel | None = None
        self.plot: Any = None
        if plot:
            self.key, self.plot, self._line, self._dots = make_loss_plot(parent)
        self.losses: list[tuple[int, float]] = []  # (step, smoothed loss): the curve
        self._smoother = LossSmoother()
        self._val_points: dict[int, tuple[int, float]] = {}  # epoch → (step, val Dice or AUC)
        self._round_done = False  # a round of continuous training ended; the next one has not made a step
        self._redraw = QTimer(self)  # at most CURVE_REDRAW_MS late; points arriving meanwhile coalesced
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(CURVE_REDRAW_MS)
        self._redraw.timeout.connect(self._draw)

    def add(self, p: TrainProgress) -> float | None:
        """Take a progress report: its step's loss (once per step) and its validation figure (once per epoch); the
        smoothed loss the curve ends at now (None before the first step)."""
        if started(p) and self._round_done:  # a continuous run's next round starts its curve again at step 0
            self._forget()
        if started(p) and math.isfinite(p.loss) and (not self.losses or p.step > self.losses[-1][0]):
            # once per step (an epoch's summary repeats its last step); the text shows the curve's last point
            self.losses.append((p.step, self._smoother.add(p.loss)))
        point = validation_point(p)
        if point is not None and point[0] not in self._val_points:
            self._val_points[point[0]] = (p.step, point[1])
            if self.plot is not None and self.key.text() != plot_key_text(point[2]):
                self.key.setText(plot_key_text(point[2]))
                self.plot.setToolTip(plot_tip(point[2]))
        self._update()
        return self.losses[-1][1] if self.losses else None

    def round_ended(self) -> None:
        """A round of continuous training ended: its curve stays until the next round's first step."""
        self._round_done = True

    def clear(self) -> None:
        """No run shown: no points, empty axes (not the last run's range; the next run's data sets its own), a key
        that names no figure yet (the next run's first validation names it), and the plot hidden."""
        self._forget()
        self._draw()
        if self.plot is not None:
            self.key.setText(plot_key_text())
            self.plot.setToolTip(plot_tip())
            self.plot.setRange(xRange=(0.0, 1.0), yRange=(0.0, 1.0), padding=0.0)
            self.plot.enableAutoRange()
        self.show(False)

    def show(self, on: bool) -> None:
        """Show or hide the plot and its key (hidden while there is no run to plot)."""
        if self.plot is not None:
            self.key.setVisible(on)
            self.plot.setVisible(on)

    def validation_points(self) -> dict[int, float]:
        """epoch (1-based) → the validation figure of the run shown (the dots on the curve): Dice for a lesion run,
        else AUC."""
        return {epoch: auc for epoch, (_, auc) in sorted(self._val_points.items())}

    def _forget(self) -> None:
        self._round_done = False
        self.losses.clear()
        self._smoother.reset()
        self._val_points.clear()

    def _update(self) -> None:
        """Redraw the curve soon: a plot repaint costs 10–50 ms of the GUI thread (pyqtgraph's axes and grid), and
        progress comes after every training step."""
        if self.plot is not None and not self._redraw.isActive():
            self._redraw.start()

    def _draw(self) -> None:
        self._redraw.stop()
        if self.plot is None:
            return
        self._line.setData([s for s, _ in self.losses], [v for _, v in self.losses])
        points = sorted(self._val_points.values())
        self._dots.setData([s for s, _ in points], [a for _, a in points])
