"""K on a sparse label (outside trial, 3504x2336 fundus photos: K turned 0.1 % of traced vessels, the model predicting
10 %, into a complete label at once, recorded as confirmed, with no "✓ ?" and no question)."""

from __future__ import annotations

import numpy as np

from medseg_gui.core.label_status import CONFIRMED_KEY, marked
from medseg_gui.qt import dialogs
from medseg_gui.qt.panels.image_list import LABELLED_COL
from tests.workers.helpers import H, W, disc, make_project, open_window


def _window_on_a_sparse_sliver(tmp_path, qtbot, predicted_r: int):
    """A window on a sparse lesion label (a disc of radius 2, a ring of annotated background) beside a prediction of
    a disc of `predicted_r`."""
    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    annotated = disc(r=6)
    project.save_label("lesion", stem, disc(r=2), annotated=annotated)
    project.save_prediction("lesion", stem, np.where(disc(r=predicted_r), 0.9, 0.05).astype(np.float32))
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.session.stem == stem and window.canvas.is_sparse("lesion"))
    qtbot.waitUntil(lambda: "lesion" in window.session.review.probs)
    return project, stem, window, annotated


def test_k_asks_before_a_sparse_label_the_doubt_rule_would_doubt_becomes_complete(tmp_path, qtbot, monkeypatch):
    project, stem, window, annotated = _window_on_a_sparse_sliver(tmp_path, qtbot, predicted_r=14)
    questions, answers = [], [False, True]
    monkeypatch.setattr(dialogs, "ask_yes_no",
                        lambda parent, title, text: questions.append(text) or answers.pop(0))
    window.actions.label_sparse.trigger()  # K, answered No
    assert len(questions) == 1 and "predicts" in questions[0] and "becomes background" in questions[0]
    assert window.canvas.is_sparse("lesion") and np.array_equal(window.canvas.annotated("lesion"), annotated)
    assert "stays sparse" in window.statusBar().currentMessage()
    assert marked(project, CONFIRMED_KEY, "lesion") == set()
    window.actions.label_sparse.trigger()  # K again, answered Yes: complete, as confirmed as Shift+K
    assert len(questions) == 2 and not window.canvas.is_sparse("lesion")
    assert marked(project, CONFIRMED_KEY, "lesion") == {stem}
    assert window.saver.flush(10) and project.load_label_pixels("lesion", stem).annotated is None


def test_k_makes_an_undoubted_sparse_label_complete_without_confirming_it(tmp_path, qtbot, monkeypatch):
    project, stem, window, _ = _window_on_a_sparse_sliver(tmp_path, qtbot, predicted_r=2)
    questions = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: questions.append(text) or True)
    window.actions.label_sparse.trigger()  # K: nothing to doubt, no question
    assert not questions and not window.canvas.is_sparse("lesion")
    assert marked(project, CONFIRMED_KEY, "lesion") == set()
    prob = np.where(disc(r=14), 0.9, 0.05).astype(np.float32)  # a later model predicts far more
    assert (H, W) == prob.shape
    window.canvas.set_prediction("lesion", prob)  # (the review state says so: the live check runs)
    item = window.image_list.table.item(window.image_list.stems().index(stem), LABELLED_COL)
    assert item.text().startswith("✓ ?")  # K recorded no confirmation that would silence the doubt
