"""core.restore_images: a removed image comes back byte for byte with its marks and scores; refused, with nothing
moved, when anything would be overwritten; a folder project's excluded photo is listed again."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.interchange.manifest import provenance_path
from medseg_gui.core.project import Project
from medseg_gui.core.remove_images import REMOVED_FOLDER, remove_images
from medseg_gui.core import restore_images
from medseg_gui.core.restore_images import RESTORED_RECORD, find_removed, removed_images, restore_removed
from tests.core.test_remove_images import _files, _fill
from tests.workers.helpers import disc, make_images, make_project


def _contents(root: Path) -> dict[str, object]:
    """Each file's bytes (a score file's JSON: its entries may come back in another order), but project.json's."""
    return {p.relative_to(root).as_posix(): json.loads(p.read_text()) if p.suffix == ".json" else p.read_bytes()
            for p in root.rglob("*") if p.is_file() and p.name != "project.json"}


def test_remove_then_restore_brings_every_file_mark_and_score_back(tmp_path):
    project = make_project(tmp_path / "p", n=3)
    _fill(project, "img1")
    project.set_state("img1", "none", ["vessel"])
    before = _contents(project.root)
    metrics = project.load_metrics("lesion")["img1"]
    removed = remove_images(project, ["img1"]).images[0]

    [record] = removed_images(project.root)
    assert (record.stem, record.folder, record.labels) == ("img1", removed.folder, 2)
    assert record.removed_at[:2] == "20" and set(record.files) == set(removed.files)
    restored = restore_removed(project, "img1")

    assert restored.scores_due == () and restored.missing == () and set(restored.files) == set(removed.files)
    assert "Brought 'img1' back" in restored.summary() and "2 label(s)" in restored.summary()
    assert _contents(project.root) == before  # label, prediction, ROI and photo byte for byte; score entries
    assert not (project.root / REMOVED_FOLDER).exists() or not any((project.root / REMOVED_FOLDER).iterdir())
    for reopened in (project, Project.open(project.root)):
        assert set(reopened.stems) == {"img0", "img1", "img2"}
        assert reopened.entry("img1").state["none"] == ["vessel"]
    for cls in ("lesion", "vessel"):
        assert "img1" in project.load_uncertainty(cls).thresholds
        assert "img1" in json.loads(provenance_path(project, cls).read_text())
    assert project.load_metrics("lesion")["img1"] == metrics
    assert removed_images(project.root) == []


def test_a_removal_record_saved_with_a_bom_is_read_as_every_record_is(tmp_path):
    """removed.json edited in Windows Notepad (a UTF-8 BOM): read by project_format.read_json_file, as the files
    rewritten are (it was left out as damaged)."""
    project = make_project(tmp_path / "p", n=3)
    _fill(project, "img1")
    removed = remove_images(project, ["img1"]).images[0]
    record = removed.folder / "removed.json"
    record.write_bytes(b"\xef\xbb\xbf" + record.read_bytes())
    [found] = removed_images(project.root)
    assert found.stem == "img1"
    assert restore_removed(project, "img1").scores_due == () and "img1" in project.stems


def test_a_label_saved_after_restoring_is_not_taken_for_another_programs(tmp_path):
    """The label moved back was known as 'no file here' since its removal: the next save moved it to .replaced/."""
    project = make_project(tmp_path / "p", n=2, labelled=1)
    remove_images(project, ["img0"])
    restore_removed(project, "img0")
    project.save_label("lesion", "img0", disc(cx=30))
    assert not (project.root / "labels" / "lesion" / ".replaced").exists()


