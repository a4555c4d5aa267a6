"""Two-stage classes in the window: Train → "Restrict current class to a region…" saves roi_class, the train panel
says "Inside cervix", and the canvas' ROI (outline, FP/FN, fill stop) is the cervix region while the lesion is the
current class — from the cervix label as drawn, else its thresholded prediction."""

from __future__ import annotations

import numpy as np

from medseg_gui.core.project import ClassSpec, Project
from medseg_gui.qt import region_flow
from tests.workers.helpers import H, W, disc, drag, make_images, open_window


def _project(tmp_path) -> Project:
    project = Project.create(tmp_path / "p", (ClassSpec("cervix", (0, 200, 255)), ClassSpec("lesion", (255, 215, 0))))
    for path in make_images(tmp_path / "src", 3):
        project.add_image(path)
    project.save_label("cervix", project.stems[0], disc(r=15))
    return project


def _roi(window) -> np.ndarray | None:
    roi = window.canvas.doc.roi
    return None if roi is None else roi.astype(bool)


def test_restrict_lesion_to_cervix_from_the_menu(tmp_path, qtbot, monkeypatch, messages):
    project = _project(tmp_path)
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    assert _roi(window) is None and not window.train_panel.region_label.isVisible()

    asked = []
    monkeypatch.setattr(region_flow, "ask_roi_class",
                        lambda parent, cls, choices, current: asked.append((cls, choices, current)) or "cervix")
    window.actions.restrict_class.trigger()
    assert asked == [("lesion", ["cervix"], None)]
    assert Project.open(project.root).class_spec("lesion").roi_class == "cervix"
    assert window.train_panel.region_label.isVisible()
    assert window.train_panel.region_label.text().startswith("Inside cervix")
    assert window.tools.class_combo.currentText() == "2  lesion  (inside cervix)"
    assert window.tools.class_combo.itemText(0) == "1  cervix"
    np.testing.assert_array_equal(_roi(window), disc(r=15))  # the cervix label of the first image

    window.tools.select_class("cervix")  # the cervix itself covers the whole image
    assert _roi(window) is None and not window.train_panel.region_label.isVisible()

    # the second image has no cervix label or prediction yet: not restricted, and the status bar says why
    window.image_list.select(project.stems[1])
    window.tools.select_class("lesion")
    assert _roi(window) is None
    assert "not restricted" in window.statusBar().currentMessage()
    # a cervix prediction gives the region, thresholded at the window's threshold
    prob = np.zeros((H, W), np.float32)
    prob[:, : W // 2] = 0.9
    project.save_prediction("cervix", project.stems[1], prob)
    window.session.reload_prediction("cervix")
    np.testing.assert_array_equal(_roi(window), prob >= 0.5)
    # … and a cervix label drawn now wins over it (live, before it is saved)
    window.tools.select_class("cervix")
    window.canvas.set_brush_size(5)
    drag(qtbot, window.canvas, [(50, 10), (55, 10)])
    window.tools.select_class("lesion")
    np.testing.assert_array_equal(_roi(window), window.canvas.label("cervix"))
    assert _roi(window)[10, 52] and not _roi(window)[30, 10]
    assert window.saver.flush(10)
    assert messages == []


def test_whole_image_again_and_a_circle_is_refused(tmp_path, qtbot, monkeypatch, messages):
    project = _project(tmp_path)
    project.set_roi_class("lesion", "cervix")
    window = open_window(qtbot, project)
    assert window.tools.class_combo.itemText(1) == "2  lesion  (inside cervix)"  # read from project.json
    window.tools.select_class("cervix")
    monkeypatch.setattr(region_flow, "ask_roi_class", lambda parent, cls, choices, current: "lesion")
    window.actions.restrict_class.trigger()
    assert len(messages) == 1 and "circle" in messages[0] and "'cervix' was not restricted" in messages[0]
    assert Project.open(project.root).class_spec("cervix").roi_class is None

    window.tools.select_class("lesion")
    monkeypatch.setattr(region_flow, "ask_roi_class", lambda parent, cls, choices, current: region_flow.WHOLE_IMAGE)
    window.actions.restrict_class.trigger()
    assert Project.open(project.root).class_spec("lesion").roi_class is None
    assert _roi(window) is None and not window.train_panel.region_label.isVisible()
    assert window.tools.class_combo.currentText() == "2  lesion"
    monkeypatch.setattr(region_flow, "ask_roi_class", lambda parent, cls, choices, current: None)  # cancelled
    window.actions.restrict_class.trigger()
    assert Project.open(project.root).class_spec("lesion").roi_class is None


def test_a_changed_region_label_re_scores_the_class_inside_it(tmp_path, qtbot, messages):
    """A trial outlined the cervix anew on an image whose lesion was predicted: the canvas showed the new misses in
    blue but the list kept the lesion's Dice from the old region (0.93 where 0.39 was true), even on coming back."""
    from medseg_gui.core.lesions import per_image_metrics

    project = _project(tmp_path)
    project.set_roi_class("lesion", "cervix")
    stem = project.stems[0]
    lesion = disc(r=6)
    project.save_label("lesion", stem, lesion)
    prob = disc(r=6).astype(np.float32)
    prob[:, 60:] = 1.0  # a false positive outside the first cervix (r=15), inside the new one
    project.save_prediction("lesion", stem, prob)
    before = per_image_metrics(prob, lesion, disc(r=15), 0.5)
    project.save_metrics("lesion", {stem: before})
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    assert float(window.image_list.dice_text(stem, "lesion")) == 1.0
    window.tools.select_class("cervix")
    window.canvas.set_brush_size(30)
    with qtbot.waitSignal(window.metrics_refresher.updated, timeout=20_000,
                          check_params_cb=lambda run: run.cls == "lesion"):
        drag(qtbot, window.canvas, [(62, 20), (70, 20)])  # the cervix now reaches the false positive
    window.tools.select_class("lesion")
    assert float(window.image_list.dice_text(stem, "lesion")) < 0.9
    assert window.saver.flush(10)
    assert messages == []


def test_retrain_asks_before_training_a_class_over_images_without_its_region(tmp_path, qtbot, monkeypatch, messages):
    """A trial retrained the lesion before the cervix had a model: 6 of 12 photos were trained and predicted over
    the whole photo, with only a status-bar line for the photo on screen. Retrain now asks first, and says which of
    them would be trained so (those with a lesion label) and which only predicted so."""
    from medseg_gui.qt import dialogs

    project = _project(tmp_path)  # a cervix label on the first of three images, no cervix model
    project.set_roi_class("lesion", "cervix")
    project.save_label("lesion", project.stems[0], disc(r=5))
    project.save_label("lesion", project.stems[1], disc(r=5))  # no cervix label there
    questions: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: questions.append(text) or False)
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    window.actions.retrain.trigger()
    assert window.train_worker is None and len(questions) == 1
    assert "2 of 3 images have no 'cervix' label" in questions[0]
    assert (f"1 of them has a 'lesion' label ({project.stems[1]}): there 'lesion' would be trained and predicted "
            "over the whole image; on the other 1 it would only be predicted over the whole image.") in questions[0]
    for stem in project.stems[1:]:  # a cervix prediction wherever there is no cervix label: nothing to ask
        project.save_prediction("cervix", stem, disc(r=20).astype(np.float32))
    with qtbot.waitSignal(window.training_ended, timeout=180_000):
        window.actions.retrain.trigger()
        assert window.train_worker is not None
    assert len(questions) == 1


