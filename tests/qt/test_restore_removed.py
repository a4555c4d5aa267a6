"""Edit → Bring back a removed image…: a dialog lists the removed images (name, when, labels); Restore moves the one
chosen back off the GUI thread, then the list shows it with its label and the status bar says what came back."""

import threading

import numpy as np
from PySide6.QtWidgets import QMenu

from medseg_gui.core import restore_images
from medseg_gui.core.remove_images import remove_images
from medseg_gui.qt import restore_flow
from medseg_gui.qt.restore_flow import RemovedDialog
from tests.qt.test_image_list_metrics import cell_texts
from tests.workers.helpers import disc, make_project, open_window


def test_the_dialog_lists_the_removed_images_and_restore_brings_one_back(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=3, labelled=2)
    label = (project.root / "labels" / "lesion" / "img1.png").read_bytes()
    project.save_prediction("lesion", "img1", disc(cx=30).astype(np.float32))
    remove_images(project, ["img1"])
    window = open_window(qtbot, project)
    edit_menu = window.menuBar().findChild(QMenu, "editMenu")
    assert window.actions.restore_image in edit_menu.actions()
    edit_menu.aboutToShow.emit()
    assert window.actions.restore_image.isEnabled()

    listed, threads = [], []
    real = restore_images.restore_removed
    monkeypatch.setattr(restore_flow, "restore_removed",
                        lambda *args: threads.append(threading.current_thread()) or real(*args))

    def choose(parent, records):  # the dialog the user sees, Restore on its first row
        dialog = RemovedDialog(records, parent)
        qtbot.addWidget(dialog)
        listed.append([[dialog.table.item(0, c).text() for c in range(3)]])
        return dialog.chosen()

    monkeypatch.setattr(restore_flow, "choose_removed", choose)
    window.actions.restore_image.trigger()
    qtbot.waitUntil(lambda: "img1" in window.image_list.stems(), timeout=10_000)
    qtbot.waitUntil(lambda: window.session.stem == "img1" and window.session.paused is None, timeout=10_000)

    [[[name, when, labels]]] = listed
    assert (name, labels) == ("img1", "1") and when.startswith("20")
    assert threads and threads[0] is not threading.main_thread()  # the files moved on a worker
    assert window.image_list.current_stem() == "img1" and window.project.has_label("lesion", "img1")
    assert (project.root / "labels" / "lesion" / "img1.png").read_bytes() == label
    qtbot.waitUntil(lambda: "Brought 'img1' back" in window.statusBar().currentMessage(), timeout=10_000)
    qtbot.waitUntil(lambda: cell_texts(window.image_list, "img1").get("Dice") not in (None, ""), timeout=10_000)
    edit_menu.aboutToShow.emit()
    assert not window.actions.restore_image.isEnabled()  # none left


def test_a_refused_restore_says_why_and_keeps_the_image_removed(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    folder = remove_images(project, ["img0"]).images[0].folder
    (project.root / "labels" / "lesion" / "img0.png").write_bytes(b"in the way")
    window = open_window(qtbot, project)
    monkeypatch.setattr(restore_flow, "choose_removed", lambda parent, records: records[0])
    window.actions.restore_image.trigger()
    qtbot.waitUntil(lambda: "not brought back" in (window.last_error or ""), timeout=10_000)
    assert "labels/lesion/img0.png is there already" in window.last_error
    assert window.image_list.stems() == ["img1"] and (folder / "labels" / "lesion" / "img0.png").is_file()
    qtbot.waitUntil(lambda: window.session.paused is None, timeout=10_000)


def test_restore_is_off_in_a_read_only_window(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    remove_images(project, ["img0"])
    project.set_read_only("another window edits it")
    window = open_window(qtbot, project)
    window.menuBar().findChild(QMenu, "editMenu").aboutToShow.emit()
    assert not window.actions.restore_image.isEnabled()
    asked = []
    monkeypatch.setattr(restore_flow, "choose_removed", lambda parent, records: asked.append(records))
    window.actions.restore_image.setEnabled(True)
    window.actions.restore_image.trigger()
    assert asked == [] and "Nothing was brought back: this project is open read-only" in window.last_error
