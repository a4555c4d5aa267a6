"""The middle of the window: the canvas with its colour legend, or, in its place, a centred message (e.g. why an
image cannot be read). A message can wait (``show_message(text, after_ms)``): meanwhile a still picture of what the
canvas showed stays on screen (an image that loads in a few tens of milliseconds shows no "Loading…" flash); the
canvas itself could not stay: with its updates off, Qt still repainted it with the placeholder it held, blank within
~35 ms in an outside trial. A press on the picture or the message is reported (``pressed_instead``): it takes no
stroke, and the window says so.
While the canvas has the keyboard focus its frame shows the theme's focus ring (property "keys", theme.FOCUS_RULES):
an outside trial's keys went to the canvas unseen."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QWidget

from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.legend import CanvasLegend


class CanvasArea(QStackedWidget):
    """Page 0 is the canvas, page 1 a word-wrapped message, page 2 the still picture shown while a message waits;
    `show_message` / `show_canvas` switch between them."""

    pressed_instead = Signal(str)  # a press on the still picture or the message, which take no stroke; why, if it
    # was made before the image changed (canvas.late_input), else ""

    def __init__(self, canvas: Canvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvasArea")
        self.setProperty("keys", False)
        self.canvas = canvas
        self.still = QLabel(self)  # what the canvas showed, while a message waits (no brush circle: it is disabled)
        self.still.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.still.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)  # its picture sizes nothing
        self.still.installEventFilter(self)
        self.message = QLabel(self)
        self.message.setObjectName("canvasMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMargin(40)
        # its text sizes nothing, its margins as before: a hidden "Loading EndoCV2021_C6_0100020…" widened the canvas'
        # least width to 300 px, so the window took 50 px from the image list at 150 % while that image was shown
        # (outside trial)
        self.message.setMinimumWidth(self.message.minimumSizeHint().width())  # no text yet: its margins
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message.installEventFilter(self)
        canvas.installEventFilter(self)  # its focus in and out: the ring
        self.legend = CanvasLegend(canvas)  # every colour shown on the canvas, bottom-left
        self.addWidget(canvas)
        self.addWidget(self.message)
        self.addWidget(self.still)
        self._later = QTimer(self, singleShot=True)  # a message that waits
        self._later.timeout.connect(lambda: self._show_message_now())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched in (self.still, self.message) and event.type() == QEvent.Type.MouseButtonPress:
            self.pressed_instead.emit(self.canvas.input.late.refusal(event) or "")
            return watched is self.still  # the message's text stays selectable
        if watched is self.canvas and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self.setProperty("keys", event.type() == QEvent.Type.FocusIn)
            self.style().unpolish(self)  # the style sheet reads the property again
            self.style().polish(self)
            self.update()
        return False

    def show_canvas(self) -> None:
        self._thaw()
        self.setCurrentWidget(self.canvas)

    def show_message(self, text: str, after_ms: int = 0) -> None:
        """`text` in the canvas' place, now or, while the canvas is on show, after `after_ms` unless `show_canvas`
        comes first (until then a still picture of what the canvas shows now stays, whatever it holds later)."""
        self.message.setText(text)
        if after_ms > 0 and self.currentWidget() is self.canvas:
            self.still.setPixmap(self.canvas.grab())
            self.setCurrentWidget(self.still)
            self._later.start(after_ms)
        else:
            self._show_message_now()

    def _show_message_now(self) -> None:
        self._thaw()
        self.setCurrentWidget(self.message)

    def _thaw(self) -> None:
        self._later.stop()
        self.still.setPixmap(QPixmap())  # a full-window picture: not kept

    def waiting(self) -> bool:
        """Whether the still picture stands in for the canvas (a message waits)."""
        return self.currentWidget() is self.still

    def message_shown(self) -> str | None:
        """The message on show, or None while the canvas is shown."""
        return self.message.text() if self.currentWidget() is self.message else None
