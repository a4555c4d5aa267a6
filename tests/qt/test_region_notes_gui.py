"""What the window says of a two-stage class's run, as `medseg train` / `evaluate` do (an outside colposcopist's
trial): an image not scored (its region empty) shows '–' with the reason, not Dice 1.00 at the top of the sort; the
Train panel's result names the images left out of training and a region a weak model predicted; its joined sentences
start with a capital."""

from __future__ import annotations

import math
from types import SimpleNamespace

from medseg_gui import pipeline
from medseg_gui.core.metrics import NOT_SCORED
from medseg_gui.qt.panels.image_columns import DICE_COL, RECALL_COL
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.qt.panels.train_text import LEFT_OUT_SHOWN, outcome_text

WHY = "its 'cervix' region is empty here (predicted), and its lesion label lies outside it"
LEFT_OUT = "143 left out of training: its 'cervix' region, which 'lesion' is restricted to, is empty"
WEAK = ("the 'cervix' region on 3 images (1, 2, 3) comes from the cervix model, which validated at Dice 0.11 (under "
        "0.5): outline the cervix on them or retrain cervix first")


def test_an_image_not_scored_shows_a_dash_with_the_reason_and_sorts_last(qtbot):
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_images(["127", "143"], ["lesion"])
    panel.set_current_class("lesion")
    nan = math.nan
    panel.set_metrics("lesion", {"127": {"dice": 0.6, "iou": 0.43, "lesions": 1, "found": 1, "recall": 1.0},
                                 "143": {"dice": nan, "iou": nan, "lesions": nan, "found": nan, "recall": nan,
                                         NOT_SCORED: WHY}})
    row = panel.stems().index("143")
    for col in (DICE_COL, RECALL_COL):
        item = panel.table.item(row, col)
        assert item.text() == "–" and item.toolTip() == f"Not scored, and left out of means: {WHY}"
    panel.table.sortItems(DICE_COL)
    assert panel.stems() == ["127", "143"]  # not the best image: no score at all


def _outcome(**notes) -> pipeline.TrainOutcome:
    decision = SimpleNamespace(kept_new=False, metric="AUC", new_score=0.8, old_score=0.9, reason="")
    return pipeline.TrainOutcome(SimpleNamespace(note="", seen="Started from scratch"), decision, **notes)


def test_the_run_result_names_images_left_out_and_a_weak_region_as_sentences():
    outside = ("lesion labels lie largely outside their cervix region on 1 image (127: 40 % outside, region "
               "predicted): training and scores use only the part inside; label the cervix there or check the cervix "
               "model")
    text = outcome_text(_outcome(skipped=(LEFT_OUT,), outside=(outside,), weak_region=(WEAK,)), brief=False)
    assert f"Started from scratch. {LEFT_OUT}. Lesion labels lie largely outside" in text
    assert text.endswith(f"cervix model. The{WEAK[3:]}")


def test_a_brief_result_names_a_few_images_left_out_and_counts_the_rest():
    skipped = tuple(f"img_{i} left out of training: its label file cannot be read" for i in range(LEFT_OUT_SHOWN + 2))
    brief, full = outcome_text(_outcome(skipped=skipped)), outcome_text(_outcome(skipped=skipped), brief=False)
    assert all(line in full for line in skipped) and skipped[-1] not in brief
    assert "img_0 left out" in brief and "2 more labelled images left out of training" in brief

