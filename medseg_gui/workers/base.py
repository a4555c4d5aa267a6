"""Worker base class, a generic worker for plain functions, and the host that runs workers on their own QThreads.

A worker is a QObject whose `run()` executes on a QThread. It reports through signals only (never touches widgets):
`started()`, `progress(object)`, then exactly one of `finished(object)`, `errored(Exception)` or `cancelled()`, then
`done()`. A worker counting many items reports through `report` after `throttle(every_s)`: at most one value per
`every_s` seconds reaches the GUI thread, the latest one always before the end. Exceptions cross the thread boundary
as the exception object (as superqt's / napari's thread workers do); `error_message(err)` is the text for the user:
a `MedsegError` message as-is (written for a clinician), anything else a short message (the traceback goes to the log
when it is raised). `WorkerHost.start(worker, on_done=…, on_error=…)` connects a job's callbacks and starts it in
one call; an error without its own `on_error` goes to the host's single `errored` signal, so no error vanishes.
`LatestJob` runs jobs of which only the latest request counts (image loads) one at a time, skipping the stale ones.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from medseg_gui.core.errors import CancelledError, MedsegError

if TYPE_CHECKING:  # typing.Self is Python 3.11+; the annotations are strings (requires-python >= 3.10)
    from typing import Self

log = logging.getLogger(__name__)

HOOKS = ("progress", "should_stop")  # keyword parameters a FunctionWorker fills in
PROGRESS_EVERY_S = 0.1  # a throttled count: at most ten values a second reach the GUI thread
_NOTHING = object()  # no progress value is waiting


class Worker(QObject):
    """Subclasses implement `work()`; `run()` turns its return value/exception into exactly one terminal signal.

    A cancelled `work()` raises `CancelledError` (→ `cancelled()`); a value it returns is always `finished`."""

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    errored = Signal(object)  # the exception `work()` raised
    cancelled = Signal()
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._every_s, self._sent_at, self._waiting = 0.0, None, _NOTHING

    def throttle(self, every_s: float = PROGRESS_EVERY_S) -> Self:
        """`report` emits at most one progress value per `every_s` seconds (a job reporting each of thousands of
        images would flood the GUI thread); the one last reported is emitted before the worker ends."""
        self._every_s = every_s
        return self

    def report(self, value: object) -> None:
        """Emit `progress(value)` now, or (throttled) keep it until the next is due or the worker ends; a newer value
        replaces one kept. Called on the worker's thread."""
        now = time.monotonic()
        if self._sent_at is not None and now - self._sent_at < self._every_s:
            self._waiting = value
            return
        self._sent_at, self._waiting = now, _NOTHING
        self.progress.emit(value)

    def _report_waiting(self) -> None:
        if self._waiting is not _NOTHING:
            value, self._waiting = self._waiting, _NOTHING
            self.progress.emit(value)

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
            try:
                result = self.work()
            finally:
                self._report_waiting()  # before the end, as the last value reported
        except CancelledError:
            self.cancelled.emit()
        except MedsegError as err:
            log.info("%s failed: %s", self.objectName() or type(self).__name__, err)
            self.errored.emit(err)
        except Exception as err:  # noqa: BLE001 - anything unexpected must still reach the GUI, never vanish
            log.exception("Unexpected error in %s", self.objectName() or type(self).__name__)
            self.errored.emit(err)
        else:
            self.finished.emit(result)
        finally:
            self.done.emit()


