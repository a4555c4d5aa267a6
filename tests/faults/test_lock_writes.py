"""Defect 4 of issue 13, every write and not only label saves: once another program has taken over the project lock,
the window (and the training child or worker that opened the project for it) must not overwrite project.json, move
class folders, write predictions or promote a model. Each write checks the lock in one place (ProjectFolder
`write_refusal`); without that check every assertion on an unchanged file below fails."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from medseg_gui import model_jobs, pipeline
from medseg_gui.core.classes import delete_class, rename_class
from medseg_gui.core.errors import ModelError, ProjectError
from medseg_gui.core.lock import LOCK_FILE, acquire, project_lock
from medseg_gui.core.project import Project
from tests.faults.test_lock import _dead_pid
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import make_project, open_window

CLS = "lesion"
OTHER = {"host": "some-other-host", "pid": 1, "started": "2020-01-01T00:00:00"}


def _take_over(root) -> None:
    """What a second instance does after the lock file was deleted by hand (or judged stale)."""
    (root / LOCK_FILE).write_text(json.dumps(OTHER))


def _snapshot(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_project_opened_under_the_windows_lock_writes_nothing_once_it_is_taken_over(tmp_path):
    """The Retrain child and the window's workers open the project themselves while the window holds the lock."""
    make_project(tmp_path / "p", n=2, labelled=1)
    held = acquire(tmp_path / "p", app="medseg-gui")
    child = Project.open(tmp_path / "p")
    stem = child.stems[0]
    child.set_state(stem, "reviewed", True)  # the window still holds it: written
    mask = np.ones(child.load_image(stem).shape[:2], bool)
    child.save_prediction(CLS, stem, mask * 0.5)
    _take_over(child.root)
    before = _snapshot(child.root)
    for write in (lambda: child.set_state(stem, "reviewed", False), lambda: child.save_label(CLS, stem, mask),
                  lambda: child.delete_label(CLS, stem), lambda: child.save_prediction(CLS, stem, mask * 0.9),
                  lambda: child.save_metrics(CLS, {stem: {"auc": 1.0}}), lambda: child.add_class("tumour", (1, 2, 3)),
                  lambda: model_jobs.rollback_and_predict(child.root, CLS, "any-model")):  # Models: "use this model"
        with pytest.raises(ProjectError, match="some-other-host"):
            write()
    assert _snapshot(child.root) == before
    assert child.entry(stem).state["reviewed"] is True and child.class_names == Project.open(child.root).class_names
    later = Project.open(child.root)  # e.g. the next round of continuous training, opened after the take-over
    with pytest.raises(ProjectError, match="some-other-host"):
        later.save_prediction(CLS, stem, mask * 0.9)
    assert _snapshot(child.root) == before
    held.release()  # not ours any more: the other program's lock stays
    assert json.loads((child.root / LOCK_FILE).read_text()) == OTHER


def test_the_training_child_writes_while_its_window_holds_the_lock(tmp_path):
    """The Retrain child is another process: the lock names its parent, the window."""
    import os

    make_project(tmp_path / "p", n=1)
    (tmp_path / "p" / LOCK_FILE).write_text(json.dumps(
        {"host": socket.gethostname(), "pid": os.getppid(), "started": "2020-01-01T00:00:00", "app": "medseg-gui"}))
    child = Project.open(tmp_path / "p")
    child.set_state(child.stems[0], "reviewed", True)
    assert Project.open(child.root).entry(child.stems[0]).state["reviewed"] is True


def test_a_watching_project_neither_recreates_nor_needs_a_deleted_lock_file(tmp_path):
    make_project(tmp_path / "p", n=1)
    held = acquire(tmp_path / "p")
    child = Project.open(tmp_path / "p")
    (child.root / LOCK_FILE).unlink()  # deleted (or the window let go): nobody else holds it
    child.set_state(child.stems[0], "reviewed", True)
    assert not (child.root / LOCK_FILE).exists()  # only the holder re-creates it
    held.release()
    with project_lock(child.root):  # e.g. `medseg train` opened the project just before the window let go
        child.set_state(child.stems[0], "reviewed", False)
    assert Project.open(child.root).entry(child.stems[0]).state["reviewed"] is False


