"""First start: ask which bundled demo to open, or to open a folder of one's own images (non-blocking; Esc or
closing the box opens nothing and leaves a hint in the status bar)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from medseg_gui.core.demo import DEMOS
from medseg_gui.qt.keymap import key_text

QUESTION = ("Welcome to medseg_gui. Open a folder of your own images, or start with a demo project? A demo is copied "
            "to your data folder, so your edits stay; both demos are also in File → Open demo.")
OPEN_FOLDER = "Open a folder…"
NOT_NOW = "Not now"
OPEN_FOLDER_MENU = "File → Open folder of images…"  # the menu entry as messages name it (qt.actions makes it)
NOTHING_OPEN_HINT = (f"No project is open: open a folder of images with {OPEN_FOLDER_MENU} "
                     f"({key_text('open_folder')}), or a demo with File → Open demo.")


def ask_which_demo(parent: QWidget, open_demo: Callable[[str], object], open_folder: Callable[[], object],
                   say: Callable[[str], object] = lambda _text: None) -> QMessageBox:
    """One button per demo (the chosen one is passed to `open_demo`) and "Open a folder…" (calls `open_folder`),
    once; Esc, "Not now" or closing the box opens nothing and passes :data:`NOTHING_OPEN_HINT` to `say`."""
    box = QMessageBox(parent)
    box.setWindowTitle("Welcome")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(QUESTION)
    box.setInformativeText("\n".join(f"{demo.title}." for demo in DEMOS.values()))
    buttons = {box.addButton(demo.short, QMessageBox.ButtonRole.AcceptRole): which for which, demo in DEMOS.items()}
    for button, which in buttons.items():  # the box elides long button texts: the whole title as a tooltip
        button.setToolTip(DEMOS[which].title)
    folder = box.addButton(OPEN_FOLDER, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(next(b for b, which in buttons.items() if which == "vessel"))
    box.setEscapeButton(box.addButton(NOT_NOW, QMessageBox.ButtonRole.RejectRole))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def chosen(_result: int) -> None:
        clicked = box.clickedButton()
        if clicked in buttons:
            open_demo(buttons[clicked])
        elif clicked is folder:
            open_folder()
        else:
            say(NOTHING_OPEN_HINT)

    box.finished.connect(chosen)
    box.open()
    return box