def test_a_stroke_beyond_the_region_is_kept_and_said_once(tmp_path, qtbot, messages):
    """A trial painted a lesion reaching beyond its cervix: kept and exported as drawn, ignored by training and
    scores there, without a word."""
    project = _project(tmp_path)
    project.set_roi_class("lesion", "cervix")
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    notices: list[str] = []
    window.canvas.notice.connect(notices.append)
    window.canvas.set_brush_size(3)
    drag(qtbot, window.canvas, [(28, 24), (32, 24)])  # inside the cervix (a disc of radius 15 at 30, 24)
    assert not any("outside the region" in n for n in notices)
    drag(qtbot, window.canvas, [(40, 24), (58, 24)])  # on past its edge
    assert sum("outside the region" in n for n in notices) == 1
    drag(qtbot, window.canvas, [(40, 30), (58, 30)])
    assert sum("outside the region" in n for n in notices) == 1  # once per image and class
    assert window.saver.flush(10) and project.load_label("lesion", project.stems[0])[24, 55]  # kept as drawn


def test_retrain_does_not_ask_when_no_image_without_its_region_has_a_label_to_train_on(tmp_path, qtbot, monkeypatch,
                                                                                       messages):
    """A verification trial was asked "would be trained and predicted over the whole image" of 12 images none of which
    had a lesion label: training is the same either way, so Retrain starts and its status line says where the lesion
    will be predicted unrestricted."""
    from medseg_gui.qt import dialogs

    project = _project(tmp_path)  # a cervix label on the first of three images, no cervix model
    project.set_roi_class("lesion", "cervix")
    project.save_label("lesion", project.stems[0], disc(r=5))  # inside the cervix
    questions, started = [], []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: questions.append(text) or False)
    window = open_window(qtbot, project)
    monkeypatch.setattr(window.train_panel, "run", lambda worker, host, on_done: started.append(worker.cls))
    window.tools.select_class("lesion")
    window.actions.retrain.trigger()
    assert questions == [] and started == ["lesion"]
    assert window.statusBar().currentMessage() == (
        "Training 'lesion'… 'lesion' is restricted to the 'cervix' region, but 2 of 3 images have no 'cervix' label "
        "and there is no 'cervix' model yet, so 'lesion' will be predicted over the whole image there (e.g. "
        f"{project.stems[1]}, {project.stems[2]}); none of them has a 'lesion' label, so training is not affected.")
    window.training.worker = None  # the run was never started


