"""core.removal_recovery: a removal or restore killed at any step (a step made to raise what no `except` catches,
as a SIGKILL leaves it) is finished when the project is opened again, from what is on disk, nothing deleted
(a crash-recovery trial: the image listed but its files in .removed/, or back but listed as a new image without its
marks, and Bring back refusing it ever after)."""

import json
import os
from pathlib import Path

import pytest

from medseg_gui.core import remove_images as removing, restore_images as restoring
from medseg_gui.core.atomic import _host_tag
from medseg_gui.core.project import Project
from medseg_gui.core.remove_images import REMOVED_FOLDER, remove_images
from medseg_gui.core.restore_images import removed_images, restore_removed
from tests.core.test_remove_images import _fill
from tests.workers.helpers import make_project


class Killed(BaseException):
    """The program killed there: nothing after it runs, no clean-up either."""


def _kill(monkeypatch, target, name, after: int = 0) -> None:
    """`target.name` runs `after` times, then the program is killed at its next call."""
    real, calls = getattr(target, name), []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, step)


def _contents(root: Path) -> dict[str, object]:
    return {p.relative_to(root).as_posix(): json.loads(p.read_text()) if p.suffix == ".json" else p.read_bytes()
            for p in root.rglob("*") if p.is_file() and p.name != "project.json" and REMOVED_FOLDER not in p.parts}


def _project(tmp_path: Path) -> Project:
    project = make_project(tmp_path / "p", n=3)
    _fill(project, "img1")
    project.set_state("img1", "none", ["vessel"])
    project.set_state("img1", "reviewed", True)
    return project


def _reopened(root: Path) -> Project:
    return Project.open_or_create_for_folder(root)


def _assert_removed(project: Project, root: Path) -> None:
    assert project.stems == ["img0", "img2"]
    [record] = removed_images(root)
    assert record.stem == "img1" and (record.folder / "images" / "img1.png").is_file()
    assert not (root / "images" / "img1.png").exists() and not (root / "labels" / "lesion" / "img1.png").exists()
    assert "img1" not in project.load_metrics("lesion")
    assert not list((root / REMOVED_FOLDER).glob("*/removing.json"))


@pytest.mark.parametrize("after", [1, 3])
def test_a_removal_killed_while_its_files_move_is_finished_at_the_next_opening(tmp_path, monkeypatch, after):
    project = _project(tmp_path)
    root = project.root
    _kill(monkeypatch, Project, "move_file", after)
    with pytest.raises(Killed):
        remove_images(project, ["img1"])
    monkeypatch.undo()
    assert removed_images(root) == []  # not offered to Bring back half removed

    reopened = _reopened(root)
    assert "removal of 'img1'" in reopened.recovered and reopened.recovered.endswith("(nothing was deleted)")
    _assert_removed(reopened, root)
    assert _reopened(root).recovered == ""  # finished once


def test_a_removal_killed_before_any_file_moved_is_undone(tmp_path, monkeypatch):
    project = _project(tmp_path)
    before = _contents(project.root)
    _kill(monkeypatch, Project, "move_file")
    with pytest.raises(Killed):
        remove_images(project, ["img1"])
    monkeypatch.undo()
    reopened = _reopened(project.root)
    assert "removal of 'img1'" in reopened.recovered and "undone" in reopened.recovered
    assert reopened.stems == ["img0", "img1", "img2"] and reopened.entry("img1").state["reviewed"] is True
    assert _contents(project.root) == before and not any((project.root / REMOVED_FOLDER).iterdir())


