"""Edit → Remove image from project…: asks (naming the image, its labels and where they go), moves its files into
.removed/ off the GUI thread, and shows the next image; refused while a training runs or in a read-only window."""

from types import SimpleNamespace

from medseg_gui.core.project import Project
from medseg_gui.qt import dialogs
from tests.workers.helpers import hold_rescoring_save, make_project, open_window


def _show(qtbot, window, stem):
    window.image_list.select(stem)
    qtbot.waitUntil(lambda: window.session.stem == stem, timeout=10_000)


def test_removing_the_image_shown_asks_then_moves_its_files_and_shows_the_next(tmp_path, qtbot, messages,
                                                                               monkeypatch):
    project = make_project(tmp_path / "p", n=3, labelled=2)
    window = open_window(qtbot, project)
    _show(qtbot, window, "img1")
    asked = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or True)

    assert window.actions.remove_image in window.image_list.table.actions()  # its right-click menu
    window.actions.remove_image.trigger()
    qtbot.waitUntil(lambda: window.image_list.stems() == ["img0", "img2"], timeout=10_000)
    qtbot.waitUntil(lambda: window.session.stem == "img2" and window.session.paused is None, timeout=10_000)

    assert len(asked) == 1 and "'img1'" in asked[0] and "Its label and the photo are moved to" in asked[0]
    assert ".removed/img1-" in asked[0] and "Nothing is deleted" in asked[0]
    assert "Edit → Bring back a removed image… brings it back" in asked[0]  # not by hand (trial)
    assert window.image_list.current_stem() == "img2"
    [folder] = (project.root / ".removed").iterdir()
    assert (folder / "labels" / "lesion" / "img1.png").is_file() and (folder / "images" / "img1.png").is_file()
    assert not (project.root / "labels" / "lesion" / "img1.png").exists()
    assert Project.open(project.root).stems == ["img0", "img2"]
    # where the files went stays in view: beside the next image's own line (it wiped a trial's status line at
    # once), and in full, with how to bring it back, in a message
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("img2 — "), timeout=10_000)
    status = window.statusBar().currentMessage()
    assert f"'img1' removed from the project, its files moved to .removed/{folder.name}" in status  # named first:
    assert "nothing deleted" in status  #                      after img2's line, a trial read it as img2's removal
    assert len(messages) == 1 and str(folder) in messages[0] and "Nothing was deleted" in messages[0]
    assert "move the files" in messages[0]


def test_the_question_names_only_what_the_image_has(tmp_path, qtbot):
    """A trial read "Its 0 label(s) and 0 other file(s) (region of interest, predictions)" for an image with none."""
    import numpy as np

    from medseg_gui.qt.remove_flow import removal_question
    from tests.workers.helpers import disc, make_images

    project = make_project(tmp_path / "p", n=2)
    folder = tmp_path / "clinic"
    make_images(folder, n=1)
    plain = Project.open_or_create_for_folder(folder)
    assert "It has no labels or other files in the project" in removal_question(plain, "img0")
    project.save_label("lesion", "img0", disc())
    project.save_label("vessel", "img0", disc())
    project.save_roi("img0", np.ones_like(disc()))
    project.save_prediction("lesion", "img0", disc().astype(np.float32))
    assert ("Its 2 labels, its region of interest, its prediction and the photo are moved to"
            in removal_question(project, "img0"))


def test_no_keeps_the_image(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    _show(qtbot, window, "img0")
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: False)
    window.actions.remove_image.trigger()
    qtbot.wait(200)
    assert window.image_list.stems() == ["img0", "img1"] and not (project.root / ".removed").exists()


def test_removal_is_refused_while_training_runs(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    _show(qtbot, window, "img0")
    asked = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or True)
    window.train_worker = object()  # stands in for a running TrainWorker
    try:
        window.actions.remove_image.trigger()
    finally:
        window.train_worker = None
    assert asked == [] and "'img0' was not removed: a training" in window.last_error
    assert window.image_list.stems() == ["img0", "img1"] and project.has_label("lesion", "img0")
    assert not (project.root / ".removed").exists()


