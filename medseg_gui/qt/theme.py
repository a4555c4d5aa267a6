"""Application look: Fusion style with a dark palette (the default: red/blue overlays stay readable), a light one, or
whichever the operating system uses (View → Theme, remembered); and the program's icon. The active tool is an
accent-coloured, bold button so it is obvious at a glance.

The keyboard focus shows as a 2-pixel ring in a colour of its own (`FOCUS_RULES`): Fusion's thin blue outline was
hard to see, and the style sheet's tool buttons and the canvas showed none, so a keyboard user's arrow keys changed
the tool unseen (outside trial at 200 %). A ring is 1 pixel wider than the border it replaces, so its padding is
1 pixel less and nothing moves."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QAbstractButton, QApplication, QMenu, QProxyStyle, QStyle, QStyleOption,
                               QStyleOptionComplex, QWidget)

from medseg_gui.core.resources import resource_path

ACCENT = "#2f7fd8"
THEMES = {"system": "Follow the &system", "light": "&Light", "dark": "&Dark"}
DEFAULT_THEME = "dark"
THEME_KEY = "view/theme"  # where the window's settings remember the choice

# colours that differ between the dark and the light look: tool buttons and the coloured notes in the panels
TONES = {
    "dark": {"button": "#3a3d44", "border": "#5a5d66", "hover": "#8a8f9a", "message": "#f0b0a8", "model": "#9fc6ff",
             "notice": "#f0c070", "pressed": "#2a2c31", "focus": "#ffb547"},
    "light": {"button": "#e8e9ec", "border": "#b4b7bf", "hover": "#6a6f7a", "message": "#a5281b", "model": "#1d5fae",
              "notice": "#8a5a00", "pressed": "#d4d6db", "focus": "#c2410c"},
}
# the focus ring of the widgets a style sheet can outline without losing their native parts (combo and spin boxes
# lose their arrows: FocusRingStyle rings them); the canvas area's frame rings the canvas
FOCUS_RULES = """
QPushButton {{ background-color: {button}; border: 1px solid {border}; border-radius: 3px; padding: 4px 6px; }}
QPushButton:hover {{ border-color: {hover}; }}
QPushButton:pressed, QPushButton:checked {{ background-color: {pressed}; }}
QPushButton:focus {{ border: 2px solid {focus}; padding: 3px 5px; }}
QToolButton:focus, QToolButton:checked:focus {{ border: 2px solid {focus}; padding: 3px 5px; }}
QCheckBox, QSlider {{ border: 2px solid transparent; border-radius: 3px; }}
QCheckBox:focus, QSlider:focus {{ border-color: {focus}; }}
QTableView, QTreeView, QListView {{ border: 1px solid {border}; padding: 1px; }}
QTableView:focus, QTreeView:focus, QListView:focus {{ border: 2px solid {focus}; padding: 0px; }}
QComboBox QAbstractItemView {{ border: 1px solid {border}; padding: 0px; }}
QStackedWidget#canvasArea {{ border: 2px solid transparent; }}
QStackedWidget#canvasArea[keys="true"] {{ border-color: {focus}; }}
"""


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
QPushButton#retrainButton:focus {{ padding: 5px 13px; }}
""" + FOCUS_RULES.format(**t)


class FocusRingStyle(QProxyStyle):
    """Fusion, with a focus ring of `colour` around a focused combo or spin box (Fusion's own is a thin outline),
    without Fusion's dotted box inside a focused button (the style sheet rings the button itself), and without the
    desktop's icons on dialog buttons (a black cross on the dark Close button was barely visible: outside trial)."""

    RINGED = (QStyle.ComplexControl.CC_ComboBox, QStyle.ComplexControl.CC_SpinBox)

    def __init__(self, colour: str) -> None:
        super().__init__("Fusion")
        self.colour = QColor(colour)

    def styleHint(self, hint: QStyle.StyleHint, option: QStyleOption | None = None,  # noqa: N802 (Qt override)
                  widget: QWidget | None = None, returnData: object = None) -> int:  # noqa: N803
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 0
        return super().styleHint(hint, option, widget, returnData)

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter,  # noqa: N802
                      widget: QWidget | None = None) -> None:
        if element != QStyle.PrimitiveElement.PE_FrameFocusRect or not isinstance(widget, QAbstractButton):
            super().drawPrimitive(element, option, painter, widget)

    def drawComplexControl(self, control: QStyle.ComplexControl, option: QStyleOptionComplex,  # noqa: N802
                           painter: QPainter, widget: QWidget | None = None) -> None:
        super().drawComplexControl(control, option, painter, widget)
        if control in self.RINGED and option.state & QStyle.StateFlag.State_HasFocus:
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self.colour, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(option.rect).adjusted(1, 1, -1, -1), 3, 3)
            painter.restore()


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
    style = FocusRingStyle(TONES[look]["focus"])
    style.setParent(app)  # the application's until the next theme replaces it
    app.setStyle(style)
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
