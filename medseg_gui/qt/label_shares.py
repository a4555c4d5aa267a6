"""Tells the image list which labels are complete and which sparse, with their annotated share ("✓ 12 %"), read in
the background, with the label files that cannot be read and the complete labels that look incomplete beside their
prediction (`doubts_read`, for qt.label_status_flow): once per project, class and current model (a Retrain or rollback
re-predicts every image), and again whenever the list has labels it does not know to be complete or sparse (shown
"✓ …" until then: a list filled again, labels another window saved). The image on screen gets the image session's
live share (its strokes may not be on disk yet)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from medseg_gui.core.label_status import not_doubted

from medseg_gui.qt.image_session import ImageSession
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.start_photos import from_shipped_start, photos_start_saw
from medseg_gui.workers.base import FunctionWorker, WorkerHost
from medseg_gui.workers.label_shares import LabelShares, read_label_shares


log = logging.getLogger(__name__)


class LabelShareFlow(QObject):
    doubts_read = Signal(str, object, bool)  # (class, {stem: why a complete label looks incomplete}, judged)

    def __init__(self, host: WorkerHost, images: ImageListPanel, session: ImageSession,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host, self.images, self.session = host, images, session
        self._done: set[tuple[int, str, str]] = set()  # (id of the project, class, current model id) read
        self._reading: set[tuple[int, str, str]] = set()  # … being read now

    def refresh(self, project: Any, cls: str, model_id: object = None) -> FunctionWorker | None:
        """Read the shares (and doubts) of `cls` in `project` unless that was done already with the model
        `model_id` current and the list knows every label's kind, or is being done; the worker, or None."""
        key = (id(project), cls, str(model_id))
        if project is None or not cls or key in self._reading or (key in self._done
                                                                   and not self.images.pending_kinds()):
            return None
        self._done.add(key)
        self._reading.add(key)
        exempt = frozenset(not_doubted(project, cls))
        worker = FunctionWorker(read_label_shares, project, cls, project.labelled_stems(cls), self.session.threshold,
                                exempt)
        self.host.start(worker, on_done=self._on_finished, on_ended=lambda: self._reading.discard(key))
        return worker

    @Slot(object)
    def _on_finished(self, result: LabelShares) -> None:
        if result.project is not self.session.project:
            return  # another project is open now
        shares, live, shown = dict(result.shares), self.session.review.shares, self.session.stem
        if shown is not None:  # the image on screen as drawn now (strokes maybe not saved yet), not left out
            shares[shown] = live[result.cls] if result.cls in live else shares.get(shown)
        with self.images.batch():  # one re-sort and column fit of the list for the three
            self.images.set_annotated_shares(result.cls, shares)
            self.images.set_unreadable_labels(result.cls, result.unreadable)
            # "· new": saved after the current model's run
            self.images.labelled_column.set_saved_at(result.cls, result.saved_at)
        self.doubts_read.emit(result.cls, result.doubts, result.judged)
        # "· seen" (by the built-in start): after the shares, as it may read every labelled photo (an older model
        # recorded none)
        model = str((result.model or {}).get("id") or "")
        if from_shipped_start(result.model) and result.shares:
            worker = FunctionWorker(photos_start_saw, result.project, result.model, list(result.shares))
            self.host.start(worker, on_done=lambda saw: self.images.labelled_column.add_start_saw(model, saw)
                            if result.project is self.session.project else None,
                            on_error=lambda err: log.warning("photos not checked against the built-in start: %s",
                                                             err))  # a mark only: no dialog for it (review)
