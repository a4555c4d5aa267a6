"""The window's one way to set an image mark in project.json (core.pending_marks): a mark that cannot be written is
kept and written again every few seconds, and at once after a label is saved (the disk may be back); the SaveGuard
shows it like an unsaved label (message, * in the title, the list's mark), Retrain waits for it and closing asks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from medseg_gui.core.label_status import ACCEPTED_KEY
from medseg_gui.core.pending_marks import Mark, PendingMarks, mark_text
from medseg_gui.workers.label_saver import LabelSaver


class MarkKeeper(QObject):
    """`set(project, stem, key, cls, on)` → None when written, else why not; `kept(stem, what, why)` when a mark is
    first kept; `changed()` whenever the kept marks may have changed; `written()` once every kept mark is written."""

    kept = Signal(str, str, str)
    changed = Signal()
    written = Signal()

    def __init__(self, saver: LabelSaver, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.book, self._saver = PendingMarks(), saver
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.retry)
        saver.saved.connect(self._on_label_saved)  # (queued: the saver thread emits it)

    def set(self, project: Any, stem: str, key: str, cls: str | None, on: bool) -> str | None:
        return self._watched(project, (stem, key, cls), lambda: self.book.set(project, stem, key, cls, on))

    def follow_accepted(self, project: Any, stem: str, cls: str, accepted: bool) -> str:
        """PendingMarks.follow_accepted: the sentence for the status bar, '' when nothing changed."""
        return self._watched(project, (stem, ACCEPTED_KEY, cls),
                             lambda: self.book.follow_accepted(project, stem, cls, accepted))

    def _watched(self, project: Any, mark: Mark, call: Callable[[], Any]) -> Any:
        """`call()`, saying when it kept `mark` (once per mark and value, not at every stroke)."""
        was = self.book.pending(project).get(mark)
        result = call()
        now = self.book.pending(project).get(mark)
        if now is not None and (was is None or was[0] != now[0]):
            self.kept.emit(mark[0], mark_text(mark, now[0]), now[1])
        self._after()
        return result

    def wanted(self, project: Any, stem: str, key: str, cls: str | None) -> bool:
        return self.book.wanted(project, stem, key, cls)

    def marked(self, project: Any, key: str, cls: str) -> set[str]:
        return self.book.marked(project, key, cls)

    def pending(self, project: Any = None) -> dict[Mark, tuple[bool, str]]:
        """PendingMarks.pending: mark → (value wanted, why not saved)."""
        return self.book.pending(project)

    @Slot()
    def retry(self) -> bool:
        """Write the kept marks again now; True when none is left."""
        if self.book and self.book.retry():
            self._after()
        return not self.book

    @Slot(str, str, bool)
    def _on_label_saved(self, _cls: str, _stem: str, _present: bool) -> None:
        if self.book:
            self.retry()

    def discard(self) -> None:
        """Forget the kept marks (the user chose to; logged): nothing is retried, nor said to be written."""
        self.book.discard()
        self._timer.stop()
        self.changed.emit()

    def _after(self) -> None:
        """Retry every `saver.retry_s` while a mark is kept; `written` once none is after some were."""
        if self.book and not self._timer.isActive():
            self._timer.start(max(1, int(self._saver.retry_s * 1000)))
        elif not self.book and self._timer.isActive():
            self._timer.stop()
            self.written.emit()
        self.changed.emit()
