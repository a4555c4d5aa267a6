"""Application look: Fusion style with a dark palette (the default: red/blue overlays stay readable), a light one, or
whichever the operating system uses (View → Theme, remembered); and the program's icon. The active tool is an
accent-coloured, bold button so it is obvious at a glance."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from medseg_gui.core.resources import resource_path

ACCENT = "#2f7fd8"
THEMES = {"system": "Follow the &system", "light": "&Light", "dark": "&Dark"}
DEFAULT_THEME = "dark"
THEME_KEY = "view/theme"  # where the window's settings remember the choice

# colours that differ between the dark and the light look: tool buttons and the coloured notes in the panels
TONES = {
    "dark": {"button": "#3a3d44", "border": "#5a5d66", "hover": "#8a8f9a", "message": "#f0b0a8", "model": "#9fc6ff",
             "notice": "#f0c070"},
    "light": {"button": "#e8e9ec", "border": "#b4b7bf", "hover": "#6a6f7a", "message": "#a5281b", "model": "#1d5fae",
              "notice": "#8a5a00"},
}


def stylesheet(look: str) -> str:
    t = TONES[look]
    return f"""
QToolButton {{ padding: 4px 6px; background-color: {t['button']}; border: 1px solid {t['border']};
               border-radius: 3px; }}
QToolButton:hover {{ border-color: {t['hover']}; }}
QToolButton:checked {{ background-color: {ACCENT}; color: white; font-weight: bold; border: 1px solid #a9cbff; }}
QLabel#canvasMessage {{ font-size: 15px; color: {t['message']}; }}
QLabel#currentModel {{ color: {t['model']}; }}
QLabel#labelNotice {{ color: {t['notice']}; }}
QPushButton#retrainButton {{ font-weight: bold; padding: 6px 14px; }}
QPushButton#retrainButton:enabled {{ background-color: #2e7d32; color: white; }}
QPushButton#continuousButton:checked {{ background-color: {ACCENT}; color: white; font-weight: bold; }}
QGroupBox {{ font-weight: bold; margin-top: 10px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 3px; }}
QLabel#trainResult {{ font-weight: bold; }}
"""


def dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor(30, 32, 36), QColor(43, 45, 50), QColor(220, 222, 226)
    palette.setColor(QPalette.ColorRole.Window, window)
    palette.setColor(QPalette.ColorRole.WindowText, text)
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.AlternateBase, window)
    palette.setColor(QPalette.ColorRole.ToolTipBase, window)
    palette.setColor(QPalette.ColorRole.ToolTipText, text)
    palette.setColor(QPalette.ColorRole.Text, text)
    palette.setColor(QPalette.ColorRole.Button, window)
    palette.setColor(QPalette.ColorRole.ButtonText, text)
    palette.setColor(QPalette.ColorRole.Highlight, QColor(64, 120, 200))
    palette.setColor(QPalette.ColorRole.Link, QColor(143, 193, 255))  # Qt's default link blue is unreadable here
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    disabled = QColor(120, 122, 128)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def app_icon() -> QIcon:
    """The program's icon (resources/icons: the SVG and its PNG renderings); empty when not installed."""
    icon = QIcon()
    folder = resource_path("icons")
    for path in sorted(folder.glob("medseg-gui*")) if folder is not None else []:
        icon.addFile(str(path))
    return icon


def look_of(app: QApplication, theme: str) -> str:
    """"dark" or "light" for a theme name; "system" asks Qt for the desktop's scheme (dark when it cannot tell)."""
    if theme in ("dark", "light"):
        return theme
    return "light" if app.styleHints().colorScheme() == Qt.ColorScheme.Light else "dark"


def apply_theme(app: QApplication, theme: str = DEFAULT_THEME) -> str:
    """Fusion style with the palette and stylesheet of `theme` ("system", "light", "dark"); returns the look used."""
    look = look_of(app, theme if theme in THEMES else DEFAULT_THEME)
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if look == "dark" else app.style().standardPalette())
    app.setStyleSheet(stylesheet(look))
    return look


class ThemeMenu(QMenu):
    """View → Theme: one checkable entry per theme; `chosen(theme)` after the theme was applied. With "system" the
    look follows the desktop when it switches between light and dark."""

    chosen = Signal(str)

    def __init__(self, theme: str, parent: QWidget | None = None) -> None:
        super().__init__("&Theme", parent)
        self.theme = theme if theme in THEMES else DEFAULT_THEME
        group = QActionGroup(self)
        self.entries: dict[str, QAction] = {}
        for name, text in THEMES.items():
            action = self.addAction(text)
            action.setCheckable(True)
            action.setChecked(name == self.theme)
            action.triggered.connect(lambda _=False, n=name: self.choose(n))
            group.addAction(action)
            self.entries[name] = action
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.styleHints().colorSchemeChanged.connect(self.system_changed)

    def choose(self, theme: str) -> None:
        app = QApplication.instance()
        self.theme = theme
        self.entries[theme].setChecked(True)
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.chosen.emit(theme)

    @Slot(Qt.ColorScheme)
    def system_changed(self, _scheme: Qt.ColorScheme | None = None) -> None:
        if self.theme == "system":
            self.choose("system")
