"""Worker base class and the host that runs workers on their own QThreads.

A worker is a QObject whose `run()` executes on a QThread. It reports through signals only (never touches widgets):
`started()`, `progress(object)`, then exactly one of `finished(object)`, `errored(str)` or `cancelled()`, then `done()`.
Exceptions cross the thread boundary as `errored(message)`; a `MedsegError` message is shown as-is (written for a
clinician), anything else becomes a short message and the traceback goes to the log.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from medseg_gui.core.errors import CancelledError, MedsegError

log = logging.getLogger(__name__)


class Worker(QObject):
    """Subclasses implement `work()`; `run()` turns its return value/exception into exactly one terminal signal.

    A cancelled `work()` raises `CancelledError` (→ `cancelled()`); a value it returns is always `finished`."""

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    errored = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Thread-safe: ask the running `work()` to stop at its next check."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def work(self) -> object:  # pragma: no cover - abstract
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        self.started.emit()
        try:
            result = self.work()
        except CancelledError:
            self.cancelled.emit()
        except MedsegError as err:
            log.info("%s failed: %s", type(self).__name__, err)
            self.errored.emit(str(err))
        except Exception as err:  # noqa: BLE001 - anything unexpected must still reach the GUI, never vanish
            log.exception("Unexpected error in %s", type(self).__name__)
            self.errored.emit(unexpected_message(err))
        else:
            self.finished.emit(result)
        finally:
            self.done.emit()


def unexpected_message(err: BaseException) -> str:
    """A short, honest message for an error nobody anticipated (details go to the log)."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if len(text) > 200:
        text = text[:200] + "…"
    detail = f"{type(err).__name__}: {text}" if text else type(err).__name__
    return f"Unexpected error ({detail}). Details were written to the log."


class WorkerHost(QObject):
    """Owns running workers and their threads so nothing is garbage-collected mid-run; cleans up when they end."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[QThread, Worker] = {}

    def start(self, worker: Worker) -> QThread:
        """Run `worker.run()` on a new QThread; the thread quits when the worker reports `done`."""
        thread = QThread()
        thread.setObjectName(type(worker).__name__)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(thread.quit)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(self._reap)
        self._running[thread] = worker
        thread.start()
        return thread

    def running(self) -> list[Worker]:
        return [w for t, w in self._running.items() if not t.isFinished()]

    def is_busy(self) -> bool:
        return bool(self.running())

    @Slot()
    def _reap(self) -> None:
        for thread in [t for t in self._running if t.isFinished()]:
            thread.wait()
            del self._running[thread]
            thread.deleteLater()

    def abandon(self) -> int:
        """Stop tracking threads that are still running (after `shutdown` timed out): they are handed to the
        application so they are never destroyed while running, and delete themselves when they end. Returns how
        many were left running; the caller may then exit the process (every write is atomic)."""
        app = QCoreApplication.instance()
        left = [t for t in self._running if not t.isFinished()]
        for thread in left:
            thread.setParent(app)
            thread.finished.connect(thread.deleteLater)
            del self._running[thread]
        return len(left)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel every worker and wait up to `timeout_ms` in total; True when all threads ended."""
        for thread, worker in self._running.items():
            try:
                worker.cancel()
            except RuntimeError:  # the C++ worker is already deleted: its thread has ended
                pass
        ok = True
        for thread in list(self._running):
            thread.quit()
            if not thread.wait(timeout_ms):
                log.warning("Worker thread %s did not stop within %d ms", thread.objectName(), timeout_ms)
                ok = False
        self._reap()
        return ok
