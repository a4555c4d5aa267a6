"""Outside trial: an open image's file replaced on disk by another photo (its label set aside), then the original put
back: the canvas kept the other photo until the image was reopened. Each replacement is now read again and shown,
labels by the first time's rule (a fitting one shown, one that does not fit left in the project, a stroke set aside)."""

from __future__ import annotations

import os

import numpy as np

from medseg_gui.core.images import read_image, read_mask, write_png
from medseg_gui.core.rescued_labels import find_rescues
from medseg_gui.paths import UNSAVED_LABELS, rescue_base
from medseg_gui.qt import save_guard
from medseg_gui.qt.image_file_watch import ImageFileWatch
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import drag, make_project, open_window

OTHER = np.full((60, 80, 3), 90, np.uint8)  # another photo, of another size than the project's 64×48 ones


def _shown(qtbot, window, rgb):
    qtbot.waitUntil(lambda: window.canvas.doc.image is not None and np.array_equal(window.canvas.doc.image, rgb),
                    timeout=5_000)


def test_the_original_put_back_after_a_stroke_was_set_aside_is_shown_with_its_label(tmp_path, qtbot, messages,
                                                                                     monkeypatch):
    monkeypatch.setattr(save_guard, "ask_unsaved", lambda *_a, **_k: save_guard.DISCARD)
    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    path, label = project.image_path(stem), project.label_path("lesion", stem)
    original, before, rgb = path.read_bytes(), read_mask(label), read_image(path)
    window = open_window(qtbot, project)
    window.show_image(stem)
    write_png(path, OTHER)
    drag(qtbot, window.canvas, [(30, 20), (40, 25)])  # drawn on the photo shown, saved against the other: set aside
    assert window.saver.flush(10)
    _shown(qtbot, window, OTHER)
    assert not window.canvas.is_labelled("lesion")  # the project's label does not fit the other photo
    path.write_bytes(original)  # put back, nothing drawn since
    _shown(qtbot, window, rgb)
    assert window.session.stem == stem
    np.testing.assert_array_equal(window.canvas.label("lesion") != 0, before)
    np.testing.assert_array_equal(read_mask(label), before)
    rescues = find_rescues(rescue_base(UNSAVED_LABELS), project.root)
    assert [r.labels for r in rescues] == [(("lesion", stem),)]  # the stroke on the other photo is kept


