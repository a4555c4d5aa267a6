"""labelme import: a hand-written JSON with a polygon, a rectangle and a circle becomes the expected masks; labels
map to classes; missing images and unusable shapes are skipped with a warning; a class marked only by lines or points
on an image stays unlabelled there, never an empty (all-background) label."""

import json

import cv2
import numpy as np
import pytest

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.importers import import_dataset

H, W = 20, 30


def _write(folder, name, shapes, image_path=None, size=(H, W)):
    doc = {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": image_path or f"{name}.png",
           "imageData": None, "imageHeight": size[0], "imageWidth": size[1]}
    (folder / f"{name}.json").write_text(json.dumps(doc))


def _shape(label, kind, points):
    return {"label": label, "points": points, "group_id": None, "shape_type": kind, "flags": {}}


@pytest.fixture
def src(tmp_path):
    folder = tmp_path / "labelme"
    (folder / "pics").mkdir(parents=True)
    for name in ("one", "two", "plain"):
        cv2.imwrite(str(folder / f"{name}.png"), np.full((H, W, 3), 90, np.uint8))
    cv2.imwrite(str(folder / "pics" / "far.png"), np.full((H, W, 3), 90, np.uint8))
    _write(folder, "one", [_shape("Lesion", "polygon", [[2, 2], [10, 2], [10, 8], [2, 8]]),
                           _shape("polyp", "rectangle", [[25.2, 15.4], [20, 12]]),
                           _shape("lesion", "line", [[0, 19], [29, 19]])])
    _write(folder, "two", [_shape("polyp", "circle", [[15, 10], [15, 14]])])
    _write(folder, "far", [], image_path="pics/far.png")
    _write(folder, "gone", [_shape("polyp", "polygon", [[1, 1], [5, 1], [5, 5]])], image_path="missing.png")
    (folder / "notes.json").write_text('{"just": "a note"}')
    return folder


def test_labelme_folder_imports_to_the_expected_masks(src, tmp_path, caplog):
    p = import_dataset(src, tmp_path / "proj", "labelme")
    assert sorted(p.stems) == ["far", "one", "plain", "two"]
    assert "lesion" in p.class_names and "polyp" in p.class_names  # "Lesion" matched the existing class
    lesion = np.zeros((H, W), bool)
    lesion[2:9, 2:11] = True  # polygon corners inclusive; the line shape is left out
    np.testing.assert_array_equal(p.load_label("lesion", "one"), lesion)
    polyp = np.zeros((H, W), bool)
    polyp[12:16, 20:26] = True  # rectangle from its two (rounded) corners, in either order
    np.testing.assert_array_equal(p.load_label("polyp", "one"), polyp)
    yy, xx = np.mgrid[:H, :W]
    circle = p.load_label("polyp", "two")
    assert circle[10, 15] and circle[14, 15] and circle[6, 15] and not circle[15, 15] and not circle[10, 20]
    assert abs(circle.sum() - np.pi * 16) < 12
    assert ((xx - 15) ** 2 + (yy - 10) ** 2 <= 16)[circle].all()
    assert not p.load_label("lesion", "two").any()  # annotated image without lesion shapes: an empty label
    assert p.has_label("polyp", "far") and p.labelled_stems("polyp") == ["far", "one", "two"]
    assert not p.has_label("polyp", "plain") and not p.has_label("vessel", "one")
    text = caplog.text
    assert "missing.png was not found" in text and "embedded" in text
    assert "notes.json is not a labelme file" in text and "1 line" in text


def test_labelme_size_mismatch_and_empty_folder(tmp_path, caplog):
    folder = tmp_path / "src"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((H, W, 3), np.uint8))
    _write(folder, "a", [_shape("lesion", "polygon", [[1, 1], [5, 1], [5, 5]])], size=(H + 1, W))
    p = import_dataset(folder, tmp_path / "proj", "labelme")
    assert p.stems == ["a"] and not p.has_label("lesion", "a") and "imported without its labels" in caplog.text
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match="No images found"):
        import_dataset(tmp_path / "empty", tmp_path / "proj2", "labelme")
    assert not (tmp_path / "proj2").exists()


def test_a_class_marked_only_by_lines_or_points_is_never_labelled_background(tmp_path, caplog):
    folder = tmp_path / "src"
    folder.mkdir()
    for name in ("a", "b", "c"):
        cv2.imwrite(str(folder / f"{name}.png"), np.zeros((H, W, 3), np.uint8))
    _write(folder, "a", [_shape("Polyp", "polygon", [[2, 2], [10, 2], [10, 8], [2, 8]]),
                         _shape("tool", "line", [[0, 19], [29, 19]]), _shape("tool", "point", [[5, 5]])])
    _write(folder, "b", [_shape("Polyp", "circle", [[15, 10], [15, 13]])])
    _write(folder, "c", [_shape("tool", "linestrip", [[1, 1], [9, 9], [20, 3]]),
                         _shape("Polyp", "line", [[0, 0], [9, 0]])])
    p = import_dataset(folder, tmp_path / "proj", "labelme")
    assert "tool" in p.class_names and p.labelled_stems("tool") == []  # no empty 'tool' label on a, b or c
    polyp = np.zeros((H, W), bool)
    polyp[2:9, 2:11] = True
    np.testing.assert_array_equal(p.load_label("Polyp", "a"), polyp)
    assert p.load_label("Polyp", "b").any() and p.labelled_stems("Polyp") == ["a", "b"]  # c: a Polyp line only
    text = caplog.text
    assert "left out 3 shape(s) of 'tool' (1 line, 1 point, 1 linestrip)" in text
    assert "'tool' stays unlabelled (not background) on the 2 image(s) where it has no area: a.png, c.png" in text
    assert "drawn as an area nowhere" in text
    assert "'Polyp' stays unlabelled (not background) on the 1 image(s) where it has no area: c.png" in text
