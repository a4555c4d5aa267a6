"""What the training child tells the window besides its training: the Keras rows (device, precision) once at the start
of its job, so the window starts no second child for them (about.DeviceLabel)."""

from __future__ import annotations

import pytest

from medseg_gui.info import device_text
from medseg_gui.qt.about import KERAS_LABELS
from medseg_gui.workers.base import WorkerHost
from medseg_gui.workers.training import TrainWorker
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
