"""Dice/Se/Sp and Unsure follow the threshold box: once it has settled, recompute the class's metrics and each
image's uncertainty from the saved predictions on a worker thread (AUC does not depend on the threshold)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from medseg_gui.prediction_update import unscored_labels
from medseg_gui.workers.base import FunctionWorker, WorkerHost
from medseg_gui.workers.training import ClassMetrics, rescore_class


class MetricsRefresher(QObject):
    """`schedule(project, cls, threshold, changed)` (re)starts a short timer, then `rescore_class` runs on a worker
    for each class scheduled meanwhile, on the window's own Project (whose read-only state and lock decide whether
    the scores are saved); `changed` (images whose label was saved) adds up per class until it runs, so
    their AUC is computed again. `updated` carries each ClassMetrics (class, metrics, uncertainty). One job per class
    at a time: a newer request cancels the class's running job (its `changed` carried over) and runs once that has
    stopped, and only the newest request's scores are handed over, so an older threshold's never arrive after a newer
    one's (they ran side by side, and on large photos each took a while). Another project drops what was pending. An
    error goes to the host's `errored`, like every job's without its own handler. `hold` / `release`: no job starts
    in between (an image removed or brought back)."""

    updated = Signal(object)
    unscored = Signal(object, str, object)  # (project, class, stems whose saved scores are missing or older: `check`)

    def __init__(self, host: WorkerHost, delay_ms: int = 400, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._host = host
        self._project: Any = None  # the project scheduled last (the newest object of its folder: Try editing again)
        self._jobs: dict[str, tuple[float, set[str]]] = {}  # class → (threshold, stems whose label was saved)
        self._running: dict[str, tuple[FunctionWorker, frozenset[str]]] = {}  # class → its job, its `changed`
        self._checking: dict[tuple[Path, str], bool] = {}  # (project root, class) being checked → check again after
        self._held = False
        self._then: Callable[[], None] | None = None  # called once no job runs while held
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._run)

    def schedule(self, project: Any, cls: str, threshold: float, changed: Iterable[str] = ()) -> None:
        same = self._root() == Path(project.root)
        self._project = project
        if not same:
            self._jobs = {}
            for worker, _ in self._running.values():
                worker.cancel()
        stems = self._jobs.get(cls, (threshold, set()))[1] | set(changed)
        if same and cls in self._running:  # outdated now: stop it, and re-score its images in the new job
            worker, before = self._running[cls]
            worker.cancel()
            stems |= before
        self._jobs[cls] = (threshold, stems)
        self._timer.start()

    def check(self, project: Any, cls: str) -> None:
        """Find on a worker the labelled images of `cls` whose saved scores do not hold (`unscored_labels`: read
        metrics.json and the file times, nothing decoded); `unscored` carries them, when there are any. Asked again
        while a check of the same class runs, it checks once more after that one (a label written meanwhile by
        another program was missed when the class was switched back to during the open-time check)."""
        key = (Path(project.root), cls)
        if key in self._checking:
            self._checking[key] = True
            return
        self._checking[key] = False

        def ended() -> None:
            if self._checking.pop(key, False):
                self.check(project, cls)

        self._host.start(FunctionWorker(unscored_labels, project, cls),
                         on_done=lambda stems: self.unscored.emit(project, cls, stems) if stems else None,
                         on_ended=ended)

    def hold(self, then: Callable[[], None]) -> None:
        """Start no job until `release()` (what is asked meanwhile waits for it), and call `then()` once none runs (at
        once when none does): a job computed before an image was unlisted or listed again saved over the score
        entries its removal dropped or its restore put back."""
        self._held, self._then = True, then
        self._then_when_idle()

    def busy(self) -> bool:
        """Whether a re-scoring job runs (it saves the scores when it ends)."""
        return bool(self._running)

    def release(self) -> None:
        """Start what was asked while held."""
        self._held, self._then = False, None
        if self._jobs and not self._timer.isActive():
            self._run()

    def _then_when_idle(self) -> None:
        if self._then is not None and not self._running:
            then, self._then = self._then, None
            then()

    @Slot()
    def _run(self) -> None:
        if self._held:
            return
        for cls in [c for c in self._jobs if c not in self._running]:  # the others start when their job ends
            threshold, changed = self._jobs.pop(cls)
            worker = FunctionWorker(rescore_class, self._project, cls, threshold, frozenset(changed))
            self._running[cls] = (worker, frozenset(changed))
            root = self._root()
            self._host.start(worker, on_done=lambda run, w=worker, root=root: self._finished(w, root, run),
                             on_ended=lambda cls=cls, w=worker: self._ended(cls, w))

    def _finished(self, worker: FunctionWorker, root: Path | None, run: ClassMetrics) -> None:
        self._release(run.cls, worker)  # done: a request from now on neither cancels it nor re-scores its images
        if root == self._root() and run.cls not in self._jobs:  # else a newer request is waiting: its scores count
            self.updated.emit(run)

    def _ended(self, cls: str, worker: FunctionWorker) -> None:
        self._release(cls, worker)
        self._then_when_idle()
        if cls in self._jobs and cls not in self._running and not self._timer.isActive():
            self._run()

    def _root(self) -> Path | None:
        return None if self._project is None else Path(self._project.root)

    def _release(self, cls: str, worker: FunctionWorker) -> None:
        if cls in self._running and self._running[cls][0] is worker:
            del self._running[cls]
