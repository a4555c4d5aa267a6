"""ScanWorker opens folders off the GUI thread and reports unreadable images; load_view checks sizes."""

from __future__ import annotations

import numpy as np

from medseg_gui.core.errors import ImageReadError, MedsegError
from medseg_gui.core.file_end import ENDS_EARLY
from medseg_gui.core.image_view import load_view
from medseg_gui.core.images import write_png
from medseg_gui.core.lock import LOCK_FILE
from medseg_gui.core.project import Project
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message
from medseg_gui.workers.scan import ScanWorker
from tests.workers.helpers import H, W, disc, make_images, make_project


def _scan(qtbot, worker, signal="finished"):
    host = WorkerHost()
    with qtbot.waitSignal(getattr(worker, signal), timeout=20_000) as blocker:
        host.start(worker)
    host.shutdown()
    return blocker.args[0]


def test_scan_plain_folder_lists_empty_file_with_error(tmp_path, qtbot):
    folder = tmp_path / "photos"
    make_images(folder, 3)
    (folder / "broken.png").write_bytes(b"")
    result = _scan(qtbot, ScanWorker(folder))
    assert len(result.project.stems) == 4
    assert (folder / "project.json").is_file()
    assert set(result.errors) == {"broken"}
    assert "empty" in result.errors["broken"]


