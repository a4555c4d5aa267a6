"""Defect 4 of issue 13: two instances on one project overwrote each other's strokes. The project lock detects a
second writer (also within one process), recovers a lock left by a killed process, and the second window opens
read-only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medseg_gui.core import lock as project_lock
from medseg_gui.core.lock import LOCK_FILE, ProjectLockedError, ProjectReadOnlyError, acquire, lock_or_reason
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import drag, make_project, open_window


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_second_acquire_is_refused_and_names_the_owner(tmp_path):
    first = acquire(tmp_path, app="medseg-gui")
    with pytest.raises(ProjectLockedError) as info:
        acquire(tmp_path)
    assert str(os.getpid()) in str(info.value) and socket.gethostname() in str(info.value)
    assert info.value.owner == first.owner
    first.release()
    second = acquire(tmp_path)  # free again after release
    second.release()
    assert not (tmp_path / LOCK_FILE).exists()


def test_lock_of_a_dead_process_is_taken_over(tmp_path):
    stale = {"host": socket.gethostname(), "pid": _dead_pid(), "started": "2020-01-01T00:00:00", "app": "medseg-gui"}
    (tmp_path / LOCK_FILE).write_text(json.dumps(stale))
    lock = acquire(tmp_path)
    assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    said = f"took over its lock from medseg-gui (process {stale['pid']} on "
    assert lock.took_over.startswith(said)  # said in the window
    lock.release()
    assert not list(tmp_path.iterdir())  # no stale copy left behind
    assert acquire(tmp_path).took_over == ""  # a free project: nothing to say


@pytest.mark.skipif(not project_lock._proc_start(os.getpid()), reason="needs Linux /proc")
def test_the_lock_of_a_killed_process_not_reaped_yet_is_taken_over(tmp_path):
    """Fault-injection trial: a window killed with kill -9 whose parent had not reaped it yet (a zombie: its pid still
    answers) kept its project locked, and the next window opened it read-only."""
    child = subprocess.Popen(["sleep", "60"])
    try:
        owner = {"host": socket.gethostname(), "pid": child.pid, "started": "2020-01-01T00:00:00",
                 "app": "medseg-gui", "proc_start": project_lock._proc_start(child.pid)}
        (tmp_path / LOCK_FILE).write_text(json.dumps(owner))
        assert lock_or_reason(tmp_path)[0] is None  # alive: the project is its
        child.kill()
        deadline = time.monotonic() + 10
        while ") Z " not in Path(f"/proc/{child.pid}/stat").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        lock, reason = lock_or_reason(tmp_path)
        said = f"took over its lock from medseg-gui (process {child.pid} on "
        assert reason is None and lock.took_over.startswith(said)
        lock.release()
    finally:
        child.kill()
        child.wait()


def test_taking_over_a_stale_lock_says_whose_it_was_in_words(tmp_path, capsys):
    """`medseg` printed the stale lock file's JSON (outside trial)."""
    from medseg_gui import cli
    from medseg_gui.core.project import Project

    Project.create(tmp_path / "p")
    stale = {"host": socket.gethostname(), "pid": _dead_pid(), "started": "2020-01-01T09:30:00", "app": "medseg-gui"}
    (tmp_path / "p" / LOCK_FILE).write_text(json.dumps(stale))
    assert cli.main(["classes", str(tmp_path / "p"), "--add", "tumour"]) == 0
    assert capsys.readouterr().err == (
        f"medseg: warning: Took over the lock of the project {tmp_path / 'p'} from medseg-gui (process {stale['pid']} "
        f"on {socket.gethostname()}, since 2020-01-01 09:30:00), which ended without closing it; the labels are as it "
        "last saved them\n")


def test_lock_of_a_reused_pid_is_taken_over(tmp_path):
    owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": "2020-01-01T00:00:00",
             "proc_start": project_lock._proc_start(os.getpid()) + 1}  # our pid, but another process's start time
    if not project_lock._proc_start(os.getpid()):
        pytest.skip("no /proc start times on this system")
    (tmp_path / LOCK_FILE).write_text(json.dumps(owner))
    acquire(tmp_path).release()


