"""LabelSaver: background atomic saves, coalescing, flush, delete, and errors as signals."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from medseg_gui.core.images import read_mask
from medseg_gui.workers.label_saver import LabelSaver
from tests.workers.helpers import H, W, make_project


def test_save_and_flush_writes_png(tmp_path, qtbot):
    project = make_project(tmp_path / "p")
    saver = LabelSaver(project)
    mask = np.zeros((H, W), bool)
    mask[5:10, 7:20] = True
    with qtbot.waitSignal(saver.saved, timeout=10_000) as blocker:
        saver.save("lesion", project.stems[0], mask)
    assert blocker.args == ["lesion", project.stems[0], True]  # a label file is there now
    assert saver.flush(5.0)
    assert not saver.has_pending()
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", project.stems[0])), mask)
    saver.close()


def test_repeated_saves_coalesce_to_latest(tmp_path, qtbot, monkeypatch):
    project = make_project(tmp_path / "p")
    stem = project.stems[0]
    writes = []
    real_save = project.save_label
    monkeypatch.setattr(project, "save_label", lambda c, s, m: (writes.append(m.sum()), real_save(c, s, m))[1])
    saver = LabelSaver()
    saver.set_project(project)
    masks = []
    for i in range(1, 30):
        m = np.zeros((H, W), bool)
        m[:i] = True
        masks.append(m)
        saver.save("lesion", stem, m)
    assert saver.flush(10.0)
    assert len(writes) < 29  # coalesced
    assert writes[-1] == masks[-1].sum()
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", stem)), masks[-1])
    saver.close()


def test_mask_is_copied_at_save_time(tmp_path):
    project = make_project(tmp_path / "p")
    saver = LabelSaver(project)
    mask = np.zeros((H, W), bool)
    mask[0:3] = True
    saver.save("lesion", project.stems[1], mask)
    mask[:] = False  # the canvas keeps drawing into its own array
    saver.close()
    assert read_mask(project.label_path("lesion", project.stems[1])).sum() == 3 * W


def test_written_buffers_are_reused_but_never_one_handed_out(tmp_path, monkeypatch):
    """A later save copies into the buffer of a written mask (no fresh 64 MB array for a big label) and writes its
    own pixels; a mask `latest` handed out is never overwritten."""
    project = make_project(tmp_path / "p")
    stem, other = project.stems[:2]
    buffers, gate = [], threading.Event()
    real_save = project.save_label

    def save_label(cls, s, mask):
        buffers.append(mask)
        if s == other:
            gate.wait(10)
        real_save(cls, s, mask)

    monkeypatch.setattr(project, "save_label", save_label)
    saver = LabelSaver(project)
    rows = lambda n: np.arange(H)[:, None].repeat(W, 1) < n  # noqa: E731 - the first n rows set
    saver.save("lesion", stem, rows(2))
    assert saver.flush(5.0)
    saver.save("lesion", stem, rows(4))
    assert saver.flush(5.0)
    assert np.shares_memory(buffers[1], buffers[0])  # reused
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", stem)), rows(4))
    saver.save("lesion", other, rows(6))  # its write waits for the gate
    pending, lent = saver.latest("lesion", other)
    gate.set()
    assert saver.flush(5.0)
    saver.save("lesion", stem, rows(8))
    saver.close()
    assert pending and lent.sum() == 6 * W  # not reused while someone may read it
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", stem)), rows(8))

def test_a_filled_label_is_filled_by_the_saver_and_lent_or_written_as_it_is_on_screen(tmp_path, monkeypatch):
    """`filled`: the saver's copy of a label set to one value everywhere is filled when written (not copied on the
    caller's thread); a save waiting behind a held-back write is lent by `latest` as the label, and written so,
    also when the label is filled again while its copy is being written."""
    from medseg_gui.core.masks import UNANNOTATED, label_codes

    project = make_project(tmp_path / "p", n=2)
    stem, other = project.stems[:2]
    gates, writing, real_save = {other: threading.Event()}, threading.Event(), project.save_label

    def save_label(cls, s, *args):
        writing.set()
        if s in gates:
            gates[s].wait(10)
        real_save(cls, s, *args)

    monkeypatch.setattr(project, "save_label", save_label)
    saver = LabelSaver(project)
    live = np.zeros((H, W), np.uint8)
    saver.follow("lesion", stem, live)

    def edit(bbox, value, fill=None):
        if fill is not None:
            live[...] = fill
            saver.touch("lesion", stem, (0, 0, H, W))
            saver.filled("lesion", stem, fill, None)
        live[bbox[0]:bbox[2], bbox[1]:bbox[3]] = value
        saver.touch("lesion", stem, bbox)
        saver.save_live("lesion", stem, live, sparse=bool((live == UNANNOTATED).any()))

    def on_disk():
        pixels = project.load_label_pixels("lesion", stem)
        return label_codes(pixels.mask, pixels.annotated)

    saver.save("lesion", other, np.ones((H, W), bool))  # holds the saver thread until the gate opens
    edit((5, 5, 10, 20), 1, fill=UNANNOTATED)  # a sparse start: queued behind the held-back write
    edit((20, 30, 25, 40), 0)
    pending, lent = saver.latest("lesion", stem)
    assert pending
    np.testing.assert_array_equal(lent.codes, live)  # lent as the label is, though never copied whole
    gates[other].set()
    assert saver.flush(5.0)
    np.testing.assert_array_equal(on_disk(), live)
    gates[stem] = threading.Event()
    writing.clear()
    edit((30, 2, 40, 8), 1, fill=0)  # all background again, and a stroke: its copy is filled, then held back
    assert writing.wait(5)
    edit((40, 50, 45, 60), 1, fill=UNANNOTATED)  # filled again while that copy is being written
    gates[stem].set()
    assert saver.flush(5.0)
    np.testing.assert_array_equal(on_disk(), live)
    edit((1, 1, 3, 3), 1)  # an ordinary stroke after the fills
    saver.close()
    np.testing.assert_array_equal(on_disk(), live)


def test_none_deletes_label(tmp_path, qtbot):
    project = make_project(tmp_path / "p", labelled=1)
    stem = project.stems[0]
    assert project.has_label("lesion", stem)
    saver = LabelSaver(project)
    with qtbot.waitSignal(saver.saved, timeout=10_000) as blocker:
        saver.save("lesion", stem, None)
    assert blocker.args == ["lesion", stem, False]  # reported as gone: nobody needs to look at the disk
    assert saver.flush(5.0)
    assert not project.has_label("lesion", stem)
    saver.close()


def test_wrong_size_is_set_aside_not_a_crash(tmp_path, qtbot):
    """A label not its image's size is never saved there (the image file was replaced: module doc): it is written to
    a rescue folder at once, not retried; the thread keeps saving."""
    project = make_project(tmp_path / "p")
    saver = LabelSaver(project)
    with qtbot.waitSignal(saver.set_aside, timeout=10_000) as blocker:
        saver.save("lesion", project.stems[0], np.zeros((10, 10), bool))
    assert blocker.args[:2] == ["lesion", project.stems[0]]
    assert "10×10" in blocker.args[2] and "64×48" in blocker.args[2]
    assert (Path(blocker.args[3]) / "lesion" / f"{project.stems[0]}.png").is_file()
    assert saver.flush(5.0) and not saver.unsaved() and not project.has_label("lesion", project.stems[0])
    saver.save("lesion", project.stems[0], np.ones((H, W), bool))
    assert saver.flush(5.0)
    assert project.has_label("lesion", project.stems[0]) and not saver.unsaved()
    saver.close()


def test_wrong_size_that_cannot_be_rescued_either_is_a_failed_save_kept(tmp_path, qtbot, monkeypatch):
    from medseg_gui.workers import label_saver

    monkeypatch.setattr(label_saver, "write_rescue", lambda *_a: [])  # the user data folder cannot be written
    project = make_project(tmp_path / "p")
    saver = LabelSaver(project)
    with qtbot.waitSignal(saver.failed, timeout=10_000) as blocker:
        saver.save("lesion", project.stems[0], np.zeros((10, 10), bool))
    assert "10×10" in blocker.args[2]
    assert not saver.flush(5.0)  # still not on disk: kept, not dropped
    assert saver.has_pending() and list(saver.unsaved()) == [("lesion", project.stems[0])]
    saver.save("lesion", project.stems[0], np.ones((H, W), bool))  # the newer mask supersedes the failed one
    assert saver.flush(5.0)
    assert project.has_label("lesion", project.stems[0]) and not saver.unsaved()
    saver.close()


def test_pending_changed_reports_busy_then_idle(tmp_path, qtbot):
    project = make_project(tmp_path / "p")
    saver = LabelSaver(project)
    seen = []
    saver.pending_changed.connect(seen.append)
    saver.save("lesion", project.stems[0], np.ones((H, W), bool))
    qtbot.waitUntil(lambda: seen[-1:] == [False], timeout=10_000)
    assert seen[0] is True
    saver.close()


class FlakyProject:
    """Wraps a project; `save_label` raises OSError-based ProjectErrors while `failing` is set."""

    def __init__(self, project):
        self.project, self.failing, self.calls = project, True, 0

    def save_label(self, cls, stem, mask):
        from medseg_gui.core.errors import ProjectError

        self.calls += 1
        if self.failing:
            raise ProjectError(f"Could not save labels/{cls}/{stem}.png: No space left on device.")
        self.project.save_label(cls, stem, mask)

    def delete_label(self, cls, stem):
        self.project.delete_label(cls, stem)


def test_failed_save_is_kept_offered_to_readers_and_retried_periodically(tmp_path, qtbot):
    project = make_project(tmp_path / "p")
    flaky = FlakyProject(project)
    saver = LabelSaver(flaky, retry_s=0.2)
    mask = np.zeros((H, W), bool)
    mask[3:9, 4:30] = True
    idle: list[bool] = []
    saver.pending_changed.connect(idle.append)
    with qtbot.waitSignal(saver.failed, timeout=10_000):
        saver.save("lesion", project.stems[0], mask)
    found, kept = saver.latest("lesion", project.stems[0])
    assert found and np.array_equal(kept, mask)
    assert saver.latest("vessel", project.stems[0]) == (False, None)
    assert saver.has_pending() and not saver.is_writing() and idle == [True]  # '*' stays
    qtbot.waitUntil(lambda: flaky.calls >= 3, timeout=10_000)  # retried without being asked
    flaky.failing = False
    qtbot.waitUntil(lambda: idle == [True, False], timeout=5_000)
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", project.stems[0])), mask)
    assert saver.latest("lesion", project.stems[0]) == (False, None) and not saver.unsaved()
    saver.close()


def test_discard_forgets_failed_saves(tmp_path, qtbot):
    project = make_project(tmp_path / "p")
    saver = LabelSaver(FlakyProject(project), retry_s=3600)
    with qtbot.waitSignal(saver.failed, timeout=10_000):
        saver.save("lesion", project.stems[0], np.ones((H, W), bool))
    assert not saver.flush(5.0)
    with qtbot.waitSignal(saver.pending_changed, timeout=5_000) as idle:
        assert saver.discard() == [("lesion", project.stems[0])]
    assert idle.args == [False] and not saver.has_pending() and saver.flush(5.0)
    assert not project.has_label("lesion", project.stems[0])
    saver.close()


def test_a_write_that_outlives_close_still_lands_but_signals_nobody(tmp_path, qtbot):
    """Slow storage: close() gives up waiting, the write finishes afterwards on the saver thread, and no signal of it
    reaches the closed window (one CI run hung in a late signal's slot)."""
    project = make_project(tmp_path / "p")
    release = threading.Event()
    real_save = project.save_label

    def slow_save(cls, stem, mask):
        release.wait(10.0)
        real_save(cls, stem, mask)

    project.save_label = slow_save
    saver = LabelSaver(project)
    heard: list[str] = []
    for signal in (saver.saved, saver.failed, saver.pending_changed, saver.drained):
        signal.connect(lambda *args, s=signal: heard.append(str(args)))
    saver.save("lesion", project.stems[0], np.ones((H, W), bool))
    qtbot.wait(50)
    heard.clear()  # pending_changed(True) of the save itself
    threading.Timer(0.3, release.set).start()
    assert not saver.close(timeout=0.05)  # not on disk when close gave up waiting
    saver._thread.join(10.0)
    assert not saver._thread.is_alive()
    assert read_mask(project.label_path("lesion", project.stems[0])).all()  # the write landed
    qtbot.wait(100)  # queued signals would be delivered now
    assert heard == []
