"""core.remove_images: every file of an image moved into .removed/, never deleted; project.json and the score files
consistent after a failure; a folder project's photo stays and is not listed again until added again."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.images import write_png
from medseg_gui.core.interchange.manifest import provenance_path, record_predictions
from medseg_gui.core.project import Project
from medseg_gui.core.remove_images import RECORD, REMOVED_FOLDER, remove_images
from medseg_gui.core.uncertainty import UncertaintyScores
from tests.workers.helpers import disc, make_images, make_project


def _fill(project: Project, stem: str) -> None:
    """A label of both classes, a region of interest, predictions and score entries for `stem`."""
    for cls in ("lesion", "vessel"):
        project.save_label(cls, stem, disc())
        project.save_prediction(cls, stem, disc().astype(np.float32))
        project.save_metrics(cls, {s: {"auc": 0.9, "dice": math.nan} for s in project.stems})
        scores = UncertaintyScores()
        for s in project.stems:
            scores.put(s, 0.5, 0.5)
        project.save_uncertainty(cls, scores)
        record_predictions(project, cls, project.stems, {"id": "m1"})
    project.save_roi(stem, np.ones_like(disc()))


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_managed_project_moves_every_file_and_drops_every_entry(tmp_path):
    project = make_project(tmp_path / "p", n=3)
    _fill(project, "img1")
    project.set_state("img1", "none", ["vessel"])
    removed = remove_images(project, ["img1"])

    assert removed.problem is None and [i.stem for i in removed.images] == ["img1"]
    image = removed.images[0]
    assert image.labels == 2 and image.photo_kept is None
    assert image.folder.parent == project.root / REMOVED_FOLDER and image.folder.name.startswith("img1-")
    moved = {"labels/lesion/img1.png", "labels/vessel/img1.png", "roi/img1.png", "predictions/lesion/img1.png",
             "predictions/vessel/img1.png", "images/img1.png"}
    assert set(image.files) == moved
    assert {p for p in moved if (image.folder / p).is_file()} == moved  # same layout inside the removed folder
    assert not any((project.root / p).exists() for p in moved)
    for reopened in (project, Project.open(project.root)):
        assert reopened.stems == ["img0", "img2"]
    for cls in ("lesion", "vessel"):
        assert set(project.load_metrics(cls)) == {"img0", "img2"}
        assert set(project.load_uncertainty(cls).scores) == {"img0", "img2"}
        assert set(project.load_uncertainty(cls).thresholds) == {"img0", "img2"}
        assert set(json.loads(provenance_path(project, cls).read_text())) == {"img0", "img2"}
    record = json.loads((image.folder / RECORD).read_text())
    assert record["state"]["none"] == ["vessel"] and record["path"] == "images/img1.png"
    assert record["scores"]["predictions/lesion/metrics.json"]["img1"]["auc"] == 0.9
    assert "Nothing was deleted" in removed.summary() and str(image.folder) in removed.summary()
    # reopening the folder (as the window does) does not list it again: its photo is no longer in images/
    assert Project.open_or_create_for_folder(project.root).stems == ["img0", "img2"]


def test_folder_project_keeps_the_photo_and_does_not_list_it_again_until_added(tmp_path):
    folder = tmp_path / "clinic"
    make_images(folder, n=3)
    project = Project.open_or_create_for_folder(folder)
    project.save_label("lesion", "img0", disc())
    removed = remove_images(project, ["img0"])

    assert removed.images[0].photo_kept == "img0.png" and removed.images[0].files == ("labels/lesion/img0.png",)
    assert (folder / "img0.png").is_file() and not (folder / "labels/lesion/img0.png").exists()
    assert project.refresh_images() == [] and project.stems == ["img1", "img2"]
    assert Project.open_or_create_for_folder(folder).stems == ["img1", "img2"]
    assert json.loads((folder / "project.json").read_text())["excluded"] == ["img0.png"]
    assert "stays in the folder" in removed.summary()

    again = Project.open_or_create_for_folder(folder)
    again.add_image(folder / "img0.png")  # File → Add images… on it
    assert "img0" in again.stems and again.excluded == ()
    assert "img0" in Project.open_or_create_for_folder(folder).stems


def test_a_project_json_rebuilt_after_damage_keeps_a_removed_photo_out(tmp_path):
    """A verification trial moved a damaged project.json aside, as the dialog advises: the rebuilt project listed the
    photo removed (withdrawn consent) again, "excluded" being lost with the file; its .removed record keeps it out."""
    folder = tmp_path / "clinic"
    make_images(folder, n=3)
    remove_images(Project.open_or_create_for_folder(folder), ["img1"])
    (folder / "project.json").rename(tmp_path / "project.json.damaged")
    rebuilt = Project.open_or_create_for_folder(folder)
    assert rebuilt.stems == ["img0", "img2"] and rebuilt.excluded == ("img1.png",)


def test_read_only_project_is_refused_and_nothing_moves(tmp_path):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    before = _files(project.root)
    project.set_read_only("another window edits it")
    with pytest.raises(ProjectError, match="Nothing was removed: this project is open read-only"):
        remove_images(project, ["img0"])
    assert _files(project.root) == before and project.stems == ["img0", "img1"]


def test_unknown_image_is_refused_before_anything_moves(tmp_path):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    before = _files(project.root)
    with pytest.raises(ProjectError, match="no image called 'nope'"):
        remove_images(project, ["img0", "nope"])
    assert _files(project.root) == before


def test_a_failed_move_puts_the_image_back_and_says_what_was_removed(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", n=3, labelled=3)
    real = os.replace

    def flaky(src, dest):  # img0's files move; img1's label moves, its photo cannot
        if Path(src).name == "img1.png" and Path(src).parent.name == "images":
            raise PermissionError(13, "Permission denied", str(src))
        return real(src, dest)

    monkeypatch.setattr(os, "replace", flaky)
    removed = remove_images(project, ["img0", "img1", "img2"])
    monkeypatch.setattr(os, "replace", real)

    assert [i.stem for i in removed.images] == ["img0"]
    assert "'img1' was not removed" in removed.problem and "Permission denied" in removed.problem
    assert "img2 was not removed either" in removed.problem and "Every file is back" in removed.problem
    assert project.stems == Project.open(project.root).stems == ["img1", "img2"]
    for stem in ("img1", "img2"):  # listed, with their files where they were
        assert project.has_label("lesion", stem) and project.image_path(stem).is_file()
    assert [p.name for p in (project.root / REMOVED_FOLDER).iterdir()] == [removed.images[0].folder.name]


def test_a_failed_project_json_save_puts_the_files_back(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=2)
    before = _files(project.root)

    def refuse():
        raise ProjectError("Could not save project.json: No space left on device.")

    monkeypatch.setattr(project, "save", refuse)
    removed = remove_images(project, ["img0"])
    assert removed.images == () and "No space left on device" in removed.problem
    assert project.stems == ["img0", "img1"] and _files(project.root) == before


def test_the_labels_kept_aside_go_with_the_image_and_another_images_stay(tmp_path):
    """Consent withdrawn: the earlier outlines kept aside (a label replaced by an import or a restore, one that could
    not be read) leave with the image; `img1_2`'s own, named like img1's second copy, stays with img1_2."""
    project = make_project(tmp_path / "p", n=3)
    project.add_image(write_png(tmp_path / "img1_2.png", np.zeros((48, 64, 3), np.uint8)))
    aside = project.root / "labels" / "lesion" / ".replaced"
    aside.mkdir(parents=True)
    for name in ("img1.png", "img1_3.png", "img1_2.png", "img10.png"):
        (aside / name).write_bytes(b"kept")
    (project.root / "labels" / "lesion" / ".unreadable").mkdir()
    (project.root / "labels" / "lesion" / ".unreadable" / "img1.png").write_bytes(b"damaged")
    imported = project.root / "replaced-labels" / "20261207-101010" / "lesion"
    imported.mkdir(parents=True)
    (imported / "img1.png").write_bytes(b"old")
    [removed] = remove_images(project, ["img1"]).images
    assert sorted(removed.files) == ["images/img1.png", "labels/lesion/.replaced/img1.png",
                                     "labels/lesion/.replaced/img1_3.png", "labels/lesion/.unreadable/img1.png",
                                     "replaced-labels/20261207-101010/lesion/img1.png"]
    assert sorted(p.name for p in aside.iterdir()) == ["img10.png", "img1_2.png"]
    assert (removed.folder / "replaced-labels" / "20261207-101010" / "lesion" / "img1.png").read_bytes() == b"old"
