"""`medseg import --layout labelme` and `medseg export --format nnunet|coco|hdf5`: labelme polygons in, the nnU-Net
dataset and COCO JSON out, each read back; the manifest tells labels from predictions."""

import json

import cv2
import h5py
import numpy as np

from medseg_gui import cli
from medseg_gui.core.project import Project

H, W = 16, 20


def _labelme_folder(tmp_path, shapes=None):
    src = tmp_path / "lm"
    src.mkdir()
    for name in ("a", "b"):
        cv2.imwrite(str(src / f"{name}.png"), np.full((H, W, 3), 60, np.uint8))
    shapes = shapes or {"a": [{"label": "polyp", "shape_type": "polygon", "points": [[2, 2], [8, 2], [8, 8], [2, 8]]},
                              {"label": "polyp", "shape_type": "rectangle", "points": [[12, 4], [16, 10]]}],
                        "b": []}
    for name, found in shapes.items():
        (src / f"{name}.json").write_text(json.dumps({"shapes": found, "imagePath": f"{name}.png", "imageData": None,
                                                      "imageHeight": H, "imageWidth": W}))
    return src


def test_labelme_in_nnunet_coco_hdf5_out(tmp_path, capsys):
    proj = tmp_path / "proj"
    assert cli.main(["import", str(_labelme_folder(tmp_path)), str(proj), "--layout", "labelme"]) == 0
    assert "2 with 'polyp' labels" in capsys.readouterr().out
    project = Project.open(proj)
    project.save_prediction("lesion", "a", np.full((H, W), 0.8, np.float32))

    nn = tmp_path / "Dataset001_Polyp"
    assert cli.main(["export", str(proj), "--class", "polyp", "--format", "nnunet", "--source", "labels",
                     "--out", str(nn)]) == 0
    meta = json.loads((nn / "dataset.json").read_text())
    assert meta["labels"] == {"background": 0, "polyp": 1} and meta["numTraining"] == 2
    label_a = cv2.imread(str(nn / "labelsTr" / "a.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(label_a == 1, project.load_label("polyp", "a"))
    assert (nn / "imagesTr" / "a_0000.png").is_file() and "2 training cases" in capsys.readouterr().out

    coco = tmp_path / "coco"
    assert cli.main(["export", str(proj), "--class", "polyp,lesion", "--format", "coco", "--out", str(coco)]) == 0
    data = json.loads((coco / "annotations.json").read_text())
    assert [c["name"] for c in data["categories"]] == ["polyp", "lesion"]
    polyps = [x for x in data["annotations"] if x["category_id"] == 1]
    assert len(polyps) == 2  # the polygon and the rectangle do not touch: two lesions
    manifest = json.loads((coco / "manifest.json").read_text())
    assert {(m["image"], m["class"], m["source"]) for m in manifest["masks"]} == {
        ("a", "polyp", "label"), ("b", "polyp", "label"), ("a", "lesion", "prediction")}

    out = tmp_path / "h5"
    assert cli.main(["export", str(proj), "--class", "all", "--format", "hdf5", "--out", str(out)]) == 0
    with h5py.File(out / "polyp.h5") as f:
        assert sorted(f["labels"]) == ["a", "b"] and json.loads(f.attrs["manifest"])["human_labels"] == 2
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{c}.h5" for c in project.class_names)

    assert cli.main(["export", str(proj), "--class", "polyp,tumour", "--format", "coco", "--out",
                     str(tmp_path / "x")]) == 1
    assert capsys.readouterr().err.startswith("medseg: error: Class 'tumour' is not in")


def test_labelme_line_class_gets_no_labels_and_a_warning(tmp_path, capsys):
    proj = tmp_path / "proj"
    shapes = {"a": [{"label": "Polyp", "shape_type": "polygon", "points": [[2, 2], [8, 2], [8, 8], [2, 8]]},
                    {"label": "tool", "shape_type": "line", "points": [[0, 12], [19, 12]]}],
              "b": []}
    assert cli.main(["import", str(_labelme_folder(tmp_path, shapes)), str(proj), "--layout", "labelme"]) == 0
    out, err = capsys.readouterr()
    assert "(2 with 'Polyp' labels)" in out and "'tool' labels" not in out
    assert "medseg: warning: left out 1 shape(s) of 'tool' (1 line)" in err and "unlabelled (not background)" in err
    assert Project.open(proj).labelled_stems("tool") == []


def test_the_summary_names_each_class_left_out_for_want_of_masks(tmp_path, capsys):
    """An outside tester's nnU-Net export of lesion,cervix (cervix without masks) printed only '2 training cases
    (lesion)'; only manifest.json said cervix was left out."""
    from tests.workers.helpers import make_project

    project = make_project(tmp_path / "p", n=2, labelled=2)
    project.add_class("cervix", (0, 200, 255))
    capsys.readouterr()
    assert cli.main(["export", str(project.root), "--class", "lesion,cervix", "--format", "nnunet", "--source",
                     "labels", "--out", str(tmp_path / "Dataset001_X")]) == 0
    out = capsys.readouterr().out.strip()
    assert "2 training cases (lesion)" in out
    assert out.endswith("; nothing to export of cervix: no image has a label of it")
    assert cli.main(["export", str(project.root), "--class", "all", "--out", str(tmp_path / "png")]) == 0
    out = capsys.readouterr().out.strip()
    missing = [c for c in project.class_names if c != "lesion"]
    assert len(missing) >= 2 and out.startswith("Wrote 2 masks (0/255 PNG)")
    assert out.endswith(f"; nothing to export of {', '.join(missing)}: no image has a label or prediction of them")
    assert cli.main(["export", str(project.root), "--class", "lesion,cervix", "--format", "coco", "--out",
                     str(tmp_path / "coco")]) == 0  # the category is listed, without annotations
    assert capsys.readouterr().out.strip().endswith("; no annotations of cervix: no image has a label or prediction "
                                                    "of it")


def test_a_coco_or_nnunet_export_stopped_by_a_full_disk_runs_again(tmp_path, capsys, monkeypatch):
    """Fault injection: `medseg export --format coco|nnunet` stopped by a full disk was refused when run again
    (COCO: 'holds other files (images)…', nnU-Net: 'already holds an nnU-Net dataset'); it now completes it."""
    import errno
    import os

    from medseg_gui.core.interchange import coco, nnunet
    from tests.workers.helpers import make_project

    project = make_project(tmp_path / "p", n=3, labelled=3)
    for fmt, module, folder in (("coco", coco, "images"), ("nnunet", nnunet, "imagesTr")):
        out = tmp_path / fmt
        args = ["export", str(project.root), "--class", "lesion", "--format", fmt, "--out", str(out)]
        real = module.write_png

        def full_after_one(path, array, real=real):  # the disk fills up after the first image
            if path.parent.is_dir() and any(path.parent.iterdir()):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            return real(path, array)

        monkeypatch.setattr(module, "write_png", full_after_one)
        capsys.readouterr()
        assert cli.main(args) != 0
        assert "Export incomplete: could not write image 2 of 3 (1 written)" in capsys.readouterr().err
        monkeypatch.setattr(module, "write_png", real)
        assert cli.main(args) == 0
        assert len(list((out / folder).iterdir())) == 3 and (out / "manifest.json").is_file()


def test_export_hdf5_into_the_projects_own_folders_or_over_a_photo_is_refused_before_anything_is_written(tmp_path,
                                                                                                         capsys):
    """Outside CLI trial: `--hdf5 FILE` wrote projh/labels/lesion/zz.h5 and projh/images/zz.h5 (the rule `--out`
    follows refuses those folders), and `--hdf5 <a photo>` was refused only after the PNGs were written."""
    from tests.workers.helpers import make_project

    project = make_project(tmp_path / "p", n=2, labelled=2)
    photo = project.image_path(project.stems[0])
    for target, says in ((project.root / "labels" / "lesion" / "zz.h5", "inside the project's own 'labels' folder"),
                         (photo.parent / "zz.h5", "inside the project's own 'images' folder"),
                         (photo, "inside the project's own 'images' folder"),
                         (tmp_path / "p_src" / photo.name, "is not an HDF5 export of this project"),
                         (tmp_path, "is a folder: name the HDF5 file")):
        out = tmp_path / "out"
        rc = cli.main(["export", str(project.root), "--class", "lesion", "--out", str(out), "--hdf5", str(target)])
        stdout, err = capsys.readouterr()
        assert rc == 1 and stdout == "" and says in err and len(err.splitlines()) == 1, (target, err)
        assert not out.exists() and not target.with_name("zz.h5").exists()
    assert cli.main(["export", str(project.root), "--class", "lesion", "--out", str(tmp_path / "out"), "--hdf5",
                     str(tmp_path / "fine.h5")]) == 0
    assert (tmp_path / "fine.h5").is_file()
    beside = project.root / "beside.h5"  # one .h5 file in the project folder replaces nothing (review)
    assert cli.main(["export", str(project.root), "--class", "lesion", "--out", str(tmp_path / "out2"), "--hdf5",
                     str(beside)]) == 0 and beside.is_file()
