"""medseg_gui updated on disk while the window runs (code_changes, child_process.spawned): a child imports the new
files, and the job's failure says to restart the window instead of a raw error. The updates are made to a copy of the
package put first on sys.path, which only the spawned children import (this process has its modules already)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import medseg_gui.model_jobs  # noqa: F401 - the modules the copies change are this process's own, not the copy's
import medseg_gui.pipeline  # noqa: F401
from medseg_gui import child_process
from medseg_gui.code_changes import PACKAGE_DIR, CodeFingerprint, restart_message
from medseg_gui.core.errors import ModelError
from medseg_gui.train_process import TrainJob, train_in_child
from medseg_gui.workers.base import WorkerHost, error_message
from medseg_gui.workers.model_history import compare_models
from medseg_gui.workers.training import TrainWorker
from tests.workers.helpers import TINY_TRAIN, make_project

RESTART = "close this window and open it again"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def installed(tmp_path, monkeypatch) -> Iterator[Path]:
    """A copy of the package that spawned children import; the window's fingerprint (STANDBY.code) is of this copy,
    taken before the test updates it."""
    root = tmp_path / "site" / "medseg_gui"
    shutil.copytree(PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(root.parent))
    code = CodeFingerprint(root)
    code.take()
    monkeypatch.setattr(child_process.STANDBY, "code", code)
    yield root
    for name, module in list(sys.modules.items()):  # nothing of the copy may stay for later tests
        if str(getattr(module, "__file__", None) or "").startswith(str(root)):
            del sys.modules[name]


def test_a_child_that_cannot_start_after_an_update_says_to_restart_the_window(installed, tmp_path):
    """The Models dialog's comparison: its function was renamed on disk, so the child dies as it unpickles its job
    (before: "Comparing the models stopped unexpectedly: it ended with exit code 1")."""
    _edit(installed / "model_jobs.py", "def compare_models(", "def compare_two_models(")
    with pytest.raises(ModelError) as caught:
        compare_models(make_project(tmp_path / "p", n=1).root, "lesion", "a", ["m1"], 0.5)
    message = error_message(caught.value)
    assert RESTART in message and str(installed / "model_jobs.py") in message
    assert "updated on disk after this window opened" in message and "Labelling is not affected" in message


def test_an_import_error_in_the_job_after_an_update_says_to_restart_the_window(installed, tmp_path):
    """The child starts, but the job's own import of the updated pipeline fails (before: the raw ImportError)."""
    _edit(installed / "pipeline.py", "import contextlib\n", "import contextlib\n\nfrom medseg_gui.core.errors import "
          "ReplacedError  # noqa\n")
    with pytest.raises(ModelError, match=RESTART) as caught:
        compare_models(make_project(tmp_path / "p", n=1).root, "lesion", "a", ["m1"], 0.5)
    assert isinstance(caught.value.__cause__, ImportError)  # what failed stays in the chain (and the log)


def test_retrain_after_an_update_says_to_restart_the_window(installed, tmp_path, qtbot):
    """A Retrain whose child cannot find its entry point any more: what the Train panel shows (error_message)."""
    _edit(installed / "train_process.py", "def _child_main(", "def _train_child_main(")
    worker, errors = TrainWorker(make_project(tmp_path / "p", n=1).root, "lesion", TINY_TRAIN), []
    worker.errored.connect(errors.append)
    host = WorkerHost()
    with qtbot.waitSignal(worker.done, timeout=120_000):
        host.start(worker)
    assert host.shutdown(10_000)
    assert len(errors) == 1
    assert RESTART in error_message(errors[0]) and "train_process.py" in error_message(errors[0])
    assert "What failed: Training stopped unexpectedly" in error_message(errors[0])  # its own words kept (review:
    # "Saved the new model" or "ran out of memory" were lost to the advice)


def test_without_a_change_since_the_window_opened_the_error_is_as_before(installed, tmp_path, monkeypatch):
    """The same failing child, but the files were already so when the window opened: no restart advice."""
    _edit(installed / "train_process.py", "def _child_main(", "def _train_child_main(")
    code = CodeFingerprint(installed)
    code.take()
    monkeypatch.setattr(child_process.STANDBY, "code", code)
    job = TrainJob(make_project(tmp_path / "p", n=1).root, "lesion", TINY_TRAIN)
    with pytest.raises(ModelError) as caught:
        train_in_child(job, lambda _p: None, lambda: False)
    assert "Training stopped unexpectedly: it ended with exit code 1" in str(caught.value)
    assert RESTART not in str(caught.value)


def test_the_fingerprint_names_files_rewritten_added_and_removed(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.py", "b.py", "sub/c.py"):
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("not code")
    code = CodeFingerprint(tmp_path)
    assert code.changed() == []  # none taken (tests, the CLI): nothing to say
    code.take_soon()
    assert code.changed() == []
    (tmp_path / "notes.txt").write_text("changed, but not code")
    assert code.changed() == []
    (tmp_path / "sub" / "c.py").write_text("x = 22\n")
    (tmp_path / "b.py").unlink()
    (tmp_path / "d.py").write_text("")
    assert code.changed() == ["b.py", "d.py", "sub/c.py"]


def test_the_message_names_the_first_changed_file_and_counts_the_others(tmp_path):
    assert f"({tmp_path / 'a.py'} changed)" in restart_message(tmp_path, ["a.py"])
    assert f"({tmp_path / 'a.py'} and 2 other files changed)" in restart_message(tmp_path, ["a.py", "b.py", "c.py"])
