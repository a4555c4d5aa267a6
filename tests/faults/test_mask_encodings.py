"""Issue 13 #1/#12: masks not stored as 0/255 were read as empty (and then imported as labelled, shown empty and
overwritten); label maps and partial 0/128/255 labels must never be read as one complete class."""

import io
import logging

import cv2
import numpy as np
import pytest
from PIL import Image

from medseg_gui.core.errors import ImageReadError, LabelReadError, MaskFormatError, ProjectError
from medseg_gui.core.images import read_label, read_mask
from medseg_gui.core.importers import import_dataset
from medseg_gui.core.project import Project
from tests.qt.conftest import messages  # noqa: F401 (fixture)

H, W = 24, 32


def _truth():
    m = np.zeros((H, W), bool)
    m[5:15, 8:20] = True
    m[18, 2:6] = True
    return m


def _write_float(path, arr):
    assert cv2.imwrite(str(path), arr)
    return path


def _png(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), arr)
    return path


@pytest.mark.parametrize(
    "name, encode",
    [
        ("0_100.png", lambda m: m.astype(np.uint8) * 100),
        ("0_127.png", lambda m: m.astype(np.uint8) * 127),
        ("0_1.png", lambda m: m.astype(np.uint8)),
        ("16bit_0_255.png", lambda m: m.astype(np.uint16) * 255),
        ("16bit_0_1.png", lambda m: m.astype(np.uint16)),
        ("bgr_dark.png", lambda m: np.where(m[:, :, None], np.uint8([40, 0, 0]), np.uint8([0, 0, 0]))),
        ("inverse_grey.png", lambda m: np.where(m, 90, 30).astype(np.uint8)),  # two values, neither 0
    ],
)
def test_two_valued_masks_keep_their_foreground(tmp_path, name, encode):
    truth = _truth()
    path = _png(tmp_path / name, encode(truth))
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert raw.max() < (128 if raw.dtype == np.uint8 else 32768)  # the old half-range rule read each as empty
    np.testing.assert_array_equal(read_mask(path), truth)
    assert read_label(path).annotated is None


def test_dark_palette_png(tmp_path):
    truth = _truth()
    pal = Image.fromarray(truth.astype(np.uint8), mode="P")
    pal.putpalette([0, 0, 0, 70, 0, 20] + [0] * 762)
    pal.save(tmp_path / "pal.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "pal.png"), truth)


def test_jpeg_soft_masks_use_the_half_way_rule(tmp_path):
    truth = np.zeros((64, 64), bool)
    truth[10:40, 20:50] = True
    for level in (255, 100):  # a PolypGen-like 0/255 JPEG, and a dark 0/100 one
        path = tmp_path / f"soft{level}.jpg"
        ok, buf = cv2.imencode(".jpg", truth.astype(np.uint8) * level, [cv2.IMWRITE_JPEG_QUALITY, 75])
        path.write_bytes(buf.tobytes())
        raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert len(np.unique(raw)) > 3  # compression spread the values
        got = read_mask(path)
        assert (got != truth).sum() <= 0.01 * truth.size, level
    soft = np.array([[0, 1, 127, 128, 200, 255]], np.uint8)  # an anti-aliased edge: the usual >= 128
    np.testing.assert_array_equal(read_mask(_png(tmp_path / "aa.png", soft))[0], [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize(
    "values, shown",
    [((0, 1, 2, 3), "values 0,1,2,3"), ((0, 85, 170, 255), "values 0,85,170,255"), ((0, 1, 5), "values 0,1,5")],
)
def test_label_maps_are_refused_naming_the_file(tmp_path, values, shown):
    arr = np.array(values, np.uint8)[np.arange(H * W).reshape(H, W) % len(values)]
    path = _png(tmp_path / "classes.png", arr)
    with pytest.raises(MaskFormatError, match=f"Label file 'classes.png' looks like a label map with {shown}"):
        read_mask(path)


def test_in_between_values_that_fill_regions_are_a_label_map_but_anti_aliased_edges_are_not(tmp_path):
    arr = np.zeros((H, W), np.uint8)
    arr[2:12, 2:14] = 255
    arr[14:22, 16:30] = 77  # a second class, e.g. red converted to grey: the half-way rule would drop it
    with pytest.raises(MaskFormatError, match=r"'three.png' looks like a label map with values 0,77,255 \(the ones"):
        read_mask(_png(tmp_path / "three.png", arr))
    edge = np.zeros((H, W), np.uint8)
    edge[4:20, 6:26] = 255
    edge[3, 6:26] = edge[20, 6:26] = 77  # a one-pixel anti-aliased rim of one in-between value
    edge[4:20, 5] = edge[4:20, 26] = 180
    np.testing.assert_array_equal(read_mask(_png(tmp_path / "rim.png", edge)), edge >= 128)


def test_a_photo_given_as_a_mask_is_refused_naming_the_file(tmp_path):
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), (5, 5), 0)
    photo[0, 0], photo[0, 1] = 0, 255  # its range spans 0..255, so mid-grey means mid-grey
    with pytest.raises(MaskFormatError, match=r"'photo.jpg.png' does not look like a mask: \d+% of its pixels"):
        read_mask(_png(tmp_path / "photo.jpg.png", photo))
    with pytest.raises(MaskFormatError, match=r"'grey.png' does not look like a mask"):
        read_mask(_png(tmp_path / "grey.png", photo[:, :, 1]))
    probability = np.zeros((H, W), np.float32)
    probability[4:20, 6:26] = 0.97
    probability[4:20, 6] = 0.45  # a model's map, or a feathered mask: mid values on its edges only
    np.testing.assert_array_equal(read_mask(_write_float(tmp_path / "map.tif", probability)), probability >= 0.5)


def test_colour_label_map_is_refused(tmp_path):
    idx = (np.arange(H * W).reshape(H, W) % 3).astype(np.uint8)
    pal = Image.fromarray(idx, mode="P")
    pal.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)  # PASCAL-VOC style
    pal.save(tmp_path / "voc.png")
    with pytest.raises(MaskFormatError, match="voc.png.*3 colours"):
        read_mask(tmp_path / "voc.png")


