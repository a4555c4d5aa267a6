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


def test_a_label_not_the_size_of_its_image_on_disk_is_rescued_not_retried(tmp_path, qtbot):
    """A fault-injection trial: the image file was replaced by a photo of another size after the label was drawn;
    the save was retried for ever ("free some disk space"). It is kept in a rescue folder at once, the project's
    label left as it was."""
    from medseg_gui.paths import UNSAVED_LABELS, rescue_base

    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    label = project.label_path("lesion", stem)
    before = label.read_bytes()
    saver = LabelSaver(project, retry_s=0.05)
    other = np.zeros((60, 80), bool)
    other[5:9, 5:30] = True
    with qtbot.waitSignal(saver.set_aside, timeout=10_000) as signal:
        saver.save("lesion", stem, other)
    cls, got_stem, reason, folder = signal.args
    assert (cls, got_stem) == ("lesion", stem) and "80×60 pixels but the image is 64×48" in reason
    assert saver.flush(5) and saver.unsaved() == {} and not saver.has_pending()
    assert label.read_bytes() == before
    (found,) = find_rescues(rescue_base(UNSAVED_LABELS), project.root)
    assert str(found.folder) == folder and found.labels == (("lesion", stem),)
    np.testing.assert_array_equal(read_mask(found.path("lesion", stem)), other)
    with qtbot.waitSignal(saver.set_aside, timeout=10_000) as again:  # a second one: its own folder
        saver.save("lesion", stem, other)
    assert again.args[3] != folder and len(find_rescues(rescue_base(UNSAVED_LABELS), project.root)) == 2
    saver.close()


def test_a_second_rescue_within_the_same_second_gets_its_own_folder(tmp_path, monkeypatch):
    """paths.rescue_dir names a new folder: '-2' after the time when one of that name exists (a second label refused
    for its size within the same second must not share, and rewrite, the first one's record)."""
    import time

    from medseg_gui.paths import UNSAVED_LABELS, rescue_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(time, "strftime", lambda *_a: "20240501-101500")
    first = rescue_dir(UNSAVED_LABELS, tmp_path / "my project")
    first.mkdir(parents=True)
    second = rescue_dir(UNSAVED_LABELS, tmp_path / "my project")
    assert first.name == "my_project-20240501-101500" and second == first.with_name(f"{first.name}-2")
