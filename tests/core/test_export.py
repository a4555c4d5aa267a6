"""Export: PNG masks at original size with 0/255 values from the right source; HDF5 contents."""

import json
import os

import cv2
import h5py
import numpy as np
import pytest

from medseg_gui.core.errors import ProjectError, WriteError
from medseg_gui.core.export import export_masks
from medseg_gui.core.interchange.hdf5 import export_hdf5
from medseg_gui.core.interchange.manifest import record_predictions
from medseg_gui.core.project import Project

H, W = 9, 13


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name in ("a", "b", "c"):
        cv2.imwrite(str(folder / f"{name}.png"), np.full((H, W, 3), 80, np.uint8))
    p = Project.open_or_create_for_folder(folder)
    label = np.zeros((H, W), bool)
    label[2:5, 3:9] = True
    p.save_label("vessel", "a", label)
    prob_a = np.zeros((H, W), np.float32)  # "a" has both: the label wins in auto mode
    p.save_prediction("vessel", "a", prob_a)
    prob_b = np.zeros((H, W), np.float32)
    prob_b[:, :5] = 0.7
    prob_b[:, 5] = 0.5
    prob_b[0, 0] = 0.9
    p.save_prediction("vessel", "b", prob_b)
    roi = np.ones((H, W), bool)
    roi[0, 0] = False
    p.save_roi("b", roi)
    return p, label


def _read(path):
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_export_auto(project, tmp_path):
    p, label = project
    out = tmp_path / "out"
    paths = export_masks(p, "vessel", out)
    # "c" has neither label nor prediction; in one folder a prediction's name says so, and so does the manifest
    assert [x.name for x in paths] == ["a.png", "b_prediction.png"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(m["file"], m["source"]) for m in manifest["masks"]] == [("a.png", "label"), ("b_prediction.png",
                                                                                         "prediction")]
    assert manifest["masks"][1]["threshold"] == 0.5 and manifest["masks"][1]["model"] is None
    assert manifest["unannotated_pixels"] == 0
    a, b = _read(out / "a.png"), _read(out / "b_prediction.png")
    assert a.dtype == np.uint8 and a.shape == (H, W) and b.shape == (H, W)
    np.testing.assert_array_equal(a, label * 255)
    expected = np.zeros((H, W), np.uint8)
    expected[:, :6] = 255
    expected[0, 0] = 0  # outside the ROI
    np.testing.assert_array_equal(b, expected)


def test_corrected_prediction_exports_the_prediction_outside_the_strokes(project, tmp_path):
    """A sparse label over a prediction (Correct prediction mode): `auto` writes what the window showed, the strokes
    where annotated and the prediction elsewhere; `labels` writes the strokes alone."""
    p, _ = project
    strokes, annotated = np.zeros((H, W), bool), np.zeros((H, W), bool)
    annotated[4:6, :] = True  # one band corrected: background on the left (predicted there), the class on the right
    strokes[4:6, 8:] = True
    p.save_label("vessel", "b", strokes, annotated)
    export_masks(p, "vessel", tmp_path / "auto")
    assert not (tmp_path / "auto" / "b_prediction.png").exists()  # a label, named as one
    expected = np.zeros((H, W), bool)
    expected[:, :6] = True  # the prediction >= 0.5 ...
    expected[0, 0] = False  # ... inside the ROI
    expected[annotated] = strokes[annotated]
    np.testing.assert_array_equal(_read(tmp_path / "auto" / "b.png"), expected * 255)
    manifest = json.loads((tmp_path / "auto" / "manifest.json").read_text())
    entry = next(m for m in manifest["masks"] if m["image"] == "b")
    assert entry["source"] == "label+prediction" and entry["label"] == "sparse" and entry["threshold"] == 0.5
    assert any("label+prediction" in note for note in manifest["notes"])
    # a trial's 'label' was 1 % strokes and 99 % prediction: not counted as a human label
    assert (manifest["human_labels"], manifest["labels_filled_by_prediction"]) == (1, 1)
    from medseg_gui.core.export import export_pngs
    from medseg_gui.qt.export_flow import export_summary

    result = export_pngs(p, ["vessel"], tmp_path / "window")
    assert result.filled == (tmp_path / "window" / "b.png",) and export_summary(result).endswith(
        "; 1 of the labels is a sparse one, filled in by the prediction where not annotated (b)")
    p.save_label("lesion", "b", strokes, annotated)  # the same image's sparse label of a second class
    p.save_prediction("lesion", "b", np.full((H, W), 0.7, np.float32))
    both = export_pngs(p, ["vessel", "lesion"], tmp_path / "both")
    assert export_summary(both).endswith("2 of the labels are sparse, filled in by the prediction where not "
                                         "annotated (vessel/b, lesion/b)")  # not 'b, b'
    assert not any("were not annotated are exported as background" in n for n in manifest["notes"])  # none such
    export_masks(p, "vessel", tmp_path / "labels", source="labels")
    np.testing.assert_array_equal(_read(tmp_path / "labels" / "b.png"), strokes * 255)
    notes = json.loads((tmp_path / "labels" / "manifest.json").read_text())["notes"]
    assert any("were not annotated are exported as background" in n for n in notes)  # b's strokes alone