def test_remove_is_off_while_training_or_predicting_and_says_why(tmp_path, qtbot, messages, monkeypatch):
    """Verification trial: Remove image stayed on during a training and answered a click with a refusal; it is off
    (its entry and tips saying why) while a training or a prediction with a model runs, on again after."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    action = window.actions.remove_image
    assert action.isEnabled() and action.text() == "Re&move image from project…"
    tip = action.statusTip()
    window.train_worker = SimpleNamespace(cls="lesion")  # a training runs, then ends as the panel reports it
    try:
        window.train_panel.running_changed.emit(True)
        assert not action.isEnabled() and action.text().endswith("(training)")
        assert "off while a training runs" in action.statusTip() and action.toolTip() == action.statusTip()
        classes = window.actions.edit_classes  # refused alike while a run goes on: off alike
        assert not classes.isEnabled() and classes.statusTip().startswith("Classes… is off while a training runs")
    finally:  # else closing the window would wait for it
        window.train_panel.running_changed.emit(False)
        window.train_panel.ended.emit("finished", "New model kept")
    assert window.train_worker is None and action.isEnabled() and action.statusTip() == tip
    assert window.actions.edit_classes.isEnabled()
    monkeypatch.setattr(window.models, "busy", lambda: True)  # Predict all images / Use this model
    window.models.busy_changed.emit(True)
    assert not action.isEnabled() and action.text().endswith("(predicting)") and "predicted" in action.statusTip()
    monkeypatch.setattr(window.models, "busy", lambda: False)
    window.models.busy_changed.emit(False)
    assert action.isEnabled() and action.text() == "Re&move image from project…"


def test_removal_is_refused_in_a_read_only_window(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    project.set_read_only("another window edits it")
    window = open_window(qtbot, project)
    _show(qtbot, window, "img0")
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)
    window.actions.remove_image.trigger()
    assert "was not removed: this project is open read-only" in window.last_error
    assert window.image_list.stems() == ["img0", "img1"] and not (project.root / ".removed").exists()


def test_a_polygon_left_open_on_the_image_is_saved_first_and_moves_with_it(tmp_path, qtbot, messages, monkeypatch):
    """A polygon being drawn on the image removed was closed on the next image's showing, after its files had moved:
    its label was written back into labels/ for an image no longer listed (a new image of that name would take it)."""
    from tests.qt.test_polygon_exits import _draw_open_polygon

    project = make_project(tmp_path / "p", n=3)
    window = open_window(qtbot, project)
    _show(qtbot, window, "img1")
    window.tools.select_class("lesion")
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)
    _draw_open_polygon(qtbot, window.canvas)
    window.actions.remove_image.trigger()
    qtbot.waitUntil(lambda: window.image_list.stems() == ["img0", "img2"], timeout=10_000)
    qtbot.waitUntil(lambda: window.session.stem == "img2" and window.session.paused is None, timeout=10_000)
    assert window.saver.flush()
    [folder] = (project.root / ".removed").iterdir()
    assert (folder / "labels" / "lesion" / "img1.png").is_file()
    assert not (project.root / "labels" / "lesion" / "img1.png").exists()


def test_removal_refused_while_a_save_fails_says_why_and_what_to_do(tmp_path, qtbot, messages, monkeypatch):
    """A verification trial's label folder could not be written: the refusal said "try again in a moment"."""
    import errno

    from medseg_gui.qt import save_guard
    from tests.faults.test_gui_save_failures import Fault, _draw_and_fail

    project = make_project(tmp_path / "p", n=2, labelled=1)
    Fault(monkeypatch, errno.ENOSPC, "No space left on device")
    window = open_window(qtbot, project)
    monkeypatch.setattr(save_guard, "ask_unsaved", lambda *_a, **_k: save_guard.DISCARD)  # for the teardown close
    _draw_and_fail(qtbot, window)
    asked = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or True)
    window.actions.remove_image.trigger()
    assert asked == [] and "was not removed: 1 label could not be saved" in window.last_error
    assert "No space left on device" in window.last_error and "Free some disk space" in window.last_error
    assert "try again in a moment" not in window.last_error


def test_a_save_reported_after_its_image_was_removed_is_ignored(tmp_path, qtbot, messages):
    """The saver's signal for a polygon closed before Remove image (queued across threads) arrived once the image had
    left the project: re-scoring it raised 'There is no image called …' in the event loop (CI, two processes)."""
    project = make_project(tmp_path / "p", n=2, labelled=1)
    window = open_window(qtbot, project)
    window.saver.saved.emit("lesion", "gone", True)  # as the saver thread's queued signal arrives, late
    assert window.project.stems == ["img0", "img1"]


def test_removal_waits_for_a_rescoring_that_would_save_its_scores_back(tmp_path, qtbot, messages, monkeypatch):
    """The mirror of Bring back's race: a threshold re-scoring computed with the image, saved after the removal had
    dropped its entries, wrote the removed image's scores back into metrics.json and uncertainty.json."""
    import json

    from tests.core.test_remove_images import _fill

    project = make_project(tmp_path / "p", n=3)
    for stem in ("img0", "img1"):
        _fill(project, stem)
    window = open_window(qtbot, project)
    _show(qtbot, window, "img1")
    qtbot.waitUntil(lambda: not window.workers.is_busy(), timeout=10_000)
    gate = hold_rescoring_save(qtbot, window, monkeypatch)  # its scores computed with img1, about to be saved
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)
    window.actions.remove_image.trigger()
    qtbot.waitUntil(lambda: "img1" not in window.image_list.stems() or "once the scores being updated are saved"
                    in window.statusBar().currentMessage(), timeout=10_000)
    gate.set()
    qtbot.waitUntil(lambda: window.image_list.stems() == ["img0", "img2"] and window.session.paused is None,
                    timeout=10_000)
    qtbot.waitUntil(lambda: not window.workers.is_busy(), timeout=10_000)
    scores = project.root / "predictions" / "lesion"
    assert "img0" in json.loads((scores / "metrics.json").read_text())
    assert "img1" not in json.loads((scores / "metrics.json").read_text())
    assert "img1" not in (scores / "uncertainty.json").read_text()
    [folder] = (project.root / ".removed").iterdir()
    assert "img1" in json.loads((folder / "removed.json").read_text())["scores"]["predictions/lesion/metrics.json"]
