"""File → Import masks…: a folder of masks becomes a class's labels or the images' regions of interest, on a worker;
the window then lists and shows them; an image's own label is replaced only when the clinician says so, after a copy
of it is kept in the project (a new-user trial with fundus photos and their field-of-view masks found no way to bring
either in from the window; an ophthalmologist's expert masks could not replace a few sketched strokes)."""

import logging
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medseg_gui.core.errors import ImageReadError
from medseg_gui.core.file_end import ENDS_EARLY
from medseg_gui.core.images import write_png
from medseg_gui.core.mask_import import import_masks
from medseg_gui.qt import dialogs, import_flow
from tests.workers.helpers import disc, drag, make_project, open_window


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
    statuses = []
    window.importer.status.connect(statuses.append)
    with qtbot.waitSignal(window.metrics_refresher.updated, timeout=30_000):  # scored like saved strokes
        with qtbot.waitSignal(window.project_loaded, timeout=30_000):  # shown again once imported
            assert window.import_masks() is not None
    counted = [text for text in statuses if text.startswith("Importing masks ") and "/3: " in text]
    assert counted[0].startswith("Importing masks 1/3: ") and counted[-1].startswith("Importing masks 3/3: ")  # trial
    assert counted[0].endswith("… " + import_flow.PAUSED_NOTE)
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
    assert import_flow.MATCHING in messages[-1] and "label of the class" not in messages[-1]  # no news here (trial)
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


def _masks_folder(tmp_path, project, monkeypatch, replace: bool = False):
    """A folder of a disc mask for each image of `project` and a file that matches none, which the dialogs choose as
    the 'lesion' labels, replacing the images' own when `replace`."""
    folder = tmp_path / "masks"
    folder.mkdir()
    for stem in project.stems:
        write_png(folder / f"{stem}.png", disc(r=12).astype(np.uint8) * 255)
    write_png(folder / "unrelated.png", disc(r=12).astype(np.uint8) * 255)
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: "lesion")
    monkeypatch.setattr(import_flow, "ask_keep_or_replace", lambda parent, cls, stems: replace)
    return folder


def test_a_file_that_matches_no_image_is_logged_once(tmp_path, qtbot, monkeypatch, messages, caplog):
    """The folder was read twice for a class's masks (to ask keep or replace, then to import), so every file that
    matched no image was warned of twice in the log."""
    project = make_project(tmp_path / "p", n=2, labelled=1)
    _masks_folder(tmp_path, project, monkeypatch)
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    with caplog.at_level(logging.WARNING, logger="medseg_gui.core.mask_files"):
        with qtbot.waitSignal(window.project_loaded, timeout=30_000):
            window.import_masks()
    assert messages[-1].startswith("Imported 1 'lesion' label from ") and "1 file matches no image" in messages[-1]
    warned = [r.getMessage() for r in caplog.records if "match no image" in r.getMessage()]
    assert len(warned) == 1 and "unrelated.png" in warned[0], warned