def test_export_sources_and_threshold(project, tmp_path):
    p, label = project
    assert [x.name for x in export_masks(p, "vessel", tmp_path / "l", source="labels")] == ["a.png"]
    paths = export_masks(p, "vessel", tmp_path / "p", source="predictions", threshold=0.6)
    assert [x.name for x in paths] == ["a.png", "b.png"]
    assert not _read(tmp_path / "p" / "a.png").any()
    assert (_read(tmp_path / "p" / "b.png") > 0).sum() == H * 5 - 1
    assert export_masks(p, "lesion", tmp_path / "none") == []
    with pytest.raises(ProjectError):
        export_masks(p, "tumour", tmp_path / "x")
    with pytest.raises(ValueError):
        export_masks(p, "vessel", tmp_path / "x", source="both")


def test_export_hdf5(project, tmp_path):
    p, label = project
    record_predictions(p, "vessel", ["b"], {"id": "m1", "trained_at": "2026-01-02T03:04:05+00:00"})
    path = export_hdf5(p, "vessel", tmp_path / "out" / "vessel.h5")
    assert path.is_file() and [x.name for x in path.parent.iterdir()] == ["vessel.h5"]
    with h5py.File(path, "r") as f:
        assert sorted(f["images"]) == ["a", "b", "c"] and sorted(f["labels"]) == ["a"]
        assert sorted(f["predictions"]) == ["a", "b"] and sorted(f["roi"]) == ["b"]
        assert f["images/a"].shape == (H, W, 3) and f["images/a"].dtype == np.uint8
        assert f["images/a"].compression == "gzip"
        np.testing.assert_array_equal(f["labels/a"][()], label.astype(np.uint8))
        assert f["predictions/b"].dtype == np.float32 and abs(f["predictions/b"][0, 0] - 0.9) < 1e-4
        assert f.attrs["class"] == "vessel"
        masks = {(m["dataset"], m["source"]): m for m in json.loads(f.attrs["manifest"])["masks"]}
    assert set(masks) == {("labels/a", "label"), ("predictions/a", "prediction"), ("predictions/b", "prediction")}
    assert masks["predictions/b", "prediction"]["model"]["id"] == "m1"  # recorded when predicted
    assert masks["predictions/a", "prediction"]["model"] is None and "model_note" in masks["predictions/a",
                                                                                          "prediction"]


def test_export_hdf5_failure_leaves_no_file(project, tmp_path, monkeypatch):
    p, _ = project

    def boom(stem):
        raise OSError("disk full")

    monkeypatch.setattr(p, "load_image", boom)
    with pytest.raises(WriteError, match=r"HDF5 export \(.*vessel.h5\): disk full"):
        export_hdf5(p, "vessel", tmp_path / "out" / "vessel.h5")
    assert list((tmp_path / "out").iterdir()) == []


def test_unreadable_label_is_skipped_and_listed_not_fatal(project, tmp_path):
    p, _ = project
    p.label_path("vessel", "a").write_bytes(b"not a png")
    skipped = []
    paths = export_masks(p, "vessel", tmp_path / "m", skipped=skipped)
    assert [x.name for x in paths] == ["b_prediction.png"]
    assert len(skipped) == 1 and skipped[0].startswith("a not exported:") and "label" in skipped[0].lower()

    skipped = []
    path = export_hdf5(p, "vessel", tmp_path / "x.h5", skipped=skipped)
    with h5py.File(path) as f:
        assert sorted(f["images"]) == ["a", "b", "c"] and "labels" not in f
    assert len(skipped) == 1 and skipped[0].startswith("a: labels not exported:")


