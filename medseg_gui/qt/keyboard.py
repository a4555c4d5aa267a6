"""The main window's buttons and links pressed from the keyboard, as in a dialog.

A focused button or check box is pressed by Space (canvas.hold_keys leaves it its Space) and a push button by
Return / Enter too (Qt does that only in dialogs). A click on one leaves the keyboard focus where it was, so Space+drag
pans and Enter closes a polygon right after a click on a tool, a layer box or Accept prediction; Tab still reaches it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QLabel, QPushButton, QWidget


def keyboard_buttons(*roots: QWidget) -> None:
    """Every button inside `roots` that Tab reaches takes the focus from the keyboard only; push buttons also take
    Return / Enter. The default button (Retrain) is left as it is: Return already presses it while it has the focus."""
    for root in roots:
        for button in root.findChildren(QAbstractButton):
            if not button.focusPolicy() & Qt.FocusPolicy.TabFocus:  # e.g. a table's corner button
                continue
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            if isinstance(button, QPushButton) and not button.isDefault():
                button.setAutoDefault(True)  # outside a dialog this only makes Return / Enter click it


class LinkLabel(QLabel):
    """A rich-text label whose link the keyboard follows too: Tab onto it selects its link (a plain QLabel wants a
    second, unseen Tab first; without a link Tab passes on), and Return, Enter or Space follows it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        super().focusInEvent(event)
        if event.reason() in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason):
            self.focusNextPrevChild(event.reason() == Qt.FocusReason.TabFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Space and self.hasSelectedText():  # QLabel follows a link on Return only
            event = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)
        super().keyPressEvent(event)
