"""nnU-Net and COCO exports read back with each format's own conventions; every export's manifest says label or
prediction."""

import errno
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from medseg_gui.core.atomic import _host_tag
from medseg_gui.core.errors import ProjectError, WriteError
from medseg_gui.core.images import read_image
from medseg_gui.core.interchange.coco import components, export_coco
from medseg_gui.core.interchange.manifest import record_predictions
from medseg_gui.core.interchange.nnunet import case_ids, export_nnunet
from medseg_gui.core.project import Project

H, W = 24, 32


def disc(cx, cy, r):
    yy, xx = np.mgrid[:H, :W]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        cv2.imwrite(str(folder / f"{name}.png"), rng.integers(0, 255, (H, W, 3), np.uint8))
    p = Project.open_or_create_for_folder(folder)  # classes: lesion, vessel
    p.save_label("lesion", "a", disc(8, 8, 4) | disc(24, 16, 5))  # two lesions
    vessel = np.zeros((H, W), bool)
    vessel[10:14, :] = True
    p.save_label("vessel", "a", vessel)
    annotated = np.zeros((H, W), bool)
    annotated[:, :16] = True  # sparse: only the left half annotated
    p.save_label("lesion", "b", disc(6, 12, 3), annotated)
    prob = np.where(disc(20, 12, 4), 0.9, 0.1).astype(np.float32)
    p.save_prediction("vessel", "b", prob)
    record_predictions(p, "vessel", ["b"], {"id": "m7", "trained_at": "2026-02-03T04:05:06+00:00"})
    p.save_prediction("lesion", "c", prob)
    return p


