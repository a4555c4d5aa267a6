"""The Train panel's time box: the training budget in minutes (the GUI always trains against one)."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QWidget

MIN_MINUTES, MAX_MINUTES, DEFAULT_MINUTES = 0.5, 120.0, 3.0


def time_box(parent: QWidget) -> QDoubleSpinBox:
    """A box of MIN_MINUTES to MAX_MINUTES in half minutes, showing DEFAULT_MINUTES."""
    box = QDoubleSpinBox(parent)
    box.setObjectName("timeBox")
    box.setRange(MIN_MINUTES, MAX_MINUTES)
    box.setDecimals(1)
    box.setSingleStep(0.5)
    box.setSuffix(" min")
    box.setCorrectionMode(QDoubleSpinBox.CorrectionMode.CorrectToNearestValue)  # 0.2 → 0.5, kept
    box.setValue(DEFAULT_MINUTES)
    box.setToolTip(f"Training budget, {MIN_MINUTES:g} to {MAX_MINUTES:g} minutes: the whole time is used; the best "
                   "validated weights are kept")
    return box
