"""The standby child (child_process.Standby): a job runs in the child started ahead of time, a new standby follows,
and without a ready standby a job spawns its own child as before. Uses `os.getpid` as the job (no Keras import)."""

from __future__ import annotations

import logging
import os
import sys
import time

import pytest

from medseg_gui.child_process import Standby, follow, spawned
from medseg_gui.child_side import call_main


def _run(standby: Standby) -> tuple[int, int]:
    """(pid of the process the job ran in, pid the context manager reported)."""
    with spawned(call_main, (os.getpid, (), logging.INFO), "medseg-test", standby=standby) as (proc, results, ctl):
        pid, stopped = follow(results, ctl, lambda: False, 1.0, lambda kind, payload: None)
        assert not stopped
        return pid, proc.pid


def _ready_pid(standby: Standby, timeout_s: float = 60.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready = standby._ready
        if ready is not None and ready[0].is_alive():
            return ready[0].pid
        time.sleep(0.05)
    raise AssertionError("no standby child started")


def test_a_job_runs_in_the_standby_child_and_a_new_one_follows():
    standby = Standby(imports=("json",))
    try:
        standby.enable()
        first = _ready_pid(standby)
        ran_in, reported = _run(standby)
        assert ran_in == reported == first != os.getpid()
        second = _ready_pid(standby)  # refilled once the job's child had gone
        assert second != first
        assert _run(standby)[0] == second
    finally:
        standby.close()
    assert standby._ready is None


def test_without_a_standby_a_job_spawns_its_own_child():
    off = Standby(imports=("json",))  # never enabled
    ran_in, reported = _run(off)
    assert ran_in == reported != os.getpid()
    assert off._ready is None  # and none was started afterwards


def test_a_standby_that_died_is_not_used():
    standby = Standby(imports=("json",))
    try:
        standby.enable()
        dead = _ready_pid(standby)
        standby._ready[0].kill()
        standby._ready[0].join(5)
        standby.enabled = False  # no refill: the job must spawn its own child
        ran_in, _ = _run(standby)
        assert ran_in not in (dead, os.getpid())
    finally:
        standby.close()


def test_no_new_standby_while_another_job_still_runs():
    standby = Standby(imports=("json",))
    try:
        standby.enable()
        _ready_pid(standby)
        with spawned(call_main, (os.getpid, (), logging.INFO), "medseg-long", standby=standby) as (_p, results, ctl):
            _run(standby)  # a second job, which finds no standby, ends while the first is still open
            time.sleep(0.5)
            assert standby._ready is None and standby.jobs == 1
            follow(results, ctl, lambda: False, 1.0, lambda kind, payload: None)
        _ready_pid(standby)  # both ended: a standby is started again
        assert standby.jobs == 0
    finally:
        standby.close()


def test_children_run_at_a_lower_priority_than_the_window():
    if not hasattr(os, "nice"):
        pytest.skip("no os.nice on this platform")
    from medseg_gui.child_priority import CHILD_NICE
    from medseg_gui.child_process import call_in_child

    assert call_in_child(os.nice, 0) == min(os.nice(0) + CHILD_NICE, 19)


def _send_nice(conn) -> None:
    conn.send(os.nice(0))
    conn.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux only")
def test_on_linux_a_child_is_born_at_its_lower_priority_and_the_caller_keeps_its_own():
    """The interpreter's start-up, before any of our code runs in it, is already at the child's priority."""
    import multiprocessing

    from medseg_gui.child_priority import CHILD_NICE, spawn

    ctx = multiprocessing.get_context("spawn")
    mine = os.nice(0)
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_send_nice, args=(send,), daemon=True)
    spawn(proc, min(mine + CHILD_NICE, 19))
    send.close()
    try:
        assert receive.poll(60)
        assert receive.recv() == min(mine + CHILD_NICE, 19)
    finally:
        proc.join(10)
    assert os.nice(0) == mine


def test_close_soon_switches_off_at_once_and_ends_the_waiting_child_without_waiting_for_it():
    standby = Standby(imports=("json",))
    try:
        standby.enable()
        pid = _ready_pid(standby)
        proc = standby._ready[0]
        standby.close_soon()
        assert not standby.enabled  # the window's close: nothing new starts from here on
        deadline = time.monotonic() + 15.0  # polled, not joined: a join here raced the closing thread's own join
        while proc.is_alive() and time.monotonic() < deadline:  # (one reaps, the other saw "alive" on a busy CI)
            time.sleep(0.05)
        assert not proc.is_alive() and proc.pid == pid and standby._ready is None
    finally:
        standby.close()
