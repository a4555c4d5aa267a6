"""Keys the canvas reacts to while they are *held* (Space: pan, H: hide overlays), wherever the keyboard focus is in
the canvas' window.

A window-wide QAction never sees a key release, so hold keys cannot be shortcuts. Instead an event filter watches
the canvas and whichever widget of its window has the focus (it moves with the focus), so Space+drag pans even right
after a click in the image list instead of painting. Text fields keep their keys, and a focused button, check box
or link keeps its Space (it presses it; the window's buttons take the focus only from the keyboard, so a click on one
leaves Space to the canvas: qt.keyboard). Focus leaving the window releases everything held.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QLabel, QLineEdit,
                               QPlainTextEdit, QTextEdit, QWidget)

Setter = Callable[[bool], None]
_TEXT_ENTRY = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)
_PLAIN = Qt.KeyboardModifier.NoModifier | Qt.KeyboardModifier.KeypadModifier


def _keeps(widget: QObject, key: int) -> bool:
    """True when the focused `widget` uses `key` itself: a text field any key, a button or a link its Space."""
    if isinstance(widget, _TEXT_ENTRY) or (isinstance(widget, QComboBox) and widget.isEditable()):
        return True
    presses = isinstance(widget, QAbstractButton) or (isinstance(widget, QLabel) and bool(
        widget.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByKeyboard))
    return presses and key == Qt.Key.Key_Space


class HoldKeys(QObject):
    """Calls ``setters[key](True)`` on the first press of a hold key and ``(False)`` on its release."""

    def __init__(self, canvas: QWidget, setters: dict[Qt.Key, Setter]) -> None:
        super().__init__(canvas)
        self._canvas = canvas
        self._setters = dict(setters)
        self._watched: QWidget | None = None
        canvas.installEventFilter(self)
        app = QApplication.instance()
        app.focusChanged.connect(self._focus_changed)
        self._focus_changed(None, app.focusWidget())

    def release_all(self) -> None:
        for setter in self._setters.values():
            setter(False)

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if self._watched is not None and self._watched is not self._canvas:
            try:
                self._watched.removeEventFilter(self)
            except RuntimeError:  # the widget that had the focus was deleted
                pass
        self._watched = None
        if new is not None and new is not self._canvas and new.window() is self._canvas.window():
            new.installEventFilter(self)
            self._watched = new

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind == QEvent.Type.FocusOut and event.reason() == Qt.FocusReason.ActiveWindowFocusReason:
            self.release_all()  # the window lost the keyboard: a release would never arrive
            return False
        if not isinstance(event, QKeyEvent) or kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) \
                or _keeps(obj, event.key()):
            return False
        setter = self._setters.get(event.key())
        press = kind == QEvent.Type.KeyPress
        if setter is None or (press and (event.modifiers() & ~_PLAIN) != Qt.KeyboardModifier.NoModifier):
            return False
        if not event.isAutoRepeat():
            setter(press)
        return True  # consumed: Space must not also toggle a list row, H not search the list
