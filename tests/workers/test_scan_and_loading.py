"""ScanWorker opens folders off the GUI thread and reports unreadable images; load_view checks sizes."""

from __future__ import annotations

import numpy as np

from medseg_gui.core.images import write_png
from medseg_gui.workers.base import WorkerHost
from medseg_gui.workers.loading import load_view
from medseg_gui.workers.scan import ScanWorker
from tests.workers.helpers import H, W, make_images, make_project


def _scan(qtbot, worker, signal="finished"):
    host = WorkerHost()
    with qtbot.waitSignal(getattr(worker, signal), timeout=20_000) as blocker:
        host.start(worker)
    host.shutdown()
    return blocker.args[0]


def test_scan_plain_folder_lists_empty_file_with_error(tmp_path, qtbot):
    folder = tmp_path / "photos"
    make_images(folder, 3)
    (folder / "broken.png").write_bytes(b"")
    result = _scan(qtbot, ScanWorker(folder))
    assert len(result.project.stems) == 4
    assert (folder / "project.json").is_file()
    assert set(result.errors) == {"broken"}
    assert "empty" in result.errors["broken"]
    assert result.sizes["img0"] == (H, W)


def test_scan_existing_project(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    result = _scan(qtbot, ScanWorker(project.root))
    assert result.project.stems == project.stems
    assert result.errors == {}


def test_scan_folder_without_images_is_refused_untouched(tmp_path, qtbot):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    message = _scan(qtbot, ScanWorker(folder), "errored")
    assert "No images found" in message
    assert not (folder / "project.json").exists()


def test_scan_prepare_callable(tmp_path, qtbot):
    project = make_project(tmp_path / "demo", n=1)
    result = _scan(qtbot, ScanWorker(prepare=lambda: project.root))
    assert result.project.root == project.root


def test_load_view_skips_mismatched_label_with_warning(tmp_path):
    project = make_project(tmp_path / "p", n=2, labelled=1)
    stem = project.stems[1]
    write_png(project.label_path("lesion", stem), np.full((10, 12), 255, np.uint8))
    view = load_view(project, stem)
    assert view.rgb.shape == (H, W, 3)
    assert view.labels["lesion"] is None
    assert len(view.warnings) == 1 and "12×10" in view.warnings[0] and "64×48" in view.warnings[0]
    ok = load_view(project, project.stems[0])
    assert ok.labels["lesion"] is not None and ok.labels["lesion"].shape == (H, W) and not ok.warnings
