"""Dice/Se/Sp follow the threshold box: once it has settled, recompute the class's metrics from the saved
predictions on a worker thread (AUC does not depend on the threshold)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from medseg_gui.workers.base import FunctionWorker, WorkerHost
from medseg_gui.workers.training import rescore_class


class MetricsRefresher(QObject):
    """`schedule(root, cls, threshold, changed)` (re)starts a short timer, then `rescore_class` runs on a worker;
    `changed` (images whose label was saved) adds up until it runs, so their AUC is computed again. `updated` carries
    its ClassMetrics (class + metrics). An error goes to the host's `errored`, like every job's without its own
    handler."""

    updated = Signal(object)

    def __init__(self, host: WorkerHost, delay_ms: int = 400, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._host = host
        self._job: tuple[Path, str, float] | None = None
        self._changed: set[str] = set()  # stems of that class whose label was saved since the last run started
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._run)

    def schedule(self, root: Path, cls: str, threshold: float, changed: Iterable[str] = ()) -> None:
        if self._job is not None and self._job[:2] != (Path(root), cls):
            self._changed = set()  # another class or project: its pending job is replaced, as before
        self._job = (Path(root), cls, threshold)
        self._changed.update(changed)
        self._timer.start()

    @Slot()
    def _run(self) -> None:
        if self._job is None:
            return
        worker = FunctionWorker(rescore_class, *self._job, frozenset(self._changed))
        self._job, self._changed = None, set()
        self._host.start(worker, on_done=self.updated.emit)
