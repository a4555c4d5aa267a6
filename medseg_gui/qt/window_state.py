"""What the window remembers between sessions (an INI file via QSettings): its geometry, splitter and column
layout, and per project the last class, time box, threshold, image shown and brush size; other modules keep small
values here too (recent projects, last folders, theme). Without a settings file nothing is remembered (tests,
screenshots).
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QRect, QSettings, QSize, Qt
from PySide6.QtWidgets import QScrollArea, QSplitter, QWidget

from medseg_gui.qt.panels.column import column_width

log = logging.getLogger(__name__)

PREFERRED_SIZE = QSize(1400, 860)
SMALL_SCREEN = QSize(1440, 900)  # a first start on a screen of at most this much available opens maximised


def fitted_size(available: QRect, preferred: QSize = PREFERRED_SIZE, fraction: float = 0.9) -> QSize:
    """The preferred window size, shrunk to `fraction` of the available screen area when that is smaller."""
    return QSize(min(preferred.width(), int(available.width() * fraction)),
                 min(preferred.height(), int(available.height() * fraction)))


def default_split(width: int, column: int = 340) -> list[int]:
    """The splitter's sizes (image list, canvas, right column) for a window `width` wide, before the user moved
    them: a 340-400 px list (all its columns and names like "150OLCV1_100H0016" readable in a 1260 px window:
    at 320 px a new user saw "15…16"; image_columns.py), the column as wide as its rows need (`column`, with a scroll
    bar's room: a bar shown for a moment wrapped the Train buttons, and the column then needed it) up to 350 px, and
    less in a narrow window, where its rows wrap (at 1366×768 with 150 % scaling the image kept 330 of 1366 pixels);
    the canvas takes the rest."""
    return [min(400, max(340, round(width * 0.31))), 800, min(column, 350, round(width * 0.32))]


def split_window(window: QWidget, image_list: QWidget, canvas: QWidget, column: QScrollArea) -> QSplitter:
    """The window's splitter: the image list, the canvas (which takes what the window gains) and the right-hand
    column, at their default widths (default_split)."""
    splitter = QSplitter(Qt.Orientation.Horizontal, window)
    for widget, stretch in ((image_list, 0), (canvas, 1), (column, 0)):
        splitter.addWidget(widget)
        splitter.setStretchFactor(splitter.count() - 1, stretch)
    column.ensurePolished()  # its style's sizes
    splitter.setSizes(default_split(fitted_size(window.screen().availableGeometry()).width(), column_width(column)))
    return splitter


def opens_maximized(available: QRect) -> bool:
    """Whether a first start opens maximised: on a screen of at most SMALL_SCREEN available (an outside trial at
    1366×768 got a 1229×691 window whose image area was 460 px wide)."""
    return available.width() <= SMALL_SCREEN.width() and available.height() <= SMALL_SCREEN.height()


def show_window(window: QWidget, memory: WindowMemory) -> None:
    """Show the main window: maximised on a first start (a settings file without a remembered geometry) on a small
    screen (opens_maximized), else at the size it has (a remembered geometry, maximised or not, wins)."""
    if memory.first_start and opens_maximized(window.screen().availableGeometry()):
        window.showMaximized()
    else:
        window.show()


def default_settings_file(organization: str, application: str) -> Path:
    """The per-user INI file (Linux: ~/.config/<organization>/<application>.ini, honouring XDG_CONFIG_HOME)."""
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, organization, application)
    return Path(settings.fileName())


class WindowMemory:
    """Reads and writes the remembered values; every method is a no-op without a settings file."""

    def __init__(self, path: Path | None) -> None:
        self._settings = QSettings(str(path), QSettings.Format.IniFormat) if path is not None else None
        self.restored = False  # restore_geometry put a remembered geometry back

    @property
    def first_start(self) -> bool:
        """A settings file that gave the window no geometry (without a file: tests and screenshots, never)."""
        return self._settings is not None and not self.restored

    def restore_geometry(self, window: QWidget) -> bool:
        """Restore the saved geometry if it still fits the screen; False when there is none (caller sizes)."""
        if self._settings is None:
            return False
        saved = self._settings.value("window/geometry")
        if not isinstance(saved, QByteArray) or not window.restoreGeometry(saved):  # a hand-edited file: ignored
            return False
        screen = window.screen().availableGeometry()
        if window.width() > screen.width() or window.height() > screen.height():
            window.resize(fitted_size(screen))
        self.restored = True
        return True

    def save_geometry(self, window: QWidget) -> None:
        if self._settings is not None:
            self._settings.setValue("window/geometry", window.saveGeometry())
            self._settings.sync()

    def save_layout(self, widgets: dict[str, Any]) -> None:
        """Remember the state of widgets with `saveState()` (a QSplitter's sizes, a QHeaderView's column widths)."""
        for name, widget in widgets.items():
            self.set_value(f"layout/{name}", widget.saveState(), sync=False)
        if self._settings is not None:
            self._settings.sync()

    def restore_layout(self, widgets: dict[str, Any]) -> None:
        """Put back what `save_layout` remembered; a missing or unusable state leaves the widget as it is."""
        for name, widget in widgets.items():
            saved = self.value(f"layout/{name}")
            if saved is not None and (not isinstance(saved, QByteArray) or not widget.restoreState(saved)):
                log.info("the remembered %s layout does not fit any more; using the default", name)

    def value(self, key: str, default: Any = None) -> Any:
        """The remembered value (`default` when none; a string `default` also replaces a value that is not one,
        as a hand-edited "a, b" reads back as a list)."""
        value = self._settings.value(key, default) if self._settings is not None else default
        return default if isinstance(default, str) and not isinstance(value, str) else value

    def set_value(self, key: str, value: Any, *, sync: bool = True) -> None:
        """Remember `value` under `key` (None forgets it)."""
        if self._settings is None:
            return
        if value is None:
            self._settings.remove(key)
        else:
            self._settings.setValue(key, value)
        if sync:
            self._settings.sync()

    def project(self, root: Path) -> dict[str, Any]:
        """{"class": str, "minutes": float, "threshold": float, "image": str (the stem shown), "brush": int (px)}
        as far as remembered for the project at `root`."""
        if self._settings is None:
            return {}
        self._settings.beginGroup(_project_key(root))
        try:
            values = {key: self._settings.value(key) for key in self._settings.childKeys()}
        finally:
            self._settings.endGroup()
        for key in ("minutes", "threshold"):
            try:
                values[key] = float(values[key])
            except (KeyError, TypeError, ValueError):
                values.pop(key, None)
            if not math.isfinite(values.get(key, 0.0)):  # "nan" exported empty masks at a threshold of nan
                values.pop(key)
        try:
            values["brush"] = int(values["brush"])  # bounded by Canvas.set_brush_size
        except (KeyError, TypeError, ValueError):
            values.pop("brush", None)
        if not isinstance(values.get("image"), str):
            values.pop("image", None)
        return values

    def remember_project(self, root: Path, **values: Any) -> None:
        if self._settings is None:
            return
        self._settings.beginGroup(_project_key(root))
        self._settings.setValue("path", str(root))
        for key, value in values.items():
            if value is not None:
                self._settings.setValue(key, value)
        self._settings.endGroup()
        self._settings.sync()


def _project_key(root: Path) -> str:
    return "project-" + hashlib.sha1(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:16]