def test_undoing_the_region_class_s_step_moves_the_region_shown_for_the_class_inside(tmp_path, qtbot, messages):
    """A trial closed a cervix polygon while on lesion, then pressed Ctrl+Z: the cervix label was gone, but the
    canvas still darkened around it until the image changed."""
    project = _project(tmp_path)
    project.set_roi_class("lesion", "cervix")
    window = open_window(qtbot, project)
    window.tools.select_class("cervix")
    window.canvas.set_brush_size(5)
    drag(qtbot, window.canvas, [(50, 10), (55, 10)])
    window.tools.select_class("lesion")
    assert _roi(window)[10, 52]
    window.actions.undo.trigger()  # the cervix stroke, undone while the lesion is shown
    np.testing.assert_array_equal(_roi(window), disc(r=15))
    assert window.saver.flush(10)


def test_showing_a_label_largely_outside_its_region_says_so(tmp_path, qtbot, messages):
    """A weak cervix model's region took 64 % of a trial's polyp label; opening the image said nothing."""
    project = _project(tmp_path)
    project.set_roi_class("lesion", "cervix")
    project.save_label("lesion", project.stems[0], disc(cx=45, r=12))  # the cervix disc (r 15) is centred elsewhere
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    qtbot.waitUntil(lambda: "label lies outside the region (darkened)" in window.statusBar().currentMessage(),
                    timeout=5_000)


def test_no_to_training_without_the_region_gives_the_keys_back_to_the_canvas(tmp_path, qtbot, monkeypatch, messages):
    """The question's No left the keys on "Start from scratch" (Space would have ticked it), as Qt handed them on."""
    from PySide6.QtWidgets import QApplication

    from medseg_gui.qt import dialogs

    project = _project(tmp_path)  # a cervix label on the first of three images, no cervix model
    project.set_roi_class("lesion", "cervix")
    project.save_label("lesion", project.stems[1], disc(r=5))  # no cervix label there
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")

    def no(parent, title, text):
        window.train_panel.scratch_check.setFocus()  # where the keys were left when the box closed
        return False

    monkeypatch.setattr(dialogs, "ask_yes_no", no)
    window.actions.retrain.trigger()
    assert window.train_worker is None
    qtbot.waitUntil(window.canvas.hasFocus, timeout=2_000)
    assert QApplication.focusWidget() is window.canvas