@pytest.mark.parametrize("present", [(0, 128, 255), (0, 128), (128, 255)])
def test_partial_labels_are_three_state_never_128_as_object(tmp_path, present):
    arr = np.array(present, np.uint8)[np.arange(H * W).reshape(H, W) % len(present)]
    path = _png(tmp_path / "partial.png", arr)
    mask, annotated = read_label(path)
    np.testing.assert_array_equal(mask, arr == 255)
    np.testing.assert_array_equal(annotated, arr != 128)
    with pytest.raises(MaskFormatError, match="'partial.png' is a partial label"):
        read_mask(path)  # callers that need a complete label are told, not given a guess


def test_bad_label_is_reported_as_a_label_not_an_image(tmp_path):
    (tmp_path / "lab.png").write_bytes(b"not a png")
    with pytest.raises(LabelReadError, match="^Lesion label file 'lab.png' is not a readable image"):
        read_mask(tmp_path / "lab.png", what="lesion label")
    with pytest.raises(LabelReadError, match="^Label file 'none.png' was not found"):
        read_label(tmp_path / "none.png")
    assert issubclass(LabelReadError, ImageReadError)  # callers catching ImageReadError keep working


def _source(tmp_path, mask_files):
    src, masks = tmp_path / "src", tmp_path / "masks"
    src.mkdir()
    masks.mkdir()
    for name, arr in mask_files.items():
        _png(src / name, np.full((H, W, 3), 60, np.uint8))
        _png(masks / name, arr)
    return src, masks


def test_import_keeps_odd_encodings_and_skips_what_it_cannot_read(tmp_path, caplog):
    truth = _truth()
    src, masks = _source(tmp_path, {
        "a.png": truth.astype(np.uint8) * 100,
        "b.png": truth.astype(np.uint16) * 255,
        "c.png": (np.arange(H * W).reshape(H, W) % 4).astype(np.uint8),  # label map
        "d.png": np.where(truth, 255, 128).astype(np.uint8),  # partial label: imported as a sparse label
    })
    with caplog.at_level(logging.WARNING):
        p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    assert p.labelled_stems("lesion") == ["a", "b", "d"]  # c is not claimed as labelled
    for stem in ("a", "b"):
        np.testing.assert_array_equal(p.load_label("lesion", stem), truth)
        raw = cv2.imread(str(p.label_path("lesion", stem)), cv2.IMREAD_UNCHANGED)
        assert raw.dtype == np.uint8 and set(np.unique(raw)) == {0, 255}
    sparse = p.load_label_pixels("lesion", "d")
    np.testing.assert_array_equal(sparse.mask, truth)
    np.testing.assert_array_equal(sparse.annotated, truth)  # only the 255 pixels were annotated (no 0 in the file)
    assert "c.png" in caplog.text and "label map" in caplog.text
    # kept as read, but said aloud: another tool's 128/255 mask has a grey background (trial, session 32)
    assert "d.png has only the values 128 and 255" in caplog.text and "a.png" not in caplog.text


