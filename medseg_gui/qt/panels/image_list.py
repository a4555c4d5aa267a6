"""Left panel: the project's images with "Labelled" (current class) and one AUC column per class.

Unreadable images stay in the list, in red, with the reason as tooltip; they can be selected (the window shows the
message) but never crash anything.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

ERROR_COLOR = QColor(200, 30, 30)
NAME_COL, LABELLED_COL, FIRST_AUC_COL = 0, 1, 2


class ImageListPanel(QWidget):
    """Emits `stem_selected(stem)` when the user (or `select`) changes the current row."""

    stem_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("imageTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setSortingEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self._stems: list[str] = []
        self._classes: list[str] = []
        self._errors: dict[str, str] = {}
        self.table.currentCellChanged.connect(self._on_current_changed)

    # -- filling -------------------------------------------------------------------------------------------------
    def set_images(self, stems: list[str], classes: list[str], errors: dict[str, str] | None = None) -> None:
        self._stems, self._classes, self._errors = list(stems), list(classes), dict(errors or {})
        self.table.blockSignals(True)
        self.table.clear()
        self.table.setRowCount(len(stems))
        self.table.setColumnCount(FIRST_AUC_COL + len(classes))
        self.table.setHorizontalHeaderLabels(["Name", "Labelled"] + [f"AUC {c}" for c in classes])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME_COL, QHeaderView.ResizeMode.Stretch)
        for col in range(1, self.table.columnCount()):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        for row, stem in enumerate(stems):
            name = QTableWidgetItem(stem)
            name.setData(Qt.ItemDataRole.UserRole, stem)
            self.table.setItem(row, NAME_COL, name)
            for col in range(1, self.table.columnCount()):
                self.table.setItem(row, col, self._cell(""))
            if stem in self._errors:
                self._mark_error(row, self._errors[stem])
        self.table.blockSignals(False)

    def set_error(self, stem: str, message: str) -> None:
        self._errors[stem] = message
        if stem in self._stems:
            self._mark_error(self._stems.index(stem), message)

    def set_labelled(self, labelled: set[str]) -> None:
        """Tick the images that have a label for the current class."""
        for row, stem in enumerate(self._stems):
            self.table.item(row, LABELLED_COL).setText("✓" if stem in labelled else "")

    def set_metrics(self, cls: str, metrics: dict[str, dict]) -> None:
        """Fill the AUC column of `cls` from {stem: {"auc": ...}}; missing or NaN AUC shows as blank/"–"."""
        if cls not in self._classes:
            return
        col = FIRST_AUC_COL + self._classes.index(cls)
        for row, stem in enumerate(self._stems):
            self.table.item(row, col).setText(format_auc(metrics.get(stem, {}).get("auc")))

    # -- queries and navigation --------------------------------------------------------------------------------
    def stems(self) -> list[str]:
        return list(self._stems)

    def error(self, stem: str) -> str | None:
        return self._errors.get(stem)

    def current_stem(self) -> str | None:
        row = self.table.currentRow()
        return self._stems[row] if 0 <= row < len(self._stems) else None

    def auc_text(self, stem: str, cls: str) -> str:
        return self.table.item(self._stems.index(stem), FIRST_AUC_COL + self._classes.index(cls)).text()

    def select(self, stem: str) -> None:
        if stem in self._stems:
            self.table.setCurrentCell(self._stems.index(stem), NAME_COL)

    def step(self, delta: int) -> None:
        """Move the selection by `delta` rows, wrapping around."""
        if not self._stems:
            return
        row = self.table.currentRow()
        row = 0 if row < 0 else (row + delta) % len(self._stems)
        self.table.setCurrentCell(row, NAME_COL)

    # -- internals -----------------------------------------------------------------------------------------------
    def _on_current_changed(self, row: int, _col: int, prev_row: int, _prev_col: int) -> None:
        if row != prev_row and 0 <= row < len(self._stems):
            self.stem_selected.emit(self._stems[row])

    @staticmethod
    def _cell(text: str) -> QTableWidgetItem:
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        return item

    def _mark_error(self, row: int, message: str) -> None:
        for col in range(self.table.columnCount()):
            item = self.table.item(row, col)
            item.setForeground(QBrush(ERROR_COLOR))
            item.setToolTip(message)
        name = self.table.item(row, NAME_COL)
        name.setText(f"{self._stems[row]} — {short_reason(message)}")


def short_reason(message: str) -> str:
    """'cannot read: file is empty' style text for the list cell (the full message is the tooltip)."""
    lowered = message.lower()
    if "cannot read" in lowered:
        return message[lowered.index("cannot read"):]
    match = re.match(r"image file '[^']*' (.*?)\.?$", message, flags=re.IGNORECASE | re.DOTALL)
    reason = f"file {match.group(1)}" if match else message.rstrip(".")
    return f"cannot read: {reason}"


def format_auc(value: object) -> str:
    if value is None:
        return ""
    try:
        auc = float(value)
    except (TypeError, ValueError):
        return ""
    return "–" if math.isnan(auc) else f"{auc:.3f}"
