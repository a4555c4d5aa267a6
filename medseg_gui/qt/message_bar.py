"""The window's status bar: its messages wrap onto a second line instead of being cut off beside the permanent
fields (the pixel readout, the training device). Two new-user trials read "To mark background explici…" and
"…benchmarks suc|zoom": the key a message named was never shown. Three lines are always reserved (a trial's hints
ran to three), so a message never changes the canvas' height (a fitted image would re-fit under the mouse). A longer
one shows its first lines whole and ends the third with "…"; its full text is in the tooltip and the log (centred in
three lines, a trial's four-line message lost its first and last line to the edges).
The fields beside the messages (`StatusField`: the training device, the count, the pixel readout) end in "…" when
the window is too narrow for them: as plain labels they set the window's minimum width, and a maximised window grew
past a 1366-pixel screen while training at 150 % scaling (outside trial: Cancel and the readout cut off)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent, QTextLayout
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

log = logging.getLogger(__name__)

LINES = 3


def fit_lines(text: str, font: QFont, width: int, lines: int = LINES) -> str:
    """`text` as it shows in `lines` lines `width` pixels wide: whole when it fits, else its first lines whole and the
    rest elided into the last one ("…")."""
    layout = QTextLayout(text.replace("\n", "\u2028"), font)  # the layout breaks lines at U+2028, not at \n
    starts = []
    layout.beginLayout()
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        starts.append(line.textStart())
    layout.endLayout()
    if len(starts) <= lines:
        return text
    rest = " ".join(text[starts[lines - 1]:].split())
    return text[:starts[lines - 1]] + QFontMetrics(font).elidedText(rest, Qt.TextElideMode.ElideRight, width)


class _MessageLabel(QLabel):
    """A word-wrapping label that shows `message` in LINES lines (fit_lines), again whenever its width changes."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.message = ""

    def show_message(self, text: str) -> None:
        self.message = text
        self.setToolTip(text)
        self._fit()
        if self.text() != text:
            log.info("Status message (shortened in the status bar): %s", text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width()
        self.setText(fit_lines(self.message, self.font(), width) if width > 0 else self.message)


class StatusField(QLabel):
    """A permanent status-bar field as wide as its text when there is room, else narrower down to a few characters,
    its text then ending in "…" and whole in the tooltip (unless a tooltip of its own says it). `text()` is the
    whole text."""

    MIN_CHARS = 6  # the narrowest it gets: "254/3…"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text, self._tip = "", ""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._text = text
        self._fit()
        self.updateGeometry()

    def text(self) -> str:
        return self._text

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt's name)
        self._tip = tip
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self._size(self._text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self._size(self._text[:self.MIN_CHARS] + "…" if len(self._text) > self.MIN_CHARS else self._text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def _size(self, text: str) -> QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(text) + 1 + margins.left() + margins.right() if text else 0
        return QSize(width, self.fontMetrics().height() + margins.top() + margins.bottom())

    def _fit(self) -> None:
        shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, self.contentsRect().width())
        super().setText(shown)
        super().setToolTip(self._tip or (self._text if shown != self._text else ""))


class MessageBar(QStatusBar):
    """QStatusBar with `showMessage(text, timeout_ms)`, `clearMessage()`, `currentMessage()` (the full text) and
    `messageChanged` as usual, shown in a word-wrapping label."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_label = _MessageLabel(self)
        self.message_label.setObjectName("statusMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)  # fit_lines cuts plain text
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)  # as the readout
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.message_label.setFixedHeight(LINES * self.message_label.fontMetrics().lineSpacing() + 2)
        self.addWidget(self.message_label, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clearMessage)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        self.message_label.show_message(text)
        if timeout > 0:
            self._timer.start(timeout)
        else:
            self._timer.stop()
        self.messageChanged.emit(text)

    def clearMessage(self) -> None:  # noqa: N802 (Qt's name)
        self._timer.stop()
        if self.message_label.message:
            self.message_label.show_message("")
            self.messageChanged.emit("")

    def currentMessage(self) -> str:  # noqa: N802 (Qt's name)
        return self.message_label.message
