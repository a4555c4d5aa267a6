"""A dialog that would drop the next stroke (Qt drops mouse input under a modal dialog) waits for a pause in the
drawing: no button held, and the canvas left alone for a moment (canvas.drawing_pause)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt


def test_callbacks_wait_while_a_button_is_held_then_run_in_the_order_they_fall_due(qtbot, shown_canvas):
    canvas = shown_canvas(np.zeros((30, 40, 3), np.uint8), {"lesion": (255, 0, 0)})
    ran: list[str] = []
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))  # a stroke under way
    canvas.input.pause.after(60, lambda: ran.append("later"))
    canvas.input.pause.after(0, lambda: ran.append("sooner"))
    assert not ran  # never from within the call
    qtbot.wait(200)
    assert not ran  # not while the button is held
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(30, 20))
    qtbot.waitUntil(lambda: len(ran) == 2, timeout=5_000)
    assert ran == ["sooner", "later"]
    canvas.input.pause.after(0, lambda: ran.append("idle"))  # nothing drawn: soon
    qtbot.waitUntil(lambda: len(ran) == 3, timeout=5_000)
