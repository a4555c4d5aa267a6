"""Fault-injection trial: an image file replaced on disk by a photo of another size, shown, then put back. The window
kept showing the other photo, moved the matching label to .unreadable/ on the next stroke ("could not be read … your
new label takes its place"), and the stroke was retried for ever with disk-space advice. Now the stroke is kept in a
rescue folder, the label stays, the image is read again from disk, and the next stroke saves."""

from __future__ import annotations

import numpy as np

from medseg_gui.core.images import read_mask, write_png
from medseg_gui.core.rescued_labels import find_rescues
from medseg_gui.paths import UNSAVED_LABELS, rescue_base
from medseg_gui.qt import save_guard
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import drag, make_project, open_window


def _replaced_by_other_size(path):
    """The image file replaced by a photo of another size; returns a function that puts the original back."""
    original = path.read_bytes()
    write_png(path, np.full((60, 80, 3), 90, np.uint8))
    return lambda: path.write_bytes(original)


def test_label_of_an_image_put_back_is_kept_and_the_next_stroke_saves(tmp_path, qtbot, messages, monkeypatch):
    monkeypatch.setattr(save_guard, "ask_unsaved", lambda *_a, **_k: save_guard.DISCARD)  # a failure: no hang at close
    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    label = project.label_path("lesion", stem)
    before = read_mask(label)
    window = open_window(qtbot, project)
    put_back = _replaced_by_other_size(project.image_path(stem))
    window.show_image(stem)
    assert window.canvas.doc.shape == (60, 80)
    assert any("label" in m and "80×60" in m for m in messages)  # the size warning (correct)
    put_back()
    messages.clear()
    drag(qtbot, window.canvas, [(50, 40), (70, 50)])  # on the photo still shown
    assert window.saver.flush(10)
    qtbot.waitUntil(lambda: window.session.stem == stem and window.canvas.doc.shape == (48, 64), timeout=5_000)
    assert not (label.parent / ".unreadable").exists()
    np.testing.assert_array_equal(read_mask(label), before)  # the label that fits is left as it was
    np.testing.assert_array_equal(window.canvas.label("lesion") != 0, before)  # and shown
    assert window.saver.unsaved() == {}  # not retried for ever
    qtbot.waitUntil(lambda: any("changed size" in m and "as it is now on disk" in m for m in messages),
                    timeout=10_000)  # the saver's refusal reaches the window through its queue (late under load)
    assert not any("could not be read" in m or "takes its place" in m or "disk space" in m for m in messages)
    rescues = find_rescues(rescue_base(UNSAVED_LABELS), project.root)
    assert [r.labels for r in rescues] == [(("lesion", stem),)]  # the stroke drawn on the other photo is kept
    assert read_mask(rescues[0].path("lesion", stem)).shape == (60, 80)
    drag(qtbot, window.canvas, [(5, 5), (12, 8)])
    assert window.saver.flush(10) and window.saver.unsaved() == {}
    saved = read_mask(label)
    assert saved[6, 8] and np.array_equal(saved & ~before, saved & ~before & (np.arange(64) < 20)[None, :])
    assert (saved & before).sum() == before.sum()


def test_showing_the_image_again_after_it_was_put_back_reads_it_from_disk(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    stem = project.stems[0]
    label = project.label_path("lesion", stem)
    window = open_window(qtbot, project)
    put_back = _replaced_by_other_size(project.image_path(stem))
    window.show_image(stem)
    put_back()
    window.show_image(project.stems[1])
    window.show_image(stem)
    assert window.canvas.doc.shape == (48, 64) and window.canvas.label("lesion").any()
    drag(qtbot, window.canvas, [(5, 5), (12, 8)])
    assert window.saver.flush(10) and window.saver.unsaved() == {}
    assert read_mask(label)[6, 8] and not (label.parent / ".unreadable").exists()


def test_a_save_refused_for_its_size_is_told_to_reopen_the_image_not_to_free_disk_space():
    """Where not even the rescue folder can be written, the save is retried: with advice that applies."""
    from medseg_gui.core.errors import LabelSizeError

    reason = str(LabelSizeError("The lesion label for img0 is 80×60 pixels but the image is 64×48 (width×height)."))
    assert save_guard.what_to_do([reason]) == ("The image file on disk changed size since the image was shown: "
                                               "reopen the image.")