def test_write_failure_stops_with_a_write_error_saying_how_far(project, tmp_path, monkeypatch):
    import errno
    import os

    p, _ = project
    real_replace = os.replace
    calls = []

    def full_after_one(src, dst):
        calls.append(dst)
        if len([c for c in calls if str(c).endswith(".png")]) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_after_one)
    with pytest.raises(WriteError, match=r"Export incomplete: could not write mask 2 of 3 \(.*b_prediction.png\): "
                                         r"No space"):
        export_masks(p, "vessel", tmp_path / "m")
    monkeypatch.setattr(os, "replace", real_replace)  # space freed: the export runs again over its own first file
    assert [x.name for x in export_masks(p, "vessel", tmp_path / "m")] == ["a.png", "b_prediction.png"]


def test_png_export_of_one_class_counts_older_files_and_of_several_needs_subfolders(project, tmp_path):
    """The CLI's PNG export (one class straight into the folder) says how many PNGs already there it did not write
    and leaves them; several classes always get a folder each (their masks share file names)."""
    from medseg_gui.core.export import export_pngs
    from medseg_gui.core.interchange.formats import export_as

    p, _label = project
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.png").write_bytes(b"an earlier export's")
    done = export_as("png", p, ["vessel"], out)
    assert done.count == 2 and done.summary.endswith(
        "; 1 older PNG was in these folders, not written by this export, and is left as it was (old.png)")
    assert (out / "old.png").read_bytes() == b"an earlier export's" and (out / "a.png").is_file()
    assert "older" not in export_as("png", p, ["vessel"], tmp_path / "fresh").summary
    with pytest.raises(ValueError, match="subfolder"):
        export_pngs(p, ["vessel", "lesion"], tmp_path / "flat", subfolders=False)
    assert not (tmp_path / "flat").exists()


def test_an_image_named_like_anothers_prediction_file_gets_its_own_file(tmp_path):
    """Fault injection: images 'scan' (a prediction) and 'scan_prediction' (a label) were "2 masks" in one file."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, name in enumerate(("scan", "scan_prediction")):  # photos: a flat gray file beside 'scan' reads as its mask
        cv2.imwrite(str(folder / f"{name}.png"), np.random.default_rng(i).integers(0, 256, (H, W, 3), dtype=np.uint8))
    p = Project.open_or_create_for_folder(folder)
    p.save_prediction("vessel", "scan", np.full((H, W), 0.9, np.float32))
    p.save_label("vessel", "scan_prediction", np.zeros((H, W), bool))
    out = tmp_path / "out"
    paths = export_masks(p, "vessel", out)
    assert sorted(x.name for x in paths) == ["scan_prediction.png", "scan_prediction_2.png"]
    manifest = json.loads((out / "manifest.json").read_text())
    files = {m["image"]: m["file"] for m in manifest["masks"]}
    assert files == {"scan": "scan_prediction.png", "scan_prediction": "scan_prediction_2.png"}
    assert _read(out / files["scan"]).all() and not _read(out / files["scan_prediction"]).any()


def test_an_export_replaces_its_own_earlier_files_and_never_anyone_elses(project, tmp_path):
    """Fault injection: a mask the user kept in the chosen folder was replaced by the export without a word."""
    p, label = project
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"the user's own mask")
    with pytest.raises(ProjectError, match=r"a\.png already exists and was not written by an export of this project"):
        export_masks(p, "vessel", out)
    assert (out / "a.png").read_bytes() == b"the user's own mask" and sorted(os.listdir(out)) == ["a.png"]
    (out / "a.png").unlink()
    (out / "manifest.json").write_text("{}")  # not an export's manifest
    with pytest.raises(ProjectError, match="manifest.json already exists"):
        export_masks(p, "vessel", out)
    (out / "manifest.json").unlink()
    assert [x.name for x in export_masks(p, "vessel", out)] == ["a.png", "b_prediction.png"]
    assert [x.name for x in export_masks(p, "vessel", out)] == ["a.png", "b_prediction.png"]  # its own: replaced
    p.delete_label("vessel", "a")
    assert [x.name for x in export_masks(p, "vessel", out)] == ["a_prediction.png", "b_prediction.png"]
    p.save_label("vessel", "a", label)  # a.png, not written by the last export, is still known as an export's
    assert [x.name for x in export_masks(p, "vessel", out)] == ["a.png", "b_prediction.png"]


def test_a_coco_export_beside_a_png_export_keeps_the_pngs_known_as_an_exports(project, tmp_path):
    """Verification trial: PNG, then COCO, then PNG into one folder: the COCO manifest had replaced the PNG one and
    the third export refused the first one's masks as not written by an export."""
    from medseg_gui.core.interchange.formats import export_as

    p, _ = project
    out = tmp_path / "out"
    export_masks(p, "vessel", out)
    export_as("coco", p, ["vessel"], out)
    assert json.loads((out / "manifest.json").read_text())["earlier_export_files"] == ["a.png", "b_prediction.png"]
    assert [x.name for x in export_masks(p, "vessel", out)] == ["a.png", "b_prediction.png"]
    assert "annotations.json" in json.loads((out / "manifest.json").read_text())["earlier_export_files"]


