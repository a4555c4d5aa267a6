"""Application look: Fusion style with a neutral dark palette that keeps red/blue overlays readable; the active
tool is an accent-coloured, bold button so it is obvious at a glance."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#2f7fd8"

STYLESHEET = f"""
QToolButton {{ padding: 4px 6px; background-color: #3a3d44; border: 1px solid #5a5d66; border-radius: 3px; }}
QToolButton:hover {{ border-color: #8a8f9a; }}
QToolButton:checked {{ background-color: {ACCENT}; color: white; font-weight: bold; border: 1px solid #a9cbff; }}
QLabel#canvasMessage {{ font-size: 15px; color: #f0b0a8; }}
QLabel#currentModel {{ color: #9fc6ff; }}
QLabel#labelNotice {{ color: #f0c070; }}
QPushButton#retrainButton {{ font-weight: bold; padding: 6px 14px; }}
QPushButton#retrainButton:enabled {{ background-color: #2e7d32; color: white; }}
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
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    disabled = QColor(120, 122, 128)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_theme(app: QApplication, dark: bool = True) -> None:
    app.setStyle("Fusion")
    if dark:
        app.setPalette(dark_palette())
    app.setStyleSheet(STYLESHEET)