def test_restore_is_refused_when_a_file_of_that_name_is_there_and_nothing_moves(tmp_path):
    project = make_project(tmp_path / "p", n=2, labelled=2)
    folder = remove_images(project, ["img0"]).images[0].folder
    (project.root / "labels" / "lesion" / "img0.png").write_bytes(b"another label")  # drawn or copied since
    before = _files(project.root)
    with pytest.raises(ProjectError, match=r"not brought back \(nothing was moved\).*labels/lesion/img0.png is there"):
        restore_removed(project, folder.name)
    assert _files(project.root) == before and project.stems == ["img1"]
    assert (project.root / "labels" / "lesion" / "img0.png").read_bytes() == b"another label"


def test_restore_is_refused_when_the_image_is_listed_again(tmp_path):
    folder = tmp_path / "clinic"
    make_images(folder, n=2)
    project = Project.open_or_create_for_folder(folder)
    project.save_label("lesion", "img0", disc())
    remove_images(project, ["img0"])
    project.add_image(folder / "img0.png")  # File → Add images… on it
    before = _files(folder)
    with pytest.raises(ProjectError, match="lists an image 'img0'"):
        restore_removed(project, "img0")
    assert _files(folder) == before


def test_a_folder_projects_excluded_photo_comes_back_into_the_list(tmp_path):
    folder = tmp_path / "clinic"
    make_images(folder, n=3)
    project = Project.open_or_create_for_folder(folder)
    project.save_label("lesion", "img1", disc())
    label = (folder / "labels" / "lesion" / "img1.png").read_bytes()
    remove_images(project, ["img1"])
    assert project.excluded == ("img1.png",)

    restored = restore_removed(project, "img1")
    assert restored.files == ("labels/lesion/img1.png",) and project.excluded == ()
    assert (folder / "labels" / "lesion" / "img1.png").read_bytes() == label
    assert set(Project.open_or_create_for_folder(folder).stems) == {"img0", "img1", "img2"}
    (folder / "project.json").unlink()  # rebuilt: no record keeps it out any more
    assert set(Project.open_or_create_for_folder(folder).stems) == {"img0", "img1", "img2"}