def test_a_folder_of_other_files_is_refused_for_what_it_holds(project, tmp_path):
    """A lone notes.txt was refused as files the export "would replace" (outside trial): it would not be; COCO and
    nnU-Net exports need an empty folder (README)."""
    from medseg_gui.core.interchange.formats import export_as

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("the user's own")
    for fmt, name in (("coco", "COCO"), ("nnunet", "nnU-Net")):
        with pytest.raises(ProjectError) as refused:
            export_as(fmt, project[0], ["vessel"], tmp_path / "out")
        assert str(refused.value) == (f"{tmp_path / 'out'} holds other files (notes.txt), which no export of this "
                                      f"project wrote, and {name} exports need an empty folder. Choose a new or empty "
                                      "folder.")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


def test_no_export_format_replaces_a_file_that_no_export_of_this_project_wrote(project, tmp_path):
    """Review: the check covered PNG exports only (a user's annotations.json and vessel.h5 were replaced), and a
    second project's export replaced the first one's masks of the same names; an odd manifest.json crashed it."""
    from medseg_gui.core.interchange.formats import export_as

    p, _ = project
    coco, h5 = tmp_path / "coco", tmp_path / "h5"
    for folder, name in ((coco, "annotations.json"), (h5, "vessel.h5")):
        folder.mkdir()
        (folder / name).write_text("the user's own")
    for fmt, folder, name in (("coco", coco, "annotations.json"), ("hdf5", h5, "vessel.h5"),
                              ("nnunet", coco, "annotations.json")):
        with pytest.raises(ProjectError, match="no export of this project wrote|not an HDF5 export of this project"):
            export_as(fmt, p, ["vessel"], folder)
        assert (folder / name).read_text() == "the user's own"
    export_as("hdf5", p, ["vessel"], tmp_path / "h5b")
    export_as("hdf5", p, ["vessel"], tmp_path / "h5b")  # its own: replaced
    other = Project.open_or_create_for_folder(_copy_images(p, tmp_path / "other"))
    other.save_label("vessel", "a", np.ones((H, W), bool))
    out = tmp_path / "out"
    export_masks(p, "vessel", out)
    with pytest.raises(ProjectError, match="not written by an export of this project"):
        export_masks(other, "vessel", out)
    assert _read(out / "a.png").sum() < 255 * H * W  # the first project's mask is still there
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "manifest.json").write_text(json.dumps({"format": "medseg-export-manifest", "project": str(p.root),
                                                   "masks": None, "earlier_export_files": "a.png"}))
    assert [x.name for x in export_masks(p, "vessel", odd)] == ["a.png", "b_prediction.png"]


def _copy_images(p, folder):
    folder.mkdir()
    for stem in p.stems:
        cv2.imwrite(str(folder / f"{stem}.png"), np.full((H, W, 3), 80, np.uint8))
    return folder


def test_a_mask_changed_after_its_export_is_not_replaced_by_the_next_one(project, tmp_path):
    """Review: export, fix the masks in another program, export again into the same folder: the fixes were lost."""
    p, _ = project
    out = tmp_path / "out"
    export_masks(p, "vessel", out)
    export_masks(p, "vessel", out)  # untouched: its own, replaced
    edited = np.zeros((H, W), np.uint8)
    edited[1:3, 1:3] = 255
    cv2.imwrite(str(out / "a.png"), edited)  # the user's fix (another size, another time)
    with pytest.raises(ProjectError, match=r"a\.png already exists and was not written by an export of this project"):
        export_masks(p, "vessel", out)
    np.testing.assert_array_equal(_read(out / "a.png"), edited)