class FunctionWorker(Worker):
    """Runs `fn(*args, **kwargs)` on the worker thread and emits its return value (napari's `thread_worker` for a
    plain function). A `progress` or `should_stop` keyword parameter of `fn` that the caller did not pass receives
    the worker's `report` (one value per call; see `throttle`) or `is_cancelled`; `fn` raises `CancelledError` to
    stop."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.setObjectName(getattr(fn, "__name__", type(self).__name__))

    def work(self) -> object:
        params = inspect.signature(self.fn).parameters
        hooks = {"progress": self.report, "should_stop": self.is_cancelled}
        kwargs = {name: hook for name, hook in hooks.items() if name in params and name not in self.kwargs}
        return self.fn(*self.args, **kwargs, **self.kwargs)


def error_message(err: BaseException) -> str:
    """The text the user sees for an error a worker reported: a `MedsegError` as written, anything else short."""
    return str(err) if isinstance(err, MedsegError) else unexpected_message(err)


def unexpected_message(err: BaseException) -> str:
    """A short, honest message for an error nobody anticipated (details go to the log)."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if len(text) > 200:
        text = text[:200] + "…"
    detail = f"{type(err).__name__}: {text}" if text else type(err).__name__
    return f"Unexpected error ({detail}). Details were written to the log."


class _Job(QObject):
    """Relays one worker's signals to its callbacks on the host's (GUI) thread, in a fixed order: progress…, then
    one of done/error/cancelled, then ended — whatever order anything else connected in."""

    def __init__(self, host: WorkerHost, worker: Worker, callbacks: dict[str, Callable[..., Any] | None]) -> None:
        super().__init__()  # lives on the host's thread; the host keeps it until `done`
        self._host, self._callbacks = host, callbacks
        worker.progress.connect(self._progress)
        worker.finished.connect(self._finished)
        worker.errored.connect(self._errored)
        worker.cancelled.connect(self._cancelled)
        worker.done.connect(self._done)

    def drop_callbacks(self) -> None:
        """The host shut down: whatever the worker still reports reaches nobody (its receivers may be gone)."""
        self._callbacks = {}

    def _call(self, name: str, *args: Any) -> None:
        callback = self._callbacks.get(name)
        if callback is not None:
            callback(*args)

    @Slot(object)
    def _progress(self, value: object) -> None:
        self._call("on_progress", value)

    @Slot(object)
    def _finished(self, result: object) -> None:
        self._call("on_done", result)

    @Slot(object)
    def _errored(self, err: BaseException) -> None:
        if self._callbacks.get("on_error") is not None:
            self._call("on_error", err)
        else:
            self._host.errored.emit(err)

    @Slot()
    def _cancelled(self) -> None:
        self._call("on_cancelled")

    @Slot()
    def _done(self) -> None:
        try:
            self._call("on_ended")
        finally:
            self._host._jobs.discard(self)


