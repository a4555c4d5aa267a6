"""Right panel: show/hide and fade the canvas layers (label, other classes, contours, FP/FN, ROI, probability heat
map, uncertainty), and
the probability threshold that turns a prediction into contours, FP/FN, exported masks and Dice.

The threshold box shows the review state's threshold (core.review, its one owner: `observe`); a typed value is only
a request (`threshold_changed`), which the window hands to the review state. The current model's suggested threshold
sits beside the box ("suggested 0.35 · use it", its validation Dice in the tooltip): on a line of its own it made
the right-hand column taller than a 1400×860 window."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGridLayout, QGroupBox, QLabel, QSlider, QWidget

from medseg_gui.qt.defaults import LAYER_HIDDEN, LAYER_OPACITY, THIN_OUTLINE_MIN_ZOOM, THRESHOLD_RANGE
from medseg_gui.qt.keyboard import LinkLabel
from medseg_gui.qt.keymap import ACTIONS, layer_tip
from medseg_gui.qt.panels.train_text import threshold_suggestion
from medseg_gui.qt.panels.wrap_grid import WrapGrid

LAYER_ROWS: dict[str, tuple[str, str]] = {  # layer → (text, tooltip); opacities: qt.defaults.LAYER_OPACITY
    "label": ("Label", "Your label of the current class"),
    "others": ("Other classes", "Labels of the other classes, faint"),
    "contours": ("Predicted contours", "Outline of the model's prediction (at the threshold below). A thin-structure "
                                       f"class's (vessels) shows only from {THIN_OUTLINE_MIN_ZOOM:.0%} zoom "
                                       f"({ACTIONS['actual_size'].keys[0]}): zoomed out, its outlines would cover the "
                                       "vessels, their label and FP/FN; there FP/FN and the Probability heat map show "
                                       "the prediction"),
    "fpfn": ("FP / FN", "Red: predicted but not labelled (false positive); blue: labelled but missed (false negative)"),
    "roi": ("Region", "Where the current class is trained and scored, darkened outside: the image's field of view "
                      "(a fundus photo), or for a class inside another (lesion inside cervix) that class's label, or "
                      "its prediction where it has no label"),
    "probability": ("Probability", "Heat map of the model's probability for the current class: clear at 0, then "
                                   "dark purple, green and yellow as it rises to 1"),
    "uncertainty": ("Uncertainty", "Magenta where the model is unsure (probability near the threshold): "
                                   "labelling there teaches it most"),
}


def suggestion_html(value: float, held: bool = False) -> str:
    """'suggested 0.35 · use it', without the link while the box already `held` it (a calibrated model's 0.50)."""
    return f"suggested {value:.2f}" + ("" if held else ' · <a href="use">use it</a>')


class LayersPanel(QGroupBox):
    visibility_changed = Signal(str, bool)
    opacity_changed = Signal(str, float)
    threshold_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None, threshold: float = 0.5) -> None:
        super().__init__("Layers", parent)
        grid = QGridLayout(self)
        self.checks: dict[str, QCheckBox] = {}
        self.sliders: dict[str, QSlider] = {}
        for row, (layer, (text, tip)) in enumerate(LAYER_ROWS.items(), start=1):  # row 0: threshold, suggestion
            check = QCheckBox(text, self)
            check.setChecked(layer not in LAYER_HIDDEN)
            check.setToolTip(layer_tip(layer, tip))
            check.setObjectName(f"layer_{layer}")
            check.toggled.connect(self._emit_visibility)
            slider = QSlider(Qt.Orientation.Horizontal, self)
            slider.setRange(0, 100)
            slider.setValue(round(LAYER_OPACITY[layer] * 100))
            slider.valueChanged.connect(self._emit_opacity)
            slider.setProperty("layer", layer)
            self._opacity_tip(slider, text)
            slider.valueChanged.connect(lambda _v, s=slider, t=text: self._opacity_tip(s, t))
            check.setProperty("layer", layer)
            grid.addWidget(check, row, 0)
            grid.addWidget(slider, row, 1)
            self.checks[layer], self.sliders[layer] = check, slider
        self.threshold_spin = QDoubleSpinBox(self)
        self.threshold_spin.setObjectName("thresholdBox")
        self.threshold_spin.setRange(*THRESHOLD_RANGE)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setValue(threshold)
        self.threshold_spin.setToolTip("A pixel counts as predicted when its probability is at least this; used by "
                                       "the contours, FP/FN, Accept prediction, Dice and the exported masks. One "
                                       "threshold for every class: where a class lies inside another (two-stage), "
                                       "it also moves the edge of that region where it is predicted, not labelled")
        self.threshold_spin.valueChanged.connect(self.threshold_changed)
        self.threshold_spin.valueChanged.connect(lambda _value: self._suggestion_text())
        self.suggestion = LinkLabel(self)  # "suggested 0.35 · use it", from the current model; Tab + Return use it
        self.suggestion.setObjectName("thresholdSuggestion")
        self.suggestion.linkActivated.connect(lambda _link: self.use_suggestion())
        self.suggestion.setText(suggestion_html(0.5))  # hidden until a model suggests one, its text gives the
        self.suggestion.hide()  # column's default width room for it (WrapGrid.sizeHint)
        self._suggested: float | None = None
        # across both columns: in the slider column it widened the right-hand column; the suggestion goes below the
        # name when the column is narrow (beside it, it set the column's minimum once a model was trained)
        threshold_row = WrapGrid((3, 2), spacing=4)  # the label, box and suggestion touched (light-theme trial)
        name = QLabel("Threshold", self)  # "Threshold (all classes)" pushed the suggestion below it in the default
        name.setToolTip(self.threshold_spin.toolTip())  # 340 px column: the column scrolled at 1366×768 (review)
        threshold_row.addWidget(name, 0)
        threshold_row.addWidget(self.threshold_spin, 1)
        threshold_row.addWidget(self.suggestion, 0)
        grid.addLayout(threshold_row, 0, 0, 1, 2)

    def states(self) -> dict[str, tuple[bool, float]]:
        """layer → (visible, opacity in [0, 1]); the window applies these to a fresh canvas."""
        return {k: (self.checks[k].isChecked(), self.sliders[k].value() / 100) for k in self.checks}

    def observe(self, review: Any) -> None:
        """Show the threshold of `review` (a core.review.ReviewState) and follow its `threshold` events."""
        self.set_threshold(review.threshold)
        review.events.threshold.connect(self.set_threshold)

    def threshold(self) -> float:
        """The value in the box (what the owner holds once it has taken a typed value)."""
        return round(float(self.threshold_spin.value()), 2)

    def set_threshold(self, value: float) -> None:
        """Show `value` without emitting `threshold_changed` (it comes from the owner). A value the box shows
        already is left alone: rewriting it while the user types (0.4 of 0.45) would reformat the text under them."""
        if self.threshold() == round(float(value), 2):
            return
        self.threshold_spin.blockSignals(True)
        self.threshold_spin.setValue(value)
        self.threshold_spin.blockSignals(False)
        self._suggestion_text()

    def show_suggestion(self, model_info: dict | None) -> None:
        """Offer the current model's best-validation-Dice threshold (models/<class>/current.json); hidden without."""
        found = threshold_suggestion(model_info)
        self._suggested = None if found is None else found[0]
        if found is not None:
            self._suggestion_text()
            self.suggestion.setToolTip("The threshold the current model chose on its validation images: "
                                       f"{found[1]}")
        self.suggestion.setVisible(found is not None)

    def suggested_threshold(self) -> float | None:
        return self._suggested

    def _suggestion_text(self) -> None:
        if self._suggested is not None:
            self.suggestion.setText(suggestion_html(self._suggested,
                                                    abs(self.threshold_spin.value() - self._suggested) < 0.005))

    def use_suggestion(self) -> None:
        """Put the suggested threshold in the box; its change reaches the window like a typed value."""
        if self._suggested is not None and self.threshold_spin.isEnabled():
            self.threshold_spin.setValue(self._suggested)

    def toggle(self, layer: str) -> None:
        self.checks[layer].toggle()

    @staticmethod
    def _opacity_tip(slider: QSlider, text: str) -> None:
        """'Opacity of FP / FN: 40 %': the layer's name as shown beside it (lower-cased it read 'fp / fn'), and the
        value, which a number beside each slider would show only by widening the column."""
        slider.setToolTip(f"Opacity of {text}: {slider.value()} %")

    def _emit_visibility(self, checked: bool) -> None:
        self.visibility_changed.emit(self.sender().property("layer"), checked)

    def _emit_opacity(self, value: int) -> None:
        self.opacity_changed.emit(self.sender().property("layer"), value / 100)
