"""Stepping through a large folder (PgDown): the window's own work per step does not grow with the number of images,
and a held PgDown loads only the image it stops on, not every image passed (outside trial, 600 photos: 140 ms of the
GUI thread a step, 195 ms with 1200; a held key froze the window for 9-26 s and took 5 GB)."""

from __future__ import annotations

import threading
from collections import Counter

from medseg_gui.core import image_view
from medseg_gui.core.project_folder import ProjectFolder
from medseg_gui.qt.panels.image_columns import ImageTable
from medseg_gui.qt.panels.labelled_cell import LabelMarks
from medseg_gui.qt.panels.image_list import ImageListPanel
from tests.workers.helpers import make_project, open_window


def _counting(monkeypatch, counts: Counter) -> None:
    """Count what grows with the images: those handed out by the project's image list (`images`, `stems`) and by the
    list's stems in order, the Labelled cells worked out, and the batches of cell edits (one re-sort and column fit
    each: every row measured)."""
    def counted(name, fn):
        def call(*args, **kwargs):
            result = fn(*args, **kwargs)
            counts[name] += len(result) if isinstance(result, (tuple, list)) else 1
            return result
        return call

    for name in ("images", "stems"):
        monkeypatch.setattr(ProjectFolder, name, property(counted(f"project.{name}",
                                                                  getattr(ProjectFolder, name).fget)))
    for cls, name in ((ImageListPanel, "stems"), (LabelMarks, "cell")):
        monkeypatch.setattr(cls, name, counted(f"{cls.__name__}.{name}", getattr(cls, name)))
    frozen = ImageTable.frozen

    def counted_frozen(self, *args, **kwargs):
        if not self.frozen_depth:
            counts.update(["re-sort and fit"])
        return frozen(self, *args, **kwargs)

    monkeypatch.setattr(ImageTable, "frozen", counted_frozen)


def _work_per_step(tmp_path, qtbot, monkeypatch, n: int) -> Counter:
    project = make_project(tmp_path / f"p{n}", n=n, labelled=3)
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.session.stem == project.stems[0] and not window.workers.is_busy(), timeout=10_000)
    counts: Counter = Counter()
    stems = project.stems

    def step(i: int) -> None:
        window.actions.next_image.trigger()
        qtbot.waitUntil(lambda: window.session.stem == stems[i], timeout=10_000)
        qtbot.wait(20)  # the row left behind takes its sorted place after the step (RowOrder.make_current)

    step(1)  # the first image's row takes the place its label's share, read meanwhile, gives it
    with monkeypatch.context() as patch:
        _counting(patch, counts)
        for i in range(2, 7):  # a labelled image, then unlabelled ones
            step(i)
    window.close()
    return counts


def test_a_step_does_the_same_work_with_four_times_the_images(tmp_path, qtbot, monkeypatch, messages):
    few, many = (_work_per_step(tmp_path, qtbot, monkeypatch, n) for n in (8, 32))
    assert many["re-sort and fit"] == 0  # nothing in the list changed: no row is measured or sorted again
    assert many == few  # nothing else passes over every image either


def test_a_held_page_down_loads_only_the_image_it_stops_on(tmp_path, qtbot, monkeypatch, messages):
    """Each step asks the load under way to stop and replaces the one waiting: one load runs at a time, and the
    images passed meanwhile are never read."""
    monkeypatch.setattr(image_view, "FOREGROUND_MAX_PIXELS", 0)  # every image loads in the background
    project = make_project(tmp_path / "p", n=12)
    window = open_window(qtbot, project)
    qtbot.waitUntil(lambda: window.session.stem == project.stems[0], timeout=10_000)
    gate, read, load = threading.Event(), [], project.load_image
    monkeypatch.setattr(window.session.project, "load_image",
                        lambda stem: (read.append(stem), gate.wait(10), load(stem))[2])  # a slow disk
    for _ in range(8):  # key repeat
        window.actions.next_image.trigger()
        qtbot.wait(5)
    loads = [w for w in window.workers.running() if w.objectName() == "load_prepared"]
    assert len(loads) == 1 and read == [project.stems[1]]  # the first step's load, under way; no other started
    gate.set()
    qtbot.waitUntil(lambda: window.session.stem == project.stems[8], timeout=10_000)
    assert read == [project.stems[1], project.stems[8]]  # the images passed were never read
    qtbot.wait(100)
    assert window.session.stem == project.stems[8] and window.canvas_area.message_shown() is None
