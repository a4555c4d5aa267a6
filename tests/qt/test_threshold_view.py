"""Scores of an edited label (qt.threshold_view): greyed in the image list as soon as the label is saved, re-scored in
the background, then shown in plain text again; a label saved while a training runs is re-scored once it has ended.
An outside trial added a polygon and read the old Dice 0.51 / IoU 0.34 in plain text for about 5 s (true: 0.37)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from medseg_gui.qt.panels.image_columns import DICE_COL, EDITED_TIP, IOU_COL, STALE_COLOR
from medseg_gui.workers.training import rescore_class
from tests.workers.helpers import disc, drag, make_project, open_window


def scored_project(tmp_path):
    """Two labelled images and one not, each with a saved prediction (the disc) and scores at threshold 0.5."""
    project = make_project(tmp_path / "p", n=3, labelled=2)
    for stem in project.stems:
        project.save_prediction("lesion", stem, disc(cx=20).astype(np.float32) * 0.8)
    rescore_class(project.root, "lesion", 0.5)
    return project


def greyed(panel, stem: str) -> bool:
    """Are the Dice and IoU cells of `stem` grey, their tooltips saying the label changed?"""
    row = panel.stems().index(stem)
    items = [panel.table.item(row, col) for col in (DICE_COL, IOU_COL)]
    grey = [item.foreground().color() == STALE_COLOR and EDITED_TIP in item.toolTip() for item in items]
    assert grey[0] == grey[1]
    return grey[0]


def test_an_edited_label_greys_its_scores_until_they_are_recomputed(tmp_path, qtbot, messages):
    project = scored_project(tmp_path)
    window = open_window(qtbot, project)
    panel, stem = window.image_list, project.stems[1]  # its label: a disc beside the predicted one
    window.image_list.select(stem)
    old = panel.table.item(panel.stems().index(stem), DICE_COL).text()
    assert not greyed(panel, stem)
    window.canvas.set_brush_size(9)
    with qtbot.waitSignal(window.saver.saved, timeout=10_000):
        drag(qtbot, window.canvas, [(14, 24), (22, 24), (30, 24)])  # paints over the prediction: Dice goes up
    assert greyed(panel, stem) and panel.table.item(panel.stems().index(stem), DICE_COL).text() == old
    assert not greyed(panel, project.stems[0])
    with qtbot.waitSignal(window.metrics_refresher.updated, timeout=20_000):
        pass
    assert not greyed(panel, stem)
    saved = project.load_metrics("lesion")[stem]["dice"]
    assert float(panel.dice_text(stem, "lesion")) == pytest.approx(saved, abs=5e-4) and f"{saved:.2f}" != old


def test_a_label_saved_while_training_is_re_scored_once_it_ends(tmp_path, qtbot, messages):
    """A label saved while a training ran was never re-scored: its old score stayed (a trial read 0.25 for 20 s)."""
    project = scored_project(tmp_path)
    window = open_window(qtbot, project)
    panel, stem = window.image_list, project.stems[0]
    updated = []
    window.metrics_refresher.updated.connect(updated.append)
    window.ask_on_close = False  # a failed assertion leaves the stand-in training "running": closing must not ask
    window.train_worker = SimpleNamespace(cls="lesion")  # a training runs: metrics.json is its to write
    project.save_label("lesion", stem, disc(cx=50))
    window.saver.saved.emit("lesion", stem, True)
    assert greyed(panel, stem)
    qtbot.wait(1_500)
    assert updated == [] and greyed(panel, stem)
    window.train_worker = None  # it ended
    qtbot.waitUntil(lambda: bool(updated), timeout=20_000)
    assert not greyed(panel, stem) and float(panel.dice_text(stem, "lesion")) == pytest.approx(0.0)
