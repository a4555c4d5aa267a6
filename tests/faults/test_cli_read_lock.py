"""`medseg export` and `evaluate` hold the project's lock while they read it (an outside CLI trial: an export run
during `medseg models --use X --predict` wrote 21 masks of the new model and 3 of the old under a manifest naming the
old; one during `classes --rename lesion polyp` wrote 19 of 25 images, status 0). Another command holding it refuses
them with one error line naming it; a window holding it is read as it saved the project, as before."""

from __future__ import annotations

import os

import pytest

from medseg_gui import pipeline
from medseg_gui.core import lock as project_lock
from medseg_gui.core.identity import GUI_NAME
from medseg_gui.core.interchange import formats
from medseg_gui.core.lock import LOCK_FILE, ProjectReadOnlyError, acquire, holder, read_owner
from tests.faults.cli_fakes import CLS, make_project, run_cli

COMMANDS = {"export": ["--out"], "evaluate": []}


def _args(command: str, root, out) -> list:
    return [command, root, "--class", CLS, *([*COMMANDS[command], out] if COMMANDS[command] else [])]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_changing_the_project_refuses_export_and_evaluate(tmp_path, capsys, command):
    project = make_project(tmp_path / "p")
    other = acquire(project.root)  # `medseg models --use X --predict`, say
    try:
        rc, out, err = run_cli(capsys, *_args(command, project.root, tmp_path / "out"))
    finally:
        other.release()
    assert rc == 1 and out == "" and len(err) == 1
    assert err[0].startswith("medseg: error: ") and f"process {os.getpid()}" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_export_and_evaluate_hold_the_lock_while_they_read(tmp_path, capsys, monkeypatch, command):
    project = make_project(tmp_path / "p")
    held = []

    def reading(real):
        def wrapped(*args, **kwargs):
            held.append(holder(project.root))
            return real(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(formats, "export_as", reading(formats.export_as))
    monkeypatch.setattr(pipeline, "evaluate_class", reading(pipeline.evaluate_class))
    rc, _out, err = run_cli(capsys, *_args(command, project.root, tmp_path / "out"))
    assert rc == 0 and err == []
    assert len(held) == 1 and held[0] is not None and (held[0].pid, held[0].app) == (os.getpid(), "medseg")
    assert not (project.root / LOCK_FILE).exists()  # released


@pytest.mark.parametrize("command", COMMANDS)
def test_a_window_holding_the_project_does_not_stop_export_or_evaluate(tmp_path, capsys, command):
    project = make_project(tmp_path / "p")
    window = acquire(project.root, app=GUI_NAME)
    who = window.owner.describe()
    try:
        rc, out, err = run_cli(capsys, *_args(command, project.root, tmp_path / "out"))
        assert read_owner(project.root) == window.owner  # still the window's
    finally:
        window.release()
    assert rc == 0 and out
    assert err == [f"medseg: note: {project.root} is open in {who}; "
                   f"{'Export' if command == 'export' else 'Evaluation'} reads it as last saved there."]
    if command == "export":
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
            [f"{s}.png" for s in project.stems] + ["manifest.json"])


def test_a_project_where_no_lock_can_be_made_is_exported_as_before(tmp_path, capsys, monkeypatch):
    project = make_project(tmp_path / "p")

    def read_only(*_args, **_kwargs):
        raise ProjectReadOnlyError("The project folder cannot be written (Read-only file system).")

    monkeypatch.setattr(project_lock, "acquire", read_only)
    rc, _out, err = run_cli(capsys, *_args("export", project.root, tmp_path / "out"))
    assert rc == 0 and err == [] and (tmp_path / "out" / "manifest.json").is_file()
