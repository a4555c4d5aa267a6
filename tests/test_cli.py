"""`medseg` CLI: the import → train → predict → evaluate → export round trip, what the headless demo must write,
bad input."""

import csv
import json
import sys

import cv2
import imageio.v3 as iio
import numpy as np
import pytest

from medseg_gui import cli
from medseg_gui.core.images import read_image, write_png
from medseg_gui.core.project import Project
from medseg_gui.ml import store
from tests.workers.helpers import saved_scores

TINY = ["--max-steps", "3", "--steps-per-epoch", "3", "--patch-size", "32", "--batch-size", "4", "--base-filters", "8"]


def synthetic_pair(rng, h=56, w=60):
    """An RGB image with dark random lines (vessels) on a bright disc; returns (image, vessel mask, fov mask)."""
    yy, xx = np.mgrid[:h, :w]
    fov = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(h, w) / 2 - 2) ** 2
    mask = np.zeros((h, w), np.uint8)
    for _ in range(4):
        p1 = tuple(int(v) for v in rng.integers(0, [w, h]))
        p2 = tuple(int(v) for v in rng.integers(0, [w, h]))
        cv2.line(mask, p1, p2, 1, 2)
    image = np.full((h, w, 3), 40, np.uint8)
    image[fov] = (200, 120, 60)
    image[(mask > 0) & fov] = (90, 40, 20)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    return image, (mask > 0) & fov, fov


def vessel_project(root, rng, n: int = 3):
    """A project at `root` of `n` synthetic fundus images (synthetic_pair), each with its vessel label; their masks."""
    project = Project.create(root)
    masks = []
    for i in range(n):
        image, mask, _ = synthetic_pair(rng)
        write_png(root.parent / f"img{i}.png", image)
        project.save_label("vessel", project.add_image(root.parent / f"img{i}.png").stem, mask)
        masks.append(mask)
    return project, masks


@pytest.fixture
def drive_folder(tmp_path):
    rng = np.random.default_rng(3)
    root = tmp_path / "DRIVE"
    for split, numbers in (("training", (21, 22, 23)), ("test", (1,))):
        for sub in ("images", "1st_manual", "mask"):
            (root / split / sub).mkdir(parents=True)
        for n in numbers:
            image, mask, fov = synthetic_pair(rng)
            stem = f"{n:02d}_{split}"
            iio.imwrite(root / split / "images" / f"{stem}.tif", image)
            iio.imwrite(root / split / "1st_manual" / f"{n:02d}_manual1.gif", mask.astype(np.uint8) * 255)
            iio.imwrite(root / split / "mask" / f"{stem}_mask.gif", fov.astype(np.uint8) * 255)
    return root


