"""Issue 12 #2: the pipeline hands a sparse label's annotated pixels to training and scores only those."""

import numpy as np

from medseg_gui import pipeline
from medseg_gui.core.importers import import_dataset
from medseg_gui.core.images import write_png

H, W = 16, 20


def _project(tmp_path):
    for i in range(2):
        write_png(tmp_path / "src" / f"img{i}.png", np.full((H, W, 3), 50 + i, np.uint8))
    return import_dataset(tmp_path / "src", tmp_path / "proj", "folder", cls="lesion")


def test_load_samples_passes_annotated_of_sparse_labels_only(tmp_path):
    p = _project(tmp_path)
    mask = np.zeros((H, W), bool)
    mask[2:6, 3:9] = True
    annotated = mask.copy()
    annotated[10:, :] = True
    p.save_label("lesion", "img0", mask, annotated)
    p.save_label("lesion", "img1", mask)
    samples, stems = pipeline.load_samples(p, "lesion")
    assert stems == ["img0", "img1"]
    np.testing.assert_array_equal(samples[0].mask, mask)
    np.testing.assert_array_equal(samples[0].annotated, annotated)
    assert samples[1].annotated is None


def test_evaluate_counts_annotated_pixels_only(tmp_path):
    p = _project(tmp_path)
    mask = np.zeros((H, W), bool)
    mask[2:6, 3:9] = True
    annotated = mask.copy()
    annotated[10:, :] = True  # background strokes
    p.save_label("lesion", "img0", mask, annotated)
    prob = np.where(mask, 0.9, 0.1).astype(np.float32)
    prob[7:9, :] = 0.95  # a false positive where nothing is annotated: not counted
    p.save_prediction("lesion", "img0", prob)
    report = pipeline.evaluate_class(p, "lesion")
    assert report.per_image["img0"]["dice"] == 1.0 and report.per_image["img0"]["auc"] == 1.0
    assert report.per_image["img0"]["specificity"] == 1.0
    assert report.pooled == {} and report.strokes_mean["specificity"] == 1.0  # strokes are not pooled with masks


def test_demo_outputs_score_and_overlay_annotated_pixels_only(tmp_path):
    from medseg_gui.cli_project import write_demo_outputs
    from medseg_gui.core.images import read_image

    p = _project(tmp_path)
    mask = np.zeros((H, W), bool)
    mask[2:6, 3:9] = True
    annotated = mask.copy()
    annotated[10:, :] = True
    p.save_label("lesion", "img0", mask, annotated)
    prob = np.where(mask, 0.9, 0.1).astype(np.float32)
    prob[7:9, :] = 0.95  # predicted where nothing is annotated: neither scored nor drawn red
    p.save_prediction("lesion", "img0", prob)
    rows = write_demo_outputs(p, "lesion", tmp_path / "out")
    assert rows[0]["dice"] == 1.0
    overlay = read_image(tmp_path / "out" / "overlays" / "img0.png")
    band = overlay[7:9].astype(int)  # contour colour (255, 215, 0) on the image, but no FP red there
    assert not ((band[..., 0] > 150) & (band[..., 1] < 40) & (band[..., 2] < 40)).any()
    stroke = overlay[10:].astype(int)
    assert not ((stroke[..., 0] > 150) & (stroke[..., 1] < 40)).any()  # annotated background, predicted 0.1: no FP