def test_a_refused_removal_whose_files_the_user_moved_back_by_hand_stays_undone(tmp_path, monkeypatch):
    """A move fails, one file cannot be moved back ("move them back by hand"): no opening carries the removal out."""
    project = _project(tmp_path)
    before = _contents(project.root)
    real, put_back = Project.move_file, []

    def move_file(self, src, dest):
        put_back.extend([src] if REMOVED_FOLDER in Path(src).parts else [])
        if Path(src).parent.name == "images" or len(put_back) == 1:
            raise OSError(28, "No space left on device", str(src))  # the photo's move, then the first put back
        return real(self, src, dest)

    monkeypatch.setattr(Project, "move_file", move_file)
    removed = remove_images(project, ["img1"])
    monkeypatch.undo()
    assert removed.images == () and "move them back by hand" in removed.problem
    [folder] = (project.root / REMOVED_FOLDER).iterdir()
    for path in [p for p in folder.rglob("*") if p.is_file() and p.suffix == ".png"]:
        os.replace(path, project.root / path.relative_to(folder))  # the user does as told

    reopened = _reopened(project.root)
    assert reopened.recovered == "" and removed_images(project.root) == []
    assert reopened.stems == ["img0", "img1", "img2"] and _contents(project.root) == before


def _new_image_named(project: Project, tmp_path: Path, stem: str) -> None:
    """`medseg import` of another photo of that name (it does not finish what was cut short)."""
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / f"{stem}.png").write_bytes((project.root / "images" / "img0.png").read_bytes())
    again = Project.open(project.root)
    assert again.add_image(tmp_path / "new" / f"{stem}.png").path == f"images/{stem}.png"
    again.set_state(stem, "note", "new")


def test_a_removal_cut_short_after_its_image_was_unlisted_leaves_a_new_image_of_that_name(tmp_path, monkeypatch):
    project = _project(tmp_path)
    _kill(monkeypatch, removing, "_drop_scores")
    with pytest.raises(Killed):
        remove_images(project, ["img1"])
    monkeypatch.undo()
    _new_image_named(project, tmp_path, "img1")
    new = _contents(project.root)

    reopened = _reopened(project.root)
    assert "removal of 'img1'" in reopened.recovered and "not finished" in reopened.recovered
    assert reopened.stems == ["img0", "img2", "img1"] and reopened.entry("img1").state["note"] == "new"
    assert "none" not in reopened.entry("img1").state  # not the removed image's marks
    assert _contents(project.root) == new
    [record] = removed_images(project.root)  # Bring back offers it, and says the new image is in the way
    assert record.stem == "img1" and (record.folder / "labels" / "lesion" / "img1.png").is_file()


def test_a_restore_cut_short_before_any_file_moved_does_not_mark_a_new_image_of_that_name(tmp_path, monkeypatch):
    project = _project(tmp_path)
    remove_images(project, ["img1"])
    _kill(monkeypatch, Project, "move_file")
    with pytest.raises(Killed):
        restore_removed(project, "img1")
    monkeypatch.undo()
    _new_image_named(project, tmp_path, "img1")
    new = _contents(project.root)

    reopened = _reopened(project.root)
    assert "bringing 'img1' back" in reopened.recovered and "not finished" in reopened.recovered
    assert reopened.entry("img1").state["note"] == "new" and "none" not in reopened.entry("img1").state
    assert _contents(project.root) == new
    [record] = removed_images(project.root)
    assert (record.folder / "labels" / "lesion" / "img1.png").is_file() and record.entry.state["reviewed"] is True


def test_a_removal_killed_after_project_json_was_saved_is_finished(tmp_path, monkeypatch):
    project = _project(tmp_path)
    _kill(monkeypatch, removing, "_drop_scores")
    with pytest.raises(Killed):
        remove_images(project, ["img1"])
    monkeypatch.undo()
    reopened = _reopened(project.root)
    assert "removal of 'img1'" in reopened.recovered
    _assert_removed(reopened, project.root)


