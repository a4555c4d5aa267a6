"""Guards the PySide6 pin: 6.12.0 on CPython 3.11 drops a reference to None on every void call and aborts the app."""

import sys

from PySide6.QtWidgets import QWidget


def test_void_qt_calls_keep_references_to_none(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for _ in range(2000):
        widget.update()
    assert sys.getrefcount(None) >= before - 100
