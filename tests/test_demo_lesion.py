"""The bundled lesion demo: a valid, small, credited project of PolypGen C1 training photos (never its test split),
copied on demand, and `medseg demo --lesion` runs the headless loop on it."""

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from medseg_gui import cli
from medseg_gui.core.demo import DEMOS, demo_source, ensure_demo_copy, prepare_demo_output
from medseg_gui.core.errors import ProjectError
from medseg_gui.core.project import Project

SPLITS = Path("/work/shared/data/polypgen/splits.csv")
TINY = ["--max-steps", "2", "--steps-per-epoch", "2", "--patch-size", "32", "--batch-size", "2", "--base-filters", "4"]


def test_lesion_demo_is_a_small_valid_project_with_most_images_labelled():
    src = demo_source("lesion")
    project = Project.open(src)
    assert project.class_names == ["lesion"]
    labelled = project.labelled_stems("lesion")
    assert 8 <= len(project.stems) <= 10 and len(project.stems) - len(labelled) == 2
    for stem in project.stems:
        h, w = project.load_image(stem).shape[:2]
        assert max(h, w) <= 640
        if stem in labelled:
            mask = cv2.imread(str(project.label_path("lesion", stem)), cv2.IMREAD_UNCHANGED)
            assert mask.shape == (h, w) and set(np.unique(mask)) == {0, 255}
            assert 0.01 < (mask > 0).mean() < 0.5  # a visible polyp, not the whole frame
    assert sum(p.stat().st_size for p in src.rglob("*") if p.is_file()) < 1_500_000


def test_lesion_demo_is_credited():
    text = (demo_source("lesion") / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "PolypGen" in text and "10.1038/s41597-023-01981-y" in text


@pytest.mark.skipif(not SPLITS.is_file(), reason="needs the PolypGen split list of the shared data folder")
def test_lesion_demo_photos_come_from_the_c1_training_split_only():
    with open(SPLITS) as fh:
        split = {r["stem"]: (r["centre"], r["split"]) for r in csv.DictReader(fh)}
    assert {split.get(stem) for stem in Project.open(demo_source("lesion")).stems} == {("C1", "train")}


def test_each_demo_is_copied_to_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("medseg_gui.core.demo.user_data_dir", lambda: tmp_path)
    lesion = ensure_demo_copy(which="lesion")
    vessel = ensure_demo_copy()
    assert lesion == tmp_path / DEMOS["lesion"].folder and vessel == tmp_path / DEMOS["vessel"].folder
    assert Project.open(lesion).class_names == ["lesion"] and "vessel" in Project.open(vessel).class_names
    assert sorted(p.name for p in (lesion / "images").iterdir()) == sorted(
        p.name for p in (demo_source("lesion") / "images").iterdir())


def test_unknown_demo_is_a_clear_error(tmp_path):
    with pytest.raises(ProjectError, match="no 'kidney' demo"):
        prepare_demo_output(tmp_path / "out", "kidney")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_medseg_demo_lesion_runs_the_headless_loop(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo", "--lesion", "--out", str(out), *TINY]) == 0
    project = Project.open(out / "project")
    assert project.class_names == ["lesion"]
    assert sorted(p.stem for p in (out / "masks" / "lesion").glob("*.png")) == sorted(project.stems)
    with open(out / "report.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["image"] for r in rows if r["labelled"] == "True"} == set(project.labelled_stems("lesion"))
    printed = capsys.readouterr().out
    assert "training 'lesion'" in printed and "false_lesions" in printed  # a lesion table keeps the lesion counts
