"""Project: folder format v1 round trip, plain-folder projects, size checks, atomic writes, thread use."""

import json
import math
import os
import threading

import cv2
import numpy as np
import pytest

from medseg_gui.core.errors import ImageReadError, LabelSizeError, ProjectError
from medseg_gui.core.file_end import ENDS_EARLY
from medseg_gui.core.images import write_png
from medseg_gui.core.project import DEFAULT_CLASSES, ClassSpec, Project

H, W = 16, 20


def _image(path, h=H, w=W, seed=0):
    img = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return img


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / "src"
    return {name: _image(folder / name, seed=i) for i, name in enumerate(["Image_01L.png", "Image_02R.bmp"])} | {
        "folder": folder
    }


def test_defaults():
    assert DEFAULT_CLASSES == (ClassSpec("lesion", (255, 215, 0)), ClassSpec("vessel", (0, 220, 110)))


def test_round_trip(tmp_path, src):
    root = tmp_path / "proj"
    p = Project.create(root)
    e1 = p.add_image(src["folder"] / "Image_01L.png")
    e2 = p.add_image(src["folder"] / "Image_02R.bmp")
    assert (e1.stem, e1.path) == ("Image_01L", "images/Image_01L.png")
    assert (root / "images" / "Image_02R.bmp").is_file()
    np.testing.assert_array_equal(p.load_image("Image_01L"), src["Image_01L.png"])
    assert p.image_size("Image_02R") == (H, W)

    label = np.zeros((H, W), bool)
    label[3:9, 4:12] = True
    roi = np.ones((H, W), np.uint8)
    roi[0] = 0
    prob = np.linspace(0, 1, H * W, dtype=np.float32).reshape(H, W)
    p.save_label("lesion", e1.stem, label)
    p.save_label("vessel", e2.stem, np.zeros((H, W), np.uint8))  # an empty label is still a label
    p.save_roi(e1.stem, roi)
    p.save_prediction("lesion", e1.stem, prob)
    p.save_metrics("lesion", {e1.stem: {"auc": 0.9, "dice": 0.5, "sensitivity": math.nan, "specificity": 1.0}})
    p.set_state(e1.stem, "reviewed", True)
    p.add_class("optic disc", (1, 2, 3))

    raw = cv2.imread(str(p.label_path("lesion", e1.stem)), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint8 and set(np.unique(raw)) == {0, 255}
    raw16 = cv2.imread(str(p.prediction_path("lesion", e1.stem)), cv2.IMREAD_UNCHANGED)
    assert raw16.dtype == np.uint16 and raw16.max() == 65535
    json.loads(p.metrics_path("lesion").read_text())  # standard JSON (NaN stored as null)

    q = Project.open(root)
    assert q.stems == ["Image_01L", "Image_02R"] and q.class_names == ["lesion", "vessel", "optic disc"]
    assert q.images[0].state == {"reviewed": True}
    np.testing.assert_array_equal(q.load_label("lesion", e1.stem), label)
    np.testing.assert_array_equal(q.load_roi(e1.stem), roi.astype(bool))
    assert q.load_roi(e2.stem) is None
    assert q.load_label("lesion", e2.stem) is None and not q.has_label("lesion", e2.stem)
    assert not q.load_label("vessel", e2.stem).any() and q.labelled_stems("vessel") == [e2.stem]
    back = q.load_prediction("lesion", e1.stem)
    assert back.dtype == np.float32 and np.abs(back - prob).max() <= 0.5 / 65535 + 1e-7
    assert q.load_prediction("vessel", e1.stem) is None
    metrics = q.load_metrics("lesion")
    assert metrics[e1.stem]["auc"] == 0.9 and math.isnan(metrics[e1.stem]["sensitivity"])
    assert q.load_metrics("vessel") == {}
    assert q.model_dir("vessel") == root.resolve() / "models" / "vessel"
    q.delete_label("vessel", e2.stem)
    assert q.labelled_stems("vessel") == []
    assert [p.name for p in root.rglob(".*")] == []


def test_add_image_name_clash_and_copy_false(tmp_path, src):
    p = Project.create(tmp_path / "proj")
    other = tmp_path / "other" / "Image_01L.jpg"
    _image(other)
    a = p.add_image(src["folder"] / "Image_01L.png")
    b = p.add_image(other, copy=False)
    assert (a.stem, b.stem) == ("Image_01L", "Image_01L.jpg")
    assert b.path == other.resolve().as_posix() and p.image_path(b.stem) == other.resolve()
    assert p.add_image(other, copy=False) == b  # adding the same file again is a no-op
    with pytest.raises(ImageReadError):
        p.add_image(tmp_path / "missing.png")


def test_plain_folder(tmp_path):
    folder = tmp_path / "fundus"
    _image(folder / "b.png")
    _image(folder / "a.jpg")
    _image(folder / "a.png")
    _image(folder / "A.tif")
    _image(folder / ".hidden.png")
    (folder / "notes.txt").write_text("x")
    (folder / "empty.png").write_bytes(b"")
    _image(folder / "sub" / "deep.png")
    p = Project.open_or_create_for_folder(folder)
    assert [(e.stem, e.path) for e in p.images] == [
        ("A", "A.tif"), ("a.jpg", "a.jpg"), ("a.png", "a.png"), ("b", "b.png"), ("empty", "empty.png")
    ]
    assert (folder / "project.json").is_file()
    with pytest.raises(ImageReadError, match="empty"):
        p.load_image("empty")
    with pytest.raises(ImageReadError, match="empty"):
        p.save_label("lesion", "empty", np.zeros((H, W), bool))
    p.save_label("lesion", "b", np.ones((H, W), bool))
    assert (folder / "labels" / "lesion" / "b.png").is_file()

    _image(folder / "c.png")
    q = Project.open_or_create_for_folder(folder)  # reopening picks up new images, keeps the old ones
    assert q.stems[-1] == "c" and q.stems[:-1] == p.stems
    assert q.refresh_images() == []
    _image(folder / "d.png")
    assert q.refresh_images() == ["d"]
    assert Project.open(folder).stems[-1] == "d"


def test_wrong_size_label(tmp_path):
    folder = tmp_path / "f"
    _image(folder / "Image_01.png", h=96, w=99)
    p = Project.open_or_create_for_folder(folder)
    with pytest.raises(LabelSizeError, match="Image_01 is 10×8 pixels but the image is 99×96"):
        p.save_label("vessel", "Image_01", np.zeros((8, 10), bool))
    assert not p.has_label("vessel", "Image_01")
    with pytest.raises(LabelSizeError):
        p.save_prediction("vessel", "Image_01", np.zeros((8, 10), np.float32))
    write_png(p.label_path("vessel", "Image_01"), np.zeros((8, 10), np.uint8))  # e.g. copied in by hand
    with pytest.raises(LabelSizeError, match="Image_01"):
        p.load_label("vessel", "Image_01")


def test_image_size_cache_follows_file_changes(tmp_path):
    folder = tmp_path / "f"
    _image(folder / "x.png", h=5, w=6)
    p = Project.open_or_create_for_folder(folder)
    assert p.image_size("x") == (5, 6)
    _image(folder / "x.png", h=7, w=9)
    os.utime(folder / "x.png", ns=(1, 1))
    assert p.image_size("x") == (7, 9)


def test_unknown_class_and_stem(tmp_path, src):
    p = Project.create(tmp_path / "proj")
    p.add_image(src["folder"] / "Image_01L.png")
    with pytest.raises(ProjectError, match="Unknown class 'tumour'"):
        p.load_label("tumour", "Image_01L")
    with pytest.raises(ProjectError, match="nope"):
        p.label_path("lesion", "nope")
    for bad in ("", "a/b", "Lesion"):
        with pytest.raises(ProjectError):
            p.add_class(bad, (0, 0, 0))


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "project.json is missing"),
        ("{not json", "damaged"),
        ('{"format": "something-else"}', "not a medseg project"),
        ('{"format": "medseg-project", "version": 7, "classes": [], "images": []}', "version 7"),
        ('{"format": "medseg-project", "version": 1, "classes": [], "images": [{"path": "x"}]}', "damaged"),
    ],
)
def test_open_errors(tmp_path, content, message):
    if content is not None:
        (tmp_path / "project.json").write_text(content)
    with pytest.raises(ProjectError, match=message):
        Project.open(tmp_path)


