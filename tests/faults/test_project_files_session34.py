"""Fault-injection trial, session 34: a project.json number out of range (a colour 1e999, a number of more than 4300
digits) crashed with a traceback; a stale lock on a read-only mount made opening fail instead of opening read-only;
a `.medseg.lock` that is a FIFO hung the CLI and the window for ever."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket

import pytest

from medseg_gui.core import lock as project_lock
from medseg_gui.core.errors import ProjectError
from medseg_gui.core.lock import LOCK_FILE, LockWatch, ProjectReadOnlyError, acquire, lock_or_reason, read_owner
from medseg_gui.core.project import Project
from tests.faults.cli_fakes import CLS, make_project, run_cli
from tests.faults.hangs import without_hanging
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import open_window


def _project_json(tmp_path, color: str = "[255, 215, 0]", extra: str = ""):
    text = ('{"format": "medseg-project", "version": 1, "layout": "managed", '
            f'"classes": [{{"name": "{CLS}", "color": {color}}}], "images": []{extra}}}')
    (tmp_path / "project.json").write_text(text)
    return tmp_path / "project.json"


@pytest.mark.parametrize(("color", "extra", "why"), [
    ("[1e999, 0, 0]", "", "must be three values from 0 to 255"),
    ("[255, 215, 0]", ', "note": ' + "9" * 5000, "Exceeds the limit (4300 digits)"),
])
def test_out_of_range_numbers_in_project_json_are_a_clear_error(tmp_path, capsys, color, extra, why):
    file = _project_json(tmp_path, color, extra)
    before = file.read_bytes()
    with pytest.raises(ProjectError, match="damaged") as info:
        Project.open(tmp_path)
    assert str(file) in str(info.value) and why in str(info.value)
    for command in (["models", tmp_path, "--class", CLS], ["evaluate", tmp_path, "--class", CLS]):
        rc, _, err = run_cli(capsys, *command)
        assert rc == 1 and len(err) == 1 and err[0].startswith("medseg: error:") and str(file) in err[0], err
    assert file.read_bytes() == before


def test_two_classes_with_one_name_are_named_in_plain_english(tmp_path):
    file = _project_json(tmp_path, extra="")
    doc = json.loads(file.read_text())
    doc["classes"].append({"name": CLS.upper(), "color": [1, 2, 3]})
    file.write_text(json.dumps(doc))
    with pytest.raises(ProjectError, match="two classes have the same name"):
        Project.open(tmp_path)


def _stale_lock(root) -> dict:
    stale = {"host": socket.gethostname(), "pid": 999_999_999, "started": "2020-01-01T00:00:00", "proc_start": 5}
    (root / LOCK_FILE).write_text(json.dumps(stale))
    return stale


def _read_only_renames(monkeypatch) -> None:
    """A read-only mount: the stale lock exists (O_EXCL says so), but it cannot be moved aside (we run as root)."""
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(project_lock.os, "replace", refuse)


def test_stale_lock_on_a_read_only_folder_opens_read_only(tmp_path, monkeypatch, caplog):
    stale = _stale_lock(tmp_path)
    _read_only_renames(monkeypatch)
    with caplog.at_level(logging.WARNING), pytest.raises(ProjectReadOnlyError, match="Read-only file system"):
        acquire(tmp_path)
    assert not caplog.records  # no "took over" claim before the one message
    lock, reason = lock_or_reason(tmp_path)
    assert lock is None and reason == f"the folder {tmp_path} cannot be written (Read-only file system)"
    assert json.loads((tmp_path / LOCK_FILE).read_text()) == stale and sorted(tmp_path.iterdir()) == [
        tmp_path / LOCK_FILE]


def test_stale_lock_on_a_read_only_folder_cli_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    project = make_project(tmp_path / "p", n=1)
    stale = _stale_lock(project.root)
    _read_only_renames(monkeypatch)
    rc, _, err = run_cli(capsys, "classes", project.root, "--add", "cervix")
    assert rc == 1 and len(err) == 1, err
    assert err[0] == f"medseg: error: The project folder {project.root} cannot be written (Read-only file system)."
    assert json.loads((project.root / LOCK_FILE).read_text()) == stale
    assert "cervix" not in Project.open(project.root).class_names


def test_stale_lock_on_a_read_only_folder_opens_read_only_in_the_window(tmp_path, qtbot, messages, monkeypatch):
    project = make_project(tmp_path / "p", n=2)
    _stale_lock(project.root)
    _read_only_renames(monkeypatch)
    window = open_window(qtbot)
    window.open_folder(project.root)
    qtbot.waitUntil(lambda: window.project is not None, timeout=10_000)
    assert window.read_only and "Read-only file system" in window.read_only
    assert window.banner.isVisible() and not messages


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_lock_that_is_not_a_regular_file_is_refusedwithout_hanging(tmp_path, capsys, kind):
    if kind == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("needs POSIX FIFOs")
    project = make_project(tmp_path / "p", n=1)
    path = project.root / LOCK_FILE
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    err = without_hanging(lambda: acquire(project.root), path)["err"]
    assert isinstance(err, ProjectReadOnlyError) and str(path) in str(err) and "not a regular file" in str(err)
    assert without_hanging(lambda: read_owner(project.root), path)["value"] is None
    why = without_hanging(lambda: LockWatch(project.root).check(), path)["value"]
    assert str(path) in why and "not a regular file" in why
    lock, reason = without_hanging(lambda: lock_or_reason(project.root), path)["value"]
    assert lock is None and str(path) in reason
    rc, _, lines = without_hanging(lambda: run_cli(capsys, "classes", project.root, "--add", "cervix"), path)["value"]
    assert rc == 1 and len(lines) == 1 and lines[0].startswith("medseg: error:") and str(path) in lines[0], lines
    assert path.exists() and not path.is_file()  # left as it was
