"""Right panel: preset, time box, ONE Retrain button, Cancel, progress with ETA, validation AUC, model decision."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from medseg_gui.ml.config import TrainConfig
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.workers.training import PredictProgress, TrainRun, TrainWorker


def fmt_auc(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def decision_text(decision: Any) -> str:
    """'New model kept: val AUC 0.962 (previous 0.955)' or 'Previous model kept (new 0.900 < 0.930)'."""
    new, old = getattr(decision, "new_auc", None), getattr(decision, "old_auc", None)
    if decision.kept_new:
        first = old is None or (isinstance(old, float) and math.isnan(old))
        previous = "first model" if first else f"previous {fmt_auc(old)}"
        return f"New model kept: val AUC {fmt_auc(new)} ({previous})"
    return f"Previous model kept (new {fmt_auc(new)} < {fmt_auc(old)})"


CANCELLED_TEXT = "Training cancelled — previous model kept."


class TrainPanel(QGroupBox):
    """Shows one training run: `attach(worker)` follows a TrainWorker's signals until it ends; Cancel cancels it."""

    retrain_requested = Signal()
    running_changed = Signal(bool)

    def __init__(self, presets: list[str], config: TrainConfig, *, loss_curve: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__("Train", parent)
        self.preset_combo = QComboBox(self)
        self.preset_combo.addItems(presets)
        self.preset_combo.setCurrentText(config.preset)
        self.preset_combo.setToolTip("Network and training recipe")
        self.minutes_spin = QDoubleSpinBox(self)
        self.minutes_spin.setRange(0.0, 240.0)
        self.minutes_spin.setDecimals(1)
        self.minutes_spin.setSingleStep(0.5)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.setSpecialValueText("no time limit")
        self.minutes_spin.setValue(config.minutes or 0.0)
        self.minutes_spin.setToolTip("Training stops after this time (or earlier when it stops improving)")

        self.retrain_button = QPushButton("Retrain", self)
        self.retrain_button.setObjectName("retrainButton")
        self.retrain_button.setToolTip(
            "Save labels, train on every labelled image of this class, then predict all images (Ctrl+R)")
        self.retrain_button.setDefault(True)
        self.retrain_button.clicked.connect(self.retrain_requested)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)

        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(False)
        self.progress_label = QLabel("", self)
        self.auc_label = QLabel("Validation AUC: –", self)
        self.result_label = QLabel("", self)
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("trainResult")

        form = QFormLayout()
        form.addRow("Preset", self.preset_combo)
        form.addRow("Time box", self.minutes_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retrain_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.auc_label)
        layout.addWidget(self.result_label)
        self.loss_plot = self._make_loss_plot() if loss_curve else None
        if self.loss_plot is not None:
            layout.addWidget(self.loss_plot)
        self._losses: list[tuple[int, float]] = []
        self._worker: TrainWorker | None = None

    def training_config(self, base: TrainConfig) -> TrainConfig:
        """`base` with the preset and time box chosen here (0 minutes = no time limit)."""
        minutes = self.minutes_spin.value()
        return replace(base, preset=self.preset_combo.currentText(), minutes=minutes if minutes > 0 else None)

    def attach(self, worker: TrainWorker) -> None:
        """Follow `worker` (connect before starting it): progress, then the decision, error or cancellation."""
        self._worker = worker
        worker.progress.connect(self.show_progress)
        worker.finished.connect(self._on_finished)
        worker.errored.connect(self._on_errored)
        worker.cancelled.connect(self._on_cancelled)
        self.set_running(True)

    def is_running(self) -> bool:
        return self._worker is not None

    @Slot()
    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.progress_label.setText("Cancelling…")

    @Slot(object)
    def _on_finished(self, run: TrainRun) -> None:
        self.set_running(False)
        self.set_val_auc(getattr(run.outcome.result, "val_auc", None))
        text = decision_text(run.outcome.decision)
        if not run.predictions_complete:
            text += " — prediction was cancelled; some images keep their old prediction."
        self.show_result(text)
        self.result_label.setToolTip(str(getattr(run.outcome.decision, "reason", "")))

    @Slot(str)
    def _on_errored(self, message: str) -> None:
        self.set_running(False)
        self.show_result(message, error=True)

    @Slot()
    def _on_cancelled(self) -> None:
        self.set_running(False)
        self.show_result(CANCELLED_TEXT)

    def set_running(self, running: bool) -> None:
        self.retrain_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.preset_combo.setEnabled(not running)
        self.minutes_spin.setEnabled(not running)
        if running:
            self.progress_bar.setValue(0)
            self.progress_label.setText("Starting… (loading the network library)")
            self.result_label.setText("")
            self._losses.clear()
            self._update_curve()
        else:
            self._worker = None
            self.progress_bar.setValue(0)
        self.running_changed.emit(running)

    @Slot(object)
    def show_progress(self, progress: object) -> None:
        if isinstance(progress, TrainProgress):
            self._show_train_progress(progress)
        elif isinstance(progress, PredictProgress):
            frac = progress.done / progress.total if progress.total else 1.0
            self.progress_bar.setValue(round(1000 * frac))
            self.progress_label.setText(f"Predicting {progress.done}/{progress.total}: {progress.stem}")

    def show_result(self, text: str, *, error: bool = False) -> None:
        self.result_label.setStyleSheet("color: #c0392b;" if error else "")
        self.result_label.setText(text)
        self.progress_label.setText("")

    def set_val_auc(self, value: float | None) -> None:
        self.auc_label.setText(f"Validation AUC: {fmt_auc(value)}")

    def _show_train_progress(self, p: TrainProgress) -> None:
        self.progress_bar.setValue(round(1000 * p.fraction))
        self.progress_label.setText(
            f"Step {p.step}/{p.total_steps} · epoch {p.epoch} · loss {p.loss:.3f} · ETA {fmt_duration(p.eta_s)}"
        )
        if p.val_auc is not None:
            self.set_val_auc(p.val_auc)
        if math.isfinite(p.loss):
            self._losses.append((p.step, p.loss))
            self._update_curve()

    def _make_loss_plot(self) -> QWidget | None:
        import pyqtgraph as pg

        plot = pg.PlotWidget(self)
        plot.setMinimumHeight(110)
        plot.setMaximumHeight(160)
        plot.setLabel("left", "loss")
        plot.setLabel("bottom", "step")
        plot.showGrid(x=True, y=True, alpha=0.3)
        self._curve = plot.plot([], [], pen=pg.mkPen(width=2))
        return plot

    def _update_curve(self) -> None:
        if self.loss_plot is None:
            return
        steps = [s for s, _ in self._losses]
        losses = [v for _, v in self._losses]
        self._curve.setData(steps, losses)
