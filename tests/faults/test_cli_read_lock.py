"""`medseg export` and `evaluate` refuse a project another `medseg` command holds (an outside CLI trial: an export run
during `medseg models --use X --predict` wrote 21 masks of the new model and 3 of the old under a manifest naming the
old; one during `classes --rename lesion polyp` wrote 19 of 25 images, status 0), with one error line naming it, and
warn when one took it while they read; they take no lock themselves (a review: a window opened meanwhile was put out
as read-only); a window holding it is read as it saved the project, as before."""

from __future__ import annotations

import os

import pytest

from medseg_gui import pipeline
from medseg_gui.core.identity import GUI_NAME
from medseg_gui.core.interchange import formats
from medseg_gui.core.lock import acquire, holder, read_owner
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
def test_export_and_evaluate_take_no_lock_and_warn_of_a_command_that_took_it_meanwhile(tmp_path, capsys, monkeypatch,
                                                                                      command):
    project = make_project(tmp_path / "p")
    held, taken = [], []

    def reading(real):
        def wrapped(*args, **kwargs):
            held.append(holder(project.root))  # none: a window opening now may edit
            taken.append(acquire(project.root))  # `medseg predict` starts meanwhile
            return real(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(formats, "export_as", reading(formats.export_as))
    monkeypatch.setattr(pipeline, "evaluate_class", reading(pipeline.evaluate_class))
    try:
        rc, _out, err = run_cli(capsys, *_args(command, project.root, tmp_path / "out"))
    finally:
        taken[0].release()
    assert rc == 0 and held == [None]
    assert len(err) == 1 and err[0].startswith("medseg: warning: medseg (process ") and "took the project" in err[0]
    assert f"run {command} again" in err[0]


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
