"""Defect 15 of issue 13: a read-only folder of images could not even be viewed, and on a read-only project `R`
ended in a dialog claiming the labels were saved. Now such a folder opens read-only (viewing works, editing is off,
a banner says why) and no message claims a save that failed."""

from __future__ import annotations

import errno

from PySide6.QtCore import Qt

from medseg_gui.core import atomic, lock
from medseg_gui.core.project import PROJECT_FILE
from medseg_gui.qt import save_guard
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import drag, make_images, make_project, open_window


def _read_only_media(monkeypatch) -> None:
    """Every file creation fails as on a read-only mount (we run as root, so chmod would not stop us)."""
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(lock.os, "open", refuse)
    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)


def test_read_only_folder_of_images_can_be_viewed(tmp_path, qtbot, messages, monkeypatch):
    folder = tmp_path / "scans"
    make_images(folder, n=2)
    _read_only_media(monkeypatch)
    window = open_window(qtbot)
    window.open_folder(folder)
    qtbot.waitUntil(lambda: window.project is not None, timeout=10_000)
    assert window.image_list.stems() == ["img0", "img1"]
    assert window.read_only and "Read-only file system" in window.read_only
    assert window.banner.isVisible() and "Read-only file system" in window.banner.text()
    assert "(read-only)" in window.windowTitle()
    assert window.canvas_area.message_shown() is None and window.canvas.isEnabled()  # the image is shown
    assert not (folder / PROJECT_FILE).exists()
    assert not window.tools.tool_buttons["brush"].isEnabled() and window.tools.tool_buttons["pan"].isEnabled()
    assert not window.actions.tools["brush"].isEnabled() and window.actions.tools["pan"].isEnabled()  # Edit → Tools
    assert window.canvas.tool() == "pan"
    window.canvas.set_tool("brush")  # even with a drawing tool forced on, a stroke changes nothing
    drag(qtbot, window.canvas, [(10, 10), (40, 30)])
    assert not window.canvas.label("lesion").any() and not window.saver.has_pending()
    qtbot.keyClick(window, Qt.Key.Key_R)  # the action is off: nothing happens, nothing is claimed
    window.toggle_reviewed()  # called directly: refused with a clear message
    assert "not marked reviewed" in window.last_error and "read-only" in window.last_error
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Retrain: off as well
    assert window.train_worker is None
    assert window.retrain() is None and window.train_worker is None  # called directly: refused, saying why
    assert "Retrain was not started" in window.last_error and "Read-only file system" in window.last_error
    assert not any("saved" in m and "not" not in m.lower() for m in messages)


def test_the_train_panel_says_why_retrain_is_off(tmp_path, qtbot, messages):
    """A greyed Retrain beside "press Retrain to train one on your 2 labelled images" (review, session 40): without a
    project, and in a window that has the project read-only, the panel says why it cannot train instead."""
    project = make_project(tmp_path / "p", n=2, labelled=2)
    first = open_window(qtbot)
    panel = first.train_panel
    assert not panel.retrain_button.isEnabled() and not panel.continuous_button.isEnabled()
    assert "Retrain is off: no project is open" in panel.model_label.text()
    assert "press Retrain" not in panel.model_label.text()
    with qtbot.waitSignal(first.project_loaded, timeout=10_000):
        first.open_folder(project.root)
    assert panel.retrain_button.isEnabled() and panel.continuous_button.isEnabled()
    assert "press Retrain to train one on your 2 labelled images" in panel.model_label.text()
    assert not panel.label_notice.isHidden()  # "2 labelled images: … labelling more would likely help"
    second = open_window(qtbot)
    with qtbot.waitSignal(second.project_loaded, timeout=10_000):
        second.open_folder(project.root)
    text = second.train_panel.model_label.text()
    assert second.read_only and not second.train_panel.retrain_button.isEnabled()
    assert "Retrain is off: this window has the project read-only because it is open for editing in" in text
    assert "press Retrain" not in text and second.train_panel.label_notice.isHidden()  # it cannot label more
    second.train_panel.set_running(False)  # a run that ends meanwhile (the lock was taken over) leaves it off
    assert not second.train_panel.retrain_button.isEnabled() and not second.train_panel.continuous_button.isEnabled()


def test_no_tool_looks_chosen_while_the_tools_are_off(tmp_path, qtbot, messages):
    """With no project open the greyed Brush button still looked pressed, as the tool in use (review, session 40)."""
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot)
    buttons = window.tools.tool_buttons
    assert not any(b.isEnabled() for b in buttons.values())  # Pan too: nothing to pan (it alone looked usable)
    assert [name for name, button in buttons.items() if button.isChecked()] == []
    with qtbot.waitSignal(window.project_loaded, timeout=10_000):
        window.open_folder(project.root)
    assert buttons["brush"].isEnabled() and buttons["brush"].isChecked() and window.canvas.tool() == "brush"
    other = open_window(qtbot)  # read-only: the pan tool, the one on, is the one shown chosen
    with qtbot.waitSignal(other.project_loaded, timeout=10_000):
        other.open_folder(project.root)
    assert other.read_only and other.canvas.tool() == "pan"
    assert [name for name, button in other.tools.tool_buttons.items() if button.isChecked()] == ["pan"]
    other.tools.set_tools_enabled(True)  # editable again: its tool is shown chosen
    assert other.tools.tool_buttons["pan"].isChecked()


def test_reviewed_on_a_folder_that_became_read_only_says_so(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot, project)

    def refuse(path, obj):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr("medseg_gui.core.project_folder.atomic_write_json", refuse)
    monkeypatch.setattr(save_guard, "ask_unsaved", lambda *_a, **_k: save_guard.DISCARD)  # the mark is kept: asked
    window.toggle_reviewed()
    assert "not marked reviewed" in window.last_error and "Read-only file system" in window.last_error
    assert window.image_list.table.item(0, 0).text() == project.stems[0]  # no ☑ for a state that is not saved
    assert not project.entry(project.stems[0]).state["reviewed"]  # nor in memory, to be shown or saved later
    qtbot.waitUntil(lambda: bool(messages), timeout=10_000)  # the dialog, after a pause (canvas.drawing_pause)
    assert "Your labels are saved" not in messages[-1]


def test_retrain_on_a_folder_that_became_read_only_is_not_started(tmp_path, qtbot, messages, monkeypatch):
    """The folder was writable at open and is not now (remounted read-only, full): Retrain would train for minutes
    and then fail to save its model; it is refused at once, saying why (fault-injection trial, session 31)."""
    project = make_project(tmp_path / "p", n=2, labelled=2)  # without the check it would train
    window = open_window(qtbot, project)
    assert window.read_only is None
    _read_only_media(monkeypatch)
    worker = window.retrain()  # the folder is probed on the worker's thread, before the training child starts
    assert worker is not None
    qtbot.waitUntil(lambda: window.train_worker is None, timeout=10_000)
    assert worker.child_pid is None
    assert "Retrain was not started" in window.last_error and "Read-only file system" in window.last_error
    assert not [p for p in project.root.iterdir() if "write-probe" in p.name]
