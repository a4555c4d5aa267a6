"""LabelSaver.rescue: the labels a close could not save go to a rescue folder that names their project."""

from __future__ import annotations

import numpy as np

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.images import read_mask
from medseg_gui.core.rescued_labels import find_rescues
from medseg_gui.workers.label_saver import LabelSaver
from tests.workers.helpers import disc, make_project


def test_rescue_records_the_project_so_its_next_opening_finds_the_labels(tmp_path, qtbot, monkeypatch):
    project = make_project(tmp_path / "a" / "p", n=2)
    same_name = make_project(tmp_path / "b" / "p", n=2)

    def refuse(*_args):
        raise ProjectError("Could not save it: Permission denied.")

    monkeypatch.setattr(project, "save_label", refuse)
    saver = LabelSaver(project, retry_s=60.0)
    stem = project.stems[1]
    with qtbot.waitSignal(saver.failed, timeout=10_000):
        saver.save("lesion", stem, disc())
    assert not saver.close(timeout=2.0)
    base = tmp_path / "unsaved-labels"
    (written,) = saver.rescue(base / "p-20240501-101500")
    (found,) = find_rescues(base, project.root)
    assert found.labels == (("lesion", stem),) and found.path("lesion", stem) == written
    np.testing.assert_array_equal(read_mask(written), disc())
    assert find_rescues(base, same_name.root) == []
