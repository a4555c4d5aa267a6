"""Worker base + FunctionWorker + WorkerHost: exactly one terminal signal, errors cross threads as exceptions, the
start helper calls a job's callbacks in a fixed order, threads are cleaned up."""

from __future__ import annotations

import threading

from medseg_gui.core.errors import CancelledError, NoLabelsError
from medseg_gui.workers.base import FunctionWorker, Worker, WorkerHost, error_message


class FnWorker(Worker):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.thread_name = ""

    def work(self):
        self.thread_name = threading.current_thread().name
        return self.fn(self)


def _run(qtbot, worker, signal_name):
    """Start `worker`, wait until it reported `signal_name` and its thread was reaped; return that signal's arguments
    and every terminal signal seen. Polls what the signals recorded (waitUntil) instead of pytest-qt's waitSignal,
    whose timeout can be lost when a worker-thread signal races the start of its event loop."""
    host = WorkerHost()
    seen: list[str] = []
    args: dict[str, list] = {}
    for name in ("finished", "errored", "cancelled"):
        getattr(worker, name).connect(lambda *a, n=name: (seen.append(n), args.setdefault(n, list(a))))
    host.start(worker)
    qtbot.waitUntil(lambda: signal_name in args, timeout=10_000)
    qtbot.waitUntil(lambda: not host.running(), timeout=5_000)
    qtbot.waitUntil(lambda: not host._running, timeout=5_000)  # reaped
    return args[signal_name], seen


def test_finished_carries_result_from_another_thread(qtbot):
    worker = FnWorker(lambda w: (w.progress.emit(0.5), 42)[1])
    args, seen = _run(qtbot, worker, "finished")
    assert args == [42]
    assert seen == ["finished"]
    assert worker.thread_name != threading.main_thread().name


def test_medseg_error_message_is_passed_through(qtbot):
    def fail(_w):
        raise NoLabelsError("No labelled images for class 'lesion' yet.")

    args, seen = _run(qtbot, FnWorker(fail), "errored")
    assert isinstance(args[0], NoLabelsError)
    assert error_message(args[0]) == "No labelled images for class 'lesion' yet."
    assert seen == ["errored"]


def test_unexpected_error_is_short_and_logged(qtbot, caplog):
    def boom(_w):
        raise ZeroDivisionError("division by zero")

    args, _ = _run(qtbot, FnWorker(boom), "errored")
    assert isinstance(args[0], ZeroDivisionError)
    assert error_message(args[0]) == ("Unexpected error (ZeroDivisionError: division by zero). Details were written "
                                      "to the log.")
    assert any("Traceback" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_cancel(qtbot):
    started = threading.Event()

    def loop(w):
        started.set()
        while not w.is_cancelled():
            threading.Event().wait(0.01)
        raise CancelledError("stopped")

    worker = FnWorker(loop)
    host, cancelled = WorkerHost(), []
    worker.cancelled.connect(lambda: cancelled.append(True))
    host.start(worker)
    assert started.wait(5)
    worker.cancel()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=10_000)
    qtbot.waitUntil(lambda: not host._running, timeout=5_000)


def test_shutdown_cancels_and_waits(qtbot):
    def loop(w):
        while not w.is_cancelled():
            threading.Event().wait(0.01)
        raise CancelledError("stopped")

    host = WorkerHost()
    workers = [FnWorker(loop) for _ in range(3)]
    for w in workers:
        host.start(w)
    assert host.is_busy()
    assert host.shutdown(5_000)
    assert not host.running()


def test_after_shutdown_no_callback_is_called_and_nothing_starts(qtbot):
    host, calls = WorkerHost(), []
    release = threading.Event()
    host.start(FnWorker(lambda w: release.wait(10)), on_done=calls.append, on_ended=lambda: calls.append("ended"))
    release.set()
    assert host.shutdown(5_000)  # the worker ended: its done/ended signals are queued for the GUI thread
    qtbot.wait(200)
    assert calls == [] and not host._jobs
    ran = []
    assert host.start(FnWorker(lambda w: ran.append(1)), on_done=calls.append) is None  # closing: nothing new starts
    qtbot.wait(200)
    assert ran == [] and calls == [] and not host.is_busy()


def test_abandon_hands_stuck_threads_to_the_application(qtbot):
    release, ended = threading.Event(), threading.Event()

    def stuck(worker):
        try:
            release.wait(30)  # ignores cancel, like an import that cannot be interrupted
        finally:
            ended.set()

    host = WorkerHost()
    thread = host.start(FnWorker(stuck))
    assert not host.shutdown(50)
    assert host.abandon() == 1 and not host.running() and host.abandon() == 0
    release.set()
    assert thread.wait(10_000)  # still a valid object: no events were processed since it was abandoned
    assert ended.is_set()


