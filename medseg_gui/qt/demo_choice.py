"""First start: ask which bundled demo to open (non-blocking; Esc or closing the box opens the vessel demo)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from medseg_gui.core.demo import DEMOS

QUESTION = ("Welcome to medseg_gui. Which demo project would you like to start with? Both are copied to your data "
            "folder, so your edits stay; the other one is in File → Open demo.")


def ask_which_demo(parent: QWidget, open_demo: Callable[[str], object]) -> QMessageBox:
    """Show one button per demo; the chosen one is passed to `open_demo` once (Esc / close: "vessel")."""
    box = QMessageBox(parent)
    box.setWindowTitle("Choose a demo")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(QUESTION)
    buttons = {box.addButton(demo.title, QMessageBox.ButtonRole.AcceptRole): which for which, demo in DEMOS.items()}
    default = next(b for b, which in buttons.items() if which == "vessel")
    box.setDefaultButton(default)
    box.setEscapeButton(default)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _result: open_demo(buttons.get(box.clickedButton(), "vessel")))
    box.open()
    return box
