"""Record files the app reads back and rewrites (fault-injection trial: a damaged provenance.json was silently written
over, losing which model made each map): provenance.json, metrics.json, uncertainty.json and a model folder's
current.json that cannot be read are moved to .unreadable/ beside them, bytes unchanged, before a new one is written;
where they cannot be moved nothing is written over them and the write fails as any other does. A read-only
predictions folder is one error line of `medseg predict` (it was a warning and an error with the same sentence).
Review: a reading that failed once (an I/O error on a network drive) and then worked had the file written over by the
shorter content made from nothing (history.json 5 entries -> 1): the reading the content was made from decides."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pytest

from medseg_gui import pipeline
from medseg_gui.core import project_format
from medseg_gui.core.errors import MedsegError, ProjectError, WriteError
from medseg_gui.core.interchange import manifest
from medseg_gui.core.interchange.manifest import ProvenanceLog, provenance_path, read_provenance, record_predictions
from medseg_gui.core.uncertainty import UncertaintyScores
from medseg_gui.ml import model_folder, store
from tests.core.test_rewrite import refuse_moves_in
from tests.faults.cli_fakes import CLS, FakeResult, make_project, run_cli, tiny_segmenter
from tests.faults.test_disk_errors import fail_replace_under

DAMAGED = b'{"img0": {"id": "20260101-000000-abc", "trained_at": "2026-01-'  # cut off mid-write by another program
MODEL = {"id": "20260202-000000-new", "trained_at": "2026-02-02T00:00:00+00:00"}


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "p")


def _record_files(project):
    """(file, how the app writes it) of each predictions/<class>/ record."""
    return {
        "provenance.json": lambda: record_predictions(project, CLS, project.stems[:1], MODEL),
        "metrics.json": lambda: project.save_metrics(CLS, {project.stems[0]: {"auc": 0.9}}),
        "uncertainty.json": lambda: project.save_uncertainty(CLS, UncertaintyScores({project.stems[0]: 0.1})),
    }


@pytest.mark.parametrize("name", ["provenance.json", "metrics.json", "uncertainty.json"])
def test_a_damaged_record_is_kept_aside_as_it_was_and_a_new_one_written(project, caplog, name):
    path = project.metrics_path(CLS).with_name(name)
    path.write_bytes(DAMAGED)
    with caplog.at_level(logging.WARNING):
        _record_files(project)[name]()
    kept = path.parent / ".unreadable" / name
    assert kept.read_bytes() == DAMAGED
    assert project.stems[0] in json.loads(path.read_text("utf-8"))
    assert str(path) in caplog.text and str(kept) in caplog.text


@pytest.mark.parametrize("name", ["provenance.json", "metrics.json", "uncertainty.json"])
def test_a_damaged_record_in_a_read_only_folder_is_not_written_over(project, monkeypatch, name):
    path = project.metrics_path(CLS).with_name(name)
    path.write_bytes(DAMAGED)
    refuse_moves_in(monkeypatch, path.parent)
    with pytest.raises((WriteError, ProjectError)) as err:
        _record_files(project)[name]()
    assert str(path) in str(err.value) and "Read-only file system" in str(err.value)
    assert path.read_bytes() == DAMAGED and not (path.parent / ".unreadable").exists()


def test_a_prediction_keeps_a_damaged_provenance_and_records_each_map_anew(project):
    store.save_if_better(project.model_dir(CLS), FakeResult(tiny_segmenter()))
    path = provenance_path(project, CLS)
    path.write_bytes(DAMAGED)
    assert read_provenance(project, CLS) == {}
    pipeline.predict_class(project, CLS)
    assert (path.parent / ".unreadable" / "provenance.json").read_bytes() == DAMAGED
    assert set(read_provenance(project, CLS)) == set(project.stems)


@pytest.mark.parametrize("damaged", [DAMAGED, b"[]"])
def test_a_damaged_current_json_is_kept_aside_when_a_model_is_promoted(tmp_path, damaged):
    folder = tmp_path / "models"
    store.save_if_better(folder, FakeResult(tiny_segmenter()))
    (folder / "current.json").write_bytes(damaged)
    new = store.save_if_better(folder, FakeResult(tiny_segmenter(1.0)))
    assert (folder / ".unreadable" / "current.json").read_bytes() == damaged
    assert json.loads((folder / "current.json").read_text())["id"] == new.model_id


def test_a_damaged_current_json_that_cannot_be_moved_stays_and_the_new_model_is_not_promoted(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    store.save_if_better(folder, FakeResult(tiny_segmenter()))
    (folder / "current.json").write_bytes(DAMAGED)
    refuse_moves_in(monkeypatch, folder / ".unreadable")  # the folder takes new models but not the move
    with pytest.raises(OSError, match="current.json"):
        store.save_if_better(folder, FakeResult(tiny_segmenter(1.0)))
    assert (folder / "current.json").read_bytes() == DAMAGED


def test_predict_into_a_read_only_predictions_folder_is_one_error_line(project, capsys, monkeypatch):
    store.save_if_better(project.model_dir(CLS), FakeResult(tiny_segmenter()))
    pipeline.predict_class(project, CLS)  # every map has a record: the next prediction first rewrites provenance.json
    before = provenance_path(project, CLS).read_bytes()
    fail_replace_under(monkeypatch, project.metrics_path(CLS).parent, errno.EROFS)
    rc, _out, err = run_cli(capsys, "predict", project.root, "--class", CLS)
    assert rc == 1 and len(err) == 1, err
    assert err[0].startswith("medseg: error: Could not note which model made") and err[0].endswith(
        "Read-only file system")
    assert provenance_path(project, CLS).read_bytes() == before


def test_close_still_reports_a_provenance_failure_replacing_did_not(project, monkeypatch):
    """Said once, not dropped: a write failure at the end that nothing raised before is raised by close()."""
    from medseg_gui.core.interchange.manifest import ProvenanceLog

    made = ProvenanceLog(project, CLS)
    made.made(project.stems[0], MODEL)
    fail_replace_under(monkeypatch, project.metrics_path(CLS).parent, errno.EROFS)
    with pytest.raises(MedsegError, match="Could not note which model made"):
        made.close()


def test_a_provenance_failure_replacing_raised_is_not_raised_again_by_close(project, monkeypatch):
    from medseg_gui.core.interchange.manifest import ProvenanceLog

    first, second = project.stems[:2]
    record_predictions(project, CLS, [second], MODEL)
    before = provenance_path(project, CLS).read_bytes()
    made = ProvenanceLog(project, CLS)
    made.made(first, MODEL)  # a map that had no record, made: noted with the next write
    fail_replace_under(monkeypatch, project.metrics_path(CLS).parent, errno.EROFS)
    with pytest.raises(WriteError, match="Could not note which model made"):
        made.replacing(second)  # its record cannot leave the file: the map is not replaced
    made.close()  # the same failure again: the caller reports the one raised above
    assert provenance_path(project, CLS).read_bytes() == before


def fail_first_reading(monkeypatch, module, name: str) -> list[Path]:
    """`module`.read_json_file raises EIO at its first reading of a file named `name`, then reads as before (the
    review's fault: a network drive's hiccup, too many open files); returns the files it failed."""
    real, failed = module.read_json_file, []

    def flaky(path):
        if Path(path).name == name and not failed:
            failed.append(Path(path))
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(path)

    monkeypatch.setattr(module, "read_json_file", flaky)
    return failed


def test_history_read_once_in_vain_is_kept_not_written_over(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    for bias in (0.0, 1.0):
        store.save_if_better(folder, FakeResult(tiny_segmenter(bias)))
    before = (folder / "history.json").read_bytes()
    failed = fail_first_reading(monkeypatch, model_folder, "history.json")
    store.save_if_better(folder, FakeResult(tiny_segmenter(2.0)))
    assert failed == [folder / "history.json"]
    assert (folder / ".unreadable" / "history.json").read_bytes() == before  # both earlier entries kept


def test_current_json_read_once_in_vain_is_kept_when_a_model_is_promoted(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    store.save_if_better(folder, FakeResult(tiny_segmenter()))
    before = (folder / "current.json").read_bytes()
    failed = fail_first_reading(monkeypatch, project_format, "current.json")  # _promote's reading
    new = store.save_if_better(folder, FakeResult(tiny_segmenter(1.0)))
    assert failed == [folder / "current.json"]
    assert (folder / ".unreadable" / "current.json").read_bytes() == before
    assert json.loads((folder / "current.json").read_text())["id"] == new.model_id


def test_provenance_read_once_in_vain_keeps_the_other_maps_records(project, monkeypatch):
    """The review's toctou_prov.py: which model made each map cannot be made again."""
    record_predictions(project, CLS, project.stems, {"id": "old", "trained_at": "t"})
    path = provenance_path(project, CLS)
    before = path.read_bytes()
    made = ProvenanceLog(project, CLS)
    made.made(project.stems[0], MODEL)
    failed = fail_first_reading(monkeypatch, manifest, "provenance.json")
    made.close()
    assert failed == [path]
    assert (path.parent / ".unreadable" / "provenance.json").read_bytes() == before
    assert read_provenance(project, CLS)[project.stems[0]]["id"] == MODEL["id"]