def test_nnunet_dataset_reads_back(project, tmp_path):
    out = tmp_path / "Dataset001_Test"
    result = export_nnunet(project, ["lesion", "vessel"], out, source="auto")
    meta = json.loads((out / "dataset.json").read_text())
    assert set(meta) >= {"channel_names", "labels", "numTraining", "file_ending"}
    assert meta["labels"] == {"background": 0, "lesion": 1, "vessel": 2, "ignore": 3}  # b has a sparse label
    assert meta["file_ending"] == ".png" and len(meta["channel_names"]) == 3
    cases = sorted(p.name for p in (out / "labelsTr").iterdir())
    assert meta["numTraining"] == result.training == len(cases) == 2  # c lacks a vessel mask
    assert sorted(p.name for p in (out / "imagesTr").iterdir()) == ["a_0000.png", "b_0000.png"]
    assert [p.name for p in (out / "imagesTs").iterdir()] == ["c_0000.png"]
    np.testing.assert_array_equal(read_image(out / "imagesTr" / "a_0000.png"), project.load_image("a"))
    a = cv2.imread(str(out / "labelsTr" / "a.png"), cv2.IMREAD_UNCHANGED)
    assert a.dtype == np.uint8 and a.shape == (H, W) and set(np.unique(a)) <= set(meta["labels"].values())
    lesion, vessel = project.load_label("lesion", "a"), project.load_label("vessel", "a")
    np.testing.assert_array_equal(a == 2, vessel)  # the later class wins where they overlap
    np.testing.assert_array_equal(a == 1, lesion & ~vessel)
    b = cv2.imread(str(out / "labelsTr" / "b.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(b == 1, disc(6, 12, 3) & ~disc(20, 12, 4))
    np.testing.assert_array_equal(b == 2, disc(20, 12, 4))  # the vessel prediction >= 0.5
    np.testing.assert_array_equal(b == 3, ~disc(20, 12, 4) & (np.arange(W) >= 16)[None, :])  # not annotated
    manifest = json.loads((out / "manifest.json").read_text())
    sources = {(m["image"], m["class"]): m for m in manifest["masks"]}
    assert sources["a", "lesion"]["source"] == "label" and sources["b", "lesion"]["label"] == "sparse"
    assert sources["b", "vessel"]["source"] == "prediction" and sources["b", "vessel"]["model"]["id"] == "m7"
    assert sources["b", "vessel"]["threshold"] == 0.5 and manifest["unannotated_pixels"] == 3
    assert export_nnunet(project, ["lesion"], out).training == 2  # the same images: its own files replaced
    assert json.loads((out / "dataset.json").read_text())["labels"] == {"background": 0, "lesion": 1, "ignore": 2}
    with pytest.raises(ProjectError, match=r"already holds an nnU-Net dataset with files this export would "
                                           r"not replace \(imagesTr/b_0000.png and 1 more: an earlier export's"):
        export_nnunet(project, ["vessel"], out)  # b would be in imagesTs and its old case left beside it


def test_nnunet_labels_only_and_case_ids(project, tmp_path):
    result = export_nnunet(project, ["lesion", "vessel"], tmp_path / "d", source="labels")
    assert result.training == 1 and result.test == 2  # only "a" has labels of both classes
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert {m["source"] for m in manifest["masks"]} == {"label"} and manifest["human_labels"] == 2
    assert case_ids(["x y", "x_y", "ok-1"]) == {"x y": "x_y", "x_y": "x_y_2", "ok-1": "ok-1"}
    with pytest.raises(ProjectError, match="outside the project"):
        export_nnunet(project, ["lesion"], project.root / "labels")


def test_components_decode_back_with_fillpoly():
    mask = disc(8, 8, 4) | disc(24, 16, 5)
    mask[0, 31] = True  # a single pixel
    mask[20, 2:6] = True  # a one-pixel-wide line
    parts = components(mask)
    assert len(parts) == 4
    decoded = np.zeros((H, W), np.uint8)
    for part in parts:
        assert all(len(poly) >= 6 and len(poly) % 2 == 0 for poly in part.polygons)
        x, y, w, h = part.bbox
        drawn = np.zeros((H, W), np.uint8)
        cv2.fillPoly(drawn, [np.array(p).reshape(-1, 2).astype(np.int32) for p in part.polygons], 1)
        ys, xs = np.nonzero(drawn)
        assert (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == (x, y, w, h)
        assert part.area == drawn.sum()
        decoded |= drawn
    np.testing.assert_array_equal(decoded.astype(bool), mask)


def _decode(annotations, height, width):
    out = np.zeros((height, width), np.uint8)
    for ann in annotations:
        polys = [np.array(p).reshape(-1, 2).astype(np.int32) for p in ann["segmentation"]]
        cv2.fillPoly(out, polys, 1)
    return out.astype(bool)


def test_coco_reads_back(project, tmp_path):
    out = tmp_path / "coco"
    result = export_coco(project, ["lesion", "vessel"], out)
    data = json.loads((out / "annotations.json").read_text())
    assert [c["name"] for c in data["categories"]] == ["lesion", "vessel"]
    by_name = {im["file_name"]: im for im in data["images"]}
    assert set(by_name) == {"images/a.png", "images/b.png", "images/c.png"} and result.images == 3
    for im in data["images"]:
        assert read_image(out / im["file_name"]).shape == (im["height"], im["width"], 3) == (H, W, 3)
    ids = [a["id"] for a in data["annotations"]]
    assert len(set(ids)) == len(ids) == result.annotations
    for ann in data["annotations"]:
        assert ann["iscrowd"] == 0 and len(ann["bbox"]) == 4 and ann["area"] > 0
    a, lesion = by_name["images/a.png"]["id"], 1
    mine = [x for x in data["annotations"] if x["image_id"] == a and x["category_id"] == lesion]
    truth = project.load_label("lesion", "a")
    assert len(mine) == cv2.connectedComponents(truth.astype(np.uint8), connectivity=8)[0] - 1 == 2
    decoded = _decode(mine, H, W)
    assert (decoded & truth).sum() / (decoded | truth).sum() >= 0.9
    manifest = json.loads((out / "manifest.json").read_text())
    entries = {(m["image"], m["class"]): m for m in manifest["masks"]}
    assert entries["a", "lesion"]["source"] == "label" and len(entries["a", "lesion"]["annotation_ids"]) == 2
    assert entries["c", "lesion"]["source"] == "prediction" and entries["c", "lesion"]["model"] is None
    assert ("c", "vessel") not in entries  # not annotated there, and the manifest says so by leaving it out


def test_stale_predictions_are_those_another_model_made(tmp_path):
    """The image list greys the scores of predictions made by an earlier model than the current one, read from
    provenance.json (a trial: after a stopped continuous run, and after reopening, the old scores looked current)."""
    from medseg_gui.core.interchange.manifest import stale_predictions

    project = Project.create(tmp_path / "p")
    for i in range(3):
        src = tmp_path / f"img{i}.png"
        cv2.imwrite(str(src), np.full((8, 8, 3), 40 * i, np.uint8))
        project.add_image(src)
    a, b, c = project.stems
    record_predictions(project, "lesion", [a, b], {"id": "m1"})
    record_predictions(project, "lesion", [a], {"id": "m2"})
    assert stale_predictions(project, "lesion", "m2") == {b}
    assert stale_predictions(project, "lesion", "m1") == {a}
    assert stale_predictions(project, "lesion", None) == set()  # no current model: nothing to compare with
    assert stale_predictions(project, "vessel", "m2") == set()  # no record
    record_predictions(project, "lesion", [c], {"id": None})  # an older version's record names no model
    assert stale_predictions(project, "lesion", "m2") == {b}


def _full_disk_at(module, monkeypatch, nth):
    """Make `module`'s write_png fail with ENOSPC from its `nth` call on."""
    real, calls = module.write_png, []

    def write_png(path, array):
        calls.append(path)
        if len(calls) >= nth:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, array)

    monkeypatch.setattr(module, "write_png", write_png)


def _killed_write_temp(folder, name):
    """The temporary file an atomic write of `name` in `folder` leaves when its process is killed (kill -9)."""
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)  # reaped: no such process any more
    temp = folder / f".{name}.medseg-{_host_tag()}-{dead}-abcd1234.tmp"
    temp.parent.mkdir(parents=True, exist_ok=True)
    temp.write_bytes(b"half a png")
    return temp


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_coco_export_stopped_half_way_says_how_far_and_runs_again_into_its_folder(project, tmp_path, monkeypatch):
    """Fault injection: a COCO export stopped by a full disk (or kill -9) could not be run again: its own images
    were 'other files, which no export of this project wrote', and the first error did not say how far it got."""
    from medseg_gui.core.interchange import coco

    out = tmp_path / "coco"
    _full_disk_at(coco, monkeypatch, 2)
    with pytest.raises(WriteError, match=r"Export incomplete: could not write image 2 of 3 \(1 written\) "
                                         r"\(.*images/b\.png\): No space left"):
        export_coco(project, ["lesion", "vessel"], out)
    monkeypatch.undo()  # space freed
    temp = _killed_write_temp(out / "images", "b.png")
    result = export_coco(project, ["lesion", "vessel"], out)
    assert not temp.exists() and result.images == 3
    fresh = export_coco(project, ["lesion", "vessel"], tmp_path / "fresh")
    assert _files(out) == _files(tmp_path / "fresh") == ["annotations.json", "images/a.png", "images/b.png",
                                                         "images/c.png", "manifest.json"]
    done, whole = (json.loads(r.path.read_text()) for r in (result, fresh))
    assert done["annotations"] == whole["annotations"] and done["images"] == whole["images"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["other_files"] == ["images/a.png", "images/b.png", "images/c.png"]
    assert "earlier_export_files" not in manifest and len(manifest["masks"]) == 5
    export_coco(project, ["lesion", "vessel"], out)  # complete: its own files, replaced again


def test_an_nnunet_export_stopped_half_way_says_how_far_and_runs_again_into_its_folder(project, tmp_path,
                                                                                       monkeypatch):
    """Fault injection: a stopped nnU-Net export was refused as 'already holds an nnU-Net dataset' (there was no
    dataset.json, only part of imagesTr/labelsTr) and a killed write's temporary file stayed in labelsTr."""
    from medseg_gui.core.interchange import nnunet

    out = tmp_path / "Dataset001_Test"
    _full_disk_at(nnunet, monkeypatch, 3)  # a's image and label, then b's image
    with pytest.raises(WriteError, match=r"Export incomplete: could not write image 2 of 3 \(1 written\) "
                                         r"\(.*imagesTr/b_0000\.png\): No space left"):
        export_nnunet(project, ["lesion", "vessel"], out, source="auto")
    monkeypatch.undo()
    assert not (out / "dataset.json").exists() and (out / "labelsTr" / "a.png").is_file()
    temp = _killed_write_temp(out / "labelsTr", "b.png")
    (out / "imagesTr" / "x_0000.png").write_bytes(b"the user's own")  # a real foreign file is still refused
    with pytest.raises(ProjectError, match=r"with files this export would not replace \(imagesTr/x_0000.png: "
                                           "not written by an export of this project"):
        export_nnunet(project, ["lesion", "vessel"], out, source="auto")
    (out / "imagesTr" / "x_0000.png").unlink()
    result = export_nnunet(project, ["lesion", "vessel"], out, source="auto")
    assert not temp.exists() and (result.training, result.test) == (2, 1)
    export_nnunet(project, ["lesion", "vessel"], tmp_path / "fresh", source="auto")
    assert _files(out) == _files(tmp_path / "fresh") == [
        "dataset.json", "imagesTr/a_0000.png", "imagesTr/b_0000.png", "imagesTs/c_0000.png", "labelsTr/a.png",
        "labelsTr/b.png", "manifest.json"]
    for name in ("dataset.json", "labelsTr/a.png", "labelsTr/b.png"):
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()
    assert json.loads((out / "manifest.json").read_text())["other_files"] == [
        "dataset.json", "imagesTr/a_0000.png", "imagesTr/b_0000.png", "imagesTs/c_0000.png"]


def test_a_killed_writes_temporary_file_is_not_foreign_but_a_users_file_is(project, tmp_path):
    """A temporary file left by a killed write of the first manifest is no 'other file'; a user's file still is."""
    for fmt, export in (("COCO", export_coco), ("nnU-Net", export_nnunet)):
        out = tmp_path / fmt
        temp = _killed_write_temp(out, "manifest.json")
        (out / "notes.txt").write_text("the user's own")
        with pytest.raises(ProjectError, match=r"holds other files \(notes.txt\), which no export of this project"):
            export(project, ["lesion"], out)
        (out / "notes.txt").unlink()
        export(project, ["lesion"], out)
        assert not temp.exists() and (out / "manifest.json").is_file()


def test_the_coco_summary_counts_in_the_singular_for_one(tmp_path):
    """A trial read "Wrote 1 COCO annotations on 1 images"."""
    from medseg_gui.core.interchange.coco import CocoExport

    path = tmp_path / "a.json"
    assert CocoExport(path, 1, 1).summary() == f"Wrote 1 COCO annotation on 1 image to {path}"
    assert CocoExport(path, 2, 3).summary().startswith("Wrote 3 COCO annotations on 2 images")
