"""What a script reads from `medseg`: `train --json` (was the new model kept?) and `evaluate --csv`."""

import csv
import io
import json
import math
import signal
from types import SimpleNamespace

import numpy as np
import pytest

from medseg_gui import cli, pipeline
from medseg_gui.ml.store import StoreDecision
from medseg_gui.ml.train import TrainResult
from tests.test_cli import vessel_project

SEEN = "2 of your labelled images (img0, img1) were in the data the shipped start learnt from."


@pytest.fixture
def root(tmp_path):
    """Three labelled vessel images, each with a saved (noisy) prediction; no model."""
    rng = np.random.default_rng(7)
    project, masks = vessel_project(tmp_path / "p", rng)
    for stem, mask in zip(project.stems, masks):
        project.save_prediction("vessel", stem, np.clip(mask * 0.7 + rng.random(mask.shape) * 0.5, 0, 1))
    return str(project.root)


def test_train_json_says_whether_the_new_model_was_kept_with_the_notes(root, monkeypatch, capsys):
    """Prose only ('the current model was kept', exit 0): a script could not tell (data-scientist trial)."""
    result = TrainResult(segmenter=SimpleNamespace(metadata={"val_dice": 0.61}), val_auc=0.8,
                         previous_val_auc=float("nan"), steps=3, seconds=1.24, seen=SEEN)
    decision = StoreDecision(False, 0.8, None, "The new model is not better; the current model was kept.", "m2",
                             None, "AUC", 0.8, 0.7440824329971732)
    outside = "vessel labels lie largely outside their fov region on 1 image (img1: 40 % outside, region predicted)"
    outcome = pipeline.TrainOutcome(result=result, decision=decision, stems=("img0", "img1"),
                                    skipped=("img2 not trained on: unreadable",), outside=(outside,))
    monkeypatch.setattr(pipeline, "train_class", lambda *a, **k: outcome)
    capsys.readouterr()
    assert cli.main(["train", root, "--class", "vessel", "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)  # the whole of stdout
    assert report["kept_new"] is False and report["new_model"] == "m2" and report["current_model"] is None
    assert report["compared"] == {"metric": "AUC", "new": 0.8, "current": 0.7441}  # rounded alike (trial: in full)
    assert report["val_auc"] == {"new": 0.8, "current": None} and report["val_dice"] == 0.61  # NaN → null
    assert (report["steps"], report["seconds"], report["images"]) == (3, 1.2, ["img0", "img1"])
    assert report["skipped"] == ["img2 not trained on: unreadable"]
    assert report["notes"][0] == outside  # a script reads it too (it is a warning on stderr, once)
    assert report["notes"][1] == SEEN and "2 labelled images: models from fewer than 8" in report["notes"][2]
    assert f"medseg: note: {SEEN}" in err and "medseg: warning: img2 not trained on" in err
    assert err.count(outside) == 1
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    assert [key for key in report if f"{key} " not in helped and f"{key}," not in helped] == []  # docs: 'cancelled'


@pytest.mark.parametrize("stop, rc, line", [(KeyboardInterrupt, 130, "medseg: interrupted"),
                                            ("terminated", 143, "medseg: terminated")])
def test_train_json_stopped_by_ctrl_c_or_sigterm_still_prints_its_json_with_cancelled_true(root, monkeypatch, capsys,
                                                                                          stop, rc, line):
    """Outside CLI trial: `medseg train --json` printed nothing on Ctrl+C or SIGTERM (status 130 or 143), so a
    script's JSON parse failed, though README lists `cancelled` ('the run was stopped: no new model')."""
    from medseg_gui.cli_common import Terminated

    def stopped(*_a, **_k):
        raise Terminated if stop == "terminated" else stop

    monkeypatch.setattr(pipeline, "train_class", stopped)
    capsys.readouterr()
    assert cli.main(["train", root, "--class", "vessel", "--json"]) == rc
    out, err = capsys.readouterr()
    report = json.loads(out)  # the whole of stdout
    assert report["cancelled"] is True and report["kept_new"] is False and report["new_model"] is None
    assert report["current_model"] is None and report["reason"] == "Training cancelled — previous model kept."
    assert report["steps"] is None and report["compared"] is None and isinstance(report["seconds"], float)
    finished = pipeline.TrainOutcome(result=TrainResult(segmenter=SimpleNamespace(metadata={}), val_auc=0.8,
                                                        previous_val_auc=0.7, steps=3, seconds=1.0), decision=None)
    from medseg_gui.cli_train import train_json
    assert list(report) == list(train_json(SimpleNamespace(current_model_info=lambda c: None), "vessel", finished, []))
    assert err.splitlines() == [line]


def _finished(monkeypatch):
    """`pipeline.train_class` returns at once: a run whose model m2 was stored and became current (as store_result)."""
    result = TrainResult(segmenter=SimpleNamespace(metadata={}), val_auc=0.8, previous_val_auc=None, steps=3,
                         seconds=1.0, seen=SEEN)
    decision = StoreDecision(True, 0.8, None, "Saved the new model.", "m2", None, "AUC", 0.8, None)
    monkeypatch.setattr(pipeline, "train_class", lambda *a, **k: pipeline.TrainOutcome(
        result=result, decision=decision, stems=("img0", "img1")))


def _stop(stop: str) -> None:
    from medseg_gui.cli_common import Terminated

    raise Terminated if stop == "terminated" else KeyboardInterrupt


@pytest.mark.parametrize("stop, rc, line", [("interrupted", 130, "medseg: interrupted"),
                                            ("terminated", 143, "medseg: terminated")])
def test_train_json_stopped_once_its_model_is_stored_still_describes_that_model(root, monkeypatch, capsys,
                                                                              stop, rc, line):
    """A Ctrl+C or SIGTERM just after the run returned (its model saved), before the JSON was printed, printed none:
    a script read nothing of the model it had made. The run finished, so `cancelled` is false."""
    from medseg_gui import cli_progress

    _finished(monkeypatch)
    monkeypatch.setattr(cli_progress.TerminalProgress, "done", lambda self: _stop(stop))  # first after the run
    capsys.readouterr()
    assert cli.main(["train", root, "--class", "vessel", "--json"]) == rc
    out, err = capsys.readouterr()
    report = json.loads(out)  # the whole of stdout: one object
    assert report["cancelled"] is False and report["kept_new"] is True and report["new_model"] == "m2"
    assert report["reason"] == "Saved the new model." and report["steps"] == 3 and report["images"] == ["img0", "img1"]
    assert report["notes"][0] == SEEN
    assert err.splitlines()[-1] == line


@pytest.mark.parametrize("signum, rc, line", [(signal.SIGINT, 130, "medseg: interrupted"),
                                              (signal.SIGTERM, 143, "medseg: terminated")])
def test_a_signal_while_a_stored_model_is_said_waits_until_it_is_said(root, monkeypatch, capsys, signum, rc, line):
    """Once the model is stored, a Ctrl+C or SIGTERM ends the command only after its JSON and notes are out."""
    from medseg_gui import cli_train

    _finished(monkeypatch)
    warned = cli_train.warn
    monkeypatch.setattr(cli_train, "warn", lambda messages: (signal.raise_signal(signum), warned(messages)))
    capsys.readouterr()
    assert cli.main(["train", root, "--class", "vessel", "--json"]) == rc
    out, err = capsys.readouterr()
    report = json.loads(out)  # printed once, whole
    assert report["cancelled"] is False and report["new_model"] == "m2" and report["notes"][0] == SEEN
    assert f"medseg: note: {SEEN}" in err and err.splitlines()[-1] == line  # what came after it was still said


def test_a_second_stop_while_the_json_is_written_does_not_print_it_again(root, monkeypatch, capsys):
    """A second Ctrl+C acts at once (a write blocked on a full pipe cannot hold the command): the JSON cut short is
    not followed by a second whole one (review: stdout held one and a half objects)."""
    import builtins

    _finished(monkeypatch)
    printed = builtins.print

    def print_cut(*args, **kwargs):
        if args and str(args[0]).startswith("{"):
            printed(str(args[0])[:40], end="")
            raise KeyboardInterrupt  # the second stop, inside the write
        printed(*args, **kwargs)

    monkeypatch.setattr(builtins, "print", print_cut)
    capsys.readouterr()
    assert cli.main(["train", root, "--class", "vessel", "--json"]) == 130
    out, _err = capsys.readouterr()
    assert out.count("{") == 1 and len(out) == 40


def test_evaluate_csv_rows_are_the_json_per_image_values(root, capsys):
    capsys.readouterr()
    assert cli.main(["evaluate", root, "--class", "vessel", "--json"]) == 0
    images = json.loads(capsys.readouterr().out)["images"]
    assert cli.main(["evaluate", root, "--class", "vessel", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["image"] for r in rows] == list(images)  # the images only: no MEAN or POOLED
    assert {"auc", "dice", "hd95"} <= set(rows[0]) and "lesions" not in rows[0]  # the table's columns (vessels)
    for row in rows:
        assert row["label"] == images[row["image"]]["label"]
        for key in set(row) - {"image", "label"}:
            want = images[row["image"]][key]
            assert (math.isnan(float(row[key])) if want is None else float(row[key]) == want), (row["image"], key)


def test_evaluate_csv_and_json_together_is_a_usage_error(root, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["evaluate", root, "--class", "vessel", "--csv", "--json"])
    assert exc.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
