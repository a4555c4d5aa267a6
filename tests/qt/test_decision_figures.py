"""One kept model, two validation figures: its score on all of its validation images (its Current model line, the
Models dialog's Val column) and the keep-unless-better comparison with the previous model on the images they share.
An outside trial read "Current model: val Dice 0.383" right above "New model kept: val Dice 0.114 (previous 0.104 …)",
and "kept 0.381 (previous 0.373)" as a gain after the panel had shown the previous model at 0.406."""

from __future__ import annotations

from types import SimpleNamespace

from medseg_gui.ml.compare import BASIS_THEN
from medseg_gui.ml.config import preset_names
from medseg_gui.ml.store import StoreDecision
from medseg_gui.qt.panels.train_panel import TrainPanel
from medseg_gui.qt.panels.train_text import decision_text, model_text, run_texts
from medseg_gui.workers.training import TrainOutcome
from tests.workers.helpers import TINY_TRAIN

KEPT = {"regime": "lesions", "val_dice": 0.383, "val_auc": 0.91, "val_images": 6, "preset": "default"}
SHARED = StoreDecision(True, 0.91, 0.9, "Saved the new model.", "m-2", KEPT, "Dice", 0.114, 0.104, BASIS_THEN)


def test_a_kept_model_leads_with_its_own_figure_then_the_shared_images_comparison():
    assert model_text(KEPT).startswith("Current model: val Dice 0.383 ")
    assert decision_text(SHARED) == (
        "New model kept: val Dice 0.383 on its 6 validation images; compared with the previous model on the validation "
        "images they share, labelled as when the previous model was trained: Dice 0.114 against 0.104")
    assert decision_text(SHARED, brief=True) == (
        "New model kept: val Dice 0.383 on its 6 validation images; on those it shares with the previous model: 0.114 "
        "against 0.104")


def test_compared_on_all_its_images_the_previous_figure_is_said_to_be_on_the_same_images():
    same = StoreDecision(True, 0.91, 0.9, "", "m-3", {**KEPT, "val_dice": 0.381}, "Dice", 0.381, 0.373)
    assert decision_text(same) == ("New model kept: val Dice 0.381 on its 6 validation images; the previous model "
                                   "scored 0.373 on the same images")


def test_the_panel_shows_the_brief_text_and_the_whole_one_in_its_tooltip(qtbot):
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=False)
    qtbot.addWidget(panel)
    run = SimpleNamespace(rounds=0, outcome=TrainOutcome(None, SHARED), predictions_complete=True)
    panel._on_finished(run)
    full, brief, _ = run_texts(run)
    assert panel.result_label.text() == brief == decision_text(SHARED, brief=True)
    assert panel.result_label.toolTip() == f"{full}\n\nSaved the new model." and full == decision_text(SHARED)


def test_a_rounds_dice_is_said_to_be_the_kept_models():
    """After "the previous model scored 0.955 on the same images", a bare ", val Dice 0.71" read as the previous
    one's."""
    from medseg_gui.qt.panels.train_text import round_text

    decision = StoreDecision(True, 0.962, 0.955, "", "m-4", {"val_auc": 0.962, "val_images": 2}, "AUC", 0.962, 0.955)
    report = SimpleNamespace(number=3, kept=True, outcome=SimpleNamespace(
        stems=tuple(f"img{i}" for i in range(9)), decision=decision,
        result=SimpleNamespace(metadata={"val_dice": 0.71}, joined=())))
    assert round_text(report) == ("Round 3 (9 labelled images): New model kept: val AUC 0.962 on its 2 validation "
                                  "images; the previous model scored 0.955 on the same images; its val Dice 0.710")