def test_drawing_is_paused_while_masks_are_imported(tmp_path, qtbot, monkeypatch, messages, request):
    """A stroke painted while the import ran was autosaved over the mask it had just written for the image shown,
    and after the reopen that image's import was gone. Editing is off from the import's start until the project
    is shown again (or the import failed), then as it was; undo and the canvas' keys change nothing meanwhile."""
    project = make_project(tmp_path / "p", n=2)
    first = project.stems[0]
    _masks_folder(tmp_path, project, monkeypatch, replace=True)
    go, failing = threading.Event(), []
    request.addfinalizer(go.set)  # a failed assertion leaves no import waiting

    def held(*args, **kwargs):  # the import waits until the test has tried to draw
        assert go.wait(30)
        if failing:
            raise ImageReadError("the masks' disk went away")
        return import_masks(*args, **kwargs)

    monkeypatch.setattr(import_flow, "import_masks", held)
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    canvas, brush = window.canvas, window.tools.tool_buttons["brush"]
    paused_when_shown = []  # the reopen's scan after the import: a stroke then was saved over the import too
    window.project_loaded.connect(lambda: paused_when_shown.append(not brush.isEnabled()))
    qtbot.waitUntil(lambda: window.session.stem == first, timeout=10_000)
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [(5, 5), (15, 5)])  # a few strokes: a label to replace, a step to undo
    assert canvas.label("lesion").any() and window.actions.undo.isEnabled() and canvas.tool() == "brush"
    for fails in (False, True):
        go.clear()
        failing[:] = [True] if fails else []
        window.import_masks()
        qtbot.waitUntil(lambda: not brush.isEnabled(), timeout=10_000)
        assert "Drawing is paused until they are in" in window.statusBar().currentMessage()
        assert canvas.tool() == "pan" and not window.actions.undo.isEnabled() and not window.banner.isVisible()
        assert not window.actions.label_sparse.isEnabled() and not window.tools.accept_button.isEnabled()
        shown = canvas.label("lesion").copy()
        canvas.set_tool("brush")  # as its key B still does
        drag(qtbot, canvas, [(30, 40), (60, 40)])
        assert "Drawing is paused while masks are imported" in window.statusBar().currentMessage()
        canvas.set_tool("pan")  # the brush comes back with editing all the same
        qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        window.actions.undo.trigger()
        canvas.undo()
        np.testing.assert_array_equal(canvas.label("lesion"), shown)  # nothing drawn, nothing undone
        assert "masks are imported" in window.classes_locked()  # Edit → Classes… would rename what it writes into
        assert window.saver.flush(10) and not window.saver.has_pending()
        if fails:
            go.set()
            qtbot.waitUntil(lambda: "The masks were not imported" in window.last_error, timeout=10_000)
        else:
            with qtbot.waitSignal(window.project_loaded, timeout=30_000):
                go.set()
            np.testing.assert_array_equal(project.load_label("lesion", first), disc(r=12))  # the import's, kept
            assert paused_when_shown == [True]
        qtbot.waitUntil(brush.isEnabled, timeout=10_000)
        assert canvas.tool() == "brush" and window.actions.label_sparse.isEnabled() and canvas.editable
    qtbot.waitUntil(lambda: window.session.stem == first, timeout=10_000)
    np.testing.assert_array_equal(canvas.label("lesion"), disc(r=12))
    drag(qtbot, canvas, [(30, 40), (60, 40)])  # drawing again
    assert canvas.label("lesion")[40, 45] and window.actions.undo.isEnabled()


def test_the_chooser_starts_on_the_class_the_folder_is_named_after(tmp_path, qtbot, monkeypatch):
    """Outside trial (two-stage cervix → lesion): masks from lesion_masks were offered as "'cervix' labels", the
    class shown, and a hurried user imported lesions as cervix. The folder's (or its parent's) name picks the class
    when it names exactly one; the chooser says why."""
    from PySide6.QtWidgets import QInputDialog

    asked = []

    def get_item(parent, title, text, items, first, editable):
        asked.append((text, items[first]))
        return items[first], True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    classes, ask = ["cervix", "lesion"], import_flow.ask_import_target
    cases = [(tmp_path / "Lesion_masks", "lesion"), (tmp_path / "LESION" / "png", "lesion"),
             (tmp_path / "masks", "cervix"), (tmp_path / "cervix_and_lesion", "cervix"),
             (tmp_path / "cervix" / "lesion masks", "lesion")]
    for folder, expected in cases:
        assert ask(None, classes, import_flow.preselect(folder, classes, "cervix")) == expected, folder
    assert "'lesion' is chosen because the folder's name says so" in asked[0][0] and asked[0][1] == "'lesion' labels"
    assert "'cervix' is chosen because it is the class shown" in asked[2][0]
    assert import_flow.class_in_name(tmp_path / "cervix_and_lesion", classes) is None  # two: the class shown


