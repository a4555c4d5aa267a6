"""Where the keyboard focus goes when the app switches off the control that has it.

Qt hands the focus of a disabled widget to the next control in the tab chain. Retrain greys itself out as a run
starts (Cancel as it ends, Use this model as its job starts, Accept prediction while masks are imported…), so the
focus landed on whatever came next in the panels: an outside trial's Down ×10 then lowered the label opacity, and
Down on the "New label" combo silently switched Automatic to Complete. The rule instead: the focus goes back to the
*home* that had it last (the main window: the canvas or the image list; the canvas until either had it), never to a
control whose value a key changes. Enter in a spin box (the Time box, the threshold) hands the keys back to the same
home, so the next B, E, G… picks a tool again (an outside trial's B after a typed time box went into the box).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QWidget


WATCHED = "focusHomeWatched"  # a spin box's property: its Enter is connected


class FocusHome(QObject):
    """Watches `window`: when a widget of it loses the focus because it was disabled, or a spin box of it finished
    an edit with Enter, the focus goes to the home (one of `homes`, the first until one had the focus) that had it
    last, or the next enabled home."""

    def __init__(self, window: QWidget, homes: list[QWidget]) -> None:
        super().__init__(window)
        self._window, self._homes = window, list(homes)
        self._last = self._homes[0]
        QApplication.instance().focusChanged.connect(self._focus_changed)

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if any(new is home for home in self._homes):
            self._last = new
            return
        if isinstance(new, QAbstractSpinBox) and new.window() is self._window and not new.property(WATCHED):
            new.setProperty(WATCHED, True)  # connected once, when it first has the keys
            new.editingFinished.connect(self._entered)
        if (old is None or old.isEnabled() or old.window() is not self._window or not self._window.isVisible()
                or (new is not None and new.window() is not self._window)):  # a dialog took it: not ours to move
            return
        self._go_home()

    @Slot()
    def _entered(self) -> None:
        """A spin box's `editingFinished` with the keys still in it: Enter, not a click elsewhere."""
        box = self.sender()
        if isinstance(box, QWidget) and box.hasFocus():
            self._go_home()

    def _go_home(self) -> None:
        home = next((h for h in (self._last, *self._homes) if h.isEnabled() and h.isVisible()), None)
        if home is not None:
            home.setFocus(Qt.FocusReason.OtherFocusReason)
