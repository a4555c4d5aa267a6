"""Read-only projects (open for editing in another window, read-only media, no permission): a banner that says why,
and the controls that would change the project switched off. Viewing, zoom, pan, class choice and export stay on.
The banner's "Try editing again" link asks the window to lock the project once more (`retry_requested`)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

if TYPE_CHECKING:
    from medseg_gui.qt.actions import WindowActions
    from medseg_gui.qt.panels.tools_panel import ToolsPanel
    from medseg_gui.qt.panels.train_panel import TrainPanel

BANNER_STYLE = "QLabel { background: #6b5200; color: #fff4c2; padding: 6px 10px; font-weight: bold; }"


def read_only_text(reason: str) -> str:
    return (f"Read-only: {reason}. You can look at images, labels and predictions; drawing, Retrain and "
            "“reviewed” are off and nothing is written into the project.")


class ReadOnlyBanner(QLabel):
    """A coloured strip above the canvas, hidden while the project can be edited."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readOnlyBanner")
        self.setWordWrap(True)
        self.setStyleSheet(BANNER_STYLE)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.linkActivated.connect(lambda _link: self.retry_requested.emit())
        self.hide()

    def show_reason(self, reason: str | None) -> None:
        link = '<a href="retry" style="color: #ffffff;">Try editing again</a>'
        self.setText(f"{html.escape(read_only_text(reason))} {link}" if reason is not None else "")
        self.setVisible(reason is not None)


def set_editing_enabled(enabled: bool, actions: WindowActions, tools: ToolsPanel, train: TrainPanel) -> None:
    """Switch every control that writes into the project on or off (the pan tool stays usable)."""
    for action in (actions.undo, actions.redo, actions.reviewed, actions.no_object, actions.label_sparse,
                   actions.label_complete, actions.retrain, *actions.tools.values()):
        action.setEnabled(enabled)
    for name, button in tools.tool_buttons.items():
        button.setEnabled(enabled or name == "pan")
    tools.accept_button.setEnabled(enabled)
    train.retrain_button.setEnabled(enabled)
    train.continuous_button.setEnabled(enabled)  # it only refused with a dialog (trial, session 36)


class ProjectWatcher(QObject):
    """While a project is open read-only because another window edits it, watches its label, prediction and model
    folders and emits `changed` once things settle (QUIET_MS after the last change), so the window can show what the
    other one saved (a trial's read-only window kept its first picture while the other labelled and trained).
    Atomic writes end in a rename, which the folder's watch sees."""

    changed = Signal()
    QUIET_MS = 1000
    FOLDERS = ("labels", "predictions", "models")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project: Any = None
        self._watcher = QFileSystemWatcher(self)
        self._quiet = QTimer(self)
        self._quiet.setSingleShot(True)
        self._quiet.setInterval(self.QUIET_MS)
        self._quiet.timeout.connect(self._settled)
        self._watcher.directoryChanged.connect(lambda _path: self._quiet.start())

    def watch(self, project: Any) -> None:
        """Watch `project` (None: nothing)."""
        self._project = project
        self._quiet.stop()
        self._rewatch()

    def _settled(self) -> None:
        self._rewatch()  # a class's first label, prediction or model makes its folder
        self.changed.emit()

    def _rewatch(self) -> None:
        paths = self._watcher.directories() + self._watcher.files()
        if paths:
            self._watcher.removePaths(paths)
        if self._project is None:
            return
        root = Path(self._project.root)
        folders = [root] + [root / top for top in self.FOLDERS]  # the root: a first label makes labels/
        folders += [root / top / cls for top in self.FOLDERS for cls in self._project.class_names]
        existing = [str(f) for f in folders if f.is_dir()]
        if existing:
            self._watcher.addPaths(existing)
