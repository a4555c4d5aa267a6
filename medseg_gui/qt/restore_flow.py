"""Edit → Bring back a removed image…: a small dialog lists the images taken out of the project (core.restore_images:
name, when, labels); Restore moves the one chosen back on a worker, with drawing paused, then the list shows it again
with its label and scores, and the status bar says what came back. Refused like Remove image (`classes_locked`); the
menu item is off while the project has no removed image or must not be written, and like Remove image's while a
training or prediction runs (qt.actions). It waits for a running re-scoring at another threshold
(qt.threshold_metrics), and none starts until it is done: that job's save, computed without the image, would overwrite
the scores it brought back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from medseg_gui.core.project_format import REMOVED_FOLDER, REMOVED_RECORD
from medseg_gui.core.restore_images import RemovedRecord, Restored, removed_images, restore_removed
from medseg_gui.qt.threshold_metrics import MetricsRefresher
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message

PAUSED = "a removed image is brought back"  # why drawing is off meanwhile (ReadOnlyView.pause)
TITLE = "Bring back a removed image"


class RemovedDialog(QDialog):
    """The removed images, one row each (name, removed, labels), the newest first; Restore accepts the row chosen."""

    def __init__(self, records: list[RemovedRecord], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.records = sorted(records, key=lambda r: r.removed_at, reverse=True)
        self.table = QTableWidget(len(self.records), 3, self)
        self.table.setHorizontalHeaderLabels(["Image", "Removed", "Labels"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        for row, record in enumerate(self.records):
            for col, text in enumerate((record.stem, record.removed_at, str(record.labels))):
                item = QTableWidgetItem(text)
                item.setToolTip(str(record.folder))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectRow(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.restore_button = buttons.addButton("&Restore", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.table.doubleClicked.connect(self.accept)
        self.table.itemSelectionChanged.connect(lambda: self.restore_button.setEnabled(self.chosen() is not None))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Its files move back from the project's .removed/ folder and it is listed again where "
                                "it stood, with its labels, marks and scores.", self))
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def chosen(self) -> RemovedRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.records[rows[0].row()] if rows else None


def choose_removed(parent: QWidget | None, records: list[RemovedRecord]) -> RemovedRecord | None:
    """The removed image the user chose to bring back, or None (Cancel)."""
    dialog = RemovedDialog(records, parent)
    return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None


def has_removed(project: Any) -> bool:
    """Whether `project` may be written and has a removed image to bring back (a directory listing, no reads)."""
    return (project is not None and project.write_refusal() is None
            and any((project.root / REMOVED_FOLDER).glob(f"*/{REMOVED_RECORD}")))


class RestoreFlow(QObject):
    """`start(refusal)` asks which removed image, then brings it back; reports `status(text)`, `said(text)` (what
    came back, beside the image's own line), `errored(message)` and `editing_paused(why)`: PAUSED, then ''."""

    status = Signal(str)
    said = Signal(str)
    errored = Signal(str)
    editing_paused = Signal(str)
    restored = Signal(object)  # Restored

    def __init__(self, host: WorkerHost, parent: QWidget, project: Callable[[], Any], images: Any,
                 reshow: Callable[[], None], scores: MetricsRefresher) -> None:
        """`images`: the image list (to show the image brought back); `reshow()` shows the project again; `scores`:
        the window's re-scoring, held meanwhile."""
        super().__init__(parent)
        self._host, self._parent, self._project, self._images, self._reshow = host, parent, project, images, reshow
        self._scores = scores

    def start(self, refusal: Callable[[], str | None]) -> FunctionWorker | None:
        """Ask which removed image, then move it back on a worker (once no re-scoring job runs); None when there is no
        project or removed image, `refusal()` (why the project may not change now) forbids it, or the dialog is
        cancelled."""
        project = self._project()
        if project is None:
            self.errored.emit("Open a project first.")
            return None
        if (why := refusal()) is not None:
            self.errored.emit(f"Nothing was brought back: {why}")
            return None
        records = removed_images(project.root)
        if not records:
            self.errored.emit(f"No image was removed from this project (its {REMOVED_FOLDER}/ folder has none).")
            return None
        record = choose_removed(self._parent, records)
        if record is None:
            return None
        if (why := refusal()) is not None:  # something started or was painted while the dialog was open
            self.errored.emit(f"'{record.stem}' was not brought back: {why}")
            return None
        worker = FunctionWorker(restore_removed, project, record)
        self.editing_paused.emit(PAUSED)
        once = " once the scores being updated are saved" if self._scores.busy() else ""
        self.status.emit(f"Bringing '{record.stem}' back into the project{once}… Drawing is paused meanwhile.")
        self._scores.hold(lambda: self._host.start(worker, on_done=self._done, on_error=self._failed,
                                                   on_ended=self._ended))
        return worker

    def _ended(self) -> None:
        self._scores.release()
        self.editing_paused.emit("")

    def _done(self, result: Restored) -> None:
        self._reshow()
        if result.stem in self._images.stems():
            self._images.select(result.stem)
        self.said.emit(result.summary())
        self.restored.emit(result)

    def _failed(self, err: BaseException) -> None:
        self.errored.emit(error_message(err))
