"""File → Import masks…: a folder of masks becomes a class's labels or the images' regions of interest, on a worker;
the window then lists and shows them; an image's own label is never replaced (a new-user trial with fundus photos
and their field-of-view masks found no way to bring either in from the window)."""

import numpy as np

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
    project.save_prediction("lesion", second, disc(r=5).astype(np.float32))
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    before = project.load_label("lesion", first)
    with qtbot.waitSignal(window.metrics_refresher.updated, timeout=30_000):  # scored like saved strokes
        with qtbot.waitSignal(window.project_loaded, timeout=30_000):  # shown again once imported
            assert window.import_masks() is not None
    qtbot.waitUntil(lambda: window.image_list.dice_text(second, "lesion") != "", timeout=10_000)
    assert float(window.image_list.dice_text(second, "lesion")) == 1.0
    assert messages[-1].startswith("Imported 2 'lesion' labels from ") and "1 image keeps its own" in messages[-1]
    np.testing.assert_array_equal(project.load_label("lesion", first), before)  # not replaced
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
