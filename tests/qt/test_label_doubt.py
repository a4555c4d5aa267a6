"""The live check of the complete label on screen (qt.label_status_flow): a prediction drawing the labelled lesion
fatter does not doubt it, an unpainted lesion it shows does (core.label_status.left_out)."""

from __future__ import annotations

import numpy as np

from medseg_gui.qt.panels.image_list import LABELLED_COL
from tests.workers.helpers import drag, make_project, open_window


def test_a_weak_models_fatter_lesion_leaves_the_label_unflagged_an_unpainted_one_flags_it(tmp_path, qtbot):
    """Trial: a model of val Dice 0.55 predicted about 4x a correct complete lesion label, around it: "✓ ?"."""
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot, project)
    canvas, stem = window.canvas, window.session.stem
    window.tools.mode_combo.setCurrentIndex(window.tools.mode_combo.findData("complete"))
    canvas.set_brush_size(8)
    drag(qtbot, canvas, [(20, 20), (24, 20)])  # the lesion, outlined whole
    assert canvas.doc.roi is None and window.label_status.check("lesion") is None  # the count path
    ys, xs = np.nonzero(canvas.label_view("lesion"))
    prob = np.zeros(canvas.doc.shape, np.float32)
    prob[ys.min() - 4:ys.max() + 5, xs.min() - 4:xs.max() + 5] = 0.9  # the same lesion, drawn fatter
    canvas.set_prediction("lesion", prob)
    assert canvas.doc.area("lesion") < 0.3 * int((prob >= 0.5).sum())  # the counts alone doubted it
    item = window.image_list.table.item(window.image_list.stems().index(stem), LABELLED_COL)
    assert window.label_status.check("lesion") is None and not item.text().startswith("✓ ?")
    unpainted = prob.copy()
    unpainted[4:14, 44:60] = 0.9  # a second lesion nobody painted
    canvas.set_prediction("lesion", unpainted)
    assert "predicts" in (window.label_status.check("lesion") or "") and item.text().startswith("✓ ?")


def test_the_prediction_is_put_on_the_grid_once_per_map_and_threshold(tmp_path, qtbot, monkeypatch):
    """Review: while the counts doubt a label (a lesion being painted) every stroke judged the prediction afresh on
    the GUI thread; its grid and components are made once per map and threshold, only the label is looked at again."""
    import cv2

    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot, project)
    canvas = window.canvas
    window.tools.mode_combo.setCurrentIndex(window.tools.mode_combo.findData("complete"))
    canvas.set_brush_size(8)
    drag(qtbot, canvas, [(20, 20), (24, 20)])
    judged = []
    components = cv2.connectedComponents
    monkeypatch.setattr(cv2, "connectedComponents", lambda *a, **k: judged.append(1) or components(*a, **k))
    prob = np.zeros(canvas.doc.shape, np.float32)
    prob[4:40, 4:60] = 0.9  # a lesion far bigger than what is painted of it so far: the counts doubt the label
    canvas.set_prediction("lesion", prob)
    why, before = window.label_status.check("lesion"), len(judged)
    assert "predicts" in why and before >= 1
    for _ in range(3):
        assert window.label_status.check("lesion") == why
    assert len(judged) == before  # the prediction's grid and components as made for the first check
    window.session.review.set_threshold(0.95)  # another threshold: another grid (nothing predicted at it)
    assert window.label_status.check("lesion") is None and len(judged) == before + 1
