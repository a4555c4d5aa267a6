"""Edit → Classes…: add, rename, recolour or delete a class of the open project (the file work is core.classes).

A rename moves the class's labels, predictions and models with it; a delete asks first and moves them into the
project's "deleted classes" folder. Nothing changes while a training runs or a label is not saved yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from medseg_gui.core.classes import TRASH_FOLDER, delete_class, free_color, recolour_class, rename_class
from medseg_gui.core.errors import MedsegError
from medseg_gui.qt import dialogs
from medseg_gui.qt.panels.tools_panel import color_icon


def ask_name(parent: QWidget, title: str, text: str, name: str = "") -> str | None:
    """Blocking text question; None when cancelled (tests monkeypatch it)."""
    value, ok = QInputDialog.getText(parent, title, text, text=name)
    return value.strip() if ok and value.strip() else None


def ask_colour(parent: QWidget, title: str, colour: tuple[int, int, int]) -> tuple[int, int, int] | None:
    """Blocking colour chooser; None when cancelled (tests monkeypatch it)."""
    chosen = QColorDialog.getColor(QColor(*colour), parent, title)
    return (chosen.red(), chosen.green(), chosen.blue()) if chosen.isValid() else None


def delete_question(project: Any, name: str) -> str:
    labels = len(project.labelled_stems(name))
    return (f"Delete the class '{name}'? Its {labels} label(s), predictions and models are moved to the folder "
            f"“{TRASH_FOLDER}” inside the project (nothing is erased); the class leaves the lists.")


class ClassesDialog(QDialog):
    """The project's classes with Add / Rename / Colour / Delete; `changed(message, class to show)` after each
    change, `errored(message)` when one was refused. `busy()` says why nothing may change now (None: it may)."""

    changed = Signal(str, str)
    errored = Signal(str)

    def __init__(self, project: Any, busy: Callable[[], str | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Classes")
        self.project, self._busy = project, busy
        self.list = QListWidget(self)
        self.list.setObjectName("classList")
        note = QLabel("Renaming keeps every label; deleting moves the class's files to "
                      f"“{TRASH_FOLDER}” inside the project.", self)
        note.setWordWrap(True)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, slot in (("add", "Add…", self.add), ("rename", "Rename…", self.rename),
                                ("colour", "Colour…", self.recolour), ("delete", "Delete…", self.delete)):
            self.buttons[key] = button = QPushButton(text, self)
            button.clicked.connect(lambda _=False, f=slot: f())
            row.addWidget(button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addWidget(note)
        layout.addWidget(close)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        current = select or self.selected()
        self.list.clear()
        for spec in self.project.classes:
            item = QListWidgetItem(color_icon(tuple(spec.color)),
                                   spec.name + (f"  (inside {spec.roi_class})" if spec.roi_class else ""))
            item.setData(Qt.ItemDataRole.UserRole, spec.name)
            self.list.addItem(item)
            if spec.name == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def add(self) -> None:
        if self._refused():
            return
        name = ask_name(self, "Add class", "Name of the new class (also its folder name):")
        if name is not None:
            self._apply(lambda: self.project.add_class(name, free_color(self.project)), f"Added the class '{name}'.",
                        name)

    def rename(self) -> None:
        old = self.selected()
        if old is None or self._refused():
            return
        new = ask_name(self, "Rename class", f"New name for '{old}' (its labels move with it):", old or "")
        if new is not None and new != old:
            self._apply(lambda: rename_class(self.project, old, new), f"Renamed '{old}' to '{new}'.", new)

    def recolour(self) -> None:
        name = self.selected()
        if name is None or self._refused():
            return
        colour = ask_colour(self, f"Colour of '{name}'", self.project.class_spec(name).color)
        if colour is not None:
            self._apply(lambda: recolour_class(self.project, name, colour), f"New colour for '{name}'.", name)

    def delete(self) -> None:
        name = self.selected()
        if name is None or self._refused() or not dialogs.ask_yes_no(self, "Delete class",
                                                                     delete_question(self.project, name)):
            return
        self._apply(lambda: delete_class(self.project, name), lambda backup: f"Deleted the class '{name}'" + (
            f"; its files are in “{TRASH_FOLDER}” inside the project." if backup else " (it had no files)."), "")

    def _refused(self) -> bool:
        """Whether nothing may change now (said before a name is asked for: a trial typed one, then was refused)."""
        reason = self._busy()
        if reason is not None:
            self.errored.emit(f"The classes were not changed: {reason}")
        return reason is not None

    def _apply(self, change: Callable[[], object], message: str | Callable[[Any], str], show: str) -> None:
        """Run `change` unless that was refused meanwhile; `message` (or `message(result)`) goes to the status bar
        when it worked."""
        if self._refused():
            return
        try:
            result = change()
        except MedsegError as err:
            self.errored.emit(str(err))
            return
        self.refresh(show or None)
        self.changed.emit(message(result) if callable(message) else message, show)
