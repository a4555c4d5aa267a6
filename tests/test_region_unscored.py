"""A two-stage class on an image whose region is empty (its region class predicted nowhere there) or whose label lies
wholly outside its region: an outside trial's missed lesion on image 143 scored Dice 1.00 and led the sort by Dice,
and counted in `medseg evaluate`'s MEAN. It is not scored now, with the reason; a region a weak region model
predicted is said once (the lesion was trained, scored and exported inside a 0.11-Dice cervix model's specks)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from medseg_gui import cli, pipeline
from medseg_gui.core.images import write_png
from medseg_gui.core.lesions import per_image_metrics
from medseg_gui.core.metrics import NOT_SCORED, mean_metrics, scorable
from medseg_gui.core.project import ClassSpec, Project
from medseg_gui.core.regions import weak_region_note

SIZE = 48
EMPTY = "its 'cervix' region is empty here (predicted), and its lesion label lies outside it"


@pytest.fixture
def project(tmp_path):
    """`inside`: cervix predicted everywhere, the lesion found in part; `empty`: cervix predicted nowhere, the
    lesion label complete and its prediction (necessarily) empty."""
    project = Project.create(tmp_path / "p", (ClassSpec("cervix", (0, 200, 255)),
                                              ClassSpec("lesion", (255, 215, 0), roi_class="cervix")))
    lesion = np.zeros((SIZE, SIZE), bool)
    lesion[16:32, 16:32] = True
    found = np.zeros((SIZE, SIZE), np.float32)
    found[16:32, 16:24] = 1.0  # half of it: Dice 2/3
    for name, cervix, prob in (("inside", 1.0, found), ("empty", 0.0, np.zeros((SIZE, SIZE), np.float32))):
        src = tmp_path / f"{name}.png"
        write_png(src, np.full((SIZE, SIZE, 3), 120, np.uint8))
        stem = project.add_image(src).stem
        project.save_prediction("cervix", stem, np.full((SIZE, SIZE), cervix, np.float32))
        project.save_label("lesion", stem, lesion)
        project.save_prediction("lesion", stem, prob)
    return project


def _weak_cervix_model(project: Project, val_dice: float) -> None:
    """A current cervix model whose metadata says it validated at `val_dice` (all weak_region_note reads)."""
    folder = project.model_dir("cervix")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "current.json").write_text(json.dumps({"id": "m1", "val_dice": val_dice}), "utf-8")


def test_the_scoring_rule_keeps_an_empty_truth_and_prediction_in_a_region_perfect():
    truth, roi = np.zeros((8, 8), bool), np.zeros((8, 8), bool)
    roi[:4] = True
    assert scorable(truth, roi) and per_image_metrics(np.zeros((8, 8), np.float32), truth, roi)["dice"] == 1.0
    truth[6, 6] = True  # all of the truth outside the region: a total miss would score 1
    assert not scorable(truth, roi) and not scorable(truth, np.zeros((8, 8), bool))
    assert not scorable(np.zeros((8, 8), bool), np.zeros((8, 8), bool))  # an empty region: nothing to compare
    truth[0, 0] = True  # some of it inside: scored
    assert scorable(truth, roi) and scorable(truth, None)
    scores = per_image_metrics(np.zeros((8, 8), np.float32), np.eye(8, dtype=bool) & ~roi, roi, threshold=0.4)
    assert all(math.isnan(v) for k, v in scores.items() if k != "threshold") and scores["threshold"] == 0.4


def test_mean_metrics_skips_the_reason_of_an_image_not_scored():
    means = mean_metrics({"a": {"dice": 0.5}, "b": {"dice": math.nan, NOT_SCORED: "why"}})
    assert means == {"dice": 0.5}


def test_evaluate_leaves_an_empty_region_out_with_its_reason(project):
    report = pipeline.evaluate_class(project, "lesion")
    assert math.isnan(report.per_image["empty"]["dice"]) and math.isnan(report.per_image["empty"]["iou"])
    assert report.per_image["empty"][NOT_SCORED] == EMPTY
    assert report.mean["dice"] == pytest.approx(2 / 3)  # 'inside' alone (with 'empty' at 1.0: 0.83)
    assert report.pooled["dice"] == pytest.approx(2 / 3)
    assert f"empty not scored (left out of MEAN and POOLED): {EMPTY}" in report.notes


def test_a_label_wholly_outside_a_non_empty_region_is_not_scored_either(project):
    cervix = np.zeros((SIZE, SIZE), np.float32)
    cervix[:, 40:] = 1.0  # a strip right of the lesion
    project.save_prediction("cervix", "empty", cervix)
    entry = pipeline.evaluate_class(project, "lesion").per_image["empty"]
    assert math.isnan(entry["dice"]) and entry[NOT_SCORED] == ("its lesion label lies wholly outside its 'cervix' "
                                                               "region (predicted)")


def test_scores_saved_at_another_threshold_keep_the_reason(project):
    metrics = pipeline.rethreshold_class(project, "lesion", 0.4)
    project.save_metrics("lesion", metrics)
    saved = project.load_metrics("lesion")["empty"]
    assert saved[NOT_SCORED] == EMPTY and math.isnan(saved["dice"])
    assert saved["threshold"] == 0.4 and not math.isnan(project.load_metrics("lesion")["inside"]["dice"])


def test_medseg_evaluate_says_why_and_leaves_it_out_of_the_mean(project, capsys):
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    out, err = capsys.readouterr()
    assert f"medseg: warning: empty not scored (left out of MEAN and POOLED): {EMPTY}" in err.splitlines()
    mean = next(line for line in out.splitlines() if line.startswith("MEAN"))
    assert mean.split()[2:4] == ["0.7500", "0.6667"]  # AUC, Dice of 'inside' alone (with 'empty' Dice 0.8333)
    assert "(scored only inside it on 1 of 1 image)" in out  # not "2 of 2" beside the image not scored (trial)
    assert cli.main(["evaluate", str(project.root), "--class", "lesion", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["images"]["empty"][NOT_SCORED] == EMPTY


def test_a_region_from_a_weak_model_is_said_once(project, capsys):
    assert weak_region_note(project, "lesion", project.stems) == ()  # no cervix model: nothing to say
    _weak_cervix_model(project, 0.109)
    note = ("the 'cervix' region on 2 images (inside, empty) comes from the cervix model, which validated at Dice "
            "0.11 (under 0.5): outline the cervix on them or retrain cervix first")
    assert weak_region_note(project, "lesion", project.stems) == (note,)
    region = np.zeros((SIZE, SIZE), bool)
    region[8:40, 8:40] = True
    project.save_label("cervix", "inside", region)  # outlined there: only 'empty' keeps a predicted region
    assert "on 1 image (empty)" in weak_region_note(project, "lesion", project.stems)[0]
    assert cli.main(["evaluate", str(project.root), "--class", "lesion"]) == 0
    err = capsys.readouterr().err
    assert sum("validated at Dice 0.11" in line for line in err.splitlines()) == 1
    _weak_cervix_model(project, 0.8)
    assert weak_region_note(project, "lesion", project.stems) == ()


@pytest.mark.slow
def test_medseg_train_notes_the_image_left_out_and_the_weak_region_model(project, capsys):
    from tests.test_region_outside import train_tiny

    _weak_cervix_model(project, 0.109)
    assert train_tiny(project.root, "lesion") == 0
    err = capsys.readouterr().err.splitlines()
    assert ("medseg: warning: empty left out of training: its 'cervix' region, which 'lesion' is restricted to, is "
            "empty") in err
    assert sum("comes from the cervix model, which validated at Dice 0.11" in line for line in err) == 1
