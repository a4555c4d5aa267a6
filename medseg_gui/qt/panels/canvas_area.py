"""The middle of the window: the canvas with its colour legend, or, in its place, a centred message (e.g. why an
image cannot be read)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.legend import CanvasLegend


class CanvasArea(QStackedWidget):
    """Page 0 is the canvas, page 1 a word-wrapped message; `show_message` / `show_canvas` switch between them."""

    def __init__(self, canvas: Canvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.legend = CanvasLegend(canvas)  # every colour shown on the canvas, bottom-left
        self.message = QLabel(self)
        self.message.setObjectName("canvasMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMargin(40)
        self.addWidget(canvas)
        self.addWidget(self.message)

    def show_canvas(self) -> None:
        self.setCurrentWidget(self.canvas)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def message_shown(self) -> str | None:
        """The message on show, or None while the canvas is shown."""
        return self.message.text() if self.currentWidget() is self.message else None
