"""A second window on a project that another window edits: it restored the same remembered geometry before it knew
it would be read-only, and opened exactly on top of the first (outside trial: the user did not see there were two).
It steps aside once, by a title bar's height, and does not remember its geometry over the editing window's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QStyle, QWidget

if TYPE_CHECKING:
    from medseg_gui.qt.window_state import WindowMemory


def aside_geometry(frame: QRect, available: QRect, step: int) -> QRect:
    """`frame` moved `step` px down and right, or up and left along an axis where that would leave `available`;
    shrunk by `step` along an axis where neither fits (a window as large as the screen); kept inside `available`."""
    left = _aside(frame.left(), frame.width(), available.left(), available.width(), step)
    top = _aside(frame.top(), frame.height(), available.top(), available.height(), step)
    width = frame.width() - (step if left == frame.left() and frame.width() > step else 0)
    height = frame.height() - (step if top == frame.top() and frame.height() > step else 0)
    if width != frame.width():  # no room to move: shrunk, then moved into the room made
        left = min(frame.left() + step, available.left() + available.width() - width)
    if height != frame.height():
        top = min(frame.top() + step, available.top() + available.height() - height)
    return QRect(left, top, width, height)


def _aside(start: int, length: int, low: int, room: int, step: int) -> int:
    """Where one side of the window goes along one axis: `step` further, else `step` back, else where it was."""
    high = low + room - length  # the furthest start that stays on the screen
    if start + step <= high:
        return max(low, start + step)
    if start - step >= low:
        return min(high, start - step)
    return start


class WindowPlacement:
    """Whether `window` stands aside: it has its project read-only because another window (or program) edits it,
    and has not been able to edit it since. `follow` after each read-only change; the window is moved aside once."""

    def __init__(self, window: QWidget) -> None:
        self._window = window
        self.aside = False
        self._moved = False

    def follow(self, has_project: bool, read_only: bool, edited_elsewhere: bool) -> None:
        """A project shown read-only while `edited_elsewhere` (its lock is held) makes the window stand aside; one it
        may edit ends that (it is the editing window now, e.g. after "Try editing again")."""
        if has_project and not read_only:
            self.aside = False
        elif read_only and edited_elsewhere:
            self.aside = True
            if not self._moved:
                self._move_aside()

    def save_geometry(self, memory: WindowMemory) -> None:
        """Remember the window's geometry in `memory`, unless it stands aside (closed last, a second window set where
        the next start opened)."""
        if not self.aside:
            memory.save_geometry(self._window)

    def _move_aside(self) -> None:
        window = self._window
        if window.isMaximized() or window.isFullScreen():  # nowhere to go; the banner and title say read-only
            return
        self._moved = True
        frame = window.frameGeometry()
        title = window.geometry().top() - frame.top()  # 0 before the window manager framed it
        step = max(title, window.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight), 24)
        aside = aside_geometry(frame, window.screen().availableGeometry(), step)
        if aside.size() != frame.size():
            window.resize(window.width() - (frame.width() - aside.width()),
                          window.height() - (frame.height() - aside.height()))
        window.move(aside.topLeft())
