"""`medseg classes`: add, rename, recolour and delete a class from the command line, its labels following it, under
the project lock, and every refusal one `medseg: error:` line naming the project and the class."""

import numpy as np
import pytest

from medseg_gui import cli
from medseg_gui.core.images import write_png
from medseg_gui.core.lock import project_lock
from medseg_gui.core.project import Project


@pytest.fixture
def root(tmp_path):
    project = Project.create(tmp_path / "p")  # classes lesion and vessel
    write_png(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    stem = project.add_image(tmp_path / "a.png").stem
    project.save_label("lesion", stem, np.eye(8, dtype=bool))
    return project.root


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("medseg: error:")
    return err[0]


def test_add_rename_recolour_delete_keep_the_labels(root, capsys):
    assert cli.main(["classes", str(root), "--add", "cervix", "--colour", "#00c8ff", "--set-roi", "lesion=cervix"]) == 0
    assert Project.open(root).class_spec("cervix").color == (0, 200, 255)
    assert Project.open(root).class_spec("lesion").roi_class == "cervix"
    assert cli.main(["classes", str(root), "--rename", "lesion", "polyp"]) == 0
    project = Project.open(root)
    assert "lesion" not in project.class_names and project.class_spec("polyp").roi_class == "cervix"
    assert np.array_equal(project.load_label("polyp", "a"), np.eye(8, dtype=bool))
    assert cli.main(["classes", str(root), "--recolour", "polyp", "10,20,30"]) == 0
    assert Project.open(root).class_spec("polyp").color == (10, 20, 30)
    capsys.readouterr()

    assert cli.main(["classes", str(root), "--delete", "polyp"]) == 0
    out = capsys.readouterr().out
    moved_to = next(p for p in (root / "deleted classes").iterdir() if p.name.startswith("polyp "))
    assert str(moved_to) in out and (moved_to / "labels" / "a.png").is_file()
    assert "polyp" not in Project.open(root).class_names and not (root / "labels" / "polyp").exists()


def test_refusals_are_one_error_line_naming_project_and_class(root, capsys):
    assert cli.main(["classes", str(root), "--delete", "nope"]) == 1
    line = _error_line(capsys)
    assert "'nope'" in line and str(root) in line
    assert cli.main(["classes", str(root), "--add", "Vessel"]) == 1  # names differ only in case: one folder on Windows
    line = _error_line(capsys)
    assert "'Vessel'" in line and str(root) in line
    with project_lock(root, app="medseg-gui"):
        assert cli.main(["classes", str(root), "--rename", "vessel", "vessels"]) == 1
    line = _error_line(capsys)
    assert "medseg-gui" in line and str(root) in line
    with pytest.raises(SystemExit) as exit_info:  # argument misuse: 2, as argparse's own (outside CLI trial)
        cli.main(["classes", str(root), "--colour", "#ffffff"])
    assert exit_info.value.code == 2 and "--add" in _error_line(capsys)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["classes", str(root), "--recolour", "vessel", "#12345"])
    assert exit_info.value.code == 2 and "#12345" in _error_line(capsys)
    assert Project.open(root).class_names == ["lesion", "vessel"]


def test_a_region_set_or_cleared_is_confirmed_in_one_line(root, capsys):
    """`--set-roi lesion=vessel` printed only the table (outside trial); the window's status bar says the same."""
    assert cli.main(["classes", str(root), "--set-roi", "lesion=vessel"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (f"'lesion' is restricted to vessel: `medseg train {root} "
                                                       "--class lesion` trains it that way.")
    assert cli.main(["classes", str(root), "--clear-roi", "lesion"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (f"'lesion' covers the whole image again: `medseg train {root} "
                                                       "--class lesion` trains it that way.")
    assert Project.open(root).class_spec("lesion").roi_class is None


def test_remove_moves_the_image_and_its_label_aside_and_says_where(root, capsys):
    """`medseg remove PROJECT STEM`: the image leaves the list, its label and photo are under .removed/ (nothing
    deleted), and the output names the folder; an unknown name is one error line and removes nothing."""
    assert cli.main(["remove", str(root), "a", "b"]) == 1
    assert "no image called b; nothing was removed. Its images: a." in _error_line(capsys)
    assert Project.open(root).stems == ["a"]

    assert cli.main(["remove", str(root), "a"]) == 0
    out = capsys.readouterr().out
    [folder] = (root / ".removed").iterdir()
    assert f"moved to {folder}" in out and "Nothing was deleted" in out
    assert (folder / "labels" / "lesion" / "a.png").is_file() and (folder / "images" / "a.png").is_file()
    assert Project.open(root).stems == [] and not (root / "labels" / "lesion" / "a.png").exists()
    # run again (a script's retry): done already, said so, exit 0 (was: "no image called a", exit 1)
    assert cli.main(["remove", str(root), "a"]) == 0
    assert capsys.readouterr().out.strip() == f"'a' was removed before: its files are in {folder}."
    assert [p.name for p in (root / ".removed").iterdir()] == [folder.name]


def test_remove_is_refused_while_another_program_holds_the_project(root, capsys):
    with project_lock(root):
        assert cli.main(["remove", str(root), "a"]) == 1
    assert "medseg: error:" in _error_line(capsys)
    assert Project.open(root).stems == ["a"]


def test_remove_restore_brings_the_image_back_and_list_removed_lists_it(root, capsys):
    """`medseg remove PROJECT --restore IMAGE` (a research nurse moved the files out of the hidden .removed/ by hand):
    the image is listed again with its label; a file in its place is one error line and nothing moves."""
    label = (root / "labels" / "lesion" / "a.png").read_bytes()
    assert cli.main(["remove", str(root), "a"]) == 0
    [folder] = (root / ".removed").iterdir()
    capsys.readouterr()
    assert cli.main(["remove", str(root), "--list-removed"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["image", "removed", "labels", "folder"]
    assert out[1].split()[0] == "a" and out[1].split()[-2:] == ["1", folder.name]

    (root / "labels" / "lesion" / "a.png").write_bytes(b"drawn since")
    assert cli.main(["remove", str(root), "--restore", "a"]) == 1
    assert "'a' was not brought back (nothing was moved)" in _error_line(capsys)
    assert (folder / "labels" / "lesion" / "a.png").is_file() and Project.open(root).stems == []

    (root / "labels" / "lesion" / "a.png").unlink()
    assert cli.main(["remove", str(root), "--restore", folder.name]) == 0
    assert "Brought 'a' back into the project: 2 file(s) (1 label(s))" in capsys.readouterr().out
    assert Project.open(root).stems == ["a"] and (root / "labels" / "lesion" / "a.png").read_bytes() == label
    assert not folder.exists()
    assert cli.main(["remove", str(root), "--list-removed"]) == 0
    assert capsys.readouterr().out.strip() == f"No image was removed from {root}."
    with pytest.raises(SystemExit) as exit_:
        cli.main(["remove", str(root), "a", "--restore", "a"])
    assert exit_.value.code == 2


def test_remove_restore_lists_the_image_where_it_stood(tmp_path, capsys):
    """`medseg remove --restore` listed the image last; it goes back after the image it followed."""
    from tests.workers.helpers import make_project

    root = make_project(tmp_path / "p", n=3).root
    assert cli.main(["remove", str(root), "img1"]) == 0
    assert cli.main(["remove", str(root), "--restore", "img1"]) == 0
    assert Project.open(root).stems == ["img0", "img1", "img2"]
