"""The Labelled cell says "· new" for a label saved after the current model's run read the labels, and "✓ accepted"
for an accepted prediction (an outside trial: "✓ · train" and Dice 0.99 on an accepted training image)."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from medseg_gui.core.project import LabelsRead, labels_read, labels_read_at
from medseg_gui.qt.panels.image_list import LABELLED_COL
from medseg_gui.qt.panels.labelled_cell import ACCEPTED, LabelMarks, labelled_cell
from tests.workers.helpers import make_project, open_window


def test_labels_read_at_from_the_metadata_only():
    assert labels_read_at({"labels_read_at": "2024-05-01T10:00:00.500+00:00"}) == pytest.approx(1714557600.5)
    older = {"trained_at": "2024-05-01T10:00:00+00:00", "seconds": 90.0}  # not recorded: no guess (a label saved
    assert labels_read_at(older) is None  # just before Retrain would be called changed since)
    assert labels_read_at({"labels_read_at": "yesterday"}) is None and labels_read_at(None) is None


def test_a_label_saved_after_the_models_run_shows_new():
    marks = LabelMarks(labelled={"a", "b", "c", "d"}, kinds={"lesion": dict.fromkeys("abcd")})
    marks.set_split(["a", "c"], ["b"], {"d"}, read_at=LabelsRead(1000.0))
    marks.set_saved_at("lesion", {"a": 999.0, "b": 1001.0, "c": 1002.0, "d": 1003.0})
    assert [marks.cell("lesion", s)[0] for s in "abcd"] == ["✓ · train", "✓ · new", "✓ · new", "✓ · test"]
    assert "labelled or changed since it was trained" in marks.cell("lesion", "c")[1]
    assert marks.split_of("c") == "train"  # what the model recorded (Accept's held-out warning reads it)
    marks.set_saved_at("lesion", {"b": 900.0})  # an older mtime read in the background: the later save stands
    assert marks.cell("lesion", "b")[0] == "✓ · new"
    assert marks.shown_split("vessel", "b") == "val"  # another class's label is another file
    marks.set_split(["a", "c"], ["b"], read_at=LabelsRead())  # not known when the run read them: as recorded
    assert [marks.cell("lesion", s)[0] for s in "abc"] == ["✓ · train", "✓ · val", "✓ · train"]



def test_a_label_continuous_training_read_again_is_not_new():
    """Continuous training joins labels saved meanwhile between epochs: a label its run read after saving it is not
    "· new" (metadata `labels_joined_at`); one saved again after that is. Older models record none: as before."""
    info = {"labels_read_at": "2024-05-01T10:00:00+00:00",
            "labels_joined_at": {"b": "2024-05-01T10:05:00+00:00", "c": "not a time"}}
    read = labels_read(info)
    assert read.began == pytest.approx(1714557600.0) and read.later == {"b": pytest.approx(1714557900.0)}
    assert read.at("b") == pytest.approx(1714557900.0) and read.at("a") == read.at("c") == read.began
    assert labels_read({"labels_read_at": info["labels_read_at"]}) == LabelsRead(read.began)
    assert labels_read(None) == LabelsRead() and labels_read({"labels_joined_at": ["b"]}).later == {}
    marks = LabelMarks(labelled={"a", "b"}, kinds={"lesion": dict.fromkeys("ab")})
    marks.set_split(["a", "b"], [], read_at=read)
    marks.set_saved_at("lesion", {"a": read.began - 1, "b": read.began + 60})  # b saved mid-run, then joined
    assert [marks.cell("lesion", s)[0] for s in "ab"] == ["✓ · train", "✓ · train"]
    marks.set_saved_at("lesion", {"b": read.at("b") + 1})  # and saved again after it joined
    assert marks.cell("lesion", "b")[0] == "✓ · new"

def test_an_accepted_prediction_says_its_scores_compare_the_model_with_itself():
    text, tip, _ = labelled_cell("lesion", True, None, accepted=True, split="new")
    assert text == ACCEPTED and "its own" in tip and "until you correct" in tip  # its split: in the tooltip
    assert tip.index("its own") < tip.index("Not used by the current model")
    assert labelled_cell("lesion", True, None, accepted=True, pending=True)[0] == "✓ …"  # not read yet
    marks = LabelMarks(labelled={"a"}, kinds={"lesion": {"a": None}}, accepted={"a"})
    assert marks.cell("lesion", "a")[0] == ACCEPTED


def test_window_marks_labels_saved_after_the_run_new_and_accepted_predictions(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=3, labelled=3)
    a, b, c = project.stems
    model_dir = project.model_dir("lesion")
    model_dir.mkdir(parents=True)
    read_at = time.time() - 100
    (model_dir / "current.json").write_text(json.dumps({
        "val_auc": 0.9, "train_stems": [a, b], "val_stems": [c],
        "labels_read_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(read_at))}))
    for stem in (a, c):  # labelled before the run
        os.utime(project.label_path("lesion", stem), (read_at - 60, read_at - 60))
    window = open_window(qtbot, project)  # b's label was saved after: another program, a closed session
    window.tools.select_class("lesion")
    images = window.image_list
    qtbot.waitUntil(lambda: images.labelled_column.text(b) == "✓ · new", timeout=10_000)
    assert [images.labelled_column.text(s) for s in (a, c)] == ["✓ · train", "✓ · val"]
    joined = json.loads((model_dir / "current.json").read_text())  # continuous training read b's label again
    joined["labels_joined_at"] = {b: time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 2))}
    window.classes.show_state(joined)  # as a finished round hands its kept model over
    assert images.labelled_column.text(b) == "✓ · train"

    images.select(a)  # Accept prediction on a training image: the model's own output, saved now
    qtbot.waitUntil(lambda: window.session.stem == a, timeout=5_000)
    window.canvas.set_prediction("lesion", np.full(window.canvas.doc.shape, 0.9, np.float32))
    window.canvas.accept_prediction()
    assert window.saver.flush(10)
    tip = lambda: images._item(a, LABELLED_COL).toolTip()  # noqa: E731
    qtbot.waitUntil(lambda: images.labelled_column.text(a) == ACCEPTED and "Not used by" in tip(), timeout=5_000)
    assert "compare the model with its own" in tip()  # and its split, "new" since its save, in the tooltip only
    window.actions.undo.trigger()  # the hand-made label again (saved now: still changed since the run)
    assert window.saver.flush(10)
    qtbot.waitUntil(lambda: ACCEPTED not in images.labelled_column.text(a), timeout=5_000)
    assert images.labelled_column.text(a).endswith(" · new")  # ("✓ ?": the prediction covers the whole image)


def test_a_photo_the_models_start_saw_is_not_called_new_val_or_test():
    """An outside trial's kept start (trained on every HRF photo) showed its training photos "✓ · new" with AUC."""
    marks = LabelMarks(labelled=set("abcde"), kinds={"vessel": dict.fromkeys("abcde")})
    marks.set_split(["a"], ["b"], {"d"}, model="m1", start_saw={"a", "b", "c", "d"})
    assert [marks.cell("vessel", s)[0] for s in "abcde"] == [
        "✓ · train", *["✓ · seen"] * 3, "✓ · new"]
    assert marks.cell("vessel", "c")[1].startswith("Seen by the built-in start") and "no honest check" in marks.cell(
        "vessel", "c")[1]
    marks.add_start_saw("m1", {"e"})  # labelled since the run: fingerprinted in the background
    assert marks.cell("vessel", "e")[0] == "✓ · seen"
    marks.set_split(["a"], ["b"], model="m2")  # another current model (from scratch): its own marks only
    assert [marks.cell("vessel", s)[0] for s in "bce"] == ["✓ · val", "✓ · new", "✓ · new"]
    marks.add_start_saw("m1", {"c"})  # a late reading for the model current before
    assert marks.cell("vessel", "c")[0] == "✓ · new"