def test_create_refuses_existing_project(tmp_path):
    Project.create(tmp_path)
    with pytest.raises(ProjectError, match="already"):
        Project.create(tmp_path)


def test_failed_save_keeps_project_json(tmp_path, src, monkeypatch):
    p = Project.create(tmp_path / "proj")
    p.add_image(src["folder"] / "Image_01L.png")
    before = (tmp_path / "proj" / "project.json").read_text()
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(ProjectError, match="No space left"):
        p.set_state("Image_01L", "reviewed", True)
    assert (tmp_path / "proj" / "project.json").read_text() == before
    assert [x.name for x in (tmp_path / "proj").iterdir() if x.name.startswith(".")] == []


def test_parallel_label_writes_and_state(tmp_path):
    folder = tmp_path / "f"
    for i in range(6):
        _image(folder / f"im{i}.png", seed=i)
    p = Project.open_or_create_for_folder(folder)
    errors = []

    def work(stem):
        try:
            p.save_label("lesion", stem, np.ones((H, W), bool))
            p.set_state(stem, "reviewed", True)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in p.stems]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    q = Project.open(folder)
    assert q.labelled_stems("lesion") == q.stems and all(e.state["reviewed"] for e in q.images)


def test_damaged_prediction_and_metrics(tmp_path):
    folder = tmp_path / "f"
    _image(folder / "x.png")
    p = Project.open_or_create_for_folder(folder)
    p.prediction_path("vessel", "x").parent.mkdir(parents=True)
    p.prediction_path("vessel", "x").write_bytes(b"")
    with pytest.raises(ImageReadError, match="predict again"):
        p.load_prediction("vessel", "x")
    p.metrics_path("vessel").write_text("{broken")
    assert p.load_metrics("vessel") == {}