def test_start_calls_back_in_order_on_the_gui_thread(qtbot):
    """progress…, then the terminal callback, then on_ended — all on the host's thread."""
    host, calls = WorkerHost(), []

    def job(n, *, progress, should_stop):
        for i in range(n):
            progress(i)
        return threading.current_thread().name, should_stop()

    def record(name):
        return lambda *args: calls.append((name, args, threading.current_thread() is threading.main_thread()))

    worker = FunctionWorker(job, 2)
    host.start(worker, on_progress=record("progress"), on_done=record("done"), on_error=record("error"),
               on_cancelled=record("cancelled"), on_ended=record("ended"))
    qtbot.waitUntil(lambda: bool(calls) and calls[-1][0] == "ended", timeout=10_000)
    assert [c[0] for c in calls] == ["progress", "progress", "done", "ended"]
    assert [c[1] for c in calls[:2]] == [(0,), (1,)]
    thread_name, stopped = calls[2][1][0]
    assert thread_name != threading.main_thread().name and stopped is False
    assert all(on_gui for _n, _a, on_gui in calls)
    qtbot.waitUntil(lambda: not host._running, timeout=5_000)


def test_an_error_without_on_error_reaches_the_host(qtbot):
    host, done = WorkerHost(), []

    def fail():
        raise NoLabelsError("No labelled images for class 'lesion' yet.")

    with qtbot.waitSignal(host.errored, timeout=10_000) as blocker:
        host.start(FunctionWorker(fail), on_done=done.append)
    assert isinstance(blocker.args[0], NoLabelsError) and done == []
    own = []
    with qtbot.waitSignal(host.errored, timeout=2_000, raising=False) as blocker:
        host.start(FunctionWorker(fail), on_error=own.append)
        qtbot.waitUntil(lambda: bool(own), timeout=10_000)
    assert not blocker.signal_triggered  # a job's own handler takes it: each error reaches exactly one handler
    raw, own = FunctionWorker(fail), []
    raw.errored.connect(own.append)
    with qtbot.waitSignal(host.errored, timeout=2_000, raising=False) as blocker:
        host.start(raw)  # no callbacks: the caller connected the signals itself
        qtbot.waitUntil(lambda: len(own) == 1, timeout=10_000)
    assert not blocker.signal_triggered
    host.shutdown()


def test_function_worker_cancel_reaches_the_function(qtbot):
    started = threading.Event()

    def loop(*, should_stop):
        started.set()
        while not should_stop():
            threading.Event().wait(0.01)
        raise CancelledError("stopped")

    host, ended = WorkerHost(), []
    worker = FunctionWorker(loop)
    host.start(worker, on_cancelled=lambda: ended.append("cancelled"), on_done=ended.append)
    assert started.wait(5)
    worker.cancel()
    qtbot.waitUntil(lambda: ended == ["cancelled"], timeout=10_000)
    host.shutdown()


def test_a_throttled_count_sends_the_first_value_then_the_last_before_the_end(qtbot):
    """A job counting thousands of images (an import of masks, an export) must not flood the GUI thread with one
    queued signal each: `throttle` lets one value through per interval, and the last one reported always before the
    end (the status bar then reads 1000/1000, not a count from the middle)."""
    host, calls = WorkerHost(), []

    def job(*, progress):
        for i in range(1, 1001):
            progress((i, 1000, f"img{i}"))
        return "ok"

    host.start(FunctionWorker(job).throttle(3600.0), on_progress=lambda p: calls.append(p), on_done=calls.append)
    qtbot.waitUntil(lambda: "ok" in calls, timeout=10_000)
    assert calls == [(1, 1000, "img1"), (1000, 1000, "img1000"), "ok"]
    every, calls = FunctionWorker(job), []  # not throttled: every value, as before
    host.start(every, on_progress=lambda p: calls.append(p), on_done=calls.append)
    qtbot.waitUntil(lambda: "ok" in calls, timeout=10_000)
    assert len(calls) == 1001
    host.shutdown()


def test_latest_job_runs_one_at_a_time_and_hands_on_only_the_latest_result(qtbot):
    """The running job is asked to stop, the ones asked for meanwhile wait and are replaced: only the first and the
    last ever run, and only the last one's result (or error) is handed on."""
    from medseg_gui.workers.base import LatestJob

    host, gate, ran, done, errors = WorkerHost(), threading.Event(), [], [], []
    jobs = LatestJob(host)

    def job(name, should_stop=None):
        ran.append(name)
        gate.wait(10)
        return f"{name} stopped" if should_stop() else name

    for name in ("first", "second", "third"):
        jobs.start(FunctionWorker(job, name), done.append, errors.append)
    qtbot.waitUntil(lambda: ran == ["first"], timeout=5_000)
    assert len(host.running()) == 1 and jobs.waiting()
    gate.set()
    qtbot.waitUntil(lambda: done == ["third"], timeout=10_000)
    qtbot.waitUntil(lambda: not host.running(), timeout=5_000)
    assert ran == ["first", "third"] and errors == [] and not jobs.waiting()
    jobs.start(FunctionWorker(lambda: 1 / 0), done.append, errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=10_000)
    assert isinstance(errors[0], ZeroDivisionError) and done == ["third"]
