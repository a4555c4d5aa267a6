"""Read-only projects (open for editing in another window, read-only media, no permission): a banner that says why,
and the controls that would change the project switched off. Viewing, zoom, pan, class choice and export stay on.
The banner's "Try editing again" link asks the window to lock the project once more (`retry_requested`).
`ReadOnlyView` keeps all of it on screen for the window, and shows what the editing window saves (`ProjectWatcher`);
it also pauses editing for a while in an editable window (no banner): while masks are imported. A window that has its
project read-only because another one edits it steps aside from that one (`WindowPlacement`)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from medseg_gui.core.lock import LockOwner, editing_elsewhere, holder
from medseg_gui.qt.keyboard import LinkLabel
from medseg_gui.qt.keymap import key_text
from medseg_gui.qt.quiet_watch import QuietWatch
from medseg_gui.qt.second_window import WindowPlacement

if TYPE_CHECKING:
    from medseg_gui.qt.actions import WindowActions
    from medseg_gui.qt.open_flow import OpenFlow
    from medseg_gui.qt.panels.tools_panel import ToolsPanel
    from medseg_gui.qt.panels.train_panel import TrainPanel

BANNER_STYLE = "QLabel { background: #6b5200; color: #fff4c2; padding: 6px 10px; font-weight: bold; }"


def read_only_text(reason: str) -> str:
    return (f"Read-only: {reason}. You can look at images, labels and predictions; drawing, Retrain and "
            "“reviewed” are off and nothing is written into the project.")


EDITOR_CLOSED = "the window that was editing it has closed; press “Try editing again” to edit it here"


def training_off_text(project_open: bool, reason: str | None) -> str:
    """Why Retrain is off ('' when it is on): no project is open, or it is open read-only for `reason` (the Train
    panel said "press Retrain to train one" beside a greyed Retrain)."""
    if not project_open:
        return ("no project is open; open a folder of images first (File → Open folder of images…, "
                f"{key_text('open_folder')})")
    return "" if reason is None else f"this window has the project read-only because {reason}"


def remembers_choices(shown: Any, reopened: Any = None) -> bool:
    """Whether the window may remember its choices for the project `shown` (class, threshold, image…: what its next
    opening starts with). Not while it has it read-only, where the editing window's stand (a trial's read-only window,
    closed last, set the next start's threshold), unless `reopened` is that project, now editable ("Try editing
    again")."""
    if shown is None or shown.read_only is None:
        return shown is not None
    return reopened is not None and reopened.read_only is None and Path(reopened.root) == Path(shown.root)