def test_format_module_is_re_exported():
    from medseg_gui.core import project, project_format

    for name in ("ClassSpec", "ImageEntry", "DEFAULT_CLASSES", "FORMAT", "VERSION", "PROJECT_FILE"):
        assert getattr(project, name) is getattr(project_format, name)


def test_unique_stem():
    from medseg_gui.core.project_format import unique_stem

    taken: set[str] = set()
    assert [unique_stem(n, taken) for n in ("a.jpg", "A.png", "a.png", "a.png")] == ["a", "A.png", "a.png~2", "a.png~3"]
    assert taken == {"a", "a.png", "a.png~2", "a.png~3"}


def test_unique_stem_makes_only_the_names_it_tries():
    """Opening a new folder asks once per photo: making all 10,000 numbered names each time (a list of them) cost a
    millisecond a photo, 1.4 s of a 1,200-photo folder's opening. What it allocates shows it, without timing it."""
    import tracemalloc

    from medseg_gui.core.project_format import unique_stem

    taken = {"b0001_photo"}
    tracemalloc.start()
    try:
        assert unique_stem("b0001_photo.png", taken) == "b0001_photo.png"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000  # a few names, not 10,000 of them (about 700 kB)


def test_create_and_add_class_validate(tmp_path):
    with pytest.raises(ProjectError, match="same name"):
        Project.create(tmp_path / "p", (ClassSpec("vessel", (1, 2, 3)), ClassSpec("Vessel", (1, 2, 3))))
    assert not (tmp_path / "p" / "project.json").exists()
    p = Project.create(tmp_path / "q")
    for bad in ((1, 2), (0, 0, 256), ("red", 0, 0), None):
        with pytest.raises(ProjectError, match="three values from 0 to 255"):
            p.add_class("disc", bad)
    assert p.add_class("disc", (1.0, 2, 3)) == ClassSpec("disc", (1, 2, 3))


def test_current_model_info_reads_current_json(tmp_path):
    project = Project.create(tmp_path / "p")
    assert project.current_model_info("lesion") is None
    folder = project.model_dir("lesion")
    folder.mkdir(parents=True)
    (folder / "current.json").write_text(json.dumps({"val_auc": 0.97, "preset": "default"}))
    assert project.current_model_info("lesion") == {"val_auc": 0.97, "preset": "default"}
    (folder / "current.json").write_text("{broken")
    assert project.current_model_info("lesion") is None
    (folder / "current.json").write_text("[1, 2]")
    assert project.current_model_info("lesion") is None


def _mask(path, h=H, w=W):
    """A 0/255 disc mask (JPEG-compressed when `path` says so, as a clinic's `_mask.jpg` files are)."""
    yy, xx = np.mgrid[:h, :w]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), (((yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= (h / 3) ** 2) * 255).astype(np.uint8))


def test_a_new_folder_project_leaves_out_the_masks_beside_their_photos(tmp_path, caplog):
    """A new-user trial: a clinic's folder holds `186OLCV1_100H0053.jpg` with `186OLCV1_100H0053_mask.jpg` and
    `cervix.jpg` with `cervix_lesion_mask.png`; opening it listed each mask as an image, without a word. A file named
    after another photo is left out only when it reads as a mask: `scan_2.jpg` beside `scan.jpg` is a second photo."""
    folder = tmp_path / "clinic"
    for i, name in enumerate(["186OLCV1_100H0053.jpg", "cervix.jpg", "scan.jpg", "scan_2.jpg", "lonely.jpg"]):
        _image(folder / name, seed=i)
    _mask(folder / "186OLCV1_100H0053_mask.jpg")
    _mask(folder / "cervix_lesion_mask.png")
    with caplog.at_level("WARNING"):
        p = Project.open_or_create_for_folder(folder)
    assert p.stems == ["186OLCV1_100H0053", "cervix", "lonely", "scan", "scan_2"]
    assert [m.name for m in p.unlisted_masks] == ["186OLCV1_100H0053_mask.jpg", "cervix_lesion_mask.png"]
    assert "2 file(s) in " in caplog.text and "read as masks (like 186OLCV1_100H0053_mask.jpg): not listed" in \
        caplog.text
    assert Project.open_or_create_for_folder(folder).stems == p.stems  # reopened: not added as new images


