"""The GUI save failures of issue 13 (defects 2, 4 and 15) on a real small file system instead of injected errors:
a 1 MB tmpfs that is filled up (ENOSPC) or remounted read-only (EROFS). Needs permission to mount (root in a
container); skipped otherwise."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import numpy as np
import pytest

from medseg_gui.core.images import read_mask
from medseg_gui.core.lock import LOCK_FILE
from medseg_gui.qt import save_guard
from medseg_gui.qt.panels.labelled_cell import UNSAVED
from tests.qt.conftest import messages  # noqa: F401 (fixture)
from tests.workers.helpers import drag, make_images, make_project, open_window


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_fs(tmp_path):
    """A real 1 MB tmpfs at tmp_path/fs; `remount(read_only)` switches it, unmounted afterwards."""
    folder = tmp_path / "fs"
    folder.mkdir()
    if shutil.which("mount") is None or not _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)):
        pytest.skip("cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)")

    class FS:
        path = folder

        @staticmethod
        def remount(read_only: bool) -> None:
            assert _mount("-o", f"remount,{'ro' if read_only else 'rw'}", str(folder))

        @staticmethod
        def fill() -> object:
            filler = folder / f"filler-{uuid.uuid4().hex}"
            with open(filler, "wb", buffering=0) as fh:
                try:
                    while True:
                        fh.write(b"\0" * 4096)
                except OSError:
                    pass
            return filler

    yield FS
    _mount("-o", "remount,rw", str(folder))
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_disk_full_keeps_the_stroke_until_space_is_freed(small_fs, qtbot, messages, monkeypatch):
    project = make_project(small_fs.path / "p", n=2)
    window = open_window(qtbot, project)
    window.saver.retry_s = 0.3
    filler = small_fs.fill()
    with qtbot.waitSignal(window.saver.failed, timeout=10_000) as failed:
        drag(qtbot, window.canvas, [(10, 10), (40, 30)])
    drawn = window.canvas.label("lesion")
    stem = project.stems[0]
    assert "No space left on device" in failed.args[2]
    assert window.isWindowModified() and window.image_list._item(stem, 1).text() == UNSAVED
    assert not project.has_label("lesion", stem)
    assert not [p for p in project.label_path("lesion", stem).parent.glob(".*.tmp")]  # no half-written temp
    window.image_list.select(project.stems[1])
    window.image_list.select(stem)
    qtbot.waitUntil(lambda: window.session.stem == stem, timeout=5_000)
    np.testing.assert_array_equal(window.canvas.label("lesion"), drawn)
    filler.unlink()  # space again: the periodic retry saves it
    qtbot.waitUntil(lambda: project.has_label("lesion", stem), timeout=10_000)
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", stem)), drawn)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=5_000)
    assert window.close()


def test_remounted_read_only_then_back(small_fs, qtbot, messages, monkeypatch):
    project = make_project(small_fs.path / "p", n=1)
    window = open_window(qtbot, project)
    small_fs.remount(read_only=True)
    with qtbot.waitSignal(window.saver.failed, timeout=10_000) as failed:
        drag(qtbot, window.canvas, [(10, 10), (40, 30)])
    assert "Read-only file system" in failed.args[2]
    asked = []
    monkeypatch.setattr(save_guard, "ask_unsaved",
                        lambda parent, text, *_a: asked.append(text) or save_guard.CANCEL)
    assert not window.close() and asked
    small_fs.remount(read_only=False)
    monkeypatch.setattr(save_guard, "ask_unsaved", lambda parent, text, *_a: pytest.fail("asked although saved"))
    assert window.close()  # "Save again" is implied by closing: the flush writes it now
    assert read_mask(project.label_path("lesion", project.stems[0])).sum() > 0


def test_read_only_mount_opens_read_only(small_fs, qtbot, messages):
    folder = small_fs.path / "scans"
    make_images(folder, n=2)
    small_fs.remount(read_only=True)
    window = open_window(qtbot)
    with qtbot.waitSignal(window.project_loaded, timeout=10_000):
        window.open_folder(folder)
    assert window.read_only and "Read-only file system" in window.read_only
    assert window.image_list.stems() == ["img0", "img1"] and window.canvas.isEnabled()
    assert not (folder / LOCK_FILE).exists() and not (folder / "project.json").exists()
