"""Outside trial: a second window on a project another one edits opens read-only, and must write nothing into it. Its
threshold change re-scored the class on a Project opened afresh (which only watched the lock), so once the editing
window had closed it rewrote metrics.json and uncertainty.json at its own threshold; closed last, it also set the
threshold the next start opened with; and its banner still named the closed window's process. Both windows run in
this process, as two `medseg-gui` would on one folder (the second finds the first's live lock)."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest

from medseg_gui.core.lock import LOCK_FILE
from medseg_gui.qt.window_state import WindowMemory
from medseg_gui.workers.training import rescore_class
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import H, W, make_project, open_window

CLS = "lesion"


def _predicted_project(root):
    """Two images, one labelled, both predicted (a cone on its disc: each threshold its own Dice), scored at 0.55."""
    project = make_project(root, n=2, labelled=1)
    yy, xx = np.mgrid[:H, :W]
    cone = np.clip(1 - np.hypot(yy - 24, xx - 20) / 20, 0, 1).astype(np.float32)
    for stem in project.stems:
        project.save_prediction(CLS, stem, cone)
    rescore_class(project.root, CLS, 0.55)
    return project


def _scores(root) -> dict[str, tuple[bytes, int]]:
    """metrics.json and uncertainty.json: their bytes and times."""
    folder = root / "predictions" / CLS
    return {name: ((folder / name).read_bytes(), (folder / name).stat().st_mtime_ns)
            for name in ("metrics.json", "uncertainty.json")}


def _editor_and_viewer(tmp_path, qtbot):
    """(project, settings file, editing window at 0.55, read-only window at 0.60 whose scores were re-computed)."""
    project, settings = _predicted_project(tmp_path / "p"), tmp_path / "settings.ini"
    editor = open_window(qtbot, settings_file=settings)
    with qtbot.waitSignal(editor.project_loaded, timeout=20_000):
        editor.open_folder(project.root)
    editor.layers.threshold_spin.setValue(0.55)
    assert editor.read_only is None
    viewer = open_window(qtbot, settings_file=settings)
    with qtbot.waitSignal(viewer.project_loaded, timeout=20_000):
        viewer.open_folder(project.root)
    assert viewer.read_only is not None and "open for editing in" in viewer.banner.text()
    with qtbot.waitSignal(viewer.metrics_updated, timeout=20_000):
        viewer.layers.threshold_spin.setValue(0.6)
    return project, settings, editor, viewer


def test_a_read_only_window_writes_nothing_once_the_editing_window_closed(tmp_path, qtbot, messages):
    project, settings, editor, viewer = _editor_and_viewer(tmp_path, qtbot)
    before = _scores(project.root)
    editor.close()
    assert not (project.root / LOCK_FILE).exists()
    assert WindowMemory(settings).project(project.root)["threshold"] == pytest.approx(0.55)
    qtbot.waitUntil(lambda: "has closed" in viewer.banner.text(), timeout=10_000)  # not a process gone by now
    assert "Try editing again" in viewer.banner.text() and viewer.read_only is not None
    with qtbot.waitSignal(viewer.metrics_updated, timeout=20_000):
        viewer.layers.threshold_spin.setValue(0.65)
    shown, saved = viewer.image_list.dice_text(project.stems[0], CLS), project.load_metrics(CLS)[project.stems[0]]
    assert float(shown) < saved["dice"] - 0.1 and saved["threshold"] == pytest.approx(0.55)  # shown, not saved
    owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": "2020-01-01T00:00:00", "app": "medseg-gui"}
    (project.root / LOCK_FILE).write_text(json.dumps(owner))  # another editing window opened it meanwhile
    qtbot.waitUntil(lambda: "open for editing in medseg-gui" in viewer.banner.text(), timeout=10_000)
    (project.root / LOCK_FILE).unlink()
    viewer.close()
    assert _scores(project.root) == before
    assert WindowMemory(settings).project(project.root)["threshold"] == pytest.approx(0.55)  # what the editor set
    assert not (project.root / LOCK_FILE).exists()


def test_try_editing_again_after_the_editing_window_closed_writes_at_the_threshold_shown(tmp_path, qtbot,
                                                                                       messages):
    project, settings, editor, viewer = _editor_and_viewer(tmp_path, qtbot)
    editor.close()
    with qtbot.waitSignal(viewer.project_loaded, timeout=20_000):
        viewer.read_only_view.try_editing_again()
    assert viewer.read_only is None and viewer.opener.lock.held()
    assert viewer.layers.threshold() == pytest.approx(0.6)  # the user's choice stays once it may be saved
    qtbot.waitUntil(lambda: all(m.get("threshold") == pytest.approx(0.6)
                                for m in project.load_metrics(CLS).values()), timeout=20_000)
    viewer.close()
    assert WindowMemory(settings).project(project.root)["threshold"] == pytest.approx(0.6)