def test_window_marks_labelled_photos_the_models_start_saw(tmp_path, qtbot, monkeypatch):
    from medseg_gui.core.fingerprint import SeenPhotos, fingerprint

    project = make_project(tmp_path / "p", n=4, labelled=4)
    a, b, c, d = project.stems
    seen = SeenPhotos("lesions", "PolypGen", (fingerprint(project.load_image(c)),))
    monkeypatch.setattr("medseg_gui.ml.init.shipped_seen", lambda regime: seen if regime == "lesions" else None)
    model_dir = project.model_dir("lesion")
    model_dir.mkdir(parents=True)
    (model_dir / "current.json").write_text(json.dumps({  # a kept start: it learnt from none of them
        "id": "m1", "val_auc": 0.9, "train_stems": [], "val_stems": [a], "from_start": "lesions",
        "start_seen": {"photos": "PolypGen", "stems": [a], "checked": [a, b]}}))  # c, d labelled since its run
    window = open_window(qtbot, project)
    window.tools.select_class("lesion")
    images = window.image_list
    qtbot.waitUntil(lambda: images.labelled_column.text(c) == "✓ · seen", timeout=10_000)
    assert [images.labelled_column.text(s) for s in (a, b, d)] == ["✓ · seen", "✓ · new", "✓ · new"]
    assert "no honest check" in images._item(c, LABELLED_COL).toolTip()
