"""Labels rescued at a close nobody could answer (core.rescued_labels), offered back when their project opens.

A fault-injection trial: a SIGTERM while the label folder was unwritable wrote the stroke to the user data folder and
only the log said so; the reopened project showed the old label with a plain ✓. Now each opening of a project for
editing looks (on a worker) for its rescues and asks once: Restore writes them into the project on a worker, with
drawing paused (a stroke's autosave on the image shown would overwrite what is restored), then the project is shown
again from disk; Not now asks again at the next opening. A read-only window does not offer them (the window that
holds the project does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from medseg_gui.core.rescued_labels import Rescue, RescuesRestored, find_rescues, rescued_text, restore_rescues
from medseg_gui.paths import UNSAVED_LABELS, rescue_base
from medseg_gui.qt import dialogs
from medseg_gui.qt.open_flow import OpenFlow
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message

log = logging.getLogger(__name__)

TITLE = "Rescued labels"
PAUSED = "rescued labels are brought back"  # why drawing is off meanwhile (ReadOnlyView.pause)


def restore_question(project_name: str, rescues: list[Rescue]) -> str:
    """What the window asks when a project with rescued labels opens."""
    them = "it" if sum(len(r.labels) for r in rescues) == 1 else "them"
    return (f"{rescued_text(project_name, rescues)}\n\nBring {them} back into the project now? (The label the "
            "project holds there, from before the failure or saved since, is moved to labels/<class>/.replaced/ in "
            "the project, not deleted.)")


def ask_restore(parent: QWidget | None, text: str) -> bool:
    """Blocking question (monkeypatched in tests): True for Restore (the default), False for Not now."""
    box = QMessageBox(QMessageBox.Icon.Question, TITLE, text, QMessageBox.StandardButton.NoButton, parent)
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    later = box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.setEscapeButton(later)
    box.exec()
    return box.clickedButton() is restore


class RescuedFlow(QObject):
    """Offers a project's rescued labels each time `opener` opens it for editing. `flush()` saves every label first
    (False: some could not be); `show_again()` shows the project again from disk after a restore, and `restored(text)`
    then says what was restored. `editing_paused(why)`: PAUSED while a restore runs, then ''."""

    status = Signal(str)
    errored = Signal(str)
    restored = Signal(str)
    editing_paused = Signal(str)

    def __init__(self, host: WorkerHost, opener: OpenFlow, flush: Callable[[], bool], show_again: Callable[[], Any],
                 dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self._host, self._flush, self._show_again, self._parent = host, flush, show_again, dialog_parent
        self._project: Any = None  # the project opened last: a late answer about another one is dropped
        opener.opened.connect(self._on_opened)

    @Slot(object)
    def _on_opened(self, result: Any) -> None:
        self.offer(result.project)

    def offer(self, project: Any) -> FunctionWorker | None:
        """Look for `project`'s rescued labels (on a worker) and ask about them; None when it is read-only."""
        self._project = project
        if project.read_only is not None:
            return None
        worker = FunctionWorker(find_rescues, rescue_base(UNSAVED_LABELS), project.root)
        self._host.start(worker, on_done=partial(self._ask, project),
                         on_error=lambda err: log.warning("could not look for rescued labels: %s", err))
        return worker

    def _ask(self, project: Any, rescues: list[Rescue]) -> None:
        if not rescues or project is not self._project or project.read_only is not None:
            return
        if not ask_restore(self._parent, restore_question(project.root.name, rescues)):
            n = sum(len(r.labels) for r in rescues)
            self.status.emit(f"{n} rescued label{'' if n == 1 else 's'} not brought back; asked again the next time "
                             "this project opens.")
            return
        self._restore(project, rescues)

    def _restore(self, project: Any, rescues: list[Rescue]) -> FunctionWorker | None:
        self.editing_paused.emit(PAUSED)
        if not self._flush():  # a label of this session not on disk yet: the restore would race its save
            self.editing_paused.emit("")
            self.errored.emit("Some labels are not saved yet, so the rescued labels were not brought back; they are "
                              "offered again the next time this project opens.")
            return None
        self.status.emit("Bringing the rescued labels back… Drawing is paused until they are in.")
        worker = FunctionWorker(restore_rescues, project, rescues)
        self._host.start(worker, on_done=partial(self._done, project), on_ended=lambda: self.editing_paused.emit(""),
                         on_error=lambda err: self.errored.emit(f"The rescued labels were not brought back: "
                                                                f"{error_message(err)}"))
        return worker

    def _done(self, project: Any, result: RescuesRestored) -> None:
        text = result.summary()
        if project is self._project and result.restored:
            self._show_again()  # the list's marks and the image shown, as on disk now
        self.restored.emit(text)
        if result.left or result.failed or result.moved_aside:  # more than a status line can hold
            dialogs.show_message(self._parent, TITLE, text, error=bool(result.failed))