def test_a_folder_named_for_fields_of_view_starts_the_chooser_on_regions_of_interest(tmp_path, monkeypatch):
    """Outside trial (HRF fundus photos): a folder named fov_masks was offered as "'vessel' labels" ("the folder's
    name names no class"), one OK from importing 8 solid discs as vessels. Words that say field of view or region of
    interest choose Regions of interest; "masks" alone, or a word that only begins alike (fovea), does not."""
    from PySide6.QtWidgets import QInputDialog

    asked = []

    def get_item(parent, title, text, items, first, editable):
        asked.append(text)
        return items[first], True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    classes, roi = ["lesion", "vessel"], import_flow.ROI_CHOICE
    cases = {"fov_masks": roi, "FOV": roi, "HRF-fov.v2": roi, "fovMasks": roi, "FOVmask": roi, "roi": roi,
             "Field_of_view": roi, "fields of view": roi, "regions-of-interest": roi, "FieldOfView": roi,
             "masks": "vessel", "lesion_masks": "lesion", "vessel_masks": "vessel", "fovea_masks": "vessel",
             "provisional": "vessel", "mask": "vessel", "HRF/fov/png": roi, "fov/lesion_masks": "lesion"}
    for name, expected in cases.items():
        chosen = import_flow.preselect(tmp_path / name, classes, "vessel")
        assert import_flow.ask_import_target(None, classes, chosen) == expected, name
    assert "Regions of interest are chosen because the folder's name says field of view" in asked[0]


def test_file_import_masks_offers_the_class_the_folder_is_named_after(tmp_path, qtbot, monkeypatch, messages):
    project = make_project(tmp_path / "p", n=1)  # classes lesion and vessel; lesion shown
    folder = tmp_path / "vessel_masks"
    folder.mkdir()
    offered = []
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, chosen: offered.append(chosen))
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    assert window.tools.current_class() == "lesion"
    assert window.import_masks() is None  # cancelled at the chooser
    assert [chosen.cls for chosen in offered] == ["vessel"]


def test_import_from_a_folder_project_names_a_damaged_mask_beside_its_photo(tmp_path, qtbot, monkeypatch, messages):
    """Fault injection: File → Import masks… from projF, whose truncated s3_mask.png beside s3.png it listed as an
    image, said "Imported 5" and nothing of that file; `medseg import` into a new project said why it was left out."""
    from tests.workers.helpers import folder_with_damaged_mask

    folder = tmp_path / "projF"
    project = folder_with_damaged_mask(folder, n=2)
    assert project.stems == ["img1_mask", "img0", "img1"]
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: "lesion")
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.import_masks()
    summary = messages[-1].split("\n\n")[0]
    assert summary.startswith("Imported 1 'lesion' label from ")
    assert summary.endswith(f"; 1 left out: img1_mask.png: Lesion label file 'img1_mask.png' {ENDS_EARLY}")


def test_the_summary_says_a_mask_of_a_photo_stored_turned_is_to_be_checked(tmp_path, qtbot, monkeypatch, messages):
    """Trial: the warning that a mask was taken as drawn on the upright photo of a 180° JPEG (or turned upright
    with a sideways one) was only in the log; the window's summary says it like the masks it leaves out."""
    from PIL import Image

    from tests.workers.helpers import H, W

    project = make_project(tmp_path / "p", n=1)
    exif = Image.Exif()
    exif[0x0112] = 3
    Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(tmp_path / "P09.jpg", exif=exif)
    project.add_image(tmp_path / "P09.jpg")
    folder = tmp_path / "masks"
    write_png(folder / "P09.png", disc(r=5))
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: "lesion")
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.import_masks()
    assert messages[-1].split("\n\n")[0].endswith(
        "; P09.jpg is stored turned (EXIF orientation 3, 180°): its mask P09.png was taken as drawn on the photo as "
        "shown; if it was drawn on the stored pixels, it is upside down - check it in the window.")


