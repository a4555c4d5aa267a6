"""Mouse presses that reach the canvas after a change they came before.

A window manager that grabs the mouse button on a window (openbox does, to raise a window clicked) holds a press, and
the moves and the release after it, until it has looked at it; a key pressed meanwhile goes on at once. A stroke drawn
just before PgDown reached the canvas after the next image was up (outside trial, xdotool under Xvfb and openbox: 23
of 90 strokes followed at once by PgDown were drawn on the placeholder of the next image and dropped; without a window
manager none). The window system's timestamps still tell the true order. ``LateInput`` keeps the time of the last
press, release or key the window has received and the time of each change of what an edit acts on (the image, the
class, the tool; an accepted prediction, an undo or redo); a press stamped no later than such a change was made
before it: it is refused with a word, not drawn where it was not meant to go.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QInputEvent, QWindow
from PySide6.QtWidgets import QWidget

_TIMED = (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride, QEvent.Type.MouseButtonPress,
          QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick)  # input that may change something
LATE_MS = 10_000  # a press this much older than a change is a clock that wrapped (X time: every 49.7 days), not late


class LateInput(QObject):
    """Watches the native window of `widget` (once shown: ``watch``); ``changed(what)`` after each change an edit
    depends on, ``refusal(event)`` for a press: the message refusing it, or None when it came after every change."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self._widget = widget
        self._window: QWindow | None = None
        self.time = 0  # window-system time (ms) of the last timed input of the window; 0: none seen yet
        self._changes: deque[tuple[int, str]] = deque(maxlen=8)  # (time, what changed), oldest first

    def watch(self) -> None:
        """Follow the input of the widget's native window (every press and key passes there before any widget)."""
        window = self._widget.window().windowHandle()
        if window is not None and window is not self._window:
            if self._window is not None:
                self._window.removeEventFilter(self)
            window.installEventFilter(self)
            self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in _TIMED and isinstance(event, QInputEvent) and event.timestamp():
            self.time = event.timestamp()  # the last, not the largest: a clock that wrapped goes on from there
        return False

    def changed(self, what: str) -> None:
        """`what` ("the image changed") changed now, after the input seen so far."""
        if self.time:
            self._changes.append((self.time, what))

    def refusal(self, event: QInputEvent) -> str | None:
        """Why the press `event` is not acted on: it was made before a change seen already (None: it was not)."""
        made = event.timestamp()
        what = next((what for at, what in self._changes if made and 0 <= at - made <= LATE_MS), None)
        if what is None:
            return None
        return (f"Not drawn: that stroke or click was made before {what} but reached medseg_gui only afterwards "
                "(held back by the window system). Nothing changed; do it again.")
