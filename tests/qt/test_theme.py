"""View → Theme: light, dark or the system's look, applied at once and remembered; the window's icon and the
desktop entry that names it."""

from __future__ import annotations

import configparser
from pathlib import Path

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QStyle

from medseg_gui.core.resources import resource_path
from medseg_gui.qt.theme import THEME_KEY, apply_theme, look_of
from tests.workers.helpers import open_window


def test_theme_is_applied_and_remembered(tmp_path, qtbot, messages):
    app = QApplication.instance()
    settings = tmp_path / "settings.ini"
    window = open_window(qtbot, settings_file=settings)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.theme_menu in [a.menu() for a in view_menu.actions()]
    try:
        window.theme_menu.entries["light"].trigger()
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
        assert window.memory.value(THEME_KEY) == "light" and "#e8e9ec" in app.styleSheet()
        window.theme_menu.entries["dark"].trigger()
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
        window.theme_menu.entries["system"].trigger()
        assert look_of(app, "system") in ("light", "dark")
        window.close()
        again = open_window(qtbot, settings_file=settings)
        assert again.theme_menu.entries["system"].isChecked()
    finally:
        apply_theme(app)  # the other tests run with the default look


def test_window_icon_and_desktop_entry(qtbot):
    window = open_window(qtbot)
    sizes = {s.width() for s in window.windowIcon().availableSizes()}
    assert {32, 64, 128, 256} <= sizes
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(Path(__file__).resolve().parents[2] / "packaging" / "medseg-gui.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Exec"].split()[0] == "medseg-gui"
    assert (resource_path("icons") / f"{desktop['Icon']}.svg").is_file()


def test_links_are_readable_on_the_dark_panels():
    """Links in labels (the threshold suggestion's "use it") stand out from the dark window colour."""
    from medseg_gui.qt.theme import dark_palette

    palette = dark_palette()
    link, window = palette.color(QPalette.ColorRole.Link), palette.color(QPalette.ColorRole.Window)
    assert link.lightness() - window.lightness() > 100


def test_dialog_buttons_carry_no_desktop_icons(qapp, monkeypatch):
    """A black cross on the dark Close button was barely visible (outside trial, under X11, whose desktop theme puts
    icons on dialog buttons; offscreen has none): dialog buttons are text only."""
    from PySide6.QtWidgets import QProxyStyle

    from medseg_gui.qt.theme import FocusRingStyle

    hint = QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons
    monkeypatch.setattr(QProxyStyle, "styleHint", lambda *_args: 1)  # as such a desktop says
    style = FocusRingStyle("#ffb547")
    assert style.styleHint(hint) == 0
    assert style.styleHint(QStyle.StyleHint.SH_ToolTip_WakeUpDelay) == 1  # other hints are the desktop's
