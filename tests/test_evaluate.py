"""Lesion metrics through the pipeline and `medseg evaluate`: per-image values saved by predict/evaluate, the mean
over images (NaN skipped) beside the pooled pixel metrics, the table and the JSON. No Keras: predictions are written
directly."""

import json
import math

import numpy as np
import pytest

from medseg_gui import cli, pipeline
from medseg_gui.core.lesions import METRIC_KEYS, lesion_metrics
from tests.workers.helpers import H, W, disc, make_project


@pytest.fixture
def project(tmp_path):
    """img0: disc label, prediction shifted 2 px plus a false blob; img1: empty label (no lesion), one blob
    predicted."""
    project = make_project(tmp_path / "p", n=3, labelled=1)
    img0, img1, _ = project.stems
    pred0 = disc(cx=22) | disc(cx=55, cy=8, r=3)
    project.save_prediction("lesion", img0, pred0.astype(np.float32) * 0.9)
    project.save_label("lesion", img1, np.zeros((H, W), bool))
    project.save_prediction("lesion", img1, disc(cx=40).astype(np.float32) * 0.9)
    return project


def test_evaluate_class_reports_lesion_metrics_per_image_and_mean(project):
    img0, img1, _ = project.stems
    report = pipeline.evaluate_class(project, "lesion")
    assert set(report.per_image) == {img0, img1}
    m0, m1 = report.per_image[img0], report.per_image[img1]
    assert tuple(m0) == METRIC_KEYS
    expected = lesion_metrics(project.load_prediction("lesion", img0) >= 0.5, project.load_label("lesion", img0))
    assert {k: m0[k] for k in expected} == pytest.approx(expected, nan_ok=True)
    assert (m0["lesions"], m0["found"], m0["recall"], m0["false_lesions"]) == (1, 1, 1.0, 1)
    assert (m1["dice"], m1["iou"], m1["false_lesions"]) == (0.0, 0.0, 1)  # empty frame, something predicted
    assert math.isnan(m1["recall"]) and math.isnan(m1["hd95"])
    mean = report.mean
    assert mean["dice"] == pytest.approx(m0["dice"] / 2)
    assert mean["recall"] == 1.0 and mean["hd95"] == m0["hd95"]  # img1 has none: skipped, not counted as 0
    assert mean["false_lesions"] == 1.0
    assert set(report.pooled) == {"auc", "dice", "iou", "sensitivity", "specificity"}  # pixels only


