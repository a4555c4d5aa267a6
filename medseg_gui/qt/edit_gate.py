"""Whether the canvas takes edits now: not while the project is open read-only (another window edits it) or while
editing is paused for a while in an editable one (masks imported). Viewing, zoom and pan keep working: the gate
switches to the pan tool meanwhile (and back to the tool in use before, if the user kept pan), and swallows left-button
edits and the undo/redo keys on the canvas, saying why in the status bar."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QWidget


class EditGate(QObject):
    """`set(reason, paused)` for `canvas` (a qt.canvas Canvas); `why_off()` for a message; `status(text)` gets the
    note a refused edit is answered with."""

    def __init__(self, canvas: QWidget, status: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas, self._status = canvas, status
        self.read_only: str | None = None  # why edits are refused (another window edits the project, …)
        self.paused: str | None = None  # why edits are refused for a while in an editable project (masks imported)
        self._tool_before = "brush"  # the tool in use when edits began to be refused
        canvas.installEventFilter(self)

    def set(self, reason: str | None, paused: str | None = None) -> None:
        """Refuse every edit while `reason` (read-only) or `paused` is not None; once editing is allowed again, the
        tool in use before (if the user kept the pan tool meanwhile)."""
        was = self.why_off()
        self.read_only, self.paused = reason, paused
        off = self.why_off()
        self.canvas.set_editable(off is None)
        if off is not None and was is None:
            self._tool_before = self.canvas.tool()
            self.canvas.set_tool("pan")
        elif off is None and was is not None and self.canvas.tool() == "pan":
            self.canvas.set_tool(self._tool_before)

    def why_off(self) -> str | None:
        """Why the canvas takes no edit now, for a message (None: it takes them)."""
        if self.read_only is not None:
            return f"this project is open read-only ({self.read_only})"
        return None if self.paused is None else f"drawing is paused while {self.paused}"

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """While edits are refused swallow left-button edits (except with the pan tool) and undo/redo keys."""
        if self.why_off() is None or watched is not self.canvas:
            return False
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
                    QEvent.Type.MouseButtonRelease) and isinstance(event, QMouseEvent):
            left = event.button() == Qt.MouseButton.LeftButton or event.buttons() & Qt.MouseButton.LeftButton
            if left and self.canvas.tool() != "pan":
                if kind == QEvent.Type.MouseButtonPress:
                    off = (f"Read-only: {self.read_only}. Drawing is off" if self.read_only is not None
                           else f"Drawing is paused while {self.paused}")
                    self._status(f"{off} (drag with the pan tool to move).")
                return True
        if kind in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and isinstance(event, QKeyEvent):
            ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            return bool(ctrl) and event.key() in (Qt.Key.Key_Z, Qt.Key.Key_Y)
        return False
