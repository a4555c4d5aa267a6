"""Keras work in a child process: a spawned interpreter does it, so TensorFlow never holds the window's GIL (on a
QThread it froze the event loop for 0.6–2 s at a time: the import, the first predict). No Qt here.

Why `multiprocessing` with the "spawn" context: "fork" would copy a process running Qt threads (and perhaps an imported
TensorFlow holding its own locks), which can deadlock the copy; spawn starts a clean interpreter on every platform.
Unlike a `python -m` subprocess, multiprocessing pickles the job and every message for us, so there is no wire format
of our own to keep in step with the dataclasses. The price is a new interpreter per job (a few seconds, mostly the
Keras import).

Protocol: two one-way pipes (no multiprocessing Queue/Event: those need a helper process and semaphores). The child
sends ("log", LogRecord), ("progress", object), then ("done", result) or ("error", exception); the parent sends
"stop" to cancel (and, for continuous training, other messages the job understands). End of file on a pipe means the
other side has gone: a child that ends without its last message becomes a ModelError in the window, and the child
exits at once when the window's process is gone, so no job outlives it.

A job ends for the window once its result came or its child was terminated (SIGTERM, which no child handles: it runs
none of its code, so writes nothing, after it); a thread waits for the exit (`Standby.reap`), which took a nice +10
child on a loaded CPU up to seconds (freeing Keras' memory), and the next job starts only after it (`wait_reaped`).

The child's half (logging to the parent, following the control pipe, sending the result) is medseg_gui.child_side.

`call_in_child(fn, ...)` runs one function this way (the Models dialog's predictions); `train_process` builds Retrain
on the same pieces.

Standby (`STANDBY`, switched on by the app, off in tests and the CLI): one child is started ahead of time and imports
Keras and the training code, then waits for its job on the control pipe; the next job takes it instead of paying the
import (about 5 s on a 2-core CPU, 20-40 s when the CPU is busy), and a new standby is started once that job has
ended. The price is one idle interpreter with Keras loaded (a few hundred MB) while the window is open. It dies with
the window (end of file on its control pipe).

Code updated on disk while the window runs (a `git pull`, `pip install -U`): a child imports the new files, which
may not fit the window's. A job that fails the way this makes it fail (its child died, ChildGoneError; ImportError,
AttributeError, an unpickling error) becomes ModelError(code_changes.restart_message) in `spawned` when the package's
files changed since the app took `Standby.code`; otherwise (and when none was taken) its error stays as it was.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

from medseg_gui.child_priority import child_nice, spawn
from medseg_gui.child_side import STOP, call_main, child_entry, standby_main
from medseg_gui.code_changes import CodeFingerprint, restart_message
from medseg_gui.core.errors import CancelledError, ModelError

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often the parent looks at the cancel flag while waiting for messages
CANCEL_GRACE_S = 1.5  # after "stop", how long the child may take to end by itself before it is terminated
GONE = object()  # what `follow` returns when the child ended (or was left) without its result


class ChildGoneError(ModelError):
    """A child ended without its result (killed, crashed, out of memory, or it could not even start)."""


UPDATE_SIGNS = (ChildGoneError, ImportError, AttributeError, pickle.UnpicklingError)  # how a job fails after the
# package was updated on disk (ModuleNotFoundError is an ImportError): only then is `Standby.code` compared


def _start(target: Callable[..., None], args: tuple, name: str) -> tuple[Any, Connection, Connection]:
    """Spawn `target(*args, results, control)`; returns (process, results, control), the parent's pipe ends."""
    ctx = multiprocessing.get_context("spawn")
    results, child_results = ctx.Pipe(duplex=False)
    child_control, control = ctx.Pipe(duplex=False)
    nice = child_nice()
    proc = ctx.Process(target=child_entry, args=(nice, target, *args, child_results, child_control), daemon=True,
                       name=name)
    try:
        spawn(proc, nice)
    except BaseException:
        for conn in (results, child_results, child_control, control):
            conn.close()
        raise
    child_results.close()  # our copies: the pipes report end of file once the child has gone
    child_control.close()
    return proc, results, control


