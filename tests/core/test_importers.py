"""Dataset importers: DRIVE, CHASE_DB1, STARE and plain-folder layouts built as tiny synthetic folders."""

import logging
import os
import stat

import cv2
import imageio.v3 as iio
import numpy as np
import pytest

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.importers import LAYOUTS, import_dataset
from medseg_gui.core.label_status import CONFIRMED_KEY, marked
from medseg_gui.core.project import Project

H, W = 20, 24


def _rgb(seed):
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _mask(seed):
    return np.random.default_rng(100 + seed).random((H, W)) > 0.6


def _write(path, arr):
    """Write `arr` (uint8 RGB image or bool mask as 0/255) in the format of `path`'s suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = arr.astype(np.uint8) * 255 if arr.dtype == bool else arr
    if path.suffix == ".ppm" and data.ndim == 2:  # STARE labels are 3-channel PPMs
        data = np.repeat(data[:, :, None], 3, axis=2)
    iio.imwrite(path, data)
    return arr


def _check(project, stem, image=None, label=None, roi=None, cls="vessel"):
    """The stored image/label/ROI of `stem` equal the source arrays (None: absent; image=None: size only)."""
    loaded = project.load_image(stem)
    assert loaded.shape == (H, W, 3) and project.image_size(stem) == (H, W)
    if image is not None:
        np.testing.assert_array_equal(loaded, image)
    if label is None:
        assert not project.has_label(cls, stem)
    else:
        raw = cv2.imread(str(project.label_path(cls, stem)), cv2.IMREAD_UNCHANGED)
        assert raw.shape == (H, W) and set(np.unique(raw)) <= {0, 255}
        np.testing.assert_array_equal(project.load_label(cls, stem), label)
    if roi is None:
        assert project.load_roi(stem) is None
    else:
        np.testing.assert_array_equal(project.load_roi(stem), roi)


@pytest.fixture
def drive(tmp_path):
    src = tmp_path / "DRIVE"
    arrays = {}
    for i, (split, stem) in enumerate([("training", "21_training"), ("test", "01_test"), ("test", "02_test")]):
        base = src / split
        arrays[stem] = {"image": _write(base / "images" / f"{stem}.tif", _rgb(i))}
        if stem != "02_test":  # 02_test has neither label nor FOV mask
            number = stem.split("_")[0]
            arrays[stem]["label"] = _write(base / "1st_manual" / f"{number}_manual1.gif", _mask(i))
            arrays[stem]["roi"] = _write(base / "mask" / f"{stem}_mask.gif", _mask(i + 10))
    return src, arrays


def test_drive(tmp_path, drive):
    src, arrays = drive
    p = import_dataset(src, tmp_path / "proj", "drive")
    assert p.stems == ["21_training", "01_test", "02_test"]
    assert [p.entry(s).state["split"] for s in p.stems] == ["training", "test", "test"]
    assert p.labelled_stems("vessel") == ["21_training", "01_test"] and p.class_names == ["vessel"]
    for stem, a in arrays.items():
        _check(p, stem, a["image"], a.get("label"), a.get("roi"))
    assert (tmp_path / "proj" / "images" / "21_training.tif").is_file()
    q = Project.open(tmp_path / "proj")  # everything was saved
    assert q.stems == p.stems and q.entry("01_test").state == {"reviewed": False, "split": "test",
                                                             "complete": ["vessel"]}  # a whole mask: confirmed


def test_chase_ignores_label_and_mask_files_as_images(tmp_path):
    src = tmp_path / "CHASEDB1"
    img1 = _write(src / "Image_01L.jpg", _rgb(1))
    label = _write(src / "Image_01L_1stHO.png", _mask(1))
    _write(src / "Image_01L_2ndHO.png", _mask(2))
    roi = _write(src / "Image_01L_mask.png", _mask(3))
    _write(src / "Image_02R.jpg", _rgb(2))  # no label, no mask
    _write(src / "notes_1stHO.png", _mask(4))
    p = import_dataset(src, tmp_path / "proj", "chase")
    assert p.stems == ["Image_01L", "Image_02R"]
    assert img1.shape == (H, W, 3)  # JPEG is lossy: sizes only
    _check(p, "Image_01L", label=label, roi=roi)
    _check(p, "Image_02R")
    assert sorted(x.name for x in (tmp_path / "proj" / "images").iterdir()) == ["Image_01L.jpg", "Image_02R.jpg"]


def test_stare_with_optional_masks(tmp_path):
    src = tmp_path / "STARE"
    img1 = _write(src / "images" / "im0001.ppm", _rgb(1))
    img2 = _write(src / "images" / "im0002.ppm", _rgb(2))
    label = _write(src / "1st_manual" / "im0001.ah.ppm", _mask(1))
    _write(src / "1st_manual" / "im0001.vk.ppm", _mask(9))  # the second observer is not used
    roi = _write(src / "mask" / "im0002.png", _mask(2))
    p = import_dataset(src, tmp_path / "proj", "stare", cls="retina")
    assert p.stems == ["im0001", "im0002"] and p.class_names == ["retina"]  # the imported class alone
    _check(p, "im0001", img1, label, None, cls="retina")
    _check(p, "im0002", img2, None, roi, cls="retina")


def test_plain_folder_with_masks(tmp_path):
    src, masks = tmp_path / "imgs", tmp_path / "masks"
    a = _write(src / "a.png", _rgb(1))
    b = _write(src / "b.bmp", _rgb(2))
    c = _write(src / "c[1].png", _rgb(3))  # glob metacharacters in a name
    _write(src / "d.tif", _rgb(4))
    (src / "readme.txt").write_text("not an image")
    la = _write(masks / "a.png", _mask(1))
    lb = _write(masks / "b_mask.png", _mask(2))
    lc = _write(masks / "c[1]_seg.png", _mask(3))
    (masks / "d.txt").write_text("not a mask")
    p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    assert p.stems == ["a", "b", "c[1]", "d"]
    _check(p, "a", a, la, cls="lesion")
    _check(p, "b", b, lb, cls="lesion")
    _check(p, "c[1]", c, lc, cls="lesion")
    _check(p, "d", label=None, cls="lesion")
    assert p.class_names == ["lesion"] and p.class_spec("lesion").color == (255, 215, 0)  # the default's colour


def test_plain_folder_with_regions_of_interest(tmp_path, capsys):
    """CLI trial, session 34: fundus photos imported as a plain folder had no way to bring their fields of view."""
    from medseg_gui import cli

    src, masks, fov = tmp_path / "imgs", tmp_path / "masks", tmp_path / "fov"
    a, b = _write(src / "01_dr.png", _rgb(1)), _write(src / "02_g.png", _rgb(2))
    la, lb = _write(masks / "01_dr.png", _mask(1)), _write(masks / "02_g.png", _mask(2))
    ra = _write(fov / "01_dr_mask.png", _mask(11))  # 02_g has no field of view
    p = import_dataset(src, tmp_path / "proj", "folder", masks=masks, roi=fov)
    _check(p, "01_dr", a, la, ra)
    _check(p, "02_g", b, lb, None)
    for wrong in (src, masks):
        with pytest.raises(ProjectError, match="give the regions of interest"):
            import_dataset(src, tmp_path / "other", "folder", masks=masks, roi=wrong)
    with pytest.raises(ProjectError, match="--roi is for --layout folder"):
        import_dataset(src, tmp_path / "other", "drive", roi=fov)
    assert not (tmp_path / "other").exists()
    assert cli.main(["import", str(src), str(tmp_path / "cli"), "--layout", "folder", "--masks", str(masks),
                     "--roi", str(fov)]) == 0
    assert "(2 with 'vessel' labels, 1 with a region of interest)" in capsys.readouterr().out


def test_plain_folder_without_masks(tmp_path):
    src = tmp_path / "imgs"
    _write(src / "x.png", _rgb(1))
    p = import_dataset(str(src), str(tmp_path / "proj"), "folder")
    assert p.stems == ["x"] and p.labelled_stems("vessel") == []


def test_unreadable_files_are_warned_about_not_fatal(tmp_path, drive, caplog):
    src, arrays = drive
    (src / "training" / "1st_manual" / "21_manual1.gif").write_bytes(b"GIF89a broken")
    _write(src / "test" / "1st_manual" / "01_manual1.gif", np.zeros((H + 1, W), bool))  # wrong size
    (src / "test" / "images" / "03_test.tif").write_bytes(b"")  # unreadable image: skipped
    with caplog.at_level(logging.WARNING, logger="medseg_gui.core.importers"):
        p = import_dataset(src, tmp_path / "proj", "drive")
    assert p.stems == ["21_training", "01_test", "02_test"]
    assert p.labelled_stems("vessel") == []
    _check(p, "21_training", arrays["21_training"]["image"], None, arrays["21_training"]["roi"])  # ROI still there
    _check(p, "01_test", arrays["01_test"]["image"], None, arrays["01_test"]["roi"])
    text = caplog.text
    assert "21_manual1.gif" in text and "01_test.tif imported without its label" in text
    assert "03_test.tif" in text and "empty" in text


def test_a_truncated_jpeg_is_skipped_with_a_warning_naming_it(tmp_path, caplog):
    """Its header reads as a whole photo's; only decoding finds the missing data (new-user trial)."""
    import cv2

    src = tmp_path / "imgs"
    src.mkdir()
    photo = np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8)
    data = cv2.imencode(".jpg", photo)[1].tobytes()
    (src / "whole.jpg").write_bytes(data)
    (src / "cut.jpg").write_bytes(data[:600])
    with caplog.at_level(logging.WARNING, logger="medseg_gui.core.importers"):
        p = import_dataset(src, tmp_path / "proj", "folder")
    assert p.stems == ["whole"]
    assert "cut.jpg: Image file 'cut.jpg' is not a readable image" in caplog.text


