"""The status bar's count of labelled images (a trial preparing a 300-photo study found no total anywhere)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from medseg_gui.qt.panels.list_count import ListCount, count_text
from tests.workers.helpers import drag, make_project, open_window


def test_count_text():
    assert count_text(254, 300, "lesion") == ("254/300 labelled",
                                              "Images with a 'lesion' label (complete or strokes): 254 of 300")
    assert count_text(0, 0, "lesion") == ("", "") and count_text(3, 5, "") == ("", "")


def test_the_status_bar_counts_labelled_images_as_they_are_drawn(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=3, labelled=1)
    window = open_window(qtbot, project)
    count = window.statusBar().findChild(ListCount)
    assert isinstance(count, QLabel)
    qtbot.waitUntil(lambda: count.text() == "1/3 labelled", timeout=10_000)
    window.image_list.select(project.stems[2])
    qtbot.waitUntil(lambda: window.session.stem == project.stems[2], timeout=10_000)
    drag(qtbot, window.canvas, [(10, 10), (30, 12)])
    qtbot.waitUntil(lambda: count.text() == "2/3 labelled", timeout=10_000)
    window.tools.select_class("vessel")
    said = "Images with a 'vessel' label (complete or strokes): 0 of 3"
    qtbot.waitUntil(lambda: count.toolTip() == said, timeout=10_000)