@pytest.mark.parametrize("name", ["metrics.json", "uncertainty.json"])
def test_scores_loaded_while_their_file_could_not_be_read_do_not_replace_it(project, monkeypatch, name):
    """The scores are loaded long before they are saved, and maybe loaded again meanwhile: the failed loading is
    remembered by the project until the save, which keeps the file."""
    first = project.stems[0]
    if name == "metrics.json":
        load, empty = project.load_metrics, {}

        def save(stems):
            project.save_metrics(CLS, {s: {"auc": 0.5} for s in stems})
    else:
        load, empty = project.load_uncertainty, UncertaintyScores()

        def save(stems):
            project.save_uncertainty(CLS, UncertaintyScores({s: 0.5 for s in stems}))
    save(project.stems)
    path = project.metrics_path(CLS).with_name(name)
    before = path.read_bytes()
    failed = fail_first_reading(monkeypatch, project_format, name)
    assert load(CLS) == empty and failed == [path]  # taken as empty
    assert load(CLS) != empty  # it reads well now: what is saved may still come from the empty loading
    save([first])
    assert (path.parent / ".unreadable" / name).read_bytes() == before
    save([first])  # the file written over was read by no one since: no second copy
    assert [p.name for p in (path.parent / ".unreadable").iterdir()] == [name]