def test_lock_of_another_host_or_live_process_is_respected(tmp_path):
    other = {"host": "some-other-host", "pid": _dead_pid(), "started": "2020-01-01T00:00:00"}
    (tmp_path / LOCK_FILE).write_text(json.dumps(other))
    with pytest.raises(ProjectLockedError, match="some-other-host"):
        acquire(tmp_path)
    assert json.loads((tmp_path / LOCK_FILE).read_text()) == other  # never removed


def test_unwritable_folder_is_read_only_not_a_crash(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")  # EROFS

    monkeypatch.setattr(project_lock.os, "open", refuse)
    with pytest.raises(ProjectReadOnlyError, match="Read-only file system"):
        acquire(tmp_path)
    lock, reason = lock_or_reason(tmp_path)
    assert lock is None and "Read-only file system" in reason


def test_a_lock_held_by_another_process_is_seen(tmp_path):
    code = ("import sys, time; from medseg_gui.core.lock import acquire; acquire(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        lock, reason = lock_or_reason(tmp_path)
        assert lock is None and f"process {child.pid}" in reason
        child.kill()  # kill -9: the lock file stays behind ...
        child.wait()
        assert (tmp_path / LOCK_FILE).exists()
        acquire(tmp_path).release()  # ... and is recovered
    finally:
        child.kill()
        child.wait()


def test_second_window_opens_read_only_and_cannot_overwrite(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=2)
    first = open_window(qtbot)
    first.open_folder(project.root)
    qtbot.waitUntil(lambda: first.project is not None, timeout=10_000)
    assert not first.read_only
    second = open_window(qtbot)
    second.open_folder(project.root)
    qtbot.waitUntil(lambda: second.project is not None, timeout=10_000)
    assert second.read_only and "read-only" in second.windowTitle() and second.canvas.tool() == "pan"
    assert "read-only" in second.banner.text().lower() and "open for editing" in second.banner.text()
    assert not second.actions.retrain.isEnabled()
    drag(qtbot, second.canvas, [(10, 10), (40, 30)])  # a stroke in the read-only window ...
    assert second.saver.flush(5)
    assert not project.has_label("lesion", project.stems[0])  # ... never reaches the disk
    assert not second.canvas.label("lesion").any()  # nor stays on screen as if it were saved
    drag(qtbot, first.canvas, [(10, 10), (40, 30)])  # the editing window still saves
    assert first.saver.flush(5) and project.has_label("lesion", project.stems[0])
    assert "Try editing again" in second.banner.text()
    second.banner.linkActivated.emit("retry")  # the first window still edits: stays read-only and says why
    assert second.read_only and first.opener.lock.held()
    first.close()
    assert not (project.root / LOCK_FILE).exists()
    with qtbot.waitSignal(second.project_loaded, timeout=10_000):
        second.banner.linkActivated.emit("retry")  # now free: the second window becomes the editor
    assert second.read_only is None and not second.banner.isVisible() and second.opener.lock.held()
    assert "read-only" not in second.windowTitle()
    assert second.canvas.tool() == "brush"  # the drawing tool back, not the pan tool read-only forced on
    second.close()
    assert not (project.root / LOCK_FILE).exists()


def test_reopening_the_same_project_in_one_window_keeps_it_editable(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot)
    for _ in range(2):
        with qtbot.waitSignal(window.project_loaded, timeout=10_000):
            window.open_folder(project.root)
        assert window.read_only is None and window.opener.lock is not None
    window.open_folder(tmp_path / "missing")  # a failed open keeps (and re-locks) the project shown
    qtbot.waitUntil(lambda: bool(window.last_error), timeout=10_000)
    assert window.read_only is None and window.opener.lock is not None
    assert (project.root / LOCK_FILE).exists()
    window.close()
    assert not (project.root / LOCK_FILE).exists()


def test_held_lock_notices_a_deleted_or_taken_over_lock_file(tmp_path):
    lock = acquire(tmp_path)
    assert lock.held() and lock.check() is None
    (tmp_path / LOCK_FILE).unlink()  # a user deleted it: created again, still ours
    assert not lock.held() and lock.check() is None and lock.held()
    other = {"host": "some-other-host", "pid": 1, "started": "2020-01-01T00:00:00"}
    (tmp_path / LOCK_FILE).write_text(json.dumps(other))  # another program took it over
    assert not lock.held() and "some-other-host" in lock.check()
    lock.release()
    assert json.loads((tmp_path / LOCK_FILE).read_text()) == other  # never removes someone else's lock


def test_window_stops_saving_when_its_lock_is_taken_over(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot)
    with qtbot.waitSignal(window.project_loaded, timeout=10_000):
        window.open_folder(project.root)
    other = {"host": "some-other-host", "pid": 1, "started": "2020-01-01T00:00:00"}
    (project.root / LOCK_FILE).write_text(json.dumps(other))  # e.g. another instance took it over as stale
    drag(qtbot, window.canvas, [(10, 10), (40, 30)])
    assert not window.saver.flush(5)  # refused and kept ...
    assert not project.has_label("lesion", project.stems[0])
    qtbot.waitUntil(lambda: "took over this project's lock" in window.last_error, timeout=5_000)  # ... and reported
    assert "some-other-host" in window.last_error
    assert "Close the program" in window.last_error and "disk space" not in window.last_error  # the lock's advice
    assert json.loads((project.root / LOCK_FILE).read_text()) == other
    (project.root / LOCK_FILE).unlink()  # the other program is gone: the lock is taken back and the stroke saved
    assert window.saver.flush(5) and project.has_label("lesion", project.stems[0])
    assert window.opener.lock.held()
    window.close()
    assert not (project.root / LOCK_FILE).exists()


def test_release_on_a_folder_that_became_read_only_keeps_the_file_and_goes_on(tmp_path, monkeypatch):
    """Fault-injection trial, session 33: after a real read-only remount, unlink raised EROFS from release(), so
    switching projects failed and closing the window raised. The file stays; the next opener takes it over."""
    import errno
    from pathlib import Path

    held = acquire(tmp_path)

    def refuse(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "unlink", refuse)
    held.release()  # no error
    monkeypatch.undo()
    assert (tmp_path / LOCK_FILE).exists() and not held.held()
    held.release()  # twice: still nothing removed, nothing raised
    assert (tmp_path / LOCK_FILE).exists()


def test_a_read_only_window_shows_what_the_editing_window_saves(tmp_path, qtbot, messages):
    """A trial's second (read-only) window kept its first picture while the first labelled and trained: the list
    said 'unlabelled', and its Continuous button only refused with a dialog (session 36). It now follows the
    project's folders and shows saved labels (list and canvas) and scores; Continuous is off like Retrain."""
    import json

    from medseg_gui.core.interchange.manifest import record_predictions
    from medseg_gui.qt.panels.image_columns import DICE_COL, LABELLED_COL

    project = make_project(tmp_path / "p", n=2)
    first = open_window(qtbot)
    first.open_folder(project.root)
    qtbot.waitUntil(lambda: first.project is not None, timeout=10_000)
    second = open_window(qtbot)
    second.open_folder(project.root)
    qtbot.waitUntil(lambda: second.project is not None, timeout=10_000)
    assert second.read_only and not second.train_panel.continuous_button.isEnabled()
    stem = project.stems[0]
    qtbot.waitUntil(lambda: second.session.stem == stem and first.session.stem == stem, timeout=10_000)
    drag(qtbot, first.canvas, [(10, 10), (40, 30)])
    assert first.saver.flush(5) and project.has_label("lesion", stem)
    labelled = lambda: second.image_list._item(stem, LABELLED_COL).text().startswith("✓")  # noqa: E731
    qtbot.waitUntil(labelled, timeout=10_000)
    qtbot.waitUntil(lambda: second.canvas.label("lesion").any(), timeout=10_000)  # the image shown, reloaded
    project.save_metrics("lesion", {stem: {"auc": 0.9, "dice": 0.61}})  # as a Retrain there leaves them
    record_predictions(project, "lesion", [stem], {"id": "m1"})
    (project.model_dir("lesion")).mkdir(parents=True, exist_ok=True)
    (project.model_dir("lesion") / "current.json").write_text(json.dumps({"id": "m1", "regime": "lesions"}))
    qtbot.waitUntil(lambda: second.image_list._item(stem, DICE_COL).text() == "0.61", timeout=10_000)
    assert not project.has_label("lesion", project.stems[1])  # nothing written by the read-only window
