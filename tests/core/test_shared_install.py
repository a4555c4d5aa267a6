"""A shared read-only install (`chmod -R a-w /opt/medseg`, an outside trial): every copy the program makes of its own
resources into the user's folders is the user's to change and delete (folders u+rwx, files u+rw), and a copy with
read-only modes left by an older version or a failed run is made writable or replaced, never a dead end.

Modes are checked, not only what a write or a removal does, so the tests mean the same when run as root (who may
write and remove anyway): the removal's shutil.rmtree is watched, and must find every folder u+rwx."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from datetime import date
from pathlib import Path

import pytest

from medseg_gui.core.demo import DEMO_MARKER, demo_source, ensure_demo_copy, prepare_demo_output
from medseg_gui.core.project import Project
from medseg_gui.core.resources import copy_resource, make_user_writable, remove_copy

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def _read_only(root: Path) -> Path:
    """`chmod -R a-w root`, as an administrator does to an install in /opt."""
    for folder, dirs, files in os.walk(root, topdown=False):
        for name in files:
            (Path(folder) / name).chmod(0o444)
        Path(folder).chmod(0o555)
    return root


def _assert_users(root: Path) -> None:
    """Every folder under `root` (itself included) is u+rwx and every file u+rw."""
    items = [root, *root.rglob("*")]
    assert len(items) >= 3
    for item in items:
        mode = item.stat().st_mode
        wanted = stat.S_IRWXU if item.is_dir() else stat.S_IRUSR | stat.S_IWUSR
        assert mode & wanted == wanted, f"{item}: {stat.filemode(mode)}"


def _old_copy(src: Path, dest: Path) -> Path:
    """What an older version left: a copy carrying the install's read-only modes (shutil.copytree copies them)."""
    shutil.copytree(src, dest)
    return _read_only(dest)


@pytest.fixture
def shared_install(tmp_path, monkeypatch):
    """A PyInstaller-like bundle whose resources/ (both demos) are read-only; resource_path finds it first."""
    internal = tmp_path / "opt" / "medseg" / "_internal"
    for which in ("vessel", "lesion"):
        src = demo_source(which)
        shutil.copytree(src, internal / "resources" / src.name)
    _read_only(tmp_path / "opt")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    assert demo_source().is_relative_to(internal)
    yield internal / "resources"
    make_user_writable(tmp_path / "opt")  # so that pytest can remove it


def test_copy_resource_gives_a_read_only_tree_user_modes_and_the_same_bytes(tmp_path):
    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "x.bin").write_bytes(b"\x00\x01")
    (src / "top.txt").write_text("t")
    _read_only(src)
    single = copy_resource(src / "top.txt", tmp_path / "single.txt")
    (tmp_path / "user").mkdir()
    copy = copy_resource(src, tmp_path / "user" / "copy")
    _assert_users(copy)
    assert single.read_text() == "t" and single.stat().st_mode & 0o600 == 0o600
    assert (copy / "a" / "b" / "x.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == sorted(p.relative_to(src) for p in src.rglob("*"))
    assert stat.S_IMODE(src.stat().st_mode) == 0o555  # the source is left as it is
    make_user_writable(src)



def test_a_folder_that_cannot_be_listed_fails_the_copy_not_skipped(tmp_path, monkeypatch):
    """os.walk skips what it cannot list; copy_resource (like shutil.copytree before it) raises instead of making an
    incomplete copy look complete (review 2 #2), and so does make_user_writable."""
    src = tmp_path / "src"
    (src / "labels" / "vessel").mkdir(parents=True)
    (src / "labels" / "vessel" / "a.png").write_bytes(b"x")
    real = os.scandir

    def scandir(path="."):
        if Path(path).name == "labels":  # as a subfolder a non-root user may not list (mode 0o311)
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(PermissionError):
        copy_resource(src, tmp_path / "copy")
    with pytest.raises(PermissionError):
        make_user_writable(src)


def test_make_user_writable_and_remove_copy_undo_an_older_versions_read_only_copy(tmp_path, monkeypatch):
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    (src / "images" / "a.png").write_bytes(b"png")
    old = _old_copy(src, tmp_path / "old")
    assert make_user_writable(old) == 3  # old/, images/, a.png
    _assert_users(old)
    assert make_user_writable(old) == 0  # nothing left to change
    half = _old_copy(src, tmp_path / "half")
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):  # root's rmtree removes read-only folders anyway: check what a user's needs
        _assert_users(Path(path))
        removed.append(Path(path))
        real_rmtree(path, *args, **kwargs)

    removed: list[Path] = []
    monkeypatch.setattr(shutil, "rmtree", rmtree)
    remove_copy(half)
    assert removed == [half] and not half.exists()
    remove_copy(half)  # none: nothing to do


