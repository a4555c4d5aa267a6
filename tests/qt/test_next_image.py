"""What to label next, in the window: the Uncertainty column, 'Next image to label' (N and the list's button) and the
uncertainty layer (Y). Predictions and uncertainty.json are written directly, as predict_class would (that a Retrain
fills the column: tests/qt/test_main_window_training.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medseg_gui.core.uncertainty import UncertaintyScores, image_uncertainty
from tests.workers.helpers import H, W, disc, drag, make_project, open_window

CLS = "lesion"


def _confident() -> np.ndarray:
    return np.where(disc(), 0.97, 0.02).astype(np.float32)


def _project(root, sparse: bool = False):
    """5 images: 0 labelled (complete); 1 confident, 2 deliberately uncertain (p ≈ 0.5 over a wide band), 3 a little
    unsure, 4 not predicted. With `sparse`, 1–3 get labels too, 3 a sparse one."""
    project = make_project(root, n=5, labelled=1, cls=CLS)
    s = project.stems
    probs = {s[0]: _confident(), s[1]: _confident(), s[2]: _confident(), s[3]: _confident()}
    probs[s[2]][10:40, :] = 0.5
    probs[s[3]][:4, :4] = 0.3
    scores = {}
    for stem, prob in probs.items():
        project.save_prediction(CLS, stem, prob)
        scores[stem] = image_uncertainty(prob)
    project.save_uncertainty(CLS, UncertaintyScores(scores))
    if sparse:
        for stem in s[1:3]:
            project.save_label(CLS, stem, disc())
        annotated = np.zeros((H, W), bool)
        annotated[:12] = True
        project.save_label(CLS, s[3], disc(), annotated=annotated)
    return project, scores


def test_column_ranks_all_images_and_n_opens_the_uncertain_one(tmp_path, qtbot, messages):
    project, scores = _project(tmp_path / "p")
    s = project.stems
    window = open_window(qtbot, project)
    images = window.image_list
    assert "Unsure" in images.headers()
    for stem, score in scores.items():  # unlabelled images too; none for the image without a prediction
        assert images.uncertainty_text(stem) == f"{score:.3f}"
    assert images.uncertainty_text(s[4]) == ""
    assert scores[s[2]] > 0.9 > scores[s[3]] > scores[s[1]]

    assert images.current_stem() == s[0]
    qtbot.keyClick(window.canvas, Qt.Key.Key_N)
    assert images.current_stem() == s[2] and window.session.stem == s[2]
    # why it was chosen, still there once the image has loaded (its own line used to replace the reason at once)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(f"{s[2]} — "), timeout=10_000)
    line = window.statusBar().currentMessage()
    assert "· next to label: the model is least sure" in line and line.count(s[2]) == 1  # the name said once
    window.next_line.reason = ("big", "Next to label: big — why.")  # a big image: its line arrives after the reason
    for line in ("Loading big…", "big — 4000×3000"):
        window.session.status.emit(line)
    assert window.statusBar().currentMessage() == "big — 4000×3000 · next to label: why."

    qtbot.mouseClick(images.next_button, Qt.MouseButton.LeftButton)  # the button: the next one after it
    assert images.current_stem() == s[3]
    qtbot.mouseClick(images.next_button, Qt.MouseButton.LeftButton)
    assert images.current_stem() == s[2]  # the current image is never suggested again at once


def test_why_an_image_was_opened_goes_once_it_is_labelled(tmp_path, qtbot, messages):
    """A trial read 'next to label: it is not labelled and has no prediction yet' well after labelling the image."""
    project = make_project(tmp_path / "p", n=2, labelled=1, cls=CLS)
    window = open_window(qtbot, project)
    qtbot.keyClick(window.canvas, Qt.Key.Key_N)
    stem = project.stems[1]
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(f"{stem} — "), timeout=10_000)
    assert "· next to label: it is the only image without a label" in window.statusBar().currentMessage()
    drag(qtbot, window.canvas, [(10, 10), (20, 12)])
    assert "next to label" not in window.statusBar().currentMessage()


def test_next_opens_the_least_annotated_sparse_label_once_all_are_labelled(tmp_path, qtbot, messages):
    project, _ = _project(tmp_path / "p", sparse=True)
    s = project.stems
    project.save_label(CLS, s[4], disc())
    window = open_window(qtbot, project)
    # read in the background
    qtbot.waitUntil(lambda: "%" in window.image_list.labelled_column.text(s[3]), timeout=10_000)
    window.actions.next_to_label.trigger()
    assert window.image_list.current_stem() == s[3]
    assert "least annotated" in window.statusBar().currentMessage()
    window.actions.next_to_label.trigger()  # from the only sparse one: nothing else to label
    assert window.image_list.current_stem() == s[3]
    assert "nothing left to label" in window.statusBar().currentMessage()


def test_uncertainty_layer_is_off_at_first_and_magenta_where_unsure(qtbot, shown_canvas):
    canvas = shown_canvas(np.full((H, W, 3), 80, np.uint8), {CLS: (255, 215, 0)})
    prob = np.zeros((H, W), np.float32)
    prob[:, W // 2:] = 0.4  # unsure on the right (below the threshold: no contour there)
    canvas.set_prediction(CLS, prob, threshold=0.4)
    canvas.set_zoom(4.0)
    right, left = canvas.image_to_widget(W * 0.75, H / 2).toPoint(), canvas.image_to_widget(W * 0.25, H / 2).toPoint()
    assert not canvas.layer_visible("uncertainty")
    assert canvas.grab().toImage().pixelColor(right).getRgb()[:3] == (80, 80, 80)
    canvas.set_layer_visible("uncertainty", True)
    canvas.set_layer_opacity("uncertainty", 1.0)
    image = canvas.grab().toImage()
    assert image.pixelColor(right).getRgb()[:3] == (255, 0, 255)  # u = 1 at the threshold, opaque
    assert image.pixelColor(left).getRgb()[:3] == (80, 80, 80)  # p = 0: certain
    canvas.set_prediction(CLS, prob, threshold=0.8)  # p = 0.4 is half-way to 0.8: u = 0.5
    r, g, b = canvas.grab().toImage().pixelColor(right).getRgb()[:3]
    assert g == pytest.approx(40, abs=2) and r == b == pytest.approx(168, abs=2)


def test_y_toggles_the_layer_in_the_window(tmp_path, qtbot, messages):
    project, _ = _project(tmp_path / "p")
    window = open_window(qtbot, project)
    assert not window.layers.checks["uncertainty"].isChecked() and not window.canvas.layer_visible("uncertainty")
    qtbot.keyClick(window.canvas, Qt.Key.Key_Y)
    assert window.layers.checks["uncertainty"].isChecked() and window.canvas.layer_visible("uncertainty")


def test_uncertainty_column_sorts_numerically_blank_last(qtbot):
    from medseg_gui.qt.panels.image_list import UNCERTAINTY_COL, ImageListPanel

    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.set_images(["a", "b", "c", "d"], [CLS, "vessel"])
    panel.set_current_class(CLS)
    panel.set_uncertainty(CLS, UncertaintyScores({"a": 0.2, "b": 0.9, "d": 0.05}))
    panel.set_uncertainty("vessel", UncertaintyScores({"c": 0.7}))
    panel.table.sortByColumn(UNCERTAINTY_COL, Qt.SortOrder.DescendingOrder)
    assert panel.stems() == ["b", "a", "d", "c"]  # most uncertain first; no prediction last
    panel.set_current_class("vessel")
    assert panel.uncertainty_text("c") == "0.700" and panel.uncertainty_text("b") == ""
    assert panel.stems()[0] == "c"