class Standby:
    """The children of this process: at most one started ahead of time, which imports `imports`, then waits for ("job",
    target, args) on its control pipe (off until `enable()`; `take()` hands it to the next job, None when there is
    none ready); the jobs running; the ended jobs' children still being reaped (`reap`, `wait_reaped`). `code`: the
    fingerprint of the package's files that a failed job's children are compared with (the app takes it at start)."""

    def __init__(self, imports: tuple[str, ...] = ("medseg_gui.ml.train", "medseg_gui.ml.predict"),
                 code: CodeFingerprint | None = None) -> None:
        self.imports = imports
        self.code = CodeFingerprint() if code is None else code
        self.enabled = False
        self._lock = threading.Lock()
        self._ready: tuple[Any, Connection, Connection] | None = None
        self.jobs = 0  # jobs running in children now: a new standby waits until none is (not to slow a training)
        self._reaping: list[threading.Thread] = []  # one per ended child whose exit is still awaited
        self._reaping_lock = threading.Lock()  # not `_lock`, which a standby's start holds for a while

    def enable(self) -> None:
        """Switch it on and start the first standby child (on a thread: starting a process takes a moment)."""
        self.enabled = True
        self.refill()

    def refill(self) -> None:
        """Start a standby child in the background when it is on, none is waiting and no job runs."""
        if self.enabled and self.jobs == 0:
            threading.Thread(target=self._prepare, name="medseg-standby-start", daemon=True).start()

    def _prepare(self) -> None:
        self.wait_reaped()  # not beside a child still freeing its memory
        with self._lock:
            if not self.enabled or (self._ready is not None and self._ready[0].is_alive()):
                return
            try:
                self._ready = _start(standby_main, (self.imports,), "medseg-standby")
            except Exception:  # noqa: BLE001 - no standby: the next job starts its own child, as without one
                log.warning("Could not start a standby process", exc_info=True)
                return
        log.info("standby process %s started", self._ready[0].pid)

    def take(self) -> tuple[Any, Connection, Connection] | None:
        """The waiting standby child (process, results, control), or None; the caller must send it its job."""
        with self._lock:
            ready, self._ready = self._ready, None
        if ready is not None and not ready[0].is_alive():
            _close(*ready)
            return None
        return ready

    def reap(self, proc: Any) -> None:
        """Terminate `proc` if it is still running (now: it runs none of its code after this) and wait for its exit
        on a thread (`end`), so the job's end is reported without waiting for it."""
        terminate(proc)
        thread = threading.Thread(target=end, args=(proc,), name="medseg-reap", daemon=True)
        with self._reaping_lock:
            self._reaping = [t for t in self._reaping if t.is_alive()] + [thread]
        thread.start()

    def wait_reaped(self, timeout_s: float = 10.0) -> None:
        """Wait until every ended child has exited (`end` kills one that ignored SIGTERM within 2 s)."""
        with self._reaping_lock:
            reaping = list(self._reaping)
        deadline = time.monotonic() + timeout_s
        for thread in reaping:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("an ended child process has not exited within %.0f s", timeout_s)
                return

    def close(self) -> None:
        """Switch it off and end the waiting child (tests; the app's standby ends with the window's process)."""
        self.enabled = False
        ready = self.take()
        if ready is not None:
            _close(*ready)

    def close_soon(self) -> None:
        """Switch it off now and end the waiting child on a thread (the window's close: the GUI thread must not wait
        up to seconds for a child still importing TensorFlow; a daemonic child is also ended when the app exits)."""
        self.enabled = False
        threading.Thread(target=self.close, name="medseg-standby-close", daemon=True).start()


STANDBY = Standby()


def _close(proc: Any, results: Connection, control: Connection) -> None:
    end(proc)
    results.close()
    control.close()


@contextmanager
def spawned(target: Callable[..., None], args: tuple, name: str,
            standby: Standby | None = None) -> Iterator[tuple[Any, Connection, Connection]]:
    """Run `target(*args, results, control)` in a child: the standby one when it is ready (`STANDBY` by default),
    else a newly spawned one, once every earlier job's child has exited. Yields (process, results, control); afterwards
    the child is terminated if still running and reaped in the background (`Standby.reap`), and a new standby is
    started once no job runs any more. An error of the job that UPDATE_SIGNS name becomes ModelError(restart_message)
    when the package's files changed since `standby.code` was taken."""
    standby = STANDBY if standby is None else standby
    standby.wait_reaped()
    with standby._lock:
        standby.jobs += 1
    try:
        child = standby.take()
        if child is not None:
            try:
                child[2].send(("job", target, args))
                log.info("%s runs in the standby process %s", name, child[0].pid)
            except OSError:  # it ended meanwhile
                _close(*child)
                child = None
        if child is None:
            child = _start(target, args, name)
            log.info("%s started in process %s", name, child[0].pid)
        try:
            yield child
        except UPDATE_SIGNS as err:
            if changed := standby.code.changed():
                message = restart_message(standby.code.root, changed, str(err) or type(err).__name__)
                log.warning("%s (%s failed: %s: %s)", message, name, type(err).__name__, err)
                raise ModelError(message) from err
            raise
        finally:
            standby.reap(child[0])
            child[1].close()
            child[2].close()
    finally:
        with standby._lock:
            standby.jobs -= 1
        standby.refill()