class WorkerHost(QObject):
    """Owns running workers and their threads so nothing is garbage-collected mid-run; cleans up when they end.
    `errored(exception)` reports every error of a job started without its own `on_error` (the window shows it)."""

    errored = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[QThread, Worker] = {}
        self._jobs: set[_Job] = set()  # relays whose worker has not reported `done` yet
        self._closed = False  # shut down: starts nothing more (a window's timer may still fire after its close)

    def start(self, worker: Worker, *, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None,
              on_progress: Callable[[Any], None] | None = None, on_cancelled: Callable[[], None] | None = None,
              on_ended: Callable[[], None] | None = None) -> QThread | None:
        """Run `worker.run()` on a new QThread (it quits when the worker reports `done`). The callbacks run on this
        host's thread: `on_progress` per value, then one of `on_done(result)`, `on_error(exception)` (default: this
        host's `errored` signal) or `on_cancelled()`, then `on_ended()`. Without any callback the caller has
        connected the worker's signals itself (tests), and the host reports nothing. After `shutdown` nothing is
        started (None is returned): the window is closing."""
        if self._closed:
            log.info("Not starting %s: its window is closing", worker.objectName() or type(worker).__name__)
            worker.deleteLater()
            return None
        callbacks = {"on_done": on_done, "on_error": on_error, "on_progress": on_progress,
                     "on_cancelled": on_cancelled, "on_ended": on_ended}
        if any(callback is not None for callback in callbacks.values()):
            self._jobs.add(_Job(self, worker, callbacks))
        thread = QThread()
        thread.setObjectName(worker.objectName() or type(worker).__name__)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(thread.quit)
        # No `thread.finished -> worker.deleteLater`: the worker would be destroyed on its own thread as that thread
        # ends, and ~QObject calls the QThread wrapper's disconnectNotify (a Python-override lookup: the GIL) while
        # holding one of Qt's 131 pooled signal/slot mutexes; a thread that holds the GIL and waits for that mutex
        # (any connect/disconnect/queued emit on an object hashing to it) deadlocks both. `_reap` drops the worker
        # in this (GUI) thread once its thread has ended instead.
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
            worker = self._running.pop(thread)
            thread.deleteLater()
            del worker  # the last reference, usually: the C++ worker is deleted here, its thread has ended

    def abandon(self) -> int:
        """Stop tracking threads that are still running (after `shutdown` timed out): they are handed to the
        application so they are never destroyed while running, and delete themselves when they end. Returns how
        many were left running; the caller may then exit the process (every write is atomic)."""
        app = QCoreApplication.instance()
        left = [t for t in self._running if not t.isFinished()]
        for thread in left:
            thread.setParent(app)
            thread.finished.connect(self._running[thread].deleteLater)  # the process is ending: as before
            thread.finished.connect(thread.deleteLater)
            del self._running[thread]
        return len(left)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel every worker and wait up to `timeout_ms` in total; True when all threads ended. Callbacks not
        called yet are dropped: the window that started them is closing (a worker's queued `done` could otherwise
        reach it after its widgets were deleted)."""
        self._closed = True
        for job in self._jobs:
            job.drop_callbacks()
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


class LatestJob:
    """Runs the jobs asked of it on `host` one at a time, for the latest request only (an image load while the user
    steps through a folder): a newer `start` asks the running job to stop and replaces the one waiting, which then
    never starts; only the latest job's `on_done` / `on_error` is called. A held PgDown had started a load per image
    passed, all at once: the window froze for seconds and memory grew to 5 GB (outside trial, 600 photos)."""

    def __init__(self, host: WorkerHost) -> None:
        self._host = host
        self._wanted: tuple[Worker, Callable[[Any], None], Callable[[BaseException], None]] | None = None
        self._running: Worker | None = None  # on its thread, wanted or not

    def start(self, worker: Worker, on_done: Callable[[Any], None], on_error: Callable[[BaseException], None]) -> None:
        """Run `worker` once the running job (if any) has ended; only its result is handed on."""
        self.drop()
        self._wanted = (worker, on_done, on_error)
        if self._running is None:
            self._run_wanted()

    def drop(self) -> None:
        """Nobody waits for a result any more: the running job is asked to stop, the waiting one never starts."""
        self._wanted = None
        if self._running is not None:
            self._running.cancel()

    def waiting(self) -> bool:
        """Whether a job's result is still wanted (running or about to start)."""
        return self._wanted is not None

    def _run_wanted(self) -> None:
        worker = self._wanted[0]
        self._running = worker
        if self._host.start(worker, on_done=partial(self._done, worker), on_error=partial(self._errored, worker),
                            on_ended=partial(self._ended, worker)) is None:
            self._running = self._wanted = None  # the window is closing

    def _done(self, worker: Worker, result: Any) -> None:
        if self._wanted is not None and self._wanted[0] is worker:
            on_done, self._wanted = self._wanted[1], None
            on_done(result)

    def _errored(self, worker: Worker, err: BaseException) -> None:
        if self._wanted is not None and self._wanted[0] is worker:
            on_error, self._wanted = self._wanted[2], None
            on_error(err)

    def _ended(self, worker: Worker) -> None:
        if self._wanted is not None and self._wanted[0] is worker:
            self._wanted = None  # it ended without a result (cancelled)
        if self._running is worker:
            self._running = None
            if self._wanted is not None:
                self._run_wanted()
