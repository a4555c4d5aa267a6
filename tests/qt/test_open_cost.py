"""Opening a folder costs the GUI thread one write of each cell of the list, not one per step of the fill: an outside
trial's window froze for 3 s (1,200 photos) as the list was filled and re-sorted again for the scores, the
uncertainty, the class, the ticks, the stale marks and the shares. Counted, not timed."""

from __future__ import annotations

from collections import Counter

import pytest

from medseg_gui.core.uncertainty import UncertaintyScores
from medseg_gui.qt.panels.image_columns import METRIC_COLS, UNCERTAINTY_COL
from medseg_gui.qt.panels.image_list import ImageListPanel
from tests.workers.helpers import make_project, open_window


@pytest.fixture
def writes(monkeypatch) -> Counter:
    """(stem, column) → how many times the list wrote that score cell."""
    counted: Counter = Counter()
    real = ImageListPanel._show_score

    def show_score(self, stem, col, *args, **kwargs):
        counted[(stem, col)] += 1
        return real(self, stem, col, *args, **kwargs)

    monkeypatch.setattr(ImageListPanel, "_show_score", show_score)
    return counted


SCORE_COLS = [*METRIC_COLS, UNCERTAINTY_COL]


def test_a_batch_writes_each_score_cell_once_at_its_end(qtbot, writes):
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    stems = ["a", "b", "c"]
    panel.set_images(stems, ["lesion"])
    writes.clear()
    with panel.batch():
        panel.set_current_class("lesion")
        panel.set_metrics("lesion", {"a": {"dice": 0.5, "auc": 0.9}})
        panel.set_uncertainty("lesion", UncertaintyScores({"b": 0.25}))
        panel.set_labelled({"a", "c"})
        panel.set_stale("lesion", {"a"})
        panel.set_threshold(0.5)
        assert not writes  # not yet
    assert writes == Counter({(stem, col): 1 for stem in stems for col in SCORE_COLS})
    assert panel.dice_text("a", "lesion") == "0.500" and panel.uncertainty_text("b") == "0.250"
    writes.clear()
    panel.set_unreadable_labels("lesion", {})  # the label files read again, none unreadable as before
    assert not writes


def test_opening_a_project_writes_each_score_cell_once(tmp_path, qtbot, messages, writes):
    project = make_project(tmp_path / "p", n=5, labelled=2)
    project.save_metrics("lesion", {stem: {"dice": 0.5, "iou": 0.3, "auc": 0.9} for stem in project.stems[:2]})
    window = open_window(qtbot)
    writes.clear()
    window.set_project(project)
    shown = window.image_list.current_stem()
    assert shown == project.stems[0]
    others = {key: n for key, n in writes.items() if key[0] != shown}  # the image shown: its live share too
    assert others == {(stem, col): 1 for stem in project.stems if stem != shown for col in SCORE_COLS}
    assert window.image_list.dice_text(project.stems[1], "lesion") == "0.500"
