"""Dialogs that wait until the user stops drawing. While a modal dialog is open, Qt drops the mouse input to the window.
A window manager that holds back a mouse press (openbox does, to raise the window) can let a key overtake the stroke
made just before it, so a question that opened at once on the key dropped that stroke without a word: Accept
prediction's question lost at least 9 of 268 strokes made just before A (xdotool under Xvfb and openbox, the stroke
delivered up to 25 ms after the key; 0 of 168 since). A save-failure dialog that opened between two strokes dropped
the second: 13 of 14 begun 10 ms after a stroke whose save failed (0 of 28 since). ``DrawingPause.after(quiet_ms,
callback)`` calls back once no mouse button is held and the canvas has had no press or release for `quiet_ms`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

_STROKE_ENDS = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick)
HELD_POLL_MS = 50  # while a button is held (perhaps outside the canvas, whose release is not seen here), look again


class DrawingPause(QObject):
    """Watches the presses and releases of `canvas`; runs each callback given to ``after`` at its pause, in order."""

    def __init__(self, canvas: QWidget) -> None:
        super().__init__(canvas)
        self._last = 0.0  # time.monotonic() of the canvas' last press or release
        self._waiting: list[tuple[float, int, Callable[[], object]]] = []  # (asked at, quiet ms, callback)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._run)
        canvas.installEventFilter(self)

    def after(self, quiet_ms: int, callback: Callable[[], object]) -> None:
        """Call `callback` once `quiet_ms` have passed since now and since the canvas' last press or release, with no
        mouse button held then (never from within this call)."""
        self._waiting.append((time.monotonic(), quiet_ms, callback))
        self._schedule()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in _STROKE_ENDS:
            self._last = time.monotonic()
            if self._waiting:
                self._schedule()
        return False

    def _due(self, asked: float, quiet_ms: int) -> float:
        return max(asked, self._last) + quiet_ms / 1000

    def _schedule(self) -> None:
        due = min(self._due(asked, quiet) for asked, quiet, _call in self._waiting)
        self._timer.start(max(0, round((due - time.monotonic()) * 1000)))

    def _run(self) -> None:
        if QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton:  # a stroke (or a drag anywhere) under way
            self._timer.start(HELD_POLL_MS)
            return
        now = time.monotonic()
        due = [item for item in self._waiting if self._due(item[0], item[1]) <= now]
        self._waiting = [item for item in self._waiting if item not in due]
        if self._waiting:
            self._schedule()
        for _asked, _quiet, callback in due:
            callback()
