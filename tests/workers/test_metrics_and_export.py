"""rescore_class (Dice at another threshold from the saved predictions) and the export job's threshold. No Keras:
predictions are written directly."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_gui.core.images import read_mask
from medseg_gui.core.metrics import image_metrics
from medseg_gui.workers.base import FunctionWorker, WorkerHost
from medseg_gui.workers.export import export_classes
from medseg_gui.workers.training import ClassMetrics, rescore_class
from tests.workers.helpers import H, W, make_project


def _ramp() -> np.ndarray:
    return np.tile(np.linspace(0.0, 1.0, W, dtype=np.float32), (H, 1))


def _finish(qtbot, worker):
    host = WorkerHost()
    with qtbot.waitSignal(worker.finished, timeout=20_000) as blocker:
        host.start(worker)
    assert host.shutdown(5_000)
    return blocker.args[0]


def test_metrics_worker_recomputes_dice_at_the_threshold_and_saves(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=3, labelled=2)
    for stem in project.stems:
        project.save_prediction("lesion", stem, _ramp())
    project.save_metrics("lesion", {"old": {"auc": 0.5, "dice": 0.5}})
    run = _finish(qtbot, FunctionWorker(rescore_class, project.root, "lesion", 0.7))
    assert isinstance(run, ClassMetrics) and run.cls == "lesion"
    assert set(run.metrics) == set(project.stems[:2])  # labelled images with a prediction; stale entries dropped
    stem = project.stems[0]
    expected = image_metrics(project.load_prediction("lesion", stem), project.load_label("lesion", stem), None, 0.7)
    assert run.metrics[stem]["dice"] == pytest.approx(expected["dice"])
    assert project.load_metrics("lesion")[stem]["dice"] == pytest.approx(expected["dice"])


def test_export_uses_the_threshold(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=1)
    stem = project.stems[0]
    project.save_prediction("lesion", stem, _ramp())
    result = _finish(qtbot, FunctionWorker(export_classes, project.root, ["lesion"], tmp_path / "out", threshold=0.75))
    assert result.count == 1
    np.testing.assert_array_equal(read_mask(tmp_path / "out" / "lesion" / f"{stem}_prediction.png"),
                                  project.load_prediction("lesion", stem) >= 0.75)


def test_export_checks_every_class_folder_first_and_names_what_it_left_out(tmp_path, qtbot):
    """Fault-injection trial, session 33: a file named like the second class stopped the export after writing the
    first class, with a message that read as if nothing was written; a label that could not be read was left out
    with a line in the log only."""
    from medseg_gui.core.errors import ProjectError
    from medseg_gui.qt.export_flow import export_summary

    project = make_project(tmp_path / "p", n=3, labelled=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "vessel").write_text("not a folder")
    with pytest.raises(ProjectError, match="is a file"):
        export_classes(project.root, ["lesion", "vessel"], out)
    assert not (out / "lesion").exists()  # nothing written
    (out / "vessel").unlink()
    project.label_path("lesion", project.stems[1]).write_bytes(b"not a png")
    result = export_classes(project.root, ["lesion", "vessel"], out)
    assert [p.stem for p in result.files["lesion"]] == [project.stems[0]]
    assert len(result.skipped) == 1 and result.skipped[0].startswith(f"{project.stems[1]} not exported")
    text = export_summary(result)
    assert text.startswith(f"Exported 1 mask to {out}: 1 in lesion/ — 1 left out: "
                           f"{project.stems[1]} not exported")  # vessel, with nothing, not named (trial)
    assert result.older == () and "older" not in text
    from medseg_gui.qt.export_flow import ended  # one full stop, as the dialog shows it (a trial saw '..')
    assert ended(text) in (text, text + ".") and ended("Exported 1 mask") == "Exported 1 mask."
    from medseg_gui.core.export import PngExport
    reasons = ("a not exported: 9×9 (width×height).", "b not exported: x.")
    two = export_summary(PngExport(out, {"lesion": []}, reasons))
    assert two.endswith("left out: a not exported: 9×9 (width×height); b not exported: x")  # not '.;' (trial)
    assert ended(two) == two + "." and ".." not in ended(text)
    (out / "vessel").mkdir(exist_ok=True)
    (out / "vessel" / "old_prediction.png").write_bytes(b"an earlier export's")
    again = export_classes(project.root, ["lesion", "vessel"], out)
    assert again.older == ("vessel/old_prediction.png",)  # named: a nurse could not tell which file was the older
    assert ("1 older PNG was in these folders, not written by this export, and is left as it was "
            "(vessel/old_prediction.png); manifest.json lists this export's") in export_summary(again)
    assert (out / "vessel" / "old_prediction.png").exists()  # never deleted
    empty = export_classes(make_project(tmp_path / "q", n=1).root, ["lesion"], tmp_path / "none")
    assert export_summary(empty).startswith(f"No masks exported to {tmp_path / 'none'}: no image has a label")


def test_a_saved_label_re_scores_only_its_image(tmp_path, monkeypatch):
    """An outside trial's 344 photos: each saved stroke read every prediction map again (5-20 s, the old scores shown
    meanwhile). Scores that still hold are kept: only the image whose label changed is read, and it scores as a full
    re-score would; another threshold re-scores every image."""
    from medseg_gui.core.project import Project
    from tests.workers.helpers import disc

    project = make_project(tmp_path / "p", n=4, labelled=3)
    for stem in project.stems:
        project.save_prediction("lesion", stem, _ramp())
    first = rescore_class(project.root, "lesion", 0.5)  # every image, saved with its threshold
    stem = project.stems[1]
    project.save_label("lesion", stem, disc(cx=50))
    read = []
    load = Project.load_prediction
    monkeypatch.setattr(Project, "load_prediction", lambda self, cls, s: read.append(s) or load(self, cls, s))
    run = rescore_class(project.root, "lesion", 0.5, frozenset({stem}))
    assert read == [stem] and run.changed == {stem}
    expected = image_metrics(project.load_prediction("lesion", stem), disc(cx=50), None, 0.5)
    assert run.metrics[stem]["dice"] == pytest.approx(expected["dice"]) != first.metrics[stem]["dice"]
    assert {s: m for s, m in run.metrics.items() if s != stem} == {s: m for s, m in first.metrics.items() if s != stem}
    assert run.uncertainty.scores == pytest.approx(first.uncertainty.scores, abs=1e-4)  # kept: as saved (4 decimals)
    assert run.uncertainty.thresholds == first.uncertainty.thresholds and project.load_metrics("lesion") == run.metrics
    read.clear()
    rescore_class(project.root, "lesion", 0.6)
    assert sorted(read) == sorted(project.stems)
