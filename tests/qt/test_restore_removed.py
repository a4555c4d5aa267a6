"""Edit → Bring back a removed image…: a dialog lists the removed images (name, when, labels); Restore moves the one
chosen back off the GUI thread, then the list shows it with its label and the status bar says what came back."""

import json
import threading
from types import SimpleNamespace

import numpy as np
from PySide6.QtWidgets import QMenu

from medseg_gui.core import restore_images
from medseg_gui.core.remove_images import remove_images
from medseg_gui.qt import restore_flow
from medseg_gui.qt.restore_flow import RemovedDialog
from tests.core.test_remove_images import _fill
from tests.qt.test_image_list_metrics import cell_texts
from tests.workers.helpers import disc, hold_rescoring_save, make_project, open_window


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


def test_restore_is_off_while_training_or_predicting_and_on_after_only_with_an_image_to_bring_back(
        tmp_path, qtbot, messages, monkeypatch):
    """Bring back stayed on during a training (opening the Edit menu turned it on) and a click met a refusal, while
    Remove image and Classes… beside it were off: it is off alike, saying why, and on again after the run only while
    the project still has a removed image."""
    from medseg_gui.qt import actions

    project = make_project(tmp_path / "p", n=3, labelled=1)
    remove_images(project, ["img1"])
    window = open_window(qtbot, project)
    edit_menu = window.menuBar().findChild(QMenu, "editMenu")
    action = window.actions.restore_image
    text, tip = action.text(), action.statusTip()
    assert action.isEnabled()
    window.train_worker = SimpleNamespace(cls="lesion")  # a training runs, then ends as the panel reports it
    try:
        window.train_panel.running_changed.emit(True)
        edit_menu.aboutToShow.emit()  # the menu opened during the run
        assert not action.isEnabled() and action.text() == f"{text} (training)"
        assert action.statusTip().startswith("Bring back a removed image is off while a training runs")
        assert action.toolTip() == action.statusTip()
    finally:  # else closing the window would wait for it
        window.train_panel.running_changed.emit(False)
        window.train_panel.ended.emit("finished", "New model kept")
    assert window.train_worker is None and action.isEnabled() and (action.text(), action.statusTip()) == (text, tip)
    monkeypatch.setattr(window.models, "busy", lambda: True)  # Predict all images / Use this model
    window.models.busy_changed.emit(True)
    edit_menu.aboutToShow.emit()
    assert not action.isEnabled() and action.text() == f"{text} (predicting)" and "predicted" in action.statusTip()
    monkeypatch.setattr(actions, "has_removed", lambda project: False)  # e.g. brought back from the command line
    monkeypatch.setattr(window.models, "busy", lambda: False)
    window.models.busy_changed.emit(False)
    assert not action.isEnabled() and (action.text(), action.statusTip()) == (text, tip)  # both must hold


def test_restore_waits_for_a_rescoring_that_would_save_over_its_scores(tmp_path, qtbot, messages, monkeypatch):
    """Review: a threshold re-scoring computed before the image was listed again saved metrics.json without it, over
    the score entries the restore had just put back."""
    project = make_project(tmp_path / "p", n=3)
    for stem in ("img0", "img1"):
        _fill(project, stem)
    remove_images(project, ["img1"])
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: not window.workers.is_busy(), timeout=10_000)
    gate = hold_rescoring_save(qtbot, window, monkeypatch)  # its scores computed, about to be saved
    monkeypatch.setattr(restore_flow, "choose_removed", lambda parent, records: records[0])
    window.actions.restore_image.trigger()
    qtbot.waitUntil(lambda: "img1" in window.image_list.stems() or "once the scores being updated are saved"
                    in window.statusBar().currentMessage(), timeout=10_000)
    gate.set()
    qtbot.waitUntil(lambda: "img1" in window.image_list.stems() and window.session.paused is None, timeout=10_000)
    qtbot.waitUntil(lambda: not window.workers.is_busy(), timeout=10_000)
    assert "img1" in json.loads((project.root / "predictions" / "lesion" / "metrics.json").read_text())


def test_a_rescoring_asked_for_during_a_restore_starts_after_it(tmp_path, qtbot, monkeypatch):
    """A threshold change while the files moved back started a job that computed the scores without the image."""
    from medseg_gui.qt import threshold_metrics
    from medseg_gui.workers.base import WorkerHost
    from medseg_gui.workers.training import ClassMetrics

    runs, called = [], []
    monkeypatch.setattr(threshold_metrics, "rescore_class", lambda root, cls, threshold, changed, should_stop=None:
                        runs.append((cls, threshold)) or ClassMetrics(cls, {}))
    host = WorkerHost()
    refresher = threshold_metrics.MetricsRefresher(host, delay_ms=1)
    refresher.hold(lambda: called.append(True))
    assert called == [True]  # no job ran: at once
    refresher.schedule(SimpleNamespace(root=tmp_path), "lesion", 0.4)
    qtbot.wait(200)
    assert runs == []
    with qtbot.waitSignal(refresher.updated, timeout=5_000):
        refresher.release()
    assert runs == [("lesion", 0.4)]
    assert host.shutdown(5_000)


def test_the_image_brought_back_is_listed_where_it_stood(tmp_path, qtbot, messages, monkeypatch):
    """It came back at the end of the list, away from the images it was labelled beside."""
    project = make_project(tmp_path / "p", n=4, labelled=2)
    remove_images(project, ["img1"])
    window = open_window(qtbot, project)
    monkeypatch.setattr(restore_flow, "choose_removed", lambda parent, records: records[0])
    window.actions.restore_image.trigger()
    qtbot.waitUntil(lambda: "img1" in window.image_list.stems() and window.session.paused is None, timeout=10_000)
    assert window.image_list.stems() == ["img0", "img1", "img2", "img3"] and window.session.stem == "img1"
