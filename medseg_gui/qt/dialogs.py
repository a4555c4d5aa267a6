"""Small dialog helpers. Anything blocking lives here so tests can monkeypatch it; messages are shown non-blocking."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QMessageBox, QTextBrowser, QVBoxLayout,
                               QWidget)

from medseg_gui import __version__
from medseg_gui.qt.keymap import f1_rows


TITLE_BAR, FRAME = 40, 4  # room a window manager's title bar and borders take outside a window's geometry


class NewFolderDialog(QFileDialog):
    """Qt's folder chooser that also takes the name of a folder that does not exist yet, typed into its name box,
    and creates it (Qt's own answers "Directory not found": a new-user trial typed a new export folder there)."""

    def __init__(self, parent: QWidget | None, title: str, start: Path) -> None:
        super().__init__(parent, title, str(start))
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # accept() below runs only in Qt's own dialog

    def accept(self) -> None:
        chosen = self.selectedFiles()
        if len(chosen) == 1 and not Path(chosen[0]).exists():
            folder = Path(chosen[0])
            why = f"the folder {folder.parent} does not exist"  # only the last part may be new: no typo'd trees
            if folder.parent.is_dir():
                try:
                    folder.mkdir()
                except OSError as err:
                    why = err.strerror or str(err)
            if not folder.is_dir():  # the dialog stays open (Qt's own message box would block)
                show_message(self, self.windowTitle(), f"Could not create the folder {folder}: {why}.", error=True)
                return
        super().accept()


def choose_directory(parent: QWidget | None, title: str, start: Path | None = None, *,
                     new: bool = False) -> Path | None:
    """Blocking folder chooser; returns None when the user cancels. `new`: a typed name of a folder that does not
    exist yet is created (an export target), else only existing folders are chosen."""
    if not new:
        path = QFileDialog.getExistingDirectory(parent, title, str(start or Path.home()))
        return Path(path) if path else None
    dialog = NewFolderDialog(parent, title, start or Path.home())
    chosen = dialog.selectedFiles() if dialog.exec() == QDialog.DialogCode.Accepted else []
    dialog.deleteLater()
    return Path(chosen[0]) if chosen and chosen[0] else None


def choose_files(parent: QWidget | None, title: str, start: Path | None, suffixes: Iterable[str]) -> list[Path]:
    """Blocking chooser of existing files with one of `suffixes` (".png", …); [] when the user cancels."""
    pattern = " ".join(f"*{s}" for s in sorted(suffixes))
    paths, _filter = QFileDialog.getOpenFileNames(parent, title, str(start or Path.home()), f"Images ({pattern})")
    return [Path(p) for p in paths]


def show_message(parent: QWidget | None, title: str, text: str, *, error: bool = False,
                 details: str = "") -> QMessageBox:
    """Window-modal but non-blocking (`open()`), so a test or a running training never waits on it."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if error else QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setText(text)
    box.setTextFormat(Qt.TextFormat.AutoText)
    if details:
        box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is not None:  # give the keyboard back to the window (shortcuts need an active window)
        box.finished.connect(parent.window().activateWindow)
    box.open()
    return box


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Resize `window` to `width` × `height`, never larger than its screen's available area less a title bar, and keep
    its bottom on the screen when it grows while shown (a 1366×768 trial's About → Show Details ran off the bottom)."""
    screen = (window.parentWidget() or window).screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    window.setMaximumSize(area.width() - 2 * FRAME, area.height() - TITLE_BAR - FRAME)
    window.resize(min(width, window.maximumWidth()), min(height, window.maximumHeight()))
    if window.isVisible() and window.geometry().bottom() > area.bottom() - FRAME:
        window.move(window.x(), max(area.top(), area.bottom() - FRAME - window.height() - TITLE_BAR))  # the frame's


def open_in_file_manager(folder: Path) -> bool:
    """Show `folder` (created if missing) in the system's file manager; False when none could be started."""
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def ask_yes_no(parent: QWidget | None, title: str, text: str) -> bool:
    """Blocking yes/no question (default: No); tests monkeypatch it."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def shortcuts_html() -> str:
    """The F1 list, read from the one shortcut table (qt.keymap)."""
    rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in f1_rows())
    return f"<table>{rows}</table>"


def show_shortcuts(parent: QWidget | None) -> QDialog:
    """The F1 list in a non-blocking window that fits the screen and scrolls (in a message box the list was taller
    than a 1000-pixel screen, its OK button off the bottom)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Keyboard shortcuts")
    browser = QTextBrowser(dialog)
    browser.setHtml(shortcuts_html())
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    screen = (parent.screen() if parent is not None else QGuiApplication.primaryScreen()).availableGeometry()
    width = min(720, int(screen.width() * 0.9))
    height = text_height(browser, width - 60) + buttons.sizeHint().height() + 60
    dialog.resize(width, min(height, int(screen.height() * 0.85)))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is not None:
        dialog.finished.connect(parent.window().activateWindow)
    dialog.open()
    return dialog


def text_height(browser: QTextBrowser, width: int) -> int:
    """The height of `browser`'s text laid out `width` pixels wide (measured apart: the browser lays its own out once
    shown)."""
    text = browser.document().clone(browser)
    text.setTextWidth(width)
    height = int(text.size().height())
    text.deleteLater()
    return height


def demo_credits() -> str | None:
    """The attribution texts of the installed demos, or None when none is installed."""
    from medseg_gui.core.demo import DEMOS, demo_source
    from medseg_gui.core.errors import MedsegError

    texts = []
    for which in DEMOS:
        try:
            texts.append((demo_source(which) / "ATTRIBUTION.md").read_text(encoding="utf-8"))
        except (OSError, MedsegError):
            continue
    return "\n\n".join(texts) or None


def start_credits() -> list[str]:
    """What each shipped pretrained start was trained on and whom to credit (its JSON's "source"), one line each."""
    from medseg_gui.core.resources import resource_path

    folder = resource_path("models")
    lines = []
    for path in sorted(folder.glob("*-init.json")) if folder is not None else []:
        try:
            source = json.loads(path.read_text(encoding="utf-8")).get("source")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(source, str) and source:
            lines.append(source[0].upper() + source[1:])
    return lines


def plain_text(markdown: str) -> str:
    """Markdown as plain text for a message box: no `code` or *emphasis* marks, no # before headings."""
    return "\n".join(re.sub(r"[`*]", "", line).lstrip("# ") for line in markdown.splitlines())


def licence_html(package: Path | None) -> str:
    """Under which licences the program and the software it uses are given, and where their texts are: beside the
    executables of the desktop package (`package`, core.resources.package_folder; packaging/README.md), else in each
    installed distribution's metadata."""
    if package is not None:
        where = (f"their licence texts are in {html.escape(str(package))}: THIRD_PARTY_LICENSES.md (an index) and "
                 "licenses/, beside LICENSE")
    else:
        where = "their licence texts come with each installed distribution (its metadata: pip show -f NAME)"
    return ("<h4>Licence</h4><p>medseg_gui is free software under the MIT licence. Qt and PySide6 are used under the "
            f"LGPL-3.0; the other libraries under their own licences, and {where}.</p>")


def about_html(credits_markdown: str | None, starts: list[str] | None = None, package: Path | None = None) -> str:
    """The About text: what the program is, one line per demo (the full credits go in its Show Details…) and one
    per shipped pretrained start (`start_credits`), and the licences (`licence_html`)."""
    credits = ""
    if credits_markdown:
        titles = [html.escape(plain_text(line)) for line in credits_markdown.splitlines() if line.startswith("# ")]
        credits = ("<h4>Demo data</h4>" + "<br>".join(titles)
                   + "<p>Sources, changes and what to cite: <i>Show Details…</i></p>")
    if starts:
        credits += "<h4>Pretrained starts (shipped)</h4>" + "<br>".join(html.escape(line) for line in starts)
    return (
        f"<h3>medseg_gui {__version__}</h3>"
        "<p>Draw lesion and vessel masks, retrain a U-Net on your own labels with one click, review predicted "
        "contours, false positives (red) / false negatives (blue) and per-image ROC AUC, and export masks as PNG.</p>"
        "<p>Not a medical device: for research and annotation only.</p>"
        f"{credits}{licence_html(package)}"
    )
