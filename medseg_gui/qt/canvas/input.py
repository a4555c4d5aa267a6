"""Mouse, wheel and keyboard handling of the canvas: a controller the ``Canvas`` owns, filtering its input events
(the canvas overrides none of their handlers).

Keys while the canvas has focus (from ``qt.keymap``): the tool keys, smaller/larger brush, undo, redo; Enter/Escape/
Backspace finish, cancel or shorten a polygon. Everything else (1–9, PgUp/PgDn, ...) is left to the parent window.
The hold keys (``keymap.HOLD``: Space held + drag pans, H held hides all overlays) work wherever the focus is in the
window (``hold_keys``). The middle button always pans; the wheel zooms at the cursor.

The controller uses only the canvas' public API (tools, brush, undo, view, document); it owns the interaction
state: the cursor position, an ongoing pan, the held keys, and when input came (``late_input``): a press made before
the image, the class or the tool changed but delivered after it is refused with a word, and a dialog waits for a
pause in the drawing (``drawing_pause``). A disabled canvas (no image to edit yet: a still picture or a message
covers it) takes no edit and shows no brush circle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QCursor, QKeyEvent, QMouseEvent, QWheelEvent

from medseg_gui.core.masks import share_text
from medseg_gui.qt import keymap
from medseg_gui.qt.canvas.drawing_pause import DrawingPause
from medseg_gui.qt.canvas.hold_keys import HoldKeys
from medseg_gui.qt.canvas.late_input import LateInput
from medseg_gui.qt.canvas.view import stepped_zoom

if TYPE_CHECKING:
    from medseg_gui.qt.canvas.canvas import Canvas

_REPEATING = ("smaller_brush", "bigger_brush")  # commands that act on auto-repeated presses too


def brush_step(size: int, direction: int) -> int:
    """Next brush size for [ / ]: steps of 1 px below 10 px, then about 15 %."""
    step = 1 if size < 10 else max(1, round(size * 0.15))
    return max(1, size + direction * step)


class CanvasInput(QObject):
    """Turns the canvas' Qt events into tool calls, pans, zooms and cursor feedback."""

    _HANDLERS = {QEvent.Type.MouseButtonPress: "mouse_press", QEvent.Type.MouseMove: "mouse_move",
                 QEvent.Type.MouseButtonRelease: "mouse_release", QEvent.Type.MouseButtonDblClick: "mouse_double_click",
                 QEvent.Type.Wheel: "wheel"}

    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.cursor: QPointF | None = None  # widget position of the mouse, None when it is outside
        self.hide_overlays = False  # H held
        self._pan_from: QPointF | None = None
        self._space = False
        self.late = LateInput(canvas)  # the window system's time of the input, and of each change an edit depends on
        canvas.tool_changed.connect(lambda _tool: self.late.changed("the tool changed"))
        canvas.setMouseTracking(True)
        canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        canvas.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.update_cursor_shape()
        canvas.installEventFilter(self)  # before HoldKeys: its filter, installed later, still sees the keys first
        self._hold_keys = HoldKeys(canvas, {keymap.qt_key(keymap.HOLD["pan"][0]): self._set_space,
                                            keymap.qt_key(keymap.HOLD["hide_overlays"][0]): self._set_hide_overlays})
        self.pause = DrawingPause(canvas)  # a dialog that would drop the next stroke waits until the drawing pauses

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """The canvas' key, mouse, wheel and leave events; True when handled here (the canvas' own handlers are
        Qt's defaults: keys not handled here go on to the window)."""
        kind = event.type()
        if kind == QEvent.Type.ShortcutOverride and self.handles_key(event):  # type: ignore[arg-type]
            event.accept()
            return True
        if kind == QEvent.Type.KeyPress:
            return self.key_press(event)  # type: ignore[arg-type]
        if kind in self._HANDLERS:
            getattr(self, self._HANDLERS[kind])(event)
            return True
        if kind == QEvent.Type.Leave:
            self.leave()
        elif kind == QEvent.Type.Show:
            self.late.watch()
        elif kind == QEvent.Type.EnabledChange:  # disabled: no image to edit (one loads), so no brush circle
            self.update_cursor_shape()
            self.canvas.update()
        return False

    # -- keyboard ------------------------------------------------------------------------------------------------
    def _key_action(self, event: QKeyEvent) -> Callable[[], None] | None:
        c = self.canvas
        key, mods = event.key(), event.modifiers()
        command = keymap.canvas_command(event)
        if command is not None and command.startswith("tool:"):
            return lambda: c.set_tool(command.removeprefix("tool:"))
        if command in _REPEATING:
            direction = 1 if command == "bigger_brush" else -1
            return lambda: c.set_brush_size(brush_step(c.brush_size(), direction))
        if command in ("undo", "redo"):
            return c.undo if command == "undo" else c.redo
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Backspace):
            tool = c.active_tool()
            if getattr(tool, "points", None):
                return lambda: tool.key(key, mods)
        return None

    def handles_key(self, event: QKeyEvent) -> bool:
        return self._key_action(event) is not None

    def key_press(self, event: QKeyEvent) -> bool:
        """Act on a key the canvas handles (True); ignore the event otherwise (False)."""
        action = self._key_action(event)
        if action is None:
            if event.key() not in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):  # Qt moves the focus once; ignored, the
                event.ignore()  # canvas area moved it on again: Tab skipped the Class box, Shift+Tab Next image
            return False
        if not event.isAutoRepeat() or keymap.canvas_command(event) in _REPEATING:
            action()
        event.accept()
        return True

    def _set_hide_overlays(self, hide: bool) -> None:
        if hide != self.hide_overlays:
            self.hide_overlays = hide
            self.canvas.update()

    def _set_space(self, held: bool) -> None:
        if held != self._space:
            self._space = held
            self.update_cursor_shape()
            self.update_preview()

    # -- mouse ---------------------------------------------------------------------------------------------------
    def _pans(self, event: QMouseEvent) -> bool:
        if event.button() == Qt.MouseButton.MiddleButton:
            return True
        return event.button() == Qt.MouseButton.LeftButton and (self._space or self.canvas.tool() == "pan")

    def mouse_press(self, event: QMouseEvent) -> None:
        c = self.canvas
        c.setFocus(Qt.FocusReason.MouseFocusReason)
        wpos = event.position()
        self._move_cursor(wpos)
        if c.doc.image is None or not c.isEnabled():  # no image to edit: a still picture or a message covers it
            return
        if self._pans(event):
            self._pan_from = QPointF(wpos)
            self.update_cursor_shape()
        elif event.button() == Qt.MouseButton.LeftButton and self._pan_from is None:
            self.late.watch()  # (the window's native handle, in case it came after the canvas was shown)
            if (late := self.late.refusal(event)) is not None:  # made before the image, class or tool changed
                c.notify(late)
            else:
                c.active_tool().press(c.widget_to_image(wpos), wpos, event.modifiers())

    def mouse_move(self, event: QMouseEvent) -> None:
        c = self.canvas
        wpos = event.position()
        self._move_cursor(wpos)
        if self._pan_from is not None:
            d = wpos - self._pan_from
            self._pan_from = QPointF(wpos)
            c.set_view(c.view.panned(d.x(), d.y()))
        elif c.doc.image is not None:
            c.active_tool().move(c.widget_to_image(wpos), wpos, event.modifiers())
        self.emit_cursor_info()

    def mouse_release(self, event: QMouseEvent) -> None:
        c = self.canvas
        wpos = event.position()
        if self._pan_from is not None:
            if not (event.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.MiddleButton)):
                self._pan_from = None
                self.update_cursor_shape()
        elif event.button() == Qt.MouseButton.LeftButton and c.doc.image is not None:
            c.active_tool().release(c.widget_to_image(wpos), wpos, event.modifiers())

    def mouse_double_click(self, event: QMouseEvent) -> None:
        c = self.canvas
        if c.tool() == "polygon" and event.button() == Qt.MouseButton.LeftButton and c.doc.image is not None:
            wpos = event.position()
            c.active_tool().double_click(c.widget_to_image(wpos), wpos, event.modifiers())
        else:
            self.mouse_press(event)

    def wheel(self, event: QWheelEvent) -> None:
        c = self.canvas
        dy = event.angleDelta().y()
        if c.doc.image is None or dy == 0:
            event.ignore()
            return
        c.set_zoom(stepped_zoom(c.view.zoom, dy / 120), event.position())
        self._move_cursor(event.position())
        event.accept()

    def leave(self) -> None:
        self._move_cursor(None)

    # -- cursor feedback -----------------------------------------------------------------------------------------
    def preview_cursor(self) -> QPointF | None:
        """Where the tool preview (brush circle, polygon edge) is drawn; None while panning or disabled."""
        return self.cursor if not self._space and self._pan_from is None and self.canvas.isEnabled() else None

    def update_preview(self) -> None:
        rect = self.canvas.active_tool().preview_rect(self.cursor)
        if not rect.isEmpty():
            self.canvas.update(rect.toAlignedRect())

    def _move_cursor(self, wpos: QPointF | None) -> None:
        self.update_preview()
        self.cursor = None if wpos is None else QPointF(wpos)
        self.update_preview()

    def update_cursor_shape(self) -> None:
        if not self.canvas.isEnabled():
            shape = Qt.CursorShape.ArrowCursor
        elif self._pan_from is not None:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._space or self.canvas.tool() == "pan":
            shape = Qt.CursorShape.OpenHandCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        self.canvas.setCursor(QCursor(shape))

    def cursor_text(self) -> str:
        """Status-bar text for the pixel under the cursor: position, RGB, probability, zoom, class, label area."""
        c, parts = self.canvas, []
        doc, cls, image = c.doc, c.current_class(), c.doc.image
        if self.cursor is not None and image is not None:
            x, y = c.widget_to_image(self.cursor)
            col, row = int(np.floor(x)), int(np.floor(y))
            if 0 <= row < image.shape[0] and 0 <= col < image.shape[1]:
                r, g, b = (int(v) for v in image[row, col])
                parts += [f"x {col}  y {row}", f"RGB {r}, {g}, {b}"]
                prob = doc.probs.get(cls)
                if prob is not None:
                    parts.append(f"p {float(prob[row, col]):.2f}")
        parts.append(f"zoom {c.view.zoom * c.devicePixelRatioF() * 100:.0f} %")  # 100 %: 1 image px per device px
        if cls:
            area = doc.area(cls) if cls in doc.labels else 0
            parts += [cls, f"area {area} px"]
            if cls in doc.labels and doc.is_sparse(cls):
                parts.append(f"sparse, {share_text(doc.annotated_fraction(cls))} annotated")
        return "  |  ".join(parts)

    def emit_cursor_info(self) -> None:
        """The pixel readout for the status bar's field; empty while the canvas is disabled (a placeholder in the
        place of an image that cannot be shown)."""
        self.canvas.cursor_info.emit(self.cursor_text() if self.canvas.isEnabled() else "")
