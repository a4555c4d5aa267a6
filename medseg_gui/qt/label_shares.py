"""Fills the image list's annotated share of sparse labels ("✓ 12 %") for images not opened yet, in the background,
with the label files that cannot be read and the complete labels that look incomplete beside their prediction
(`doubts_read`, for qt.label_status_flow): once per project, class and current model (a Retrain or rollback
re-predicts every image). The image on screen is left to the image session, which reports its live share."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from medseg_gui.core.label_status import not_doubted

from medseg_gui.qt.image_session import ImageSession
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.workers.base import FunctionWorker, WorkerHost
from medseg_gui.workers.label_shares import LabelShares, read_label_shares


class LabelShareFlow(QObject):
    doubts_read = Signal(str, object, bool)  # (class, {stem: why a complete label looks incomplete}, judged)

    def __init__(self, host: WorkerHost, images: ImageListPanel, session: ImageSession,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host, self.images, self.session = host, images, session
        self._done: set[tuple[int, str, str]] = set()  # (id of the project, class, current model id) read

    def refresh(self, project: Any, cls: str, model_id: object = None) -> FunctionWorker | None:
        """Read the shares (and doubts) of `cls` in `project` unless that was done already with the model
        `model_id` current; the worker, or None."""
        key = (id(project), cls, str(model_id))
        if project is None or not cls or key in self._done:
            return None
        self._done.add(key)
        exempt = frozenset(not_doubted(project, cls))
        worker = FunctionWorker(read_label_shares, project, cls, project.labelled_stems(cls), self.session.threshold,
                                exempt)
        self.host.start(worker, on_done=self._on_finished)
        return worker

    @Slot(object)
    def _on_finished(self, result: LabelShares) -> None:
        if result.project is not self.session.project:
            return  # another project is open now
        self.images.set_annotated_shares(result.cls, {stem: share for stem, share in result.shares.items()
                                                      if stem != self.session.stem})
        self.images.set_unreadable_labels(result.cls, result.unreadable)
        self.doubts_read.emit(result.cls, result.doubts, result.judged)