def test_the_demo_copy_from_a_read_only_install_is_writable(shared_install, tmp_path):
    dest = ensure_demo_copy(tmp_path / "data" / "demo")
    _assert_users(dest)
    assert Project.open(dest).stems == Project.open(demo_source()).stems
    lesion = ensure_demo_copy(tmp_path / "data" / "demo_lesion", "lesion")
    _assert_users(lesion)
    assert os.access(dest / "labels" / "vessel", os.W_OK)


def test_an_older_versions_read_only_demo_copy_is_made_writable_and_kept(shared_install, tmp_path):
    dest = _old_copy(demo_source(), tmp_path / "data" / "demo")
    edited = dest / "labels" / "vessel" / "Image_01L.png"
    before = edited.read_bytes()
    assert ensure_demo_copy(dest) == dest
    _assert_users(dest)
    assert edited.read_bytes() == before  # reused, not copied again


def test_a_half_made_read_only_demo_copy_is_replaced(shared_install, tmp_path):
    data = tmp_path / "data"
    half = _old_copy(demo_source(), data / "demo.copying")  # a copy cut off before it was renamed
    stale = _old_copy(demo_source() / "images", data / "demo")  # a folder without its project.json
    dest = ensure_demo_copy(data / "demo")
    assert not half.exists() and dest == stale
    _assert_users(dest)
    assert (dest / "project.json").is_file()
    kept = data / f"demo (kept {date.today():%Y-%m-%d})"  # not deleted: it may hold the user's files
    assert sorted(p.name for p in kept.iterdir()) == sorted(p.name for p in (demo_source() / "images").iterdir())


def test_a_demo_folder_without_its_project_json_is_moved_aside_never_deleted(tmp_path, caplog):
    """Review 2 #5: the user moved a damaged project.json aside, as the app advises; the next open deleted the whole
    folder, labels included, to copy the demo afresh."""
    data = tmp_path / "data"
    label = data / "demo" / "labels" / "vessel" / "mine.png"
    label.parent.mkdir(parents=True)
    label.write_bytes(b"my label")
    (data / "demo (kept 2026-01-01)").mkdir()  # an older one of another day: left as it is
    today = date.today()
    (data / f"demo (kept {today:%Y-%m-%d})").mkdir()  # one of today: the next free name is taken
    dest = ensure_demo_copy(data / "demo")
    assert Project.open(dest).stems == Project.open(demo_source()).stems
    kept = data / f"demo (kept {today:%Y-%m-%d}, 2)"
    assert (kept / "labels" / "vessel" / "mine.png").read_bytes() == b"my label"
    assert str(kept) in caplog.text


def test_medseg_demo_out_from_a_read_only_install_and_after_an_older_versions_failed_run(shared_install, tmp_path):
    """The trial: `medseg demo --out ~/d` failed writing its marker into the read-only copy, and the next run failed
    removing that copy (a folder the user could not even `rm -rf`)."""
    out = tmp_path / "d"
    out.mkdir()
    (out / DEMO_MARKER).write_text("made by medseg demo\n")
    _old_copy(demo_source(), out / ".project.copying")
    project = prepare_demo_output(out)
    assert project == out / "project" and not (out / ".project.copying").exists()
    _assert_users(project)
    assert (project / DEMO_MARKER).is_file()
    again = prepare_demo_output(out)  # a second run replaces its own copy
    _assert_users(again)
    assert Project.open(again).stems == Project.open(demo_source()).stems
