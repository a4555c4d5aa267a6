"""atomic_write_*: complete new file or untouched old file, never a temp file left behind; sweeping strays."""

import json
import os
from pathlib import Path

import pytest

from medseg_gui.core.atomic import _host_tag, atomic_write_bytes, atomic_write_json, is_temp_name, sweep_temp_files


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


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)  # reaped by run(): no such process any more


def test_temp_files_are_hidden_owner_tagged_and_recognised(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: seen.append(Path(src).name) or real_replace(src, dst))
    atomic_write_bytes(tmp_path / "a.png", b"x")
    (name,) = seen
    assert name.startswith(".a.png.medseg-") and f"-{os.getpid()}-" in name and name.endswith(".tmp")
    assert is_temp_name(name)


def test_sweep_removes_dead_owners_and_stale_files_only(tmp_path):
    import time

    host = _host_tag()
    dead = tmp_path / f".x.png.medseg-{host}-{_dead_pid()}-abcd1234.tmp"
    alive = tmp_path / f".y.png.medseg-{host}-{os.getpid()}-abcd1234.tmp"
    other_host = tmp_path / f".z.png.medseg-{host}x-{_dead_pid()}-abcd1234.tmp"  # cannot know: keep while young
    candidate = tmp_path / f".candidate.medseg-{host}-{_dead_pid()}-abcd1234.keras"
    legacy_young = tmp_path / ".project.json.k2j4h5g6.tmp"
    legacy_old = tmp_path / ".l.png.q1w2e3r4.tmp"
    old_alive = tmp_path / f".o.png.medseg-{host}-{os.getpid()}-zzzz1234.tmp"
    user_files = [tmp_path / n for n in (".DS_Store", "notes.tmp", ".hidden.png", "a.png", ".a.png.tmp")]
    for p in [dead, alive, other_host, candidate, legacy_young, legacy_old, old_alive, *user_files]:
        p.write_bytes(b"x")
    other_host_old = tmp_path / f".w.png.medseg-{host}x-{os.getpid()}-abcd1234.tmp"
    other_host_skewed = tmp_path / f".v.png.medseg-{host}x-{os.getpid()}-abcd1234.tmp"  # 30 min: maybe clock skew
    for p in (other_host_old, other_host_skewed):
        p.write_bytes(b"x")
    for p, age in [(legacy_old, 7200), (old_alive, 1200), (other_host_old, 7200), (other_host_skewed, 1800),
                   (user_files[0], 7200), (user_files[1], 7200)]:
        os.utime(p, (time.time() - age, time.time() - age))
    removed = sweep_temp_files(tmp_path)
    assert sorted(removed) == sorted([dead, candidate, legacy_old, old_alive, other_host_old])
    assert sorted(tmp_path.iterdir()) == sorted([alive, other_host, other_host_skewed, legacy_young, *user_files])


def test_sweep_of_a_missing_folder_is_a_no_op(tmp_path):
    assert sweep_temp_files(tmp_path / "nope") == []


def test_project_open_sweeps_stray_temp_files(tmp_path):
    from medseg_gui.core.project import Project

    project = Project.create(tmp_path / "p")
    cls = project.class_names[0]
    stray = [tmp_path / "p" / f".project.json.medseg-{_host_tag()}-{_dead_pid()}-abcd1234.tmp",
             tmp_path / "p" / "labels" / cls / f".a.png.medseg-{_host_tag()}-{_dead_pid()}-abcd1234.tmp"]
    for p in stray:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half")
    Project.open(tmp_path / "p")
    assert not any(p.exists() for p in stray)


def test_untaken_numbers_a_name_until_it_is_free(tmp_path):
    from medseg_gui.core.atomic import untaken

    path = tmp_path / "a.png"
    named = lambda n: f"a_{n}.png"  # noqa: E731
    assert untaken(path, named) == path
    path.write_bytes(b"")
    (tmp_path / "a_2.png").mkdir()  # a folder takes a name too
    assert untaken(path, named) == tmp_path / "a_3.png"
