"""File → Import masks…: a folder of masks becomes a class's labels or the images' regions of interest, on a worker;
the window then lists and shows them; an image's own label is replaced only when the clinician says so, after a copy
of it is kept in the project (a new-user trial with fundus photos and their field-of-view masks found no way to bring
either in from the window; an ophthalmologist's expert masks could not replace a few sketched strokes)."""

import numpy as np
import pytest

from medseg_gui.core.images import write_png
from medseg_gui.qt import dialogs, import_flow
from tests.workers.helpers import disc, make_project, open_window


def test_import_masks_as_labels_then_as_regions_of_interest(tmp_path, qtbot, monkeypatch, messages):
    project = make_project(tmp_path / "p", n=3, labelled=1)
    first, second, third = project.stems
    folder = tmp_path / "masks"
    folder.mkdir()
    for stem in project.stems:
        write_png(folder / f"{stem}_manual.png", disc(r=5).astype(np.uint8) * 255)
    fov = tmp_path / "fov"
    fov.mkdir()
    write_png(fov / f"{third}.png", disc(r=22).astype(np.uint8) * 255)
    folders, targets, starts = [folder, fov], ["lesion", import_flow.ROI_CHOICE], []
    monkeypatch.setattr(dialogs, "choose_directory",
                        lambda parent, title, start=None, new=False: starts.append(start) or folders.pop(0))
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: targets.pop(0))
    asked = []
    monkeypatch.setattr(import_flow, "ask_keep_or_replace", lambda parent, cls, stems: asked.append(stems) or False)
    project.save_prediction("lesion", second, disc(r=5).astype(np.float32))
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    before = project.load_label("lesion", first)
    with qtbot.waitSignal(window.metrics_refresher.updated, timeout=30_000):  # scored like saved strokes
        with qtbot.waitSignal(window.project_loaded, timeout=30_000):  # shown again once imported
            assert window.import_masks() is not None
    qtbot.waitUntil(lambda: window.image_list.dice_text(second, "lesion") != "", timeout=10_000)
    assert float(window.image_list.dice_text(second, "lesion")) == 1.0
    assert messages[-1].startswith("Imported 2 'lesion' labels from ") and "1 image keeps its own" in messages[-1]
    np.testing.assert_array_equal(project.load_label("lesion", first), before)  # kept, as chosen
    assert asked == [(first,)]
    assert window.image_list.labelled_shares().keys() >= {first, second, third}
    window.image_list.select(third)
    qtbot.waitUntil(lambda: window.session.stem == third, timeout=10_000)
    assert window.canvas.label("lesion").sum() == disc(r=5).sum()
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.import_masks()
    assert messages[-1].startswith("Imported 1 region of interest from ")
    assert starts == [project.root.parent, folder]  # then where the last masks came from (trial, session 37)
    window.image_list.select(third)
    qtbot.waitUntil(lambda: window.session.stem == third and window.canvas.doc.roi is not None, timeout=10_000)
    np.testing.assert_array_equal(window.canvas.doc.roi.astype(bool), disc(r=22))


def test_import_asks_before_replacing_labels_and_keeps_a_copy_of_each(tmp_path, qtbot, monkeypatch, messages):
    """An ophthalmologist's trial: six expert masks imported none ("6 images keep their own 'vessel' label"), and only
    erasing by hand could make way for them. Now the import asks: keep (the default) or replace, a copy kept."""
    from medseg_gui.core.project_format import REPLACED_LABELS

    project = make_project(tmp_path / "p", n=3, labelled=2)
    first, second, third = project.stems
    sketches = {stem: project.label_path("lesion", stem).read_bytes() for stem in (first, second)}
    folder = tmp_path / "expert"
    folder.mkdir()
    for stem in project.stems:
        write_png(folder / f"{stem}.png", disc(r=12).astype(np.uint8) * 255)
    answers, asked = [None, True], []
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: "lesion")
    monkeypatch.setattr(import_flow, "ask_keep_or_replace",
                        lambda parent, cls, stems: asked.append((cls, stems)) or answers.pop(0))
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    window.import_masks()  # Cancel: nothing imported
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10_000)
    assert asked == [("lesion", (first, second))] and not project.has_label("lesion", third)
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.import_masks()  # Replace them
    backup = next((project.root / REPLACED_LABELS).iterdir()) / "lesion"
    assert {p.name: p.read_bytes() for p in backup.iterdir()} == {f"{s}.png": b for s, b in sketches.items()}
    assert all(np.array_equal(project.load_label("lesion", s), disc(r=12)) for s in project.stems)
    assert messages[-1].startswith("Imported 3 'lesion' labels from ")
    assert f"2 of them replaced images' own 'lesion' labels ({first}, {second}), first copied to {backup}" in \
        messages[-1]
    window.image_list.select(first)
    qtbot.waitUntil(lambda: window.session.stem == first, timeout=10_000)
    assert window.canvas.label("lesion").sum() == disc(r=12).sum()  # the expert's, not the sketch
    assert window.image_list.stems() == project.stems  # the copies are not listed as images


@pytest.mark.parametrize("key, answer", [("Return", False), ("Escape", None)])
def test_the_question_keeps_the_labels_by_default(qtbot, key, answer):
    """Enter keeps the labels (as before the question existed); Esc cancels the import."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    texts = []

    def press() -> None:
        box = QApplication.activeModalWidget()
        texts.append(box.text())
        qtbot.keyClick(box, getattr(Qt.Key, f"Key_{key}"))

    QTimer.singleShot(50, press)
    assert import_flow.ask_keep_or_replace(None, "vessel", ("a", "b", "c", "d")) is answer
    assert texts[0].startswith("4 of the images these masks belong to already have a 'vessel' label (a, b, c, …)")