def test_a_removal_killed_while_its_record_was_written_leaves_nothing_behind(tmp_path, monkeypatch):
    project = _project(tmp_path)
    before = _contents(project.root)
    _kill(monkeypatch, removing, "atomic_write_json")
    with pytest.raises(Killed):
        remove_images(project, ["img1"])
    monkeypatch.undo()
    [folder] = (project.root / REMOVED_FOLDER).iterdir()
    tmp = folder / f".removing.json.medseg-{_host_tag()}-{2 ** 22 + 7}-abcdefgh.tmp"  # its writer is gone
    tmp.write_text("{")

    reopened = _reopened(project.root)
    assert reopened.recovered == "" and not folder.exists()
    assert reopened.stems == ["img0", "img1", "img2"] and _contents(project.root) == before


@pytest.mark.parametrize("after", [0, 2])
def test_a_restore_killed_while_its_files_move_back_is_finished_with_the_marks(tmp_path, monkeypatch, after):
    project = _project(tmp_path)
    before = _contents(project.root)
    remove_images(project, ["img1"])
    _kill(monkeypatch, Project, "move_file", after)
    with pytest.raises(Killed):
        restore_removed(project, "img1")
    monkeypatch.undo()
    assert removed_images(project.root) == []  # not offered again with refusals

    reopened = _reopened(project.root)
    assert "bringing 'img1' back" in reopened.recovered
    assert reopened.stems == ["img0", "img1", "img2"]
    assert reopened.entry("img1").state["none"] == ["vessel"] and reopened.entry("img1").state["reviewed"] is True
    assert _contents(project.root) == before and not any((project.root / REMOVED_FOLDER).iterdir())


def test_a_restore_killed_after_project_json_was_saved_puts_the_scores_back(tmp_path, monkeypatch):
    project = _project(tmp_path)
    before = _contents(project.root)
    remove_images(project, ["img1"])
    _kill(monkeypatch, restoring, "_restore_scores")
    with pytest.raises(Killed):
        restore_removed(project, "img1")
    monkeypatch.undo()
    reopened = _reopened(project.root)
    assert "bringing 'img1' back" in reopened.recovered and reopened.stems == ["img0", "img1", "img2"]
    assert _contents(project.root) == before and removed_images(project.root) == []


def test_an_older_removal_record_of_a_listed_image_whose_photo_was_moved_is_finished(tmp_path):
    """The trial's state, left by a version that wrote removed.json first: the image listed, its files moved."""
    project = _project(tmp_path)
    listed = (project.root / "project.json").read_text()
    remove_images(project, ["img1"])
    (project.root / "project.json").write_text(listed)
    reopened = _reopened(project.root)
    assert "removal of 'img1'" in reopened.recovered
    _assert_removed(reopened, project.root)


def test_an_older_record_whose_files_are_all_back_is_finished_with_the_marks(tmp_path):
    """A restore killed by that version: the files back, project.json without the image, removed.json kept."""
    project = _project(tmp_path)
    before = _contents(project.root)
    folder = remove_images(project, ["img1"]).images[0].folder
    for path in [p for p in folder.rglob("*") if p.is_file() and p.name != "removed.json"]:
        os.replace(path, project.root / path.relative_to(folder))
    reopened = _reopened(project.root)
    assert "bringing 'img1' back" in reopened.recovered and reopened.stems == ["img0", "img1", "img2"]
    assert reopened.entry("img1").state["none"] == ["vessel"]
    assert _contents(project.root) == before and not folder.exists()


def test_a_completed_removal_is_left_alone_and_a_read_only_opening_changes_nothing(tmp_path, monkeypatch):
    project = _project(tmp_path)
    remove_images(project, ["img1"])
    assert _reopened(project.root).recovered == ""
    assert [r.stem for r in removed_images(project.root)] == ["img1"]

    _kill(monkeypatch, removing, "_drop_scores")
    with pytest.raises(Killed):
        remove_images(project, ["img2"])
    monkeypatch.undo()
    shown = Project.open_or_create_for_folder(project.root, read_only="a test")
    assert shown.recovered == "" and list((project.root / REMOVED_FOLDER).glob("*/removing.json"))