def test_each_replacement_of_the_file_shown_is_read_again(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    path, label = project.image_path(stem), project.label_path("lesion", stem)
    original, before, rgb = path.read_bytes(), read_mask(label), read_image(path)
    window = open_window(qtbot, project)
    window.show_image(stem)
    said: list[str] = []
    window.session.status.connect(said.append)
    same_size = np.full_like(rgb, 200)
    for photo in (OTHER, rgb, same_size, OTHER, rgb):  # by a rename (write_png) and in place, again and again
        if photo is rgb:
            path.write_bytes(original)
        else:
            write_png(path, photo)
        _shown(qtbot, window, photo)
        assert window.canvas.is_labelled("lesion") == (photo is not OTHER)  # shown where it fits
        np.testing.assert_array_equal(read_mask(label), before)  # never moved or written over
    assert sum("changed on disk" in m for m in said) >= 5  # and said so each time


def test_a_file_gone_for_a_while_is_no_change_its_return_is(tmp_path, qtbot):
    path = write_png(tmp_path / "a.png", OTHER)
    watch = ImageFileWatch()
    seen: list[str] = []
    watch.changed.connect(seen.append)
    watch.watch("a", path)
    os.replace(path, tmp_path / "a.bak")
    qtbot.wait(2 * ImageFileWatch.QUIET_MS)
    assert seen == []
    write_png(path, np.zeros((8, 8, 3), np.uint8))
    qtbot.waitUntil(lambda: seen == ["a"], timeout=5_000)
    watch.watch("a", path)  # read again
    seen.clear()
    write_png(path, np.ones((8, 8, 3), np.uint8))  # watched again after the replacement
    qtbot.waitUntil(lambda: seen == ["a"], timeout=5_000)


def test_a_file_caught_half_copied_is_shown_once_whole_and_the_list_forgets_its_error(tmp_path, qtbot, messages):
    """Review: an image shown as unreadable (its file caught half-written by a copy) stayed so until reopened, and the
    list kept it red."""
    project = make_project(tmp_path / "p", n=2, labelled=1)
    stem = project.stems[0]
    path = project.image_path(stem)
    original, rgb = path.read_bytes(), read_image(path)
    window = open_window(qtbot, project)
    window.show_image(stem)
    qtbot.waitUntil(lambda: window.session.stem == stem, timeout=5_000)
    path.write_bytes(original[: len(original) // 2])  # cp over the file, under way
    qtbot.waitUntil(lambda: window.session.stem is None and bool(window.image_list.error(stem)), timeout=5_000)
    path.write_bytes(original)  # the copy finished
    _shown(qtbot, window, rgb)
    qtbot.waitUntil(lambda: window.session.stem == stem and window.image_list.error(stem) is None, timeout=5_000)
    assert window.image_list.unreadable_note.isHidden() and window.canvas.is_labelled("lesion")


def test_a_file_whole_again_while_another_image_was_shown_is_read_when_shown_again(tmp_path, qtbot, messages):
    """Review: the list's remembered error was shown without reading the file again."""
    project = make_project(tmp_path / "p", n=2, labelled=1)
    stem, other = project.stems
    path = project.image_path(stem)
    original, rgb = path.read_bytes(), read_image(path)
    window = open_window(qtbot, project)
    window.show_image(stem)
    qtbot.waitUntil(lambda: window.session.stem == stem, timeout=5_000)
    path.write_bytes(original[: len(original) // 2])
    qtbot.waitUntil(lambda: window.session.stem is None and bool(window.image_list.error(stem)), timeout=5_000)
    window.show_image(other)
    qtbot.waitUntil(lambda: window.session.stem == other, timeout=5_000)
    path.write_bytes(original)  # the copy finished while another image was shown
    window.show_image(stem)
    _shown(qtbot, window, rgb)
    qtbot.waitUntil(lambda: window.image_list.error(stem) is None, timeout=5_000)


def test_a_large_file_whole_again_while_it_was_read_in_the_background_is_read_again(tmp_path, qtbot, messages,
                                                                                   monkeypatch):
    """Review: a background load that failed on the half-copied file waited for a change that had come already."""
    import time

    from medseg_gui.qt import image_session

    project = make_project(tmp_path / "p", n=2, labelled=1)
    stem = project.stems[0]
    path = project.image_path(stem)
    original, rgb = path.read_bytes(), read_image(path)
    monkeypatch.setattr(image_session, "loads_in_background", lambda _path: True)
    real, half = image_session.load_prepared, {"now": False, "done": False}

    def finishing(*args, **kwargs):  # the copy finishes while the half file is being read
        try:
            return real(*args, **kwargs)
        finally:
            if half["now"] and path.read_bytes() != original:
                half["now"] = False
                path.write_bytes(original)
                time.sleep(1.0)  # its change noticed (and passed over: still loading) before the error
                half["done"] = True

    monkeypatch.setattr(image_session, "load_prepared", finishing)
    window = open_window(qtbot, project)
    window.show_image(stem)
    qtbot.waitUntil(lambda: window.session.stem == stem, timeout=5_000)
    half["now"] = True
    path.write_bytes(original[: len(original) // 2])
    qtbot.waitUntil(lambda: half["done"], timeout=8_000)
    qtbot.waitUntil(lambda: window.session.stem == stem and window.image_list.error(stem) is None, timeout=8_000)
    _shown(qtbot, window, rgb)  # not stuck on "cannot be shown"
