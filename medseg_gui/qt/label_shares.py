"""Fills the image list's annotated share of sparse labels ("✓ 12 %") for images not opened yet: once per project
and class, in the background, with the label files that cannot be read. The image on screen is left to the image
session, which reports its live share."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot

from medseg_gui.qt.image_session import ImageSession
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.workers.base import FunctionWorker, WorkerHost
from medseg_gui.workers.label_shares import LabelShares, read_label_shares


class LabelShareFlow(QObject):
    def __init__(self, host: WorkerHost, images: ImageListPanel, session: ImageSession,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host, self.images, self.session = host, images, session
        self._done: set[tuple[int, str]] = set()  # (id of the project, class) already read

    def refresh(self, project: Any, cls: str) -> FunctionWorker | None:
        """Read the shares of `cls` in `project` unless that was done already; the worker, or None."""
        key = (id(project), cls)
        if project is None or not cls or key in self._done:
            return None
        self._done.add(key)
        worker = FunctionWorker(read_label_shares, project, cls, project.labelled_stems(cls))
        self.host.start(worker, on_done=self._on_finished)
        return worker

    @Slot(object)
    def _on_finished(self, result: LabelShares) -> None:
        if result.project is not self.session.project:
            return  # another project is open now
        self.images.set_annotated_shares(result.cls, {stem: share for stem, share in result.shares.items()
                                                      if stem != self.session.stem})
        self.images.set_unreadable_labels(result.cls, result.unreadable)
