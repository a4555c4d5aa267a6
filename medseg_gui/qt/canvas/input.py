"""Mouse, wheel and keyboard handling of the canvas (mixed into ``Canvas``).

Keys while the canvas has focus (from ``qt.keymap``): the tool keys, smaller/larger brush, undo, redo; Enter/Escape/
Backspace finish, cancel or shorten a polygon. Everything else (1–9, PgUp/PgDn, ...) is left to the parent window.
The hold keys (``keymap.HOLD``: Space held + drag pans, H held hides all overlays) work wherever the focus is in the
window (``hold_keys``). The middle button always pans; the wheel zooms at the cursor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QCursor, QKeyEvent, QMouseEvent, QWheelEvent

from medseg_gui.qt import keymap
from medseg_gui.qt.canvas.hold_keys import HoldKeys
from medseg_gui.qt.canvas.view import WHEEL_STEP

_REPEATING = ("smaller_brush", "bigger_brush")  # commands that act on auto-repeated presses too


def brush_step(size: int, direction: int) -> int:
    """Next brush size for [ / ]: steps of 1 px below 10 px, then about 15 %."""
    step = 1 if size < 10 else max(1, round(size * 0.15))
    return max(1, size + direction * step)


class CanvasInput:
    """Event handling; relies on the attributes and methods that ``Canvas`` defines."""

    def _init_input(self) -> None:
        self._cursor: QPointF | None = None
        self._pan_from: QPointF | None = None
        self._space = False
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._update_cursor_shape()
        self._hold_keys = HoldKeys(self, {keymap.qt_key(keymap.HOLD["pan"][0]): self._set_space,
                                          keymap.qt_key(keymap.HOLD["hide_overlays"][0]): self._set_hide_overlays})

    # -- keyboard ------------------------------------------------------------------------------------------------
    def _key_action(self, event: QKeyEvent) -> Callable[[], None] | None:
        key, mods = event.key(), event.modifiers()
        command = keymap.canvas_command(event)
        if command is not None and command.startswith("tool:"):
            return lambda: self.set_tool(command.removeprefix("tool:"))
        if command in _REPEATING:
            direction = 1 if command == "bigger_brush" else -1
            return lambda: self.set_brush_size(brush_step(self._brush, direction))
        if command in ("undo", "redo"):
            return self.undo if command == "undo" else self.redo
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Backspace):
            tool = self._tools[self._tool]
            if getattr(tool, "points", None):
                return lambda: tool.key(key, mods)
        return None

    def _handles_key(self, event: QKeyEvent) -> bool:
        return self._key_action(event) is not None

    def _key_press(self, event: QKeyEvent) -> bool:
        action = self._key_action(event)
        if action is None:
            event.ignore()
            return False
        if not event.isAutoRepeat() or keymap.canvas_command(event) in _REPEATING:
            action()
        event.accept()
        return True

    def _set_hide_overlays(self, hide: bool) -> None:
        if hide != self._hide_overlays:
            self._hide_overlays = hide
            self.update()

    def _set_space(self, held: bool) -> None:
        if held != self._space:
            self._space = held
            self._update_cursor_shape()
            self._update_preview()

    # -- mouse ---------------------------------------------------------------------------------------------------
    def _pans(self, event: QMouseEvent) -> bool:
        if event.button() == Qt.MouseButton.MiddleButton:
            return True
        return event.button() == Qt.MouseButton.LeftButton and (self._space or self._tool == "pan")

    def _mouse_press(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        wpos = event.position()
        self._move_cursor(wpos)
        if self.doc.image is None:
            return
        if self._pans(event):
            self._pan_from = QPointF(wpos)
            self._update_cursor_shape()
        elif event.button() == Qt.MouseButton.LeftButton and self._pan_from is None:
            self._tools[self._tool].press(self.widget_to_image(wpos), wpos, event.modifiers())

    def _mouse_move(self, event: QMouseEvent) -> None:
        wpos = event.position()
        self._move_cursor(wpos)
        if self._pan_from is not None:
            d = wpos - self._pan_from
            self._pan_from = QPointF(wpos)
            self._set_view(self.view.panned(d.x(), d.y()))
        elif self.doc.image is not None:
            self._tools[self._tool].move(self.widget_to_image(wpos), wpos, event.modifiers())
        self._emit_cursor_info()

    def _mouse_release(self, event: QMouseEvent) -> None:
        wpos = event.position()
        if self._pan_from is not None:
            if not (event.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.MiddleButton)):
                self._pan_from = None
                self._update_cursor_shape()
        elif event.button() == Qt.MouseButton.LeftButton and self.doc.image is not None:
            self._tools[self._tool].release(self.widget_to_image(wpos), wpos, event.modifiers())

    def _mouse_double_click(self, event: QMouseEvent) -> None:
        if self._tool == "polygon" and event.button() == Qt.MouseButton.LeftButton and self.doc.image is not None:
            wpos = event.position()
            self._tools["polygon"].double_click(self.widget_to_image(wpos), wpos, event.modifiers())
        else:
            self._mouse_press(event)

    def _wheel(self, event: QWheelEvent) -> None:
        dy = event.angleDelta().y()
        if self.doc.image is None or dy == 0:
            event.ignore()
            return
        self.set_zoom(self.view.zoom * WHEEL_STEP ** (dy / 120), event.position())
        self._move_cursor(event.position())
        event.accept()

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._move_cursor(None)
        super().leaveEvent(event)

    # -- cursor feedback -----------------------------------------------------------------------------------------
    def _paint_preview(self) -> bool:
        return not self._space and self._pan_from is None

    def _update_preview(self) -> None:
        rect = self._tools[self._tool].preview_rect(self._cursor)
        if not rect.isEmpty():
            self.update(rect.toAlignedRect())

    def _move_cursor(self, wpos: QPointF | None) -> None:
        self._update_preview()
        self._cursor = None if wpos is None else QPointF(wpos)
        self._update_preview()

    def _update_cursor_shape(self) -> None:
        if self._pan_from is not None:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._space or self._tool == "pan":
            shape = Qt.CursorShape.OpenHandCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        self.setCursor(QCursor(shape))

    def cursor_text(self) -> str:
        """Status-bar text for the pixel under the cursor: position, RGB, probability, zoom, class, label area."""
        parts: list[str] = []
        image = self.doc.image
        if self._cursor is not None and image is not None:
            x, y = self.widget_to_image(self._cursor)
            col, row = int(np.floor(x)), int(np.floor(y))
            if 0 <= row < image.shape[0] and 0 <= col < image.shape[1]:
                r, g, b = (int(v) for v in image[row, col])
                parts += [f"x {col}  y {row}", f"RGB {r}, {g}, {b}"]
                prob = self.doc.probs.get(self._class)
                if prob is not None:
                    parts.append(f"p {float(prob[row, col]):.2f}")
        parts.append(f"zoom {self.view.zoom * 100:.0f} %")
        if self._class:
            area = self.doc.area(self._class) if self._class in self.doc.labels else 0
            parts += [self._class, f"area {area} px"]
            if self._class in self.doc.labels and self.doc.is_sparse(self._class):
                parts.append(f"sparse, {100 * self.doc.annotated_fraction(self._class):.0f} % annotated")
        return "  |  ".join(parts)

    def _emit_cursor_info(self) -> None:
        self.cursor_info.emit(self.cursor_text())