def _receive(results: Connection, timeout_s: float = POLL_S) -> tuple[str, Any] | None:
    """The child's next message other than a log record (those go to this process's logging), or None when none
    came within `timeout_s`. EOFError when the child has gone."""
    if not results.poll(timeout_s):
        return None
    try:
        kind, payload = results.recv()
    except OSError as err:
        raise EOFError(str(err)) from err
    if kind == "log":
        logger = logging.getLogger(payload.name)
        if logger.isEnabledFor(payload.levelno):  # this process's levels (logs.py quiets absl, PIL…)
            logger.handle(payload)
        return None
    return kind, payload


def call_in_child(fn: Callable[..., Any], *args: Any, progress: Callable[[object], None] = lambda _p: None,
                  should_stop: Callable[[], bool] = lambda: False, what: str = "The job",
                  grace_s: float = CANCEL_GRACE_S) -> Any:
    """`fn(*args)` in a spawned child (call from a worker thread; `fn` must be a module-level function, its arguments
    and result picklable). A `progress` or `should_stop` keyword parameter of `fn` gets the child's hooks: what it
    reports goes to `progress` here; `should_stop()` turning true here asks it to stop (terminated when it has not
    ended within `grace_s`: CancelledError). Raises what `fn` raised, or ModelError naming `what` when the child
    died without a result."""
    with spawned(call_main, (fn, args, logging.getLogger().getEffectiveLevel()),
                 f"medseg-{getattr(fn, '__name__', 'job')}") as (proc, results, control):
        result, stopped = follow(results, control, should_stop, grace_s,
                                 lambda kind, payload: progress(payload) if kind == "progress" else None)
        if result is not GONE:
            return result
        if stopped:
            raise CancelledError(f"{what} was cancelled.")
        proc.join(5.0)
        raise ChildGoneError(f"{what} stopped unexpectedly: {ended_how(proc.exitcode)}. Details may be in the log "
                         "(Help → Open log folder).")


def follow(results: Connection, control: Connection, should_stop: Callable[[], bool], grace_s: float,
           on_message: Callable[[str, Any], None], tick: Callable[[bool], None] = lambda _stopping: None
           ) -> tuple[Any, bool]:
    """Wait for the child's result: (its "done" payload, or GONE when it ended without one or had not ended within
    `grace_s` after "stop", which `should_stop()` turning true sends; whether it was stopped). Raises its "error"
    payload. Every other message goes to `on_message(kind, payload)`; `tick(stopping)` runs every POLL_S."""
    stop_at = None
    while True:
        if stop_at is None and should_stop():
            stop_at = time.monotonic()
            send(control, STOP)
        tick(stop_at is not None)
        if stop_at is not None and time.monotonic() - stop_at > grace_s:
            log.info("child process did not stop within %.1f s", grace_s)
            return GONE, True
        try:
            message = _receive(results)
        except EOFError:  # the child has gone
            return GONE, stop_at is not None
        if message is None:
            continue
        kind, payload = message
        if kind == "done":
            return payload, stop_at is not None
        if kind == "error":
            raise payload
        on_message(kind, payload)


def ended_how(exitcode: int | None) -> str:
    """How a child process that ended without its result ended, in words (killed, crashed, out of memory)."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f"it was stopped by the system ({signal.Signals(-exitcode).name})"
        except ValueError:
            how = f"it was stopped by signal {-exitcode}"
        if exitcode == -getattr(signal, "SIGKILL", 9):  # what the out-of-memory killer sends
            how += ", often because the computer ran out of memory"
        return how
    return f"it ended with exit code {exitcode}"


def send(conn: Connection, message: object) -> None:
    try:
        conn.send(message)
    except OSError:  # the child has already gone; the result pipe says so
        pass


def terminate(proc: Any) -> None:
    """Send the child SIGTERM when it is still running (no child handles it: it runs none of its code after this)."""
    if proc.pid is not None and proc.is_alive():
        proc.terminate()


def end(proc: Any) -> None:
    """Make sure the child is gone (terminate, then kill after 2 s) and reaped."""
    if proc.pid is None:  # never started
        return
    if proc.is_alive():
        proc.terminate()
        proc.join(2.0)
    if proc.is_alive():
        proc.kill()
        proc.join(2.0)
