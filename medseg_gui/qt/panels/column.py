"""The right-hand column: panels stacked top to bottom in a vertical scroll area, so every control (Cancel
included) stays reachable on a 1280×720 screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget


def scroll_column(panels: list[QWidget], parent: QWidget | None = None) -> QScrollArea:
    side = QWidget()
    column = QVBoxLayout(side)
    for panel in panels:
        column.addWidget(panel)
    column.addStretch(1)
    scroll = QScrollArea(parent)
    scroll.setObjectName("sideColumn")
    scroll.setWidget(side)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(side.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
    return scroll