def test_images_found_unreadable_stay_marked_after_an_import_shows_the_project_again(tmp_path, qtbot, monkeypatch,
                                                                                      messages):
    """Fault-injection trial: after File → Import masks… the list's red marks went back to normal and its count of
    unreadable images fell from 3 to 1: the reopening forgot those found when clicked. A file repaired since is
    listed as readable again."""
    project = make_project(tmp_path / "p", n=4)
    empty, fine, damaged, cut = project.stems  # the first readable one is shown when the folder opens
    project.image_path(empty).write_bytes(b"")  # found when the folder opens
    whole = project.image_path(damaged).read_bytes()
    inside = bytearray(whole)
    inside[len(whole) // 2:len(whole) // 2 + 40] = bytes(40)  # header and end intact: found only when decoded
    project.image_path(damaged).write_bytes(bytes(inside))
    project.image_path(cut).write_bytes(bytes(inside))
    folder = tmp_path / "masks"
    folder.mkdir()
    write_png(folder / f"{fine}.png", disc(r=5).astype(np.uint8) * 255)
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: "lesion")
    window = open_window(qtbot, settings_file=tmp_path / "settings.ini")
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.open_folder(project.root)
    images = window.image_list
    assert {s for s in images.stems() if images.error(s)} == {empty}
    for stem in (damaged, cut):
        window.image_list.select(stem)
        qtbot.waitUntil(lambda s=stem: window.image_list.error(s) is not None, timeout=10_000)
    assert "3 of 4 images cannot be read" in window.image_list.unreadable_note.text()
    project.image_path(cut).write_bytes(whole)  # copied again meanwhile
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        assert window.import_masks() is not None
    assert {s for s in images.stems() if images.error(s)} == {empty, damaged}
    assert "not a readable image" in window.image_list.error(damaged)
    assert "2 of 4 images cannot be read" in window.image_list.unreadable_note.text()
    row = window.image_list._items[damaged].row()
    assert window.image_list.table.item(row, 1).text() == "⚠ image unreadable"
    assert project.has_label("lesion", fine)


def test_import_from_the_photo_folder_reads_the_masks_beside_the_photos(tmp_path, qtbot, monkeypatch, messages):
    """Outside CLI trial (File → Import masks… shares its matching): from the folder the project's photos came from,
    holding `x_mask.png` beside `x.png`, each photo was taken as its own mask and refused; the masks are imported."""
    project = make_project(tmp_path / "p", n=2)
    folder = tmp_path / "p_src"  # make_project's photos
    for stem in project.stems:
        write_png(folder / f"{stem}_mask.png", disc(r=12).astype(np.uint8) * 255)
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: "lesion")
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    with qtbot.waitSignal(window.project_loaded, timeout=30_000):
        window.import_masks()
    summary = messages[-1].split("\n\n")[0]
    assert summary.startswith("Imported 2 'lesion' labels from ") and "left out" not in summary
    assert "2 files are the images' own photos (img0.png, img1.png), not their masks" in summary
    assert all(np.array_equal(project.load_label("lesion", s), disc(r=12)) for s in project.stems)


def test_the_summary_comes_once_the_list_ticks_the_imported_labels(tmp_path, qtbot, monkeypatch):
    """A trial read "Import finished: Imported 40…" 3 s before the ticks, over a list still "0/600 labelled"."""
    project = make_project(tmp_path / "p", n=3)
    folder = tmp_path / "masks"
    folder.mkdir()
    for stem in project.stems:
        write_png(folder / f"{stem}.png", disc(r=5).astype(np.uint8) * 255)
    monkeypatch.setattr(dialogs, "choose_directory", lambda parent, title, start=None, new=False: folder)
    monkeypatch.setattr(import_flow, "ask_import_target", lambda parent, classes, current: "lesion")
    window = open_window(qtbot, project, settings_file=tmp_path / "settings.ini")
    seen = []
    monkeypatch.setattr(dialogs, "show_message", lambda parent, title, text, **kw: seen.append(
        (title, set(window.image_list.labelled_shares()))))
    window.import_masks()
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen == [("Import finished", set(project.stems))]
