"""Issue 12 #2/#8: sparse labels (255 class, 0 background, 128 not annotated) round-trip through a project, import
as sparse labels, export as 0/255 with unannotated = background, and count only annotated pixels in metrics."""

import cv2
import numpy as np
import pytest

from medseg_gui.core import masks
from medseg_gui.core.errors import MaskFormatError
from medseg_gui.core.export import mask_to_export
from medseg_gui.core.importers import import_dataset
from medseg_gui.core.metrics import FP_CODE, confusion, fp_fn_codes
from medseg_gui.core.project import Project

H, W = 20, 24


def _sparse():
    """A label with class strokes (rows 2-5), background strokes (rows 14-17) and the rest not annotated."""
    mask = np.zeros((H, W), bool)
    mask[2:6, 4:12] = True
    annotated = mask.copy()
    annotated[14:18, :] = True
    return mask, annotated


def _png(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), arr)


def _project(tmp_path, n=2):
    src = tmp_path / "src"
    for i in range(n):
        _png(src / f"img{i}.png", np.full((H, W, 3), 40 * i, np.uint8))
    return import_dataset(src, tmp_path / "proj", "folder", cls="lesion")


def test_sparse_label_round_trips_through_the_project(tmp_path):
    p = _project(tmp_path)
    mask, annotated = _sparse()
    p.save_label("lesion", "img0", mask, annotated)
    raw = cv2.imread(str(p.label_path("lesion", "img0")), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint8 and set(np.unique(raw).tolist()) == {0, 128, 255}
    assert (raw == 128).sum() == (~annotated).sum() and (raw == 255).sum() == mask.sum()
    back = Project.open(p.root).load_label_pixels("lesion", "img0")
    np.testing.assert_array_equal(back.mask, mask)
    np.testing.assert_array_equal(back.annotated, annotated)
    with pytest.raises(MaskFormatError, match="partial label"):  # callers that need a complete label are told
        p.load_label("lesion", "img0")


def test_dense_labels_stay_dense(tmp_path):
    p = _project(tmp_path)
    mask, _ = _sparse()
    p.save_label("lesion", "img1", mask)
    raw = cv2.imread(str(p.label_path("lesion", "img1")), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(raw).tolist()) == {0, 255}
    back = p.load_label_pixels("lesion", "img1")
    assert back.annotated is None
    np.testing.assert_array_equal(back.mask, mask)
    np.testing.assert_array_equal(p.load_label("lesion", "img1"), mask)
    p.save_label("lesion", "img1", mask, np.ones((H, W), bool))  # everything annotated: written as 0/255
    assert set(np.unique(cv2.imread(str(p.label_path("lesion", "img1")), cv2.IMREAD_UNCHANGED)).tolist()) == {0, 255}


def test_import_masks_of_0_128_255_gives_a_sparse_label_and_soft_masks_are_thresholded(tmp_path):
    mask, annotated = _sparse()
    src, mdir = tmp_path / "src", tmp_path / "masks"
    for stem in ("a", "b", "c"):
        _png(src / f"{stem}.png", np.full((H, W, 3), 90, np.uint8))
    _png(mdir / "a.png", np.where(annotated, mask.astype(np.uint8) * 255, 128).astype(np.uint8))
    _png(mdir / "b.png", mask.astype(np.uint8) * 255)
    soft = np.where(mask, 200, 20).astype(np.uint8)
    soft[0, 0], soft[0, 1] = 128, 127  # grey values other than 0/128/255: a soft mask, cut half-way (>= 110)
    _png(mdir / "c.png", soft)
    p = import_dataset(src, tmp_path / "proj", "folder", cls="lesion", masks=mdir)
    a = p.load_label_pixels("lesion", "a")
    np.testing.assert_array_equal(a.mask, mask)
    np.testing.assert_array_equal(a.annotated, annotated)
    assert p.load_label_pixels("lesion", "b").annotated is None
    c = p.load_label_pixels("lesion", "c")
    assert c.annotated is None and c.mask[0, 0] and c.mask[0, 1]


def test_a_label_file_written_by_another_program_loads_from_labels(tmp_path):
    p = _project(tmp_path)
    mask, annotated = _sparse()
    _png(p.label_path("lesion", "img0"), np.where(annotated, mask.astype(np.uint8) * 255, 128).astype(np.uint8))
    back = Project.open(p.root).load_label_pixels("lesion", "img0")
    np.testing.assert_array_equal(back.annotated, annotated)


def test_export_writes_unannotated_as_background(tmp_path):
    p = _project(tmp_path)
    mask, annotated = _sparse()
    p.save_label("lesion", "img0", mask, annotated)
    np.testing.assert_array_equal(mask_to_export(p, "lesion", "img0", "labels").mask, mask)  # 128 -> 0


def test_codes_and_scored_region_count_annotated_pixels_only():
    mask, annotated = _sparse()
    codes = masks.label_codes(mask, annotated)
    assert set(np.unique(codes).tolist()) == {masks.BACKGROUND, masks.OBJECT, masks.UNANNOTATED}
    back = masks.label_pixels(codes)
    np.testing.assert_array_equal(back.mask, mask)
    np.testing.assert_array_equal(back.annotated, annotated)
    assert masks.label_pixels(masks.label_codes(mask)).annotated is None
    pred = np.ones((H, W), bool)  # predicts the class everywhere
    c = confusion(pred, mask, masks.scored_region(None, annotated))
    assert (c.tp, c.fp, c.fn, c.tn) == (mask.sum(), annotated.sum() - mask.sum(), 0, 0)  # FP only on bg strokes
    codes_fpfn = fp_fn_codes(pred, codes)
    assert (codes_fpfn == FP_CODE).sum() == annotated.sum() - mask.sum()
    assert not codes_fpfn[~annotated].any()


def test_a_sparse_label_of_a_region_class_is_no_outline_its_prediction_is_used(tmp_path):
    from medseg_gui.core.project import ClassSpec

    p = Project.create(tmp_path / "two", (ClassSpec("cervix", (0, 200, 0)), ClassSpec("lesion", (255, 0, 0), "cervix")))
    _png(tmp_path / "img.png", np.full((H, W, 3), 90, np.uint8))
    stem = p.add_image(tmp_path / "img.png").stem
    mask, annotated = _sparse()
    p.save_label("cervix", stem, mask, annotated)
    prob = np.zeros((H, W), np.float32)
    prob[5:15, 5:20] = 0.8
    p.save_prediction("cervix", stem, prob)
    np.testing.assert_array_equal(p.class_roi("lesion", stem), prob >= 0.5)
    p.save_label("cervix", stem, mask)  # a complete label is the outline
    np.testing.assert_array_equal(p.class_roi("lesion", stem), mask)