def test_a_large_cut_off_png_is_skipped_by_its_end_without_decoding(tmp_path, caplog, monkeypatch):
    """Images above DECODE_CHECK_PIXELS are checked by header only; a cut-off one is told by its last bytes (the
    window's open-time check: one rule)."""
    import cv2

    from medseg_gui.core import importers

    monkeypatch.setattr(importers, "DECODE_CHECK_PIXELS", 0)
    src = tmp_path / "imgs"
    src.mkdir()
    data = cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8))[1].tobytes()
    (src / "whole.png").write_bytes(data)
    (src / "cut.png").write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="medseg_gui.core.importers"):
        p = import_dataset(src, tmp_path / "proj", "folder")
    assert p.stems == ["whole"]
    assert "cut.png: Image file 'cut.png' ends early (truncated, or still being copied?)" in caplog.text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_empty_source_is_a_clear_error(tmp_path, layout):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match=f"No images found .* '{layout}' layout"):
        import_dataset(tmp_path / "empty", tmp_path / "proj", layout)
    assert not (tmp_path / "proj").exists()


def test_bad_arguments_are_clear_errors(tmp_path, drive):
    src, _ = drive
    with pytest.raises(ProjectError, match="is not a folder"):
        import_dataset(tmp_path / "nowhere", tmp_path / "proj", "drive")
    with pytest.raises(ProjectError, match="Unknown layout 'hrf'.*drive, chase, stare, folder"):
        import_dataset(src, tmp_path / "proj", "hrf")
    with pytest.raises(ProjectError, match="masks folder"):
        import_dataset(src / "training" / "images", tmp_path / "proj", "folder", masks=tmp_path / "nowhere")
    with pytest.raises(ProjectError, match="class name"):
        import_dataset(src, tmp_path / "proj", "drive", cls="a/b")
    assert not (tmp_path / "proj" / "project.json").exists()  # nothing was half-created


