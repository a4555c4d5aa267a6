"""atomic_write_*: complete new file or untouched old file, never a temp file left behind."""

import json
import os

import pytest

from medseg_gui.core.atomic import atomic_write_bytes, atomic_write_json


def test_writes_bytes_and_creates_parents(tmp_path):
    target = tmp_path / "a" / "b" / "file.bin"
    assert atomic_write_bytes(target, b"hello") == target
    assert target.read_bytes() == b"hello"
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_json_round_trip_unicode(tmp_path):
    target = tmp_path / "größe.json"
    atomic_write_json(target, {"stem": "Bild_ü", "n": [1, 2]})
    assert json.loads(target.read_text(encoding="utf-8")) == {"stem": "Bild_ü", "n": [1, 2]}


def test_failed_replace_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "project.json"
    atomic_write_json(target, {"v": 1})

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_json(target, {"v": 2})
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["project.json"]


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "data.bin"
    atomic_write_bytes(target, b"old")

    def boom(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_unserialisable_json_leaves_nothing(tmp_path):
    target = tmp_path / "x.json"
    with pytest.raises(TypeError):
        atomic_write_json(target, {"x": object()})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path):
    import stat

    mask = os.umask(0o022)
    os.umask(mask)
    new = atomic_write_bytes(tmp_path / "new.bin", b"x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~mask
    new.chmod(0o640)
    atomic_write_bytes(new, b"y")
    assert stat.S_IMODE(new.stat().st_mode) == 0o640
