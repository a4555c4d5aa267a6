"""The training child beside its training: it tells the window the Keras rows (device, precision) once at the start of
its job, so the window starts no second child for them (about.DeviceLabel); Stop does not wait for its exit."""

from __future__ import annotations

import logging
import os
import time

import pytest

from medseg_gui import train_process
from medseg_gui.child_process import follow, spawned
from medseg_gui.child_side import call_main
from medseg_gui.core.errors import CancelledError
from medseg_gui.info import device_text
from medseg_gui.qt.about import KERAS_LABELS
from medseg_gui.workers.base import WorkerHost
from medseg_gui.train_process import TrainJob, train_in_child
from medseg_gui.workers.training import TrainWorker
from tests.workers import fake_children
from tests.workers.helpers import TINY_TRAIN, make_project


@pytest.mark.slow
def test_the_training_child_reports_the_keras_rows_before_anything_else(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=0)  # the child's job ends at once: no labels
    worker, heard = TrainWorker(project.root, "lesion", TINY_TRAIN), []
    worker.keras_rows.connect(lambda rows: heard.append(("rows", rows)))
    worker.progress.connect(lambda p: heard.append(("progress", p)))
    worker.errored.connect(lambda err: heard.append(("errored", err)))
    host = WorkerHost()
    with qtbot.waitSignal(worker.done, timeout=180_000):
        host.start(worker)
    assert host.shutdown(10_000)
    assert [kind for kind, _ in heard] == ["rows", "errored"]
    rows = dict(heard[0][1])
    assert tuple(rows) == KERAS_LABELS and rows["Device"] == device_text()


def _running(pid: int) -> bool:
    """Whether process `pid` exists and has not exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads process states from /proc")
def test_stop_does_not_wait_for_a_slow_child_to_exit_and_the_next_job_does(tmp_path, monkeypatch):
    """Stop of a continuous training returns once the child is terminated, however slowly it exits (here: never, until
    SIGKILL); the next job's child starts only after it has gone, so their writes cannot overlap."""
    monkeypatch.setattr(train_process, "_child_main", fake_children.never_answers)
    job = TrainJob(make_project(tmp_path / "p", n=1).root, "lesion", TINY_TRAIN, continuous=True)
    heard, pids, asked = [], [], []

    def should_stop() -> bool:  # Stop as soon as the child has started
        if heard and not asked:
            asked.append(time.monotonic())
        return bool(heard)

    with pytest.raises(CancelledError):  # no round finished
        train_in_child(job, heard.append, should_stop, started=pids.append)
    returned = time.monotonic()
    assert heard == ["started"]
    assert _running(pids[0])  # terminated (SIGTERM, ignored here), not waited for
    assert returned - asked[0] < 2.0  # POLL_S + STOP_GRACE_S; before, the wait for its exit came on top (~2.5 s here)
    with spawned(call_main, (os.getpid, (), logging.INFO), "medseg-next") as (_proc, results, control):
        assert not _running(pids[0])  # killed and reaped before the next job's child was given its job
        pid, _stopped = follow(results, control, lambda: False, 1.0, lambda kind, payload: None)
    assert pid != pids[0]