class ReadOnlyBanner(LinkLabel):
    """A coloured strip above the canvas, hidden while the project can be edited; Tab and Return reach its link."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readOnlyBanner")
        self.setWordWrap(True)
        self.setStyleSheet(BANNER_STYLE)
        self.linkActivated.connect(lambda _link: self.retry_requested.emit())
        self.hide()

    def show_reason(self, reason: str | None) -> None:
        link = '<a href="retry" style="color: #ffffff;">Try editing again</a>'
        self.setText(f"{html.escape(read_only_text(reason))} {link}" if reason is not None else "")
        self.setVisible(reason is not None)


def set_editing_enabled(why_off: str, actions: WindowActions, tools: ToolsPanel, train: TrainPanel,
                        pan: bool = True) -> None:
    """Switch every control that writes into the project on ('') or off for `why_off` (the pan tool as `pan` says:
    usable while a project is open; undo and redo follow the canvas, which ImageSession makes editable or not); the
    Train panel says why it cannot train."""
    enabled = not why_off
    drawing = [action for tool, action in actions.tools.items() if tool != "pan"]
    for action in (actions.reviewed, actions.no_object, actions.label_sparse, actions.label_complete, actions.retrain,
                   actions.accept_prediction, *drawing):
        action.setEnabled(enabled)
    if "pan" in actions.tools:
        actions.tools["pan"].setEnabled(pan)
    tools.set_tools_enabled(enabled, pan)
    tools.accept_button.setEnabled(enabled)
    train.set_training_off(why_off)  # Continuous too: it only refused with a dialog (trial, session 36)


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
        self._watch = QuietWatch(self.QUIET_MS, self)
        self._watch.settled.connect(self._settled)

    def watch(self, project: Any) -> None:
        """Watch `project` (None: nothing)."""
        self._project = project
        self._rewatch()

    def _settled(self) -> None:
        self._rewatch()  # a class's first label, prediction or model makes its folder
        self.changed.emit()

    def _rewatch(self) -> None:
        if self._project is None:
            self._watch.watch([])
            return
        root = Path(self._project.root)
        folders = [root] + [root / top for top in self.FOLDERS]  # the root: a first label makes labels/
        folders += [root / top / cls for top in self.FOLDERS for cls in self._project.class_names]
        self._watch.watch([f for f in folders if f.is_dir()])


class ReadOnlyView(QObject):
    """The window's read-only state on screen; the reason is the project's (`project().read_only`, None: editable).
    `apply()` after the project or its reason changed: the banner, the editing controls, the image session, and while
    read-only a watch on the project whose changes are shown once they settle (`show_saved()` fills the list, then
    the image is reloaded). The banner's "Try editing again" asks the open flow to lock the project again;
    `status(text)` says why it is still read-only; `changed` after each `apply` (the window's title says it too).
    `pause(why)` turns the same controls off for a while, whatever the project allows ('': as it allows again)."""

    status = Signal(str)
    changed = Signal()

    def __init__(self, banner: ReadOnlyBanner, project: Callable[[], Any], panels: dict[str, Any],
                 actions: WindowActions, opener: OpenFlow, show_saved: Callable[[], None], parent: QWidget) -> None:
        super().__init__(parent)
        self._banner, self._project, self._actions, self._opener = banner, project, actions, opener
        self._show_saved = show_saved
        self._session, self._images = panels["session"], panels["image_list"]
        self._tools, self._train = panels["tools"], panels["train_panel"]
        self._pauses: dict[str, str] = {}  # who paused editing for a while → why (none: it is not paused)
        self._editor: LockOwner | None = None  # read-only: who held the project's lock when last looked at
        self.watcher = ProjectWatcher(self)  # read-only: what the editing window saves is shown here too
        self.placement = WindowPlacement(parent)  # a second window on a project steps aside (qt.second_window)
        opener.read_only_changed.connect(self.apply)
        banner.retry_requested.connect(self.try_editing_again)
        self.watcher.changed.connect(self._saved_elsewhere)
        self.watcher.changed.connect(self._editor_changed)

    def apply(self) -> None:
        project = self._project()
        reason = project.read_only if project is not None else None
        self._banner.show_reason(reason)
        paused = next(iter(self._pauses.values()), "")
        self._session.set_read_only(reason, paused or None)
        # no project (a first start, or one that could not be opened): nothing to edit or train (a trial clicked a
        # green Retrain that did nothing)
        set_editing_enabled(training_off_text(project is not None, reason) or paused, self._actions,
                            self._tools, self._train, pan=project is not None)
        self.watcher.watch(project if reason is not None else None)
        self._editor = holder(project.root) if reason is not None else None
        self.placement.follow(project is not None, reason is not None, self._editor is not None)
        self.changed.emit()

    def pause(self, why: str, who: str = "") -> None:
        """Editing off while `why` ("masks are imported": a stroke's autosave would overwrite what they write), or,
        once `why` is '', back to what the project allows when no one else (`who`: the import, a restore) has paused
        it still (a read-only window stays read-only)."""
        if why:
            self._pauses[who] = why
        else:
            self._pauses.pop(who, None)
        self.apply()

    def try_editing_again(self) -> None:
        """The banner's "Try editing again": reopen the project for editing if nobody else holds it now."""
        reason = self._opener.try_editing()
        if reason is not None:
            self.status.emit(f"Still read-only: {reason}.")

    @Slot()
    def _editor_changed(self) -> None:
        """Read-only because another window edits the project: that one let its lock go (closed), or another holds it
        now. The banner says so (a trial's still named a process gone for minutes); nothing is written until Try
        editing again locks it."""
        project = self._project()
        followed = self._editor is not None or (project is not None and project.read_only == EDITOR_CLOSED)
        if project is None or project.read_only is None or not followed:
            return
        now = holder(project.root)
        if now != self._editor:
            project.set_read_only(EDITOR_CLOSED if now is None else editing_elsewhere(now))
            self.apply()
            self.status.emit(f"Read-only: {project.read_only}.")

    @Slot()
    def _saved_elsewhere(self) -> None:
        """Read-only: another window saved labels, predictions or a model; show them (list, model line, image)."""
        project = self._project()
        if project is None or project.read_only is None:
            return
        with self._images.batch():
            self._show_saved()
        self._session.reload_shown()