def test_scan_lists_a_cut_off_image_as_unreadable_at_once(tmp_path, qtbot):
    """Fault-injection trial: a truncated PNG (whole header, data cut off) looked fine until it was clicked."""
    folder = tmp_path / "photos"
    good = make_images(folder, 2)
    data = good[0].read_bytes()
    (folder / "trunc.png").write_bytes(data[: len(data) // 2])
    result = _scan(qtbot, ScanWorker(folder))
    assert set(result.errors) == {"trunc"}
    assert "ends early (truncated, or still being copied?)" in result.errors["trunc"]


def test_scan_existing_project(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    result = _scan(qtbot, ScanWorker(project.root))
    assert result.project.stems == project.stems
    assert result.errors == {}


def test_scan_folder_without_images_is_refused_untouched(tmp_path, qtbot):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    err = _scan(qtbot, ScanWorker(folder), "errored")
    assert isinstance(err, MedsegError) and "No images found" in error_message(err)
    assert not (folder / "project.json").exists()


def test_scan_of_a_missing_path_says_it_does_not_exist_and_of_a_file_that_it_is_not_a_folder(tmp_path, qtbot):
    """Outside trial: `medseg-gui /path/that/does/not/exist` said "it is not a folder"."""
    missing = tmp_path / "no such folder"
    err = _scan(qtbot, ScanWorker(missing), "errored")
    assert error_message(err) == f"Cannot open '{missing}': it does not exist."
    afile = tmp_path / "photo.png"
    afile.write_bytes(b"x")
    err = _scan(qtbot, ScanWorker(afile), "errored")
    assert error_message(err) == f"Cannot open '{afile}': it is not a folder."
    assert not missing.exists()


def test_scan_of_a_project_whose_project_json_is_a_folder_says_so(tmp_path, qtbot):
    """Trial of session 32: the window said "No images found" though images/ held the project's images."""
    project = make_project(tmp_path / "p", n=2)
    (project.root / "project.json").unlink()
    (project.root / "project.json").mkdir()
    err = _scan(qtbot, ScanWorker(project.root), "errored")
    assert "its project.json is a folder, not a file" in error_message(err)
    assert (project.root / "project.json").is_dir() and len(list((project.root / "images").iterdir())) == 2


def test_scan_prepare_callable(tmp_path, qtbot):
    project = make_project(tmp_path / "demo", n=1)
    result = _scan(qtbot, ScanWorker(prepare=lambda: project.root))
    assert result.project.root == project.root


def test_load_view_skips_mismatched_label_with_warning(tmp_path):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    stem = project.stems[1]
    write_png(project.label_path("lesion", stem), np.full((10, 12), 255, np.uint8))
    view = load_view(project, stem)
    assert view.rgb.shape == (H, W, 3)
    assert view.labels["lesion"] is None
    assert len(view.warnings) == 1 and "12×10" in view.warnings[0] and "64×48" in view.warnings[0]
    ok = load_view(project, project.stems[0])
    assert ok.labels["lesion"] is not None and ok.labels["lesion"].shape == (H, W) and not ok.warnings


def test_large_images_are_loaded_in_the_background_judged_by_their_header(tmp_path):
    from medseg_gui.core.image_view import FOREGROUND_MAX_PIXELS, loads_in_background

    big = write_png(tmp_path / "big.png", np.zeros((1500, FOREGROUND_MAX_PIXELS // 1500 + 1), np.uint8))
    small = write_png(tmp_path / "small.png", np.zeros((1500, FOREGROUND_MAX_PIXELS // 1500 - 1), np.uint8))
    assert loads_in_background(big) and not loads_in_background(small)
    assert big.stat().st_size < 100_000  # the header, not the file size, decided
    (tmp_path / "junk.png").write_bytes(b"not an image")
    assert not loads_in_background(tmp_path / "junk.png")  # tiny and unreadable: load at once, error at once
    assert not loads_in_background(tmp_path / "missing.png")


def test_view_loader_loads_and_prepares_off_the_gui_thread(tmp_path, qtbot):
    import threading

    from medseg_gui.workers.view_loader import LoadedView, load_prepared

    project = make_project(tmp_path / "p", n=2, labelled=1)
    threads = []

    def prepare(view):
        threads.append(threading.current_thread())
        return view.rgb.mean()

    result = _scan(qtbot, FunctionWorker(load_prepared, project, project.stems[0], prepare=prepare))
    assert isinstance(result, LoadedView)
    assert result.view.rgb.shape == (H, W, 3) and result.view.labels["lesion"] is not None
    assert result.prepared == result.view.rgb.mean()
    assert threads and threads[0] is not threading.main_thread()


def test_view_loader_reports_an_unreadable_image(tmp_path, qtbot):
    from medseg_gui.workers.view_loader import load_prepared

    project = make_project(tmp_path / "p", n=1)
    project.image_path(project.stems[0]).write_bytes(b"")
    err = _scan(qtbot, FunctionWorker(load_prepared, project, project.stems[0]), "errored")
    assert isinstance(err, ImageReadError) and "empty" in error_message(err)


def test_load_overlays_checks_sizes(tmp_path):
    from medseg_gui.core.image_view import load_overlays

    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    project.save_roi(stem, np.ones((H, W), bool))
    prob, roi, warnings = load_overlays(project, stem, "lesion", (H, W))
    assert prob is None and roi is not None and roi.all() and warnings == []
    write_png(project.roi_path(stem), np.full((10, 12), 255, np.uint8))
    _prob, roi, warnings = load_overlays(project, stem, "lesion", (H, W))
    assert roi is None and len(warnings) == 1


def test_scan_of_a_new_folder_says_which_files_it_left_out_as_masks(tmp_path, qtbot):
    """A new-user trial: the masks beside a clinic's photos were listed as images without a word; the window now
    says which files it left out (once, when the folder becomes a project) and how to import them."""
    folder = tmp_path / "clinic"
    make_images(folder, 2)
    for stem in ("img0", "img1"):
        write_png(folder / f"{stem}_mask.png", np.zeros((H, W), np.uint8))
    result = _scan(qtbot, ScanWorker(folder))
    assert result.project.stems == ["img0", "img1"]
    assert result.masks_beside == ("2 files beside their photos look like masks (img0_mask.png, img1_mask.png); they "
                                   "are not listed as images: File → Import masks… imports them")
    assert _scan(qtbot, ScanWorker(folder)).masks_beside == ""  # said when the project was made, not each time


def test_scan_of_a_new_folder_says_which_mask_beside_a_photo_it_cannot_read(tmp_path, qtbot):
    """Fault injection: a truncated img1_mask.png beside img1.png was listed as an image; it is left out as a mask
    (named as one), and the window says it cannot be read, with the reason."""
    folder = tmp_path / "clinic"
    make_images(folder, 2)
    write_png(folder / "img0_mask.png", np.zeros((H, W), np.uint8))
    write_png(folder / "img1_mask.png", np.zeros((H, W), np.uint8))
    (folder / "img1_mask.png").write_bytes((folder / "img1_mask.png").read_bytes()[:40])
    result = _scan(qtbot, ScanWorker(folder))
    assert result.project.stems == ["img0", "img1"] and result.errors == {}
    assert result.masks_beside == ("1 file beside its photo looks like a mask (img0_mask.png); it is not listed as an "
                                   "image: File → Import masks… imports it; 1 file is named like a photo's mask but "
                                   f"cannot be read, so not listed as an image either: Mask file 'img1_mask.png' "
                                   f"{ENDS_EARLY.rstrip('.')}")


def test_a_damaged_project_json_says_the_labels_are_untouched_and_what_moving_it_aside_does(tmp_path, qtbot):
    """Fault-injection trial: the dialog said project.json was damaged, not that the labels on disk were intact nor how
    to recover. What it says about moving the file aside is what happens when one does."""
    folder = tmp_path / "photos"
    make_images(folder, 3)
    _scan(qtbot, ScanWorker(folder)).lock.release()  # a folder project: the images lie in the folder itself
    project = Project.open(folder)
    project.add_class("cervix", (200, 80, 200))
    first = project.stems[0]
    for cls in ("lesion", "cervix"):
        project.save_label(cls, first, disc())
    labels = {p: p.read_bytes() for p in (folder / "labels").rglob("*.png")}
    (folder / "project.json").write_text('{"format": "medseg-project", "version": 1, "classes": [', encoding="utf-8")
    damaged = (folder / "project.json").read_bytes()
    message = error_message(_scan(qtbot, ScanWorker(folder), "errored"))
    assert "is damaged or unreadable" in message
    assert f"Nothing was changed: your labels and images in {folder} are untouched, and so is project.json" in message
    assert "or moved out of the folder: opening the folder then makes a new project of the images found" in message
    assert (folder / "project.json").read_bytes() == damaged
    assert {p: p.read_bytes() for p in (folder / "labels").rglob("*.png")} == labels
    assert not (folder / LOCK_FILE).exists()

    (folder / "project.json").rename(tmp_path / "project.json.damaged")  # as the dialog says
    result = _scan(qtbot, ScanWorker(folder))
    rebuilt = result.project
    assert rebuilt.stems == project.stems and rebuilt.class_names == ["lesion", "vessel"]
    assert rebuilt.labelled_stems("lesion") == [first]  # "with their 'lesion' and 'vessel' labels"
    rebuilt.add_class("cervix", (1, 2, 3))
    assert rebuilt.labelled_stems("cervix") == [first]  # "come back once a class of that name is added again"
    result.lock.release()


def test_moving_a_damaged_project_json_aside_is_not_advised_when_the_images_are_in_images(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2)
    (project.root / "project.json").write_text("{ not json", encoding="utf-8")
    message = error_message(_scan(qtbot, ScanWorker(project.root), "errored"))
    assert message.endswith(f"in {project.root} are untouched, and so is project.json. It can be fixed by hand in a "
                            "text editor.")


def test_opening_a_large_folder_sends_a_few_counts_and_always_the_last(tmp_path, qtbot):
    """Each probed photo queued one signal to the GUI thread (a folder of thousands flooded it): the count is
    throttled, and the last one (every photo probed) still arrives before the result."""
    folder = tmp_path / "photos"
    make_images(folder, 60)
    worker = ScanWorker(folder)
    counts: list = []
    worker.progress.connect(counts.append)
    result = _scan(qtbot, worker)
    assert len(result.project.stems) == 60
    assert 1 <= len(counts) < 60
    assert (counts[-1].done, counts[-1].total) == (60, 60)


def test_scan_of_a_new_folder_says_which_copies_of_a_photo_it_left_out(tmp_path, qtbot):
    """Fault injection: a byte copy of a photo named as its mask (copied to start a mask) was listed as an image;
    it is left out, and the window names it and its photo once, when the folder becomes a project."""
    import shutil

    folder = tmp_path / "clinic"
    make_images(folder, 2)
    shutil.copyfile(folder / "img0.png", folder / "img0_mask.png")
    result = _scan(qtbot, ScanWorker(folder))
    assert result.project.stems == ["img0", "img1"]
    assert result.masks_beside == ("1 file holds the bytes of the photo it is named after, so it is a copy of the "
                                   "photo, not a mask (img0_mask.png, of img0.png); it is not listed as an image")
    assert _scan(qtbot, ScanWorker(folder)).masks_beside == ""
