"""The child's half of medseg_gui.child_process: what runs inside a spawned interpreter. Log records and progress go
to the parent over the result pipe (`Sender`), a thread follows the control pipe ("stop", or messages for the job),
and the job's result or exception (made picklable) is the last message. No Qt here.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import logging.handlers
import os
import pickle
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from medseg_gui.child_priority import lower_priority_to
from medseg_gui.core.errors import CancelledError, MedsegError

log = logging.getLogger(__name__)

STOP = "stop"  # the control message that asks a job to end


class Sender:
    """The child's end of the result pipe; thread-safe, and a queue for logging.handlers.QueueHandler."""

    def __init__(self, conn: Connection) -> None:
        self._conn, self._lock = conn, threading.Lock()

    def send(self, kind: str, payload: object) -> None:
        with self._lock:
            self._conn.send((kind, payload))

    def put_nowait(self, record: logging.LogRecord) -> None:
        self.send("log", record)


def child_start(results: Connection, control: Connection, log_level: int,
                on_message: Callable[[object], None] = lambda _m: None) -> tuple[Sender, threading.Event]:
    """In the child: log records go to the parent, a thread follows the control pipe (`on_message` for anything but
    "stop"). Returns the sender and the event "stop" sets."""
    sender = Sender(results)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(sender))  # type: ignore[arg-type]
    root.setLevel(log_level)
    stop = threading.Event()
    threading.Thread(target=_watch_parent, args=(control, stop, on_message), name="parent-watch", daemon=True).start()
    return sender, stop


def child_finish(sender: Sender, body: Callable[[], object]) -> None:
    """In the child: run `body` and send its result, or the exception it raised (picklable)."""
    try:
        result = body()
    except MedsegError as err:
        sender.send("error", picklable(err))
    except Exception as err:  # noqa: BLE001 - the window must hear about it, with the traceback in its log
        log.exception("Unexpected error in the child process")
        sender.send("error", picklable(err))
    else:
        sender.send("done", result)


def child_entry(nice: int | None, target: Callable[..., None], *args: Any) -> None:
    """Every child's first call: make sure it runs at `nice` (on Linux it was born there, `child_priority.spawn`)
    before Keras starts its thread pools, which inherit it (where that is not allowed it runs at the window's
    priority)."""
    lower_priority_to(nice)
    target(*args)


def call_main(fn: Callable[..., Any], args: tuple, log_level: int, results: Connection, control: Connection) -> None:
    sender, stop = child_start(results, control, log_level)
    hooks = {"progress": lambda p: sender.send("progress", p), "should_stop": stop.is_set}
    params = inspect.signature(fn).parameters
    child_finish(sender, lambda: fn(*args, **{name: hook for name, hook in hooks.items() if name in params}))


def standby_main(imports: tuple[str, ...], results: Connection, control: Connection) -> None:
    """A standby child: import what jobs need, then run the one job the parent sends (exit when it has gone)."""
    for module in imports:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the job itself imports it again and reports the error properly
            pass
    try:
        kind, target, args = control.recv()
    except (EOFError, OSError):
        os._exit(0)
    if kind == "job":
        target(*args, results, control)


def _watch_parent(control: Connection, stop: threading.Event, on_message: Callable[[object], None]) -> None:
    """Set `stop` on "stop", hand other messages to `on_message`; exit at once when the parent has gone (every write
    is atomic)."""
    try:
        while True:
            message = control.recv()
            if message == STOP:
                stop.set()
            else:
                on_message(message)
    except (EOFError, OSError):
        os._exit(3)


def picklable(err: BaseException) -> BaseException:
    """`err` itself when it survives pickling, else a plain exception of the same family with its text."""
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:  # noqa: BLE001 - e.g. an exception whose __init__ takes extra arguments
        if isinstance(err, CancelledError):
            return CancelledError(str(err))
        if isinstance(err, MedsegError):
            return MedsegError(str(err))
        return RuntimeError(f"{type(err).__name__}: {err}")
    return err
