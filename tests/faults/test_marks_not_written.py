"""Outside fault-injection trial: on a project remounted read-only, Accept prediction's "accepted" mark was lost
silently (the label itself was kept and retried), so Retrain validated on the model's own output; a stroke on an
accepted label while unwritable kept the mark. Now a mark project.json cannot take is kept, shown like an unsaved
label, retried until written, blocks Retrain and is asked about at close (qt.mark_keeper, core.pending_marks).

Faults are injected where project.json and label PNGs are written (`OSError` EROFS), everything above runs for real."""

from __future__ import annotations

import errno
import logging

import numpy as np
from PySide6.QtCore import Qt

from medseg_gui.core import project as project_module
from medseg_gui.core import project_folder
from medseg_gui.core.project import Project
from medseg_gui.qt import dialogs, save_guard
from medseg_gui.qt.panels.labelled_cell import UNSAVED
from medseg_gui.training_data import accepted_labels
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import H, W, drag, make_project, open_window


class ReadOnlyMount:
    """project.json (`json`) and label files (`labels`) cannot be written while the flag is on."""

    def __init__(self, monkeypatch) -> None:
        self.json = self.labels = True
        real_json, real_png = project_folder.atomic_write_json, project_module.write_png

        def refuse(flag: str, real):
            def write(path, data):
                if getattr(self, flag):
                    raise OSError(errno.EROFS, "Read-only file system", str(path))
                return real(path, data)
            return write

        monkeypatch.setattr("medseg_gui.core.project_folder.atomic_write_json", refuse("json", real_json))
        monkeypatch.setattr(project_module, "write_png", refuse("labels", real_png))


def _window_on_a_prediction(tmp_path, qtbot, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=2)
    stem = project.stems[0]
    project.save_prediction("lesion", stem, np.tile(np.linspace(0.0, 1.0, W, dtype=np.float32), (H, 1)))
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # "replace your label?": Yes
    monkeypatch.setattr(save_guard, "ask_unsaved", lambda *_a, **_k: save_guard.DISCARD)  # a failed test's close
    window = open_window(qtbot, project)
    window.saver.retry_s = 0.3
    qtbot.waitUntil(lambda: window.session.stem == stem and "lesion" in window.session.review.probs, timeout=10_000)
    return project, stem, window


def _on_disk(project) -> set[str]:
    return accepted_labels(Project.open(project.root), "lesion")


def test_an_accept_whose_mark_cannot_be_written_is_kept_shown_blocks_retrain_and_is_written_later(
        tmp_path, qtbot, messages, monkeypatch):
    project, stem, window = _window_on_a_prediction(tmp_path, qtbot, monkeypatch)
    mount = ReadOnlyMount(monkeypatch)
    with qtbot.waitSignal(window.saver.failed, timeout=10_000):
        qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    assert _on_disk(project) == set()
    not_marked = "was not marked as the accepted lesion prediction in project.json"
    qtbot.waitUntil(lambda: any(not_marked in m for m in messages), timeout=10_000)  # the dialog, after a pause
    said = [m for m in messages if not_marked in m]
    assert len(said) == 1 and "Read-only file system" in said[0]  # once, though the accept set it twice
    assert window.isWindowModified() and window.image_list._item(stem, 1).text() == UNSAVED
    assert ("1 label(s) could not be saved, so Retrain would not see them, and 1 image mark(s) could not be written "
            "to project.json") in (window.training.refusal("lesion") or "")  # both, not the label alone (trial)
    mount.labels = False  # the label folder is back first: the label is saved, the mark still is not
    qtbot.waitUntil(lambda: not window.saver.has_pending(), timeout=10_000)
    assert _on_disk(project) == set() and window.isWindowModified()
    assert window.image_list._item(stem, 1).text() == UNSAVED
    # the list hears of the saved label by a queued signal, after the saver's own state (a loaded CI run)
    qtbot.waitUntil(lambda: "was not marked as the accepted lesion prediction" in window.image_list._item(
        stem, 1).toolTip(), timeout=5_000)
    refusal = window.training.refusal("lesion") or ""  # Retrain would validate on the model's own output
    assert "not every mark is there yet" in refusal and "Read-only file system" in refusal
    mount.json = False  # remounted read-write: the retry writes the mark
    qtbot.waitUntil(lambda: _on_disk(project) == {stem}, timeout=10_000)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=5_000)
    assert window.image_list._item(stem, 1).text() != UNSAVED
    assert window.training.refusal("lesion") is None
    assert window.close()


def test_a_stroke_on_an_accepted_label_while_unwritable_drops_the_mark_once_written(
        tmp_path, qtbot, messages, monkeypatch):
    project, stem, window = _window_on_a_prediction(tmp_path, qtbot, monkeypatch)
    qtbot.mouseClick(window.tools.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _on_disk(project) == {stem}, timeout=10_000)  # asked after a pause (qt.accept_flow)
    mount = ReadOnlyMount(monkeypatch)
    with qtbot.waitSignal(window.saver.failed, timeout=10_000):
        drag(qtbot, window.canvas, [(5, 5), (15, 8)])
    drawn = window.canvas.label("lesion")
    assert _on_disk(project) == {stem} and window.isWindowModified()
    qtbot.waitUntil(lambda: any("was not unmarked as the accepted lesion prediction" in m for m in messages),
                    timeout=10_000)  # the dialog, once the drawing pauses
    mount.json = mount.labels = False
    qtbot.waitUntil(lambda: _on_disk(project) == set(), timeout=10_000)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=5_000)
    np.testing.assert_array_equal(project.load_label("lesion", stem), drawn)
    assert window.close()


def test_close_asks_about_a_mark_not_written(tmp_path, qtbot, messages, monkeypatch, caplog):
    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    window = open_window(qtbot, project)
    mount = ReadOnlyMount(monkeypatch)
    mount.labels = False
    window.toggle_reviewed()
    assert "was not marked reviewed" in window.last_error and window.isWindowModified()
    asked, answers = [], [save_guard.CANCEL, save_guard.DISCARD]
    monkeypatch.setattr(save_guard, "ask_unsaved", lambda parent, text, *_a: asked.append(text) or answers.pop(0))
    assert not window.close() and len(asked) == 1  # Cancel: the window stays, the mark is still kept
    assert "1 image mark(s) could not be written to project.json" in asked[0] and f"{stem} marked reviewed" in asked[0]
    said = []
    window.guard.recovered.connect(said.append)
    with caplog.at_level(logging.WARNING):
        assert window.close()  # Discard
    assert not said  # nothing claims it was written
    assert "discarded by the user" in caplog.text and not Project.open(project.root).entry(stem).state["reviewed"]
