"""Dice/Se/Sp follow the threshold box: once it has settled, recompute the class's metrics from the saved
predictions on a worker thread (AUC does not depend on the threshold)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from medseg_gui.workers.base import FunctionWorker, WorkerHost
from medseg_gui.workers.training import rescore_class


class MetricsRefresher(QObject):
    """`schedule(root, cls, threshold, changed)` (re)starts a short timer, then `rescore_class` runs on a worker for
    each class scheduled meanwhile; `changed` (images whose label was saved) adds up per class until it runs, so
    their AUC is computed again. `updated` carries each ClassMetrics (class + metrics). Another project drops what
    was pending. An error goes to the host's `errored`, like every job's without its own handler."""

    updated = Signal(object)

    def __init__(self, host: WorkerHost, delay_ms: int = 400, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._host = host
        self._root: Path | None = None
        self._jobs: dict[str, tuple[float, set[str]]] = {}  # class → (threshold, stems whose label was saved)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._run)

    def schedule(self, root: Path, cls: str, threshold: float, changed: Iterable[str] = ()) -> None:
        if self._root != Path(root):
            self._root, self._jobs = Path(root), {}
        stems = self._jobs.get(cls, (threshold, set()))[1]
        self._jobs[cls] = (threshold, stems | set(changed))
        self._timer.start()

    @Slot()
    def _run(self) -> None:
        jobs, self._jobs = self._jobs, {}
        for cls, (threshold, changed) in jobs.items():
            worker = FunctionWorker(rescore_class, self._root, cls, threshold, frozenset(changed))
            self._host.start(worker, on_done=self.updated.emit)