def test_a_coco_export_replaces_its_own_annotations_but_not_once_they_were_edited(project, tmp_path):
    """Docs review: a COCO export replaced its earlier annotations.json even after it was edited in another program;
    an nnU-Net export never goes into an earlier dataset of other cases (its cases would mix with the new ones)."""
    from medseg_gui.core.interchange.formats import export_as

    p, _ = project
    out = tmp_path / "coco"
    export_as("coco", p, ["vessel"], out)
    export_as("coco", p, ["vessel"], out)  # untouched: its own, replaced
    (out / "annotations.json").write_text('{"edited": "in CVAT"}')
    with pytest.raises(ProjectError, match="annotations.json already exists and was not written by an export"):
        export_as("coco", p, ["vessel"], out)
    assert (out / "annotations.json").read_text() == '{"edited": "in CVAT"}'
    export_as("nnunet", p, ["vessel"], tmp_path / "nn")
    export_as("nnunet", p, ["vessel"], tmp_path / "nn")  # the same cases: its own files, replaced
    with pytest.raises(ProjectError, match="already holds an nnU-Net dataset with files this export would not "
                                           "replace"):
        export_as("nnunet", p, ["vessel"], tmp_path / "nn", source="labels")  # b's old case would stay beside


def test_png_export_counts_every_mask_across_classes(project, tmp_path):
    """A trial's 300 masks exported for 7 s under 'Exporting masks to …' only (a hang at thousands): each mask is
    counted as it is written, its file named as it lies in the chosen folder, the total counting every class's."""
    from medseg_gui.core.export import export_pngs

    p, label = project
    p.save_label("lesion", "c", label)
    counts = []
    result = export_pngs(p, ["vessel", "lesion"], tmp_path / "out", progress=counts.append)
    assert counts == [(1, 3, "vessel/a.png"), (2, 3, "vessel/b_prediction.png"), (3, 3, "lesion/c.png")]
    assert result.count == 3
    counts.clear()
    export_pngs(p, ["vessel"], tmp_path / "flat", subfolders=False, progress=counts.append)
    assert counts == [(1, 2, "a.png"), (2, 2, "b_prediction.png")]


def test_an_accepted_prediction_is_not_counted_as_a_human_label(project, tmp_path):
    """A nurse's trial: the label of 'a' was the model's prediction taken whole (Accept prediction), and the manifest
    listed it as a human label among 'human_labels'. It says 'accepted prediction' and counts it apart; once the
    mark is gone (an edit) it is a human label again."""
    from medseg_gui.core.label_status import ACCEPTED_KEY, set_mark

    p, _ = project
    set_mark(p, "a", ACCEPTED_KEY, "vessel", True)
    export_masks(p, "vessel", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    entry = next(m for m in manifest["masks"] if m["image"] == "a")
    assert (entry["source"], entry["label"]) == ("label", "accepted prediction")
    assert (manifest["human_labels"], manifest["accepted_predictions"]) == (0, 1)
    assert any("Accept prediction" in note for note in manifest["notes"])
    set_mark(p, "a", ACCEPTED_KEY, "vessel", False)
    export_masks(p, "vessel", tmp_path / "again")
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert manifest["human_labels"] == 1 and "accepted_predictions" not in manifest
    assert next(m for m in manifest["masks"] if m["image"] == "a")["label"] == "complete"


def test_a_filled_label_marked_accepted_is_counted_once(project, tmp_path):
    """Review: a sparse label filled by the prediction ('label+prediction') whose image also carried the accepted
    mark was counted both as filled and as accepted, so human_labels came out one too low (negative at worst)."""
    from medseg_gui.core.label_status import ACCEPTED_KEY, set_mark

    p, _ = project
    strokes, annotated = np.zeros((H, W), bool), np.zeros((H, W), bool)
    annotated[4:6, :] = True
    strokes[4:6, 8:] = True
    p.save_label("vessel", "b", strokes, annotated)
    set_mark(p, "b", ACCEPTED_KEY, "vessel", True)
    export_masks(p, "vessel", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert (manifest["human_labels"], manifest["labels_filled_by_prediction"]) == (1, 1)
    assert "accepted_predictions" not in manifest