def test_a_stale_lock_seen_at_open_does_not_stop_the_process_that_takes_it_over(tmp_path):
    """`medseg train` opens the project, then takes over a dead process's lock: its own writes go on."""
    project = make_project(tmp_path / "p", n=1)
    dead = {"host": socket.gethostname(), "pid": _dead_pid(), "started": "2020-01-01T00:00:00"}
    (project.root / LOCK_FILE).write_text(json.dumps(dead))
    reopened = Project.open(project.root)
    with project_lock(project.root):
        reopened.set_state(reopened.stems[0], "reviewed", True)
    assert Project.open(project.root).entry(reopened.stems[0]).state["reviewed"] is True


def test_class_edits_are_refused_before_any_folder_moves(tmp_path):
    project = make_project(tmp_path / "p", n=1, labelled=1)
    project.set_lock(acquire(project.root, app="medseg-gui"))
    _take_over(project.root)
    before = _snapshot(project.root)
    for edit in (lambda: rename_class(project, CLS, "tumour"), lambda: delete_class(project, CLS)):
        with pytest.raises(ProjectError, match="classes were not changed.*some-other-host"):
            edit()
    assert _snapshot(project.root) == before
    assert not (project.root / "deleted classes").exists() and (project.root / "labels" / CLS).is_dir()


def test_a_model_finished_after_a_take_over_is_kept_outside_the_project(tmp_path, monkeypatch):
    """The training child promotes its model only while the window still holds the lock; else it goes to the user
    data folder (never dropped) and the message says why."""
    from medseg_gui.ml import store

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "userdata"))
    saved_to = []
    monkeypatch.setattr(store, "save_if_better", lambda folder, result: saved_to.append(folder))
    monkeypatch.setattr(store, "save_aside", lambda folder, result, current: saved_to.append(folder) or "as told")
    make_project(tmp_path / "p", n=1)
    held = acquire(tmp_path / "p", app="medseg-gui")
    child = Project.open(tmp_path / "p")
    pipeline.store_result(child, CLS, object())
    assert saved_to == [child.model_dir(CLS)]
    _take_over(child.root)
    with pytest.raises(ModelError, match="some-other-host.*It was saved to"):
        pipeline.store_result(child, CLS, object())
    assert saved_to[1] != child.model_dir(CLS) and tmp_path / "userdata" in saved_to[1].parents
    held.release()


def test_window_whose_lock_was_taken_over_refuses_reviewed_retrain_and_class_edits(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=1, labelled=1)
    window = open_window(qtbot)
    with qtbot.waitSignal(window.project_loaded, timeout=10_000):
        window.open_folder(project.root)
    _take_over(project.root)
    before = _snapshot(project.root)
    window.toggle_reviewed()
    assert "not marked reviewed" in window.last_error and "some-other-host" in window.last_error
    assert "some-other-host" in window.training.refusal(CLS)
    with pytest.raises(ProjectError, match="some-other-host"):
        rename_class(window.project, CLS, "tumour")
    assert _snapshot(project.root) == before
    assert not any("saved" in m.lower() and "not" not in m.lower() for m in messages)
    (project.root / LOCK_FILE).unlink()  # the other program is gone: the window re-creates its lock and writes
    assert window.guard.marks.retry()  # the mark kept since (qt.mark_keeper), as its periodic retry would
    assert window.opener.lock.held() and Project.open(project.root).entry(project.stems[0]).state["reviewed"]
    window.close()
    assert not (project.root / LOCK_FILE).exists()


@pytest.mark.parametrize("cause", ["lock held elsewhere", "read-only media"])
def test_rescoring_in_a_window_that_may_not_write_shows_metrics_without_saving(tmp_path, monkeypatch, cause):
    """A threshold change in a read-only window re-scores the class: no write into a project another program
    holds, and no error dialog on read-only media (metrics.json is derived data)."""
    import errno

    from medseg_gui.workers.training import rescore_class
    from tests.faults.cli_fakes import CLS as VESSEL
    from tests.faults.cli_fakes import make_project as make_predicted_project

    project = make_predicted_project(tmp_path / "p")
    if cause == "lock held elsewhere":
        _take_over(project.root)
    else:
        def refuse(path, obj, read):
            raise OSError(errno.EROFS, "Read-only file system", str(path))

        monkeypatch.setattr("medseg_gui.core.project.rewrite_json", refuse)
    before = _snapshot(project.root)
    result = rescore_class(project.root, VESSEL, 0.5)
    assert set(result.metrics) == set(project.stems) and all("dice" in m for m in result.metrics.values())
    assert _snapshot(project.root) == before