def test_a_damaged_file_named_as_a_photo_s_mask_is_not_listed_as_an_image(tmp_path):
    """Fault injection: a truncated s3_mask.png beside s3.png was listed as an image "s3_mask" (it did not read as a
    mask), and once listed it stays listed. Its name is all there is to go by: a mask, left out with the reason."""
    folder = tmp_path / "clinic"
    for i, name in enumerate(["s3.png", "scan.jpg", "scan_2.jpg"]):
        _image(folder / name, seed=i)
    _mask(folder / "s3_mask.png")
    (folder / "s3_mask.png").write_bytes((folder / "s3_mask.png").read_bytes()[:60])
    p = Project.open_or_create_for_folder(folder)
    assert p.stems == ["s3", "scan", "scan_2"]  # a photo named after another, readable, is a photo
    assert p.unlisted_masks == {folder.resolve() / "s3_mask.png": f"Mask file 's3_mask.png' {ENDS_EARLY.rstrip('.')}"}


def test_an_existing_folder_project_keeps_a_mask_it_listed(tmp_path):
    """Entries already in project.json stay (a project made before masks were told apart), new masks are left out."""
    folder = tmp_path / "old"
    _mask(folder / "a_mask.png")  # alone, it names no other image: listed
    assert Project.open_or_create_for_folder(folder).stems == ["a_mask"]
    _image(folder / "a.jpg")
    _mask(folder / "a_roi.png")
    p = Project.open_or_create_for_folder(folder)
    assert p.stems == ["a_mask", "a"] and [m.name for m in p.unlisted_masks] == ["a_roi.png"]


def test_a_byte_copy_of_a_photo_named_as_its_mask_is_not_listed_as_an_image(tmp_path, caplog):
    """Fault injection (session 46): a user "started a mask" by copying a.jpg to a_mask.jpg in a folder project's own
    folder; File → Import masks… set the copy aside as the photo, but reopening the folder listed it as a new image
    "a_mask" to label. A byte copy of the photo it is named after is no image to label: left out, and named."""
    import shutil

    from medseg_gui.core.mask_import import import_masks

    folder = tmp_path / "clinic"
    for i, name in enumerate(["a.jpg", "b.jpg", "c.png"]):
        _image(folder / name, seed=i)
    p = Project.open_or_create_for_folder(folder)
    shutil.copyfile(folder / "a.jpg", folder / "a_mask.jpg")
    shutil.copyfile(folder / "c.png", folder / "c-label.png")
    result = import_masks(p, folder, "lesion")
    assert result.imported == () and "a_mask.jpg" in result.summary(folder)
    with caplog.at_level("WARNING"):
        again = Project.open_or_create_for_folder(folder)
    assert again.stems == ["a", "b", "c"]
    root = folder.resolve()
    assert again.unlisted_copies == {root / "a_mask.jpg": root / "a.jpg", root / "c-label.png": root / "c.png"}
    assert "2 file(s) in " in caplog.text and "hold the bytes of the photo they are named after (like a_mask.jpg, " \
        "a copy of a.jpg): not listed as images" in caplog.text
    (folder / "project.json").unlink()
    assert Project.open_or_create_for_folder(folder).stems == ["a", "b", "c"]  # the folder made a project anew


def test_a_byte_copy_of_a_mask_beside_its_photo_is_a_mask_not_a_copy_of_the_photo(tmp_path, caplog):
    """Review: `a_mask_old.png`, a byte copy of the mask `a_mask.png`, was called a copy of the photo a_mask.png."""
    import logging
    import shutil

    from medseg_gui.core.image_listing import list_image_folder

    folder = tmp_path / "clinic"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_png(folder / "a.png", rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
    mask = np.zeros((40, 50), np.uint8)
    mask[10:20, 10:30] = 255
    write_png(folder / "a_mask.png", mask)
    shutil.copyfile(folder / "a_mask.png", folder / "a_mask_old.png")
    with caplog.at_level(logging.WARNING):
        listing = list_image_folder(folder, folder, (), (), beside=True)
    assert [p.name for p in listing.files] == ["a.png"]
    assert {p.name for p in listing.masks} == {"a_mask.png", "a_mask_old.png"} and not listing.copies