def test_cli_evaluate_prints_lesion_columns_mean_and_valid_json(project, capsys):
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    out = capsys.readouterr().out
    header, *rows = out.splitlines()
    assert header.split() == ["image", "label", *METRIC_KEYS]
    assert [r.split()[:2] for r in rows[:4]] == [[s, "complete"] for s in [*project.stems[:2], "MEAN", "POOLED"]]
    assert "mean over images" in out
    assert cli.main(["evaluate", str(project.root), "--class", "lesion", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["images"][project.stems[1]]["recall"] is None  # NaN → null
    counts = [data["images"][s][k] for s in project.stems[:2] for k in ("lesions", "found", "false_lesions")]
    assert counts and all(type(c) is int for c in counts)  # a count reads 1, not 1.0
    assert data["mean"]["recall"] == 1.0 and data["mean"]["false_lesions"] == 1.0


def test_cli_evaluate_says_how_many_labelled_images_it_left_out(project, capsys):
    img0, img1, _ = project.stems
    project.label_path("lesion", img1).write_bytes(b"not a png")
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    captured = capsys.readouterr()
    assert img1 in captured.err and captured.err.startswith("medseg: warning:")
    rows = [r.split()[0] for r in captured.out.splitlines()[1:4]]
    assert rows == [img0, "MEAN", "POOLED"]
    assert "1 labelled image(s) left out of MEAN and POOLED" in captured.out
    assert cli.main(["evaluate", str(project.root), "--class", "lesion", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data["images"]) == [img0] and len(data["left_out"]) == 1 and img1 in data["left_out"][0]


def test_rethreshold_computes_only_what_the_threshold_changes(project, monkeypatch):
    import os

    from medseg_gui.core import metrics

    img0, img1, _ = project.stems
    project.save_metrics("lesion", pipeline.evaluate_class(project, "lesion").per_image)
    later = project.metrics_path("lesion").stat().st_mtime_ns + 10**10
    os.utime(project.metrics_path("lesion"), ns=(later, later))  # metrics.json is newer than every label
    aucs: list[float] = []
    roc_auc = metrics.roc_auc
    monkeypatch.setattr(metrics, "roc_auc", lambda *a: aucs.append(roc_auc(*a)) or aucs[-1])

    def same(got, want):
        assert set(got) == set(want)
        for stem in want:
            assert got[stem] == pytest.approx(want[stem], nan_ok=True)

    at_07 = pipeline.rethreshold_class(project, "lesion", 0.7)
    assert aucs == []  # AUC does not depend on the threshold: kept from metrics.json
    same(at_07, pipeline.evaluate_class(project, "lesion", threshold=0.7).per_image)
    assert {m["threshold"] for m in at_07.values()} == {0.7}
    aucs.clear()
    project.save_label("lesion", img1, disc(cx=40))  # an edit after metrics.json was written: its AUC changes
    os.utime(project.label_path("lesion", img1), ns=(later + 1, later + 1))
    again = pipeline.rethreshold_class(project, "lesion", 0.7)
    assert len(aucs) == 1 and again[img1]["auc"] == aucs[0] == 1.0
    same(again, pipeline.evaluate_class(project, "lesion", threshold=0.7).per_image)
    aucs.clear()
    pipeline.rethreshold_class(project, "lesion", 0.6, changed={img0})  # saved since, whatever the file times say
    assert len(aucs) == 2  # img0 (changed) and img1 (its file is still newer than metrics.json)


@pytest.fixture
def strokes(project):
    """The fixture plus img2: a sparse label (strokes: the disc and a band of background) that the prediction
    matches on its strokes, so it scores far better there than img0 and img1 on their complete labels."""
    img2 = project.stems[2]
    annotated = disc() | (np.arange(H)[:, None] >= 40) & np.ones((1, W), bool)
    project.save_label("lesion", img2, disc(), annotated)
    project.save_prediction("lesion", img2, disc().astype(np.float32) * 0.9)
    return project


def test_evaluate_averages_stroke_labels_apart_from_complete_ones(strokes):
    img0, img1, img2 = strokes.stems
    report = pipeline.evaluate_class(strokes, "lesion")
    assert report.strokes == {img2} and [report.label_kind(s) for s in strokes.stems] == [
        "complete", "complete", "strokes"]
    m = report.per_image
    assert m[img2]["dice"] == 1.0
    assert report.mean["dice"] == pytest.approx((m[img0]["dice"] + m[img1]["dice"]) / 2)  # the strokes left out
    assert report.strokes_mean["dice"] == 1.0
    alone = pipeline.evaluate_class(strokes, "lesion")
    strokes.label_path("lesion", img2).unlink()  # the pixels pooled are those of the complete labels only
    assert alone.pooled == pytest.approx(pipeline.evaluate_class(strokes, "lesion").pooled)


def test_cli_evaluate_says_which_labels_are_strokes_and_means_them_apart(strokes, capsys):
    img0, img1, img2 = strokes.stems
    assert cli.main(["evaluate", str(strokes.root), "--class", "lesion"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("  ")[0].strip(): line.split() for line in out.splitlines()[1:7]}
    assert rows[img0][1] == rows[img1][1] == "complete" and rows[img2][1] == "strokes"
    assert rows["MEAN"][1] == rows["POOLED"][1] == "complete"
    assert rows["STROKES MEAN"][2:4] == ["strokes", "1.0000"]  # auc 1, on the strokes
    assert ("STROKES MEAN: mean over the 1 stroke (sparse) labels, scored on the strokes only, not comparable with "
            "complete labels") in out
    assert cli.main(["evaluate", str(strokes.root), "--class", "lesion", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [data["images"][s]["label"] for s in strokes.stems] == ["complete", "complete", "strokes"]
    complete = [data["images"][s]["dice"] for s in (img0, img1)]
    assert data["mean"]["dice"] == pytest.approx(sum(complete) / 2)
    assert data["strokes_mean"]["dice"] == 1.0 and "not comparable" in data["strokes_note"]


def test_cli_evaluate_with_stroke_labels_only_says_so(strokes, capsys):
    img0, img1, img2 = strokes.stems
    for stem in (img0, img1):
        strokes.label_path("lesion", stem).unlink()
    assert cli.main(["evaluate", str(strokes.root), "--class", "lesion"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()[1:3]] == [img2, "STROKES"]
    assert "MEAN " not in out.splitlines()[2:] and "\nPOOLED" not in out
    assert "All 1 labels are strokes (sparse labels): no MEAN or POOLED over complete labels" in out
    assert cli.main(["evaluate", str(strokes.root), "--class", "lesion", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mean"] is None and data["pooled"] is None and data["strokes_mean"]["dice"] == 1.0