def test_rescoring_the_project_of_a_read_only_window_saves_nothing_once_no_lock_is_held(tmp_path):
    """Outside trial: the read-only window's re-scoring opened the project afresh, which writes while nobody holds
    the lock, so it rewrote metrics.json once the editing window had closed. It re-scores the window's own project."""
    from medseg_gui.workers.training import rescore_class
    from tests.faults.cli_fakes import CLS as VESSEL
    from tests.faults.cli_fakes import make_project as make_predicted_project

    project = make_predicted_project(tmp_path / "p")
    project.set_read_only("it is open for editing in medseg-gui (process 1 on this computer)")
    assert not (project.root / LOCK_FILE).exists()
    before = _snapshot(project.root)
    result = rescore_class(project, VESSEL, 0.6)
    assert set(result.metrics) == set(project.stems) and _snapshot(project.root) == before


def test_a_process_that_never_held_the_lock_is_not_told_it_was_taken_over(tmp_path):
    """The read-only window's log said the editing window "took over this project's lock", which it had held from the
    start: a process that only watches the lock says who holds it."""
    project = make_project(tmp_path / "p", n=1)
    _take_over(project.root)
    reason = Project.open(project.root).write_refusal()
    assert "some-other-host" in reason and "holds this project's lock" in reason and "took over" not in reason


def test_the_window_says_when_it_took_over_a_stale_lock(tmp_path, qtbot, messages):
    """Fault-injection trial, session 39: after a kill -9 the reopened window took the lock over and only the log said
    so; the clinician is told the program ended without closing the project."""
    project = make_project(tmp_path / "p", n=2)
    dead = {"host": socket.gethostname(), "pid": _dead_pid(), "started": "2020-01-01T00:00:00", "app": "medseg-gui"}
    (project.root / LOCK_FILE).write_text(json.dumps(dead))
    window = open_window(qtbot)
    with qtbot.waitSignal(window.project_loaded, timeout=20_000):
        window.open_folder(project.root)
    qtbot.waitUntil(lambda: "which ended without closing it" in window.statusBar().currentMessage(), timeout=5_000)
    assert f"took over its lock from medseg-gui (process {dead['pid']} on " in window.statusBar().currentMessage()
    assert window.read_only is None


def test_try_editing_again_says_when_it_took_over_a_stale_lock(tmp_path, qtbot, messages):
    """Fault-injection trial: the window opened read-only while another one held the project; once that one was
    killed, "Try editing again" took its lock over, and the status bar said only "Opened … 2 images" (the reopening
    locked the folder afresh: the takeover was in the log only)."""
    import subprocess

    project = make_project(tmp_path / "p", n=2)
    other = subprocess.Popen(["sleep", "60"])
    try:
        owner = {"host": socket.gethostname(), "pid": other.pid, "started": "2020-01-01T00:00:00", "app": "medseg-gui"}
        (project.root / LOCK_FILE).write_text(json.dumps(owner))
        window = open_window(qtbot)
        with qtbot.waitSignal(window.project_loaded, timeout=20_000):
            window.open_folder(project.root)
        assert window.read_only is not None
    finally:
        other.kill()
        other.wait()
    with qtbot.waitSignal(window.project_loaded, timeout=20_000):
        window.read_only_view.try_editing_again()
    assert window.read_only is None and window.opener.lock is not None and window.opener.lock.held()
    qtbot.waitUntil(lambda: "which ended without closing it" in window.statusBar().currentMessage(), timeout=5_000)
    assert f"took over its lock from medseg-gui (process {other.pid} on " in window.statusBar().currentMessage()