def test_existing_project_is_not_overwritten(tmp_path, drive):
    src, _ = drive
    Project.create(tmp_path / "proj")
    before = (tmp_path / "proj" / "project.json").read_text()
    with pytest.raises(ProjectError, match="already holds a project"):
        import_dataset(src, tmp_path / "proj", "drive")
    assert (tmp_path / "proj" / "project.json").read_text() == before
    assert not (tmp_path / "proj" / "images").exists()


def test_the_command_it_suggests_quotes_a_path_with_spaces(tmp_path, drive):
    """A data scientist pasted the suggested command for `projects/polyp lésion`: the shell split the path."""
    src, _ = drive
    Project.create(tmp_path / "polyp lésion")
    with pytest.raises(ProjectError) as err:
        import_dataset(src, tmp_path / "polyp lésion", "drive")
    assert f"medseg import '{tmp_path / 'polyp lésion'}' --masks DIR" in str(err.value)


def test_a_0_128_mask_is_a_partial_label_and_the_import_says_so(tmp_path, caplog):
    """0/128 is this program's partial label (background strokes only); another tool's 0/128 mask marks its object
    with 128, so the import names the file and says how to fix it instead of importing an empty label silently."""
    src, masks = tmp_path / "imgs", tmp_path / "masks"
    _write(src / "a.png", _rgb(1))
    _write(src / "b.png", _rgb(2))
    half = (_mask(1) * 128).astype(np.uint8)
    _write(masks / "a.png", half)
    _write(masks / "b.png", _mask(2))
    with caplog.at_level(logging.WARNING):
        p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "a.png" in warned[0] and "0/255" in warned[0]
    mask, annotated = p.load_label_pixels("lesion", "a")
    assert not mask.any() and np.array_equal(annotated, half == 0)  # as read: 128 = not annotated
    assert marked(p, CONFIRMED_KEY, "lesion") == {"b"}  # the whole mask only: never doubted beside a prediction


def test_the_project_folder_gets_the_mode_of_a_plain_mkdir(tmp_path):
    """Imports stage in a mkdtemp folder (0700): the project must not stay unreadable to colleagues."""
    src = tmp_path / "imgs"
    _write(src / "x.png", _rgb(1))
    umask = os.umask(0o022)
    os.umask(umask)
    p = import_dataset(src, tmp_path / "proj", "folder")
    assert stat.S_IMODE(p.root.stat().st_mode) == 0o777 & ~umask
    empty = tmp_path / "empty"
    empty.mkdir()
    empty.chmod(0o750)
    import_dataset(src, empty, "folder")
    assert stat.S_IMODE(empty.stat().st_mode) == 0o750  # an existing empty folder keeps its mode