def test_masks_beside_their_images_are_masks_not_images(tmp_path, caplog):
    """Trial of session 32: `--masks` naming the image folder itself imported case0_mask.png as an image labelled
    with itself, and case0.png (the photo) without its label."""
    truth, folder = _truth(), tmp_path / "both"
    for i in range(2):
        _png(folder / f"case{i}.png", np.full((H, W, 3), 60 + i, np.uint8))
        _png(folder / f"case{i}_mask.png", truth.astype(np.uint8) * 255)
    _png(folder / "lone.png", np.full((H, W, 3), 90, np.uint8))
    with caplog.at_level(logging.WARNING):
        p = import_dataset(folder, tmp_path / "proj", "folder", cls="lesion", masks=folder)
    assert p.stems == ["case0", "case1", "lone"] and p.labelled_stems("lesion") == ["case0", "case1"]
    np.testing.assert_array_equal(p.load_label("lesion", "case1"), truth)
    assert "2 file(s) named after an image (like case0_mask.png) are read as masks" in caplog.text


def test_masks_beside_refused_label_maps_are_flagged(tmp_path, caplog):
    """Trial of session 32: of a folder of 0/1/2 label maps, the files holding only 0/2 imported silently as the
    class; once one file of the folder is refused as a label map, the import says the others may be such maps too."""
    truth = _truth()
    src, masks = _source(tmp_path, {
        "a.png": np.where(truth, 1, 0).astype(np.uint8) + (np.arange(W) % 7 == 0).astype(np.uint8) * 2 * ~truth,
        "b.png": truth.astype(np.uint8) * 2,  # one class of the map only: 0/2
    })
    with caplog.at_level(logging.WARNING):
        p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    assert p.labelled_stems("lesion") == ["b"]
    assert "1 mask(s) were refused as label maps" in caplog.text
    assert "the 1 imported from the same folder" in caplog.text
    caplog.clear()
    (tmp_path / "clean").mkdir()
    src2, masks2 = _source(tmp_path / "clean", {"b.png": truth.astype(np.uint8) * 2})
    with caplog.at_level(logging.WARNING):
        import_dataset(src2, tmp_path / "proj2", "folder", cls="lesion", masks=masks2)
    assert "label map" not in caplog.text  # a lone two-valued mask is no suspect


def test_import_names_the_mask_it_left_out_and_refuses_to_import_a_folder_into_itself(tmp_path, caplog):
    """Trial of session 32: a wrong-size mask's warning named only the image; `import P P` filled P/images with
    copies and then said P was a project; two images of one name both got the one mask."""
    src, masks = tmp_path / "src", tmp_path / "masks"
    _png(src / "ws.png", np.full((H, W, 3), 60, np.uint8))
    _png(masks / "ws_seg.png", np.zeros((10, 10), np.uint8))
    _png(src / "scan.png", np.full((H, W, 3), 70, np.uint8))
    _png(src / "scan.jpg", np.full((H, W, 3), 80, np.uint8))
    _png(masks / "scan.png", _truth().astype(np.uint8) * 255)
    with caplog.at_level(logging.WARNING):
        p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    assert "ws.png imported without its label ws_seg.png:" in caplog.text
    assert "scan.jpg and scan.png share the name 'scan'" in caplog.text
    assert p.labelled_stems("lesion") == []
    before = sorted(q.name for q in src.iterdir())
    with pytest.raises(ProjectError, match="Cannot import .* into itself"):
        import_dataset(src, src, "folder")
    assert sorted(q.name for q in src.iterdir()) == before


def test_masks_that_match_no_image_and_broken_links_are_said(tmp_path, caplog):
    src, masks = _source(tmp_path, {"Case.png": _truth().astype(np.uint8) * 255})
    (src / "Case.png").rename(src / "case.png")
    _png(masks / "other.png", _truth().astype(np.uint8) * 255)
    (masks / "gone.png").symlink_to(tmp_path / "nowhere.png")
    with caplog.at_level(logging.WARNING):
        p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    assert p.labelled_stems("lesion") == []
    assert f"2 file(s) in {masks} match no image (like Case.png)" in caplog.text
    assert "1 differs from an image's name only in upper/lower case (like Case.png)" in caplog.text
    assert f"1 link(s) in {masks} lead to no file (like gone.png)" in caplog.text


def test_a_mask_drawn_on_a_sideways_camera_photo_is_turned_upright_with_it(tmp_path, caplog):
    """Trial of session 32: a phone photo stored sideways (EXIF orientation 6) is shown upright; its mask, drawn by
    another tool on the stored pixels, was refused as the wrong size without a hint."""
    from medseg_gui.core.images import apply_orientation

    src, masks = tmp_path / "src", tmp_path / "masks"
    src.mkdir()
    photo = Image.fromarray(np.random.default_rng(0).integers(20, 200, (H, W, 3), dtype=np.uint8))
    exif = photo.getexif()
    exif[0x0112] = 6
    photo.save(src / "rot.jpg", exif=exif.tobytes())
    stored = _truth()  # H x W, as the stored pixels
    _png(masks / "rot.png", stored.astype(np.uint8) * 255)
    with caplog.at_level(logging.WARNING):
        p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=masks)
    assert p.load_image("rot").shape[:2] == (W, H)  # the photo upright
    np.testing.assert_array_equal(p.load_label("lesion", "rot"), apply_orientation(stored, 6))
    assert "rot.png fits rot.jpg only as stored before the photo's EXIF rotation" in caplog.text


