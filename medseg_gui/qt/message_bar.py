"""The window's status bar: its messages wrap onto a second line instead of being cut off beside the permanent
fields (the pixel readout, the training device). Two new-user trials read "To mark background explici…" and
"…benchmarks suc|zoom": the key a message named was never shown. Three lines are always reserved (a trial's hints
ran to three), so a message never changes the canvas' height (a fitted image would re-fit under the mouse); a longer
one keeps its full text in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

LINES = 3


class MessageBar(QStatusBar):
    """QStatusBar with `showMessage(text, timeout_ms)`, `clearMessage()`, `currentMessage()` and `messageChanged`
    as usual, shown in a word-wrapping label."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_label = QLabel(self)
        self.message_label.setObjectName("statusMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)  # as the readout
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.message_label.setFixedHeight(LINES * self.message_label.fontMetrics().lineSpacing() + 2)
        self.addWidget(self.message_label, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clearMessage)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        self.message_label.setText(text)
        self.message_label.setToolTip(text)
        if timeout > 0:
            self._timer.start(timeout)
        else:
            self._timer.stop()
        self.messageChanged.emit(text)

    def clearMessage(self) -> None:  # noqa: N802 (Qt's name)
        self._timer.stop()
        if self.message_label.text():
            self.message_label.clear()
            self.message_label.setToolTip("")
            self.messageChanged.emit("")

    def currentMessage(self) -> str:  # noqa: N802 (Qt's name)
        return self.message_label.text()
