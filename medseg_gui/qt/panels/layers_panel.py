"""Right panel: show/hide and fade the canvas layers (label, other classes, contours, FP/FN, ROI, uncertainty), and
the probability threshold that turns a prediction into contours, FP/FN, exported masks and Dice."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGridLayout, QGroupBox, QLabel, QSlider, QWidget

from medseg_gui.qt.defaults import LAYER_HIDDEN, LAYER_OPACITY

LAYER_ROWS: dict[str, tuple[str, str]] = {  # layer → (text, tooltip); opacities: qt.defaults.LAYER_OPACITY
    "label": ("Label", "Your label of the current class"),
    "others": ("Other classes", "Labels of the other classes, faint"),
    "contours": ("Predicted contours", "Outline of the model's prediction (at the threshold below)"),
    "fpfn": ("FP / FN", "Red: predicted but not labelled (false positive); blue: labelled but missed (false negative)"),
    "roi": ("ROI", "Field of view: metrics are computed inside it only"),
    "uncertainty": ("Uncertainty", "Magenta where the model is unsure (probability near the threshold): "
                                   "labelling there teaches it most"),
}


class LayersPanel(QGroupBox):
    visibility_changed = Signal(str, bool)
    opacity_changed = Signal(str, float)
    threshold_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None, threshold: float = 0.5) -> None:
        super().__init__("Layers", parent)
        grid = QGridLayout(self)
        self.checks: dict[str, QCheckBox] = {}
        self.sliders: dict[str, QSlider] = {}
        for row, (layer, (text, tip)) in enumerate(LAYER_ROWS.items(), start=1):  # row 0: threshold
            check = QCheckBox(text, self)
            check.setChecked(layer not in LAYER_HIDDEN)
            check.setToolTip(tip)
            check.setObjectName(f"layer_{layer}")
            check.toggled.connect(self._emit_visibility)
            slider = QSlider(Qt.Orientation.Horizontal, self)
            slider.setRange(0, 100)
            slider.setValue(round(LAYER_OPACITY[layer] * 100))
            slider.setToolTip(f"Opacity of {text.lower()}")
            slider.valueChanged.connect(self._emit_opacity)
            slider.setProperty("layer", layer)
            check.setProperty("layer", layer)
            grid.addWidget(check, row, 0)
            grid.addWidget(slider, row, 1)
            self.checks[layer], self.sliders[layer] = check, slider
        self.threshold_spin = QDoubleSpinBox(self)
        self.threshold_spin.setObjectName("thresholdBox")
        self.threshold_spin.setRange(0.05, 0.95)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setValue(threshold)
        self.threshold_spin.setToolTip("A pixel counts as predicted when its probability is at least this; used by "
                                       "the contours, FP/FN, Accept prediction, Dice and the exported masks")
        self.threshold_spin.valueChanged.connect(self.threshold_changed)
        grid.addWidget(QLabel("Threshold", self), 0, 0)
        grid.addWidget(self.threshold_spin, 0, 1)

    def states(self) -> dict[str, tuple[bool, float]]:
        """layer → (visible, opacity in [0, 1]); the window applies these to a fresh canvas."""
        return {k: (self.checks[k].isChecked(), self.sliders[k].value() / 100) for k in self.checks}

    def threshold(self) -> float:
        return round(float(self.threshold_spin.value()), 2)

    def set_threshold(self, value: float) -> None:
        """Set the box without emitting `threshold_changed` (the window applies it itself)."""
        self.threshold_spin.blockSignals(True)
        self.threshold_spin.setValue(value)
        self.threshold_spin.blockSignals(False)

    def toggle(self, layer: str) -> None:
        self.checks[layer].toggle()

    def _emit_visibility(self, checked: bool) -> None:
        self.visibility_changed.emit(self.sender().property("layer"), checked)

    def _emit_opacity(self, value: int) -> None:
        self.opacity_changed.emit(self.sender().property("layer"), value / 100)
