"""core.mask_files: which mask is which image's (a photo's whole file name too), and masks of photos stored turned
(EXIF): taken as shown, turned upright where only the stored orientation fits, and said so where both fit."""

import io
import logging

import numpy as np
import pytest
import tifffile
from PIL import Image

from medseg_gui.core.export import export_pngs
from medseg_gui.core.images import apply_orientation, header_orientation, write_png
from medseg_gui.core.importers import import_dataset
from medseg_gui.core.mask_files import read_fitted
from medseg_gui.core.mask_import import import_masks
from medseg_gui.core.project import Project

H, W = 24, 32  # not square: a quarter turn changes the shape


def _photo(h=H, w=W, seed=0):
    return np.random.default_rng(seed).integers(20, 200, (h, w, 3), dtype=np.uint8)


def _jpeg(path, arr, orientation):
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(arr).save(path, "JPEG", exif=exif, quality=95)
    return path


def _mask(h=H, w=W):
    """Not symmetric: turned or flipped, it differs."""
    m = np.zeros((h, w), bool)
    m[2:8, 3:12] = True
    return m


def _stem_of(project, name):
    return next(stem for stem in project.stems if project.image_path(stem).name == name)


@pytest.mark.parametrize("orientation, shape, how, lies", [
    (3, (H, W), "180°", "upside down"), (6, (H, H), "90°", "sideways"), (2, (H, W), "mirrored", "mirrored")])
def test_a_mask_that_fits_the_photo_both_ways_is_taken_as_shown_with_a_warning(tmp_path, caplog, orientation, shape,
                                                                                 how, lies):
    """Trial: P09.jpg (EXIF 180°) and a square photo stored sideways had masks drawn on the stored pixels; they were
    imported as drawn on the upright photo without a word (Dice 0.02). Both fit: taken as shown, and said so."""
    h, w = shape
    photo = _jpeg(tmp_path / "src" / "P09.jpg", _photo(h, w), orientation)
    write_png(tmp_path / "masks" / "P09.png", _mask(h, w))
    with caplog.at_level(logging.WARNING):
        p = import_dataset(tmp_path / "src", tmp_path / "proj", "folder", cls="lesion", masks=tmp_path / "masks")
    np.testing.assert_array_equal(p.load_label("lesion", "P09"), _mask(h, w))  # as given, not turned
    note = (f"P09.jpg is stored turned (EXIF orientation {orientation}, {how}): its mask P09.png was taken as drawn "
            f"on the photo as shown; if it was drawn on the stored pixels, it is {lies} - check it in the window")
    assert note in caplog.text
    assert read_fitted(tmp_path / "masks" / "P09.png", "lesion label", photo, shape, True).turned == note


def test_a_mask_that_fits_one_way_only_or_an_upright_photo_says_nothing(tmp_path, caplog):
    _jpeg(tmp_path / "side.jpg", _photo(), 6)  # shown W x H
    _jpeg(tmp_path / "up.jpg", _photo(), 1)
    write_png(tmp_path / "shown.png", _mask(W, H))
    write_png(tmp_path / "m.png", _mask())
    with caplog.at_level(logging.WARNING):
        side = read_fitted(tmp_path / "shown.png", "lesion label", tmp_path / "side.jpg", (W, H), True)
        up = read_fitted(tmp_path / "m.png", "lesion label", tmp_path / "up.jpg", (H, W), True)
    assert side.turned == up.turned == "" and not caplog.text
    np.testing.assert_array_equal(side.pixels.mask, _mask(W, H))


def test_a_tiff_stored_sideways_has_its_mask_turned_upright_like_a_jpeg(tmp_path, caplog):
    """Trial: a TIFF with EXIF orientation 6 was shown upright, but its mask drawn on the stored pixels was refused
    as mis-sized ("it is 640×480 pixels, the image 480×640"): the import read no orientation from a TIFF."""
    buf = io.BytesIO()
    tifffile.imwrite(buf, _photo(), photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "cam.tif").write_bytes(buf.getvalue())
    assert header_orientation(tmp_path / "src" / "cam.tif") == 6
    write_png(tmp_path / "masks" / "cam.png", _mask())  # drawn on the stored H x W pixels
    with caplog.at_level(logging.WARNING):
        p = import_dataset(tmp_path / "src", tmp_path / "proj", "folder", cls="lesion", masks=tmp_path / "masks")
    assert p.image_size("cam") == (W, H)
    np.testing.assert_array_equal(p.load_label("lesion", "cam"), apply_orientation(_mask(), 6))
    assert "cam.png fits cam.tif only as stored before the photo's EXIF rotation: turned upright" in caplog.text


def test_the_apps_own_export_of_two_photos_of_one_name_imports_back(tmp_path, caplog):
    """Trial: gray8.jpg and gray8.png, exported as gray8.png and gray8.png.png; importing that export refused both
    as "could be either's", and File → Import masks… gave gray8.jpg's mask to gray8.png."""
    src = tmp_path / "src"
    write_png(src / "gray8.png", _photo(seed=1))
    Image.fromarray(_photo(seed=2)).save(src / "gray8.jpg", quality=95)
    first, second = _mask(), np.roll(_mask(), 9, axis=1)
    write_png(tmp_path / "masks" / "gray8.png.png", first)  # gray8.png's: named by its whole file name
    write_png(tmp_path / "masks" / "gray8_mask.png", second)  # so this one is gray8.jpg's
    with caplog.at_level(logging.WARNING):
        p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=tmp_path / "masks")
    assert "either's" not in caplog.text
    np.testing.assert_array_equal(p.load_label("lesion", _stem_of(p, "gray8.png")), first)
    np.testing.assert_array_equal(p.load_label("lesion", _stem_of(p, "gray8.jpg")), second)
    export_pngs(p, ["lesion"], tmp_path / "export", source="labels")
    assert sorted(f.name for f in (tmp_path / "export").glob("*.png")) == ["gray8.png", "gray8.png.png"]
    for name in ("again", "opened"):  # a new project from the export, and the export into a project without labels
        if name == "again":
            q = import_dataset(src, tmp_path / name, "folder", cls="lesion", masks=tmp_path / "export")
        else:
            q = import_dataset(src, tmp_path / name, "folder", cls="lesion")
            result = import_masks(q, tmp_path / "export", "lesion")
            assert len(result.imported) == 2 and not result.failed and not result.unmatched
        for image in ("gray8.png", "gray8.jpg"):
            np.testing.assert_array_equal(q.load_label("lesion", _stem_of(q, image)),
                                          p.load_label("lesion", _stem_of(p, image)))


def test_a_mask_two_photos_of_one_name_could_own_is_left_out_by_name(tmp_path):
    """The window's import gave it to one of them (whichever the project listed last); now neither, said why."""
    src = tmp_path / "src"
    write_png(src / "scan.png", _photo(seed=1))
    Image.fromarray(_photo(seed=2)).save(src / "scan.jpg", quality=95)
    p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion")
    write_png(tmp_path / "masks" / "scan_mask.png", _mask())
    result = import_masks(Project.open(p.root), tmp_path / "masks", "lesion")
    assert result.imported == () and result.unmatched == 0
    assert result.failed == ("scan_mask.png: scan.jpg and scan.png share the name 'scan', so it could be either's "
                             "(rename one)",)
    assert "1 left out: scan_mask.png: scan.jpg and scan.png share the name 'scan'" in result.summary(tmp_path)