def test_a_failed_move_puts_back_what_it_moved(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    project.save_roi("img0", np.ones_like(disc()))
    folder = remove_images(project, ["img0"]).images[0].folder
    inside = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    real = os.replace

    def flaky(src, dest):  # the photo and ROI move back (reverse order), the label cannot
        if Path(dest).parent.name == "lesion" and Path(dest).parents[1].name == "labels":
            raise PermissionError(13, "Permission denied", str(src))
        return real(src, dest)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(ProjectError, match="Permission denied.*nothing was moved"):
        restore_removed(project, "img0")
    monkeypatch.setattr(os, "replace", real)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == inside
    assert project.stems == Project.open(project.root).stems == ["img1"]
    assert restore_removed(project, "img0").labels == 1 and project.has_label("lesion", "img0")


def test_unknown_name_and_read_only_are_refused(tmp_path):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    folder = remove_images(project, ["img0"]).images[0].folder
    with pytest.raises(ProjectError, match=rf"No image 'nope' was removed.*img0 \({folder.name}\)"):
        find_removed(project.root, "nope")
    assert find_removed(project.root, folder).folder == folder  # its folder's path also names it
    project.set_read_only("another window edits it")
    with pytest.raises(ProjectError, match="Nothing was brought back: this project is open read-only"):
        restore_removed(project, "img0")
    assert (folder / "labels" / "lesion" / "img0.png").is_file()


def test_the_summary_counts_only_the_labels_that_came_back(tmp_path):
    """Review: a label file gone from the removed folder was still counted among the labels brought back."""
    project = make_project(tmp_path / "p", n=3)
    _fill(project, "img1")
    removed = remove_images(project, ["img1"]).images[0]
    gone = next(rel for rel in removed.files if rel.startswith("labels/"))
    (removed.folder / gone).unlink()
    restored = restore_removed(project, "img1")
    assert restored.missing == (gone,) and restored.labels == 1 and "(1 label(s))" in restored.summary()


def test_a_restore_cut_short_runs_again_and_says_what_was_back_already(tmp_path):
    """A fault-injection trial killed a restore after two of its three moves; the re-run brought the rest back and
    said the two files already in the project were 'not in that folder any more, so not brought back'."""
    project = make_project(tmp_path / "p", n=3)
    _fill(project, "img1")
    removed = remove_images(project, ["img1"]).images[0]
    early = [rel for rel in removed.files if not rel.startswith("labels/")][:1]
    for rel in early:  # moved back before the kill, the project.json entry not yet
        os.replace(removed.folder / rel, project.root / rel)
    restored = restore_removed(project, "img1")
    assert restored.missing == () and restored.already == tuple(early)
    assert f"Already back in the project before (a restore cut short): {early[0]}" in restored.summary()
    assert "not brought back" not in restored.summary() and "img1" in project.stems


def test_score_entries_that_cannot_be_written_back_stay_in_the_kept_record(tmp_path, monkeypatch):
    """Fault-injection trial: metrics.json could not be written, the summary said the scores come back with the next
    prediction, and the record folder (the only copy of its entries) was deleted."""
    project = make_project(tmp_path / "p", n=3)
    _fill(project, "img1")
    entry = json.loads((project.root / "predictions" / "lesion" / "metrics.json").read_text())["img1"]
    folder = remove_images(project, ["img1"]).images[0].folder
    real = restore_images.rewrite_json

    def full(path, data, read):
        if Path(path).name == "metrics.json" and Path(path).parent.name == "lesion":
            raise OSError(28, "No space left on device", str(path))
        return real(path, data, read)

    monkeypatch.setattr(restore_images, "rewrite_json", full)
    restored = restore_removed(project, "img1")
    kept = folder / RESTORED_RECORD
    assert restored.scores_due == ("predictions/lesion/metrics.json",) and restored.scores_kept == kept
    assert f"those not put back are kept in {kept}" in restored.summary()
    assert json.loads(kept.read_text())["scores"] == {"predictions/lesion/metrics.json": {"img1": entry}}
    assert removed_images(project.root) == [] and "img1" in project.stems
    assert "img1" in project.load_uncertainty("lesion").thresholds  # the files that could be written got theirs


def test_an_image_comes_back_where_it_stood_in_the_list(tmp_path):
    """A restored image was listed last: the clinician expects it back where it stood. Its place is the image it
    followed (else the one that followed it), so images removed together come back in order, whichever first."""
    project = make_project(tmp_path / "p", n=5)
    remove_images(project, ["img2"])
    restore_removed(project, "img2")
    assert project.stems == Project.open(project.root).stems == ["img0", "img1", "img2", "img3", "img4"]
    remove_images(project, ["img0", "img1", "img4"])  # the first, the one after it, and the last
    assert [(r.stem, r.listed_after, r.listed_before) for r in removed_images(project.root)] == [
        ("img0", None, "img1"), ("img1", None, "img2"), ("img4", "img3", None)]
    for stem, listed in (("img1", ["img1", "img2", "img3"]), ("img4", ["img1", "img2", "img3", "img4"]),
                         ("img0", ["img0", "img1", "img2", "img3", "img4"])):
        restore_removed(project, stem)
        assert project.stems == Project.open(project.root).stems == listed


def test_an_older_record_or_one_whose_neighbours_are_gone_comes_back_last(tmp_path):
    project = make_project(tmp_path / "p", n=4)
    remove_images(project, ["img1"])
    remove_images(project, ["img0", "img2"])  # img1's neighbours are gone
    restore_removed(project, "img1")
    assert project.stems == ["img3", "img1"]
    remove_images(project, ["img3"])
    [record] = (project.root / REMOVED_FOLDER).glob("img3-*/removed.json")
    data = json.loads(record.read_text())
    del data["listed_after"], data["listed_before"]  # as removed before the record had them
    record.write_text(json.dumps(data))
    restore_removed(project, "img3")
    assert project.stems == ["img1", "img3"]
