"""Mouse, wheel and keyboard handling of the canvas (mixed into ``Canvas``).

Keys while the canvas has focus: B brush, E eraser, G background brush, U unannotate eraser, P polygon, F fill,
W wand, [ / ] brush size, Ctrl+Z undo,
Ctrl+Shift+Z (or Ctrl+Y) redo; Enter/Escape/Backspace finish, cancel or shorten a polygon. Everything else (1–9,
PgUp/PgDn, ...) is left to the parent window. The hold keys (H held hides all overlays, Space held + drag pans) work
wherever the focus is in the window (``hold_keys``). The middle button always pans; the wheel zooms at the cursor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QCursor, QKeyEvent, QMouseEvent, QWheelEvent

from medseg_gui.qt.canvas.hold_keys import HoldKeys
from medseg_gui.qt.canvas.view import WHEEL_STEP

_TOOL_KEYS = {Qt.Key.Key_B: "brush", Qt.Key.Key_E: "eraser", Qt.Key.Key_G: "background", Qt.Key.Key_U: "unannotate",
              Qt.Key.Key_P: "polygon", Qt.Key.Key_F: "fill", Qt.Key.Key_W: "wand"}
_NO_MODS = Qt.KeyboardModifier.NoModifier | Qt.KeyboardModifier.KeypadModifier
_CTRL = Qt.KeyboardModifier.ControlModifier
_SHIFT = Qt.KeyboardModifier.ShiftModifier


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
        self._hold_keys = HoldKeys(self, {Qt.Key.Key_Space: self._set_space, Qt.Key.Key_H: self._set_hide_overlays})

    # -- keyboard ------------------------------------------------------------------------------------------------
    def _key_action(self, event: QKeyEvent) -> Callable[[], None] | None:
        key, mods = event.key(), event.modifiers()
        plain = (mods & ~_NO_MODS) == Qt.KeyboardModifier.NoModifier
        if plain and key in _TOOL_KEYS:
            return lambda: self.set_tool(_TOOL_KEYS[key])
        if plain and key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            direction = 1 if key == Qt.Key.Key_BracketRight else -1
            return lambda: self.set_brush_size(brush_step(self._brush, direction))
        if key == Qt.Key.Key_Z and mods & _CTRL:
            return self.redo if mods & _SHIFT else self.undo
        if key == Qt.Key.Key_Y and mods & _CTRL:
            return self.redo
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
        if not event.isAutoRepeat() or event.key() in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
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