def test_project_label_in_odd_encoding_loads_faithfully(tmp_path):
    """A 0/1 or 0/100 label copied into labels/ by hand used to show empty and be overwritten by the next stroke."""
    truth = _truth()
    src, _ = _source(tmp_path, {"x.png": truth.astype(np.uint8)})
    p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion")
    _png(p.label_path("lesion", "x"), truth.astype(np.uint8) * 100)
    np.testing.assert_array_equal(Project.open(p.root).load_label("lesion", "x"), truth)
    _png(p.label_path("lesion", "x"), np.where(truth, 255, 128).astype(np.uint8))
    with pytest.raises(MaskFormatError, match="Lesion label file 'x.png' is a partial label"):
        p.load_label("lesion", "x")


def test_uniform_and_alpha_masks(tmp_path):
    _png(tmp_path / "zero.png", np.zeros((H, W), np.uint8))
    _png(tmp_path / "full.png", np.full((H, W), 255, np.uint8))
    assert not read_mask(tmp_path / "zero.png").any() and read_mask(tmp_path / "full.png").all()
    truth = _truth()
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[:, :, :3] = 255  # white everywhere, the shape is only in alpha
    rgba[:, :, 3] = truth * 200
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    (tmp_path / "alpha.png").write_bytes(buf.getvalue())
    np.testing.assert_array_equal(read_mask(tmp_path / "alpha.png"), truth)


def test_gui_shows_an_odd_encoding_and_a_stroke_keeps_it(tmp_path, qtbot, messages):
    """The original loss: a 0/100 label showed empty in the window and the first stroke replaced it (253 px → 0)."""
    from tests.workers.helpers import disc, drag, make_project, open_window

    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    truth = disc(cx=20)
    _png(project.label_path("lesion", stem), truth.astype(np.uint8) * 100)
    window = open_window(qtbot, project)
    np.testing.assert_array_equal(window.canvas.label("lesion"), truth)  # shown faithfully
    drag(qtbot, window.canvas, [(50, 40), (60, 40)])  # a stroke away from the disc
    assert window.saver.flush(10)
    saved = read_mask(project.label_path("lesion", stem))
    assert saved[truth].all() and saved.sum() > truth.sum()  # the old foreground is kept, the stroke added


def test_masks_sharing_only_a_leading_id_with_their_images_get_a_hint(tmp_path, caplog):
    """CLI trial, session 34: DRIVE's training/images and 1st_manual given to --layout folder imported no label,
    with only a "match no image" warning (21_training.tif and 21_manual1.gif share only their number)."""
    src, masks = _source(tmp_path, {})
    for n in (21, 22):
        _png(src / f"{n}_training.png", np.full((8, 8, 3), 90, np.uint8))
        _png(masks / f"{n}_manual1.png", _truth().astype(np.uint8) * 255)
    with caplog.at_level(logging.WARNING):
        p = import_dataset(src, tmp_path / "proj", "folder", cls="vessel", masks=masks)
    assert p.labelled_stems("vessel") == []
    assert "names like 21_training.png and 21_manual1.png share only their first part" in caplog.text
    assert "--layout drive" in caplog.text


def test_a_coloured_object_on_a_transparent_background_is_the_object(tmp_path):
    """Fault injection: a red object on a transparent white background (RGBA, or a palette with tRNS) was read by
    brightness, white = object: 87 % of the photo, inverted, and trained on."""
    truth = _truth()
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[...] = (255, 255, 255, 0)
    rgba[truth] = (255, 0, 0, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    palette = Image.fromarray(truth.astype(np.uint8), "P")
    palette.putpalette([255, 255, 255, 200, 0, 0])
    palette.save(tmp_path / "palette.png", transparency=0)
    two = rgba.copy()
    two[truth & (np.arange(W)[None, :] % 2 == 0)] = (40, 40, 40, 255)  # opaque: dark background and a red object
    two[:, :, 3] = np.where(truth | (np.arange(W)[None, :] < 3), 255, 0)
    two[:, :3, :3] = 40
    Image.fromarray(two, "RGBA").save(tmp_path / "two.png")
    half = rgba.copy()
    half[truth, 3] = 128  # drawn half transparent (verification trial: a partial label without object)
    Image.fromarray(half, "RGBA").save(tmp_path / "half.png")
    for name in ("rgba.png", "palette.png", "half.png"):
        np.testing.assert_array_equal(read_mask(tmp_path / name), truth)
    np.testing.assert_array_equal(read_mask(tmp_path / "two.png"), truth & (np.arange(W)[None, :] % 2 == 1))