@pytest.mark.slow
def test_cli_round_trip_on_drive_layout(drive_folder, tmp_path, capsys, monkeypatch):
    proj = tmp_path / "proj"
    assert cli.main(["import", str(drive_folder), str(proj), "--layout", "drive"]) == 0
    project = Project.open(proj)
    assert sorted(project.stems) == ["01_test", "21_training", "22_training", "23_training"]
    assert len(project.labelled_stems("vessel")) == 4
    assert project.load_roi("21_training") is not None

    capsys.readouterr()
    assert cli.main(["-v", "train", str(proj), "--class", "vessel", "--epochs", "1", *TINY]) == 0
    assert store.current_model_path(proj / "models" / "vessel") is not None
    out, err = capsys.readouterr()
    assert "on 3 labelled images (1 of the dataset's test split not trained on" in out  # trial: DRIVE's test/
    assert "medseg: note: 3 labelled images: models from fewer than 8 are often weak" in err
    lines = err.splitlines()
    decided = [i for i, line in enumerate(lines) if line == f"medseg: info: {out.splitlines()[-1]}"]  # as logged
    assert decided and not [line for line in lines[decided[-1]:] if " · step " in line]  # no report after it

    assert cli.main(["predict", str(proj), "--class", "vessel"]) == 0
    prob = Project.open(proj).load_prediction("vessel", "01_test")
    assert prob.shape == (56, 60) and prob.dtype == np.float32

    capsys.readouterr()
    assert cli.main(["evaluate", str(proj), "--class", "vessel", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["images"]) == set(project.stems)
    per_image, pooled = saved_scores(Project.open(proj), "vessel", project.stems)  # the saved maps, scored here
    assert {s: m["auc"] for s, m in report["images"].items()} == pytest.approx(per_image, abs=1e-9)
    assert report["pooled"]["auc"] == pytest.approx(pooled, abs=1e-9)
    assert set(report["used"].values()) == {"train", "val", "test"}  # learnt from / held out / never trained on
    assert report["used"]["01_test"] == "test"
    assert cli.main(["evaluate", str(proj), "--class", "vessel"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[:2] == ["image", "used"]
    assert "hd95" in header.split() and not {"lesions", "found", "false_lesions"} & set(header.split())  # vessels
    assert set(report["images"]["01_test"]) >= {"lesions", "found"}  # --json keeps every key
    assert {r.split()[0]: r.split()[1] for r in rows[:4]} == report["used"] and "honest checks" in rows[-1]
    from medseg_gui.core.label_status import ACCEPTED_KEY, set_mark

    set_mark(Project.open(proj), "01_test", ACCEPTED_KEY, "vessel", True)  # its label: the model's own output
    assert cli.main(["evaluate", str(proj), "--class", "vessel", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["used"]["01_test"] == "accepted"  # not an honest check (trial)

    ext = drive_folder / "test" / "images" / "01_test.tif"
    out = tmp_path / "ext"
    assert cli.main(["predict", str(proj), "--class", "vessel", str(ext), "--out", str(out)]) == 0
    prob16 = cv2.imread(str(out / "01_test_prob.png"), cv2.IMREAD_UNCHANGED)
    mask = cv2.imread(str(out / "01_test_mask.png"), cv2.IMREAD_UNCHANGED)
    assert prob16.dtype == np.uint16 and prob16.shape == (56, 60)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
    np.testing.assert_array_equal(mask == 255, prob16 / 65535.0 >= 0.5)
    import errno

    from medseg_gui.core import images

    def too_large(path, data):
        raise OSError(errno.EFBIG, "File too large")

    with monkeypatch.context() as m:  # a file-size limit (fault-injection trial): the file named
        m.setattr(images, "atomic_write_bytes", too_large)
        capsys.readouterr()
        assert cli.main(["predict", str(proj), "--class", "vessel", str(ext), "--out", str(out), "--overwrite"]) == 1
    assert capsys.readouterr().err.strip() == (f"medseg: error: Could not write the prediction of 01_test.tif "
                                               f"({out / '01_test_prob.png'}): File too large")

    assert cli.main(["export", str(proj), "--class", "vessel", "--out", str(tmp_path / "masks")]) == 0
    exported = sorted(p.name for p in (tmp_path / "masks").glob("*.png"))
    assert exported == [f"{s}.png" for s in sorted(project.stems)]


def assert_demo_output(out, stdout: str) -> None:
    """What `medseg demo --out OUT` must leave: the project, a mask per image, overlays and a report whose AUCs are
    those of the saved maps (tests/test_packaging.py runs the demo from an installed wheel and checks it here)."""
    project = Project.open(out / "project")
    masks = sorted((out / "masks" / "vessel").glob("*.png"))
    assert [p.stem for p in masks] == sorted(project.stems)
    image = read_image(project.image_path(project.stems[0]))
    mask = cv2.imread(str(masks[0]), cv2.IMREAD_UNCHANGED)
    assert mask.shape == image.shape[:2] and set(np.unique(mask)) <= {0, 255}
    assert len(list((out / "overlays").glob("*.png"))) == len(project.stems)
    with open(out / "report.csv") as fh:
        rows = list(csv.DictReader(fh))
    labelled = {r["image"] for r in rows if r["labelled"] == "True"}
    assert labelled == set(project.labelled_stems("vessel"))
    per_image, _ = saved_scores(project, "vessel", sorted(labelled))  # what the report says = the saved maps
    assert {r["image"]: float(r["auc"]) for r in rows if r["image"] in labelled} == pytest.approx(per_image, abs=1e-3)
    assert "POOLED" not in stdout
    table = stdout[stdout.index("\nimage "):stdout.index("Done in")]  # a vessel table leaves out the lesion counts,
    assert "auc" in table and not {"lesions", "found", "recall", "false_lesions"} & set(table.split())  # as evaluate
    assert f"Predicted masks: {out / 'masks' / 'vessel'}" in stdout  # named <stem>.png: not labels (docs review)


def test_missing_project_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path / "nope"), "--class", "vessel"]) == 1
    assert capsys.readouterr().err == f"medseg: error: No project found: {tmp_path / 'nope'} does not exist.\n"
    (tmp_path / "nope").mkdir()  # a folder, but not a project (the line said this of a mistyped path too: trial)
    assert cli.main(["evaluate", str(tmp_path / "nope"), "--class", "vessel"]) == 1
    assert capsys.readouterr().err == f"medseg: error: No project found in {tmp_path / 'nope'} (project.json is " \
                                      "missing).\n"


@pytest.mark.parametrize("command", [["train", "p", "--class", "vessel"], ["demo", "--out", "d"]])
def test_minutes_and_epochs_are_one_or_the_other(command, tmp_path, capsys):
    """`--minutes 1 --epochs 2` ran two epochs and said nothing of the minutes (outside trial)."""
    with pytest.raises(SystemExit) as stop:
        cli.main([str(tmp_path / a) if a in ("p", "d") else a for a in command] + ["--minutes", "1", "--epochs", "2"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("medseg: error: argument --epochs: not allowed with argument "
                                                   "--minutes")


@pytest.mark.parametrize("which", [["--which", "vessel", "--lesion"], ["--lesion", "--which", "vessel"]])
def test_demo_which_and_lesion_are_one_or_the_other(which, tmp_path, capsys):
    """`medseg demo --which vessel --lesion` ran the lesion demo without a word (outside CLI trial)."""
    with pytest.raises(SystemExit) as stop:
        cli.main(["demo", "--out", str(tmp_path / "d"), *which])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "not allowed with argument" in err and err.count("\n") == 1
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("command", ["train", "demo"])
def test_init_help_names_the_shipped_start_of_either_kind(command, capsys):
    """Docs review: --help said auto starts from "the shipped pretrained lesion start"; a vessel run starts from the
    shipped vessels start."""
    from medseg_gui.ml.init import shipped_init

    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    assert "shipped pretrained start of the recipe's kind, vessels or lesions" in helped
    assert "lesion start" not in helped
    assert shipped_init("vessels") is not None and shipped_init("lesions") is not None


def test_unknown_class_is_a_clear_error(tmp_path, capsys):
    Project.create(tmp_path / "p")
    assert cli.main(["train", str(tmp_path / "p"), "--class", "tumour"]) == 1
    assert "tumour" in capsys.readouterr().err


def test_train_without_labels_is_a_clear_error(tmp_path, capsys):
    rng = np.random.default_rng(0)
    src = tmp_path / "plain"
    src.mkdir()
    cv2.imwrite(str(src / "a.png"), synthetic_pair(rng)[0])
    assert cli.main(["import", str(src), str(tmp_path / "p"), "--layout", "folder"]) == 0
    assert cli.main(["train", str(tmp_path / "p"), "--class", "vessel", *TINY]) == 1
    assert "No labelled images" in capsys.readouterr().err


def test_import_of_empty_folder_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["import", str(tmp_path / "empty"), str(tmp_path / "p"), "--layout", "chase"]) == 1
    assert "No images found" in capsys.readouterr().err


def test_cli_does_not_import_qt():
    import subprocess

    code = "import sys, medseg_gui.cli as c; c.build_parser(); print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_train_and_predict_refuse_a_project_another_program_is_editing(tmp_path, capsys):
    import subprocess

    Project.create(tmp_path / "p")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from medseg_gui.core.lock import acquire; "
         f"lock = acquire({str(tmp_path / 'p')!r}, 'medseg-gui'); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for command in (["train"], ["predict"]):
            assert cli.main([*command, str(tmp_path / "p"), "--class", "vessel"]) == 1
            err = capsys.readouterr().err
            assert err.startswith("medseg: error:") and "medseg-gui" in err and err.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()


def test_importing_a_folder_the_app_opened_says_where_its_labels_are(tmp_path, capsys):
    """The app keeps a plain folder's labels in the folder (a project in place): `medseg import` of it takes the
    images only, and says how to bring the labels (new-user trial: '0 with labels' and nothing else)."""
    from medseg_gui.core.project import Project
    from tests.workers.helpers import make_images

    make_images(tmp_path / "photos", 2)
    Project.open_or_create_for_folder(tmp_path / "photos")
    assert cli.main(["import", str(tmp_path / "photos"), str(tmp_path / "proj"), "--layout", "folder"]) == 0
    err = capsys.readouterr().err
    assert "is itself a medseg project" in err and f"--masks {tmp_path / 'photos' / 'labels'}/<class>" in err


@pytest.mark.slow
def test_an_external_fundus_photo_is_predicted_inside_its_estimated_field_of_view(tmp_path, capsys):
    """CLI trial, session 34: a model trained inside DRIVE's fields of view called 59 % of a new photo's black
    border vessel (nothing taught it otherwise); an image without a region of interest gets an estimated one."""
    from medseg_gui.core.fov import prediction_region
    from medseg_gui.core.images import read_image

    rng = np.random.default_rng(5)
    root = tmp_path / "DRIVE"
    for split, numbers in (("training", (21, 22)), ("test", (1,))):
        for sub in ("images", "1st_manual", "mask"):
            (root / split / sub).mkdir(parents=True)
        for n in numbers:
            image, mask, fov = synthetic_pair(rng, 96, 100)
            image[~fov] = 0  # a real fundus photo's border is black
            stem = f"{n:02d}_{split}"
            iio.imwrite(root / split / "images" / f"{stem}.tif", image)
            iio.imwrite(root / split / "1st_manual" / f"{n:02d}_manual1.gif", mask.astype(np.uint8) * 255)
            iio.imwrite(root / split / "mask" / f"{stem}_mask.gif", fov.astype(np.uint8) * 255)
    proj = tmp_path / "proj"
    assert cli.main(["import", str(root), str(proj), "--layout", "drive"]) == 0
    assert cli.main(["train", str(proj), "--class", "vessel", "--epochs", "1", *TINY]) == 0
    assert store.load_segmenter(proj / "models" / "vessel").metadata["trained_in_roi"] is True
    ext = root / "test" / "images" / "01_test.tif"
    assert cli.main(["predict", str(proj), "--class", "vessel", str(ext), "--out", str(tmp_path / "ext")]) == 0
    prob = cv2.imread(str(tmp_path / "ext" / "01_test_prob.png"), cv2.IMREAD_UNCHANGED)
    inside = prediction_region(read_image(ext))
    assert inside is not None and not prob[~inside].any() and prob[inside].any()


def test_import_of_a_folder_of_folders_says_where_the_images_are(tmp_path, capsys):
    from tests.workers.helpers import make_images

    make_images(tmp_path / "clinic" / "patient1", 2)
    assert cli.main(["import", str(tmp_path / "clinic"), str(tmp_path / "p"), "--layout", "folder"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("medseg: error: No images found")
    assert "It holds 2 images in the subfolder patient1: import one of those folders" in err[0]


@pytest.mark.slow
def test_predict_counts_what_it_predicted_and_scored(trained_project, tmp_path, capsys):
    """One photo that cannot be read any more: 'Predicted 3 of 4 images; metrics for 3 labelled images' counted its
    old scores (outside trial)."""
    root, first = str(trained_project.root), trained_project.stems[0]  # labelled, predicted, scored before
    trained_project.image_path(first).write_bytes(b"not an image")
    capsys.readouterr()
    assert cli.main(["predict", root, "--class", "lesion"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == ("Predicted 3 of 4 images (1 left out, listed above); metrics for 2 labelled "
                                    "images.")
    assert f"medseg: warning: {first} not predicted: " in err
    assert cli.main(["predict", root, "--class", "lesion", "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (  # docs review: named <stem>.png, they read as labels
        f"Wrote 3 predicted masks (threshold 0.5) to {tmp_path / 'o'} (1 left out, listed above); its manifest.json "
        "says which model made each.")
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted(
        [*(f"{s}.png" for s in trained_project.stems[1:]), "manifest.json"])
    model = store.list_models(trained_project.model_dir("lesion"))[-1].id
    assert cli.main(["models", root, "--class", "lesion", "--use", model, "--predict"]) == 0
    assert "Predicted 3 of 4 images with it (1 left out, listed above)." in capsys.readouterr().out.splitlines()
