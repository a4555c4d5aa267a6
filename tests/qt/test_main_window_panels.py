"""Panels on their own: texts the clinician reads, config from the train panel, list formatting and sorting."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QColor

from medseg_gui.core.uncertainty import UncertaintyScores
from medseg_gui.ml.compare import BASIS_THEN
from medseg_gui.ml.config import TrainConfig, preset_names
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.ml.store import StoreDecision
from medseg_gui.qt.panels.image_columns import AUC_COL, DICE_COL, UNCERTAINTY_COL, UNREADABLE, format_score
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.qt.panels.layers_panel import LayersPanel
from medseg_gui.qt.panels.tools_panel import ToolsPanel
from medseg_gui.qt.panels.train_panel import TrainPanel
from medseg_gui.qt.panels.train_text import (
    NOW,
    PREPARING_TEXT,
    decision_text,
    fmt_duration,
    model_text,
    progress_text,
    round_text,
)
from medseg_gui.qt.theme import stylesheet
from medseg_gui.workers.training import PredictProgress, TrainWorker
from tests.workers.helpers import TINY_TRAIN


class Paints(QObject):
    """Counts the paint events of a widget."""

    def __init__(self, widget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        self.count += event.type() == QEvent.Type.Paint
        return False


def _progress(step, epoch, loss=0.41, elapsed=72.0, val_auc=None, message="", total=1000):
    return TrainProgress(step, total, epoch, loss, elapsed, 100.0, val_auc, message)


def test_decision_and_model_texts():
    kept = SimpleNamespace(kept_new=True, new_auc=0.9621, old_auc=0.955, reason="")
    assert decision_text(kept) == "New model kept: val AUC 0.962; the previous model scored 0.955 on the same images"
    first = SimpleNamespace(kept_new=True, new_auc=0.8, old_auc=None, reason="")
    assert decision_text(first) == "New model kept: val AUC 0.800 (first model)"
    mixed = StoreDecision(True, 0.95, None, "", current={"weight_mix": 0.25}, metric="Dice", new_score=0.79)
    assert decision_text(mixed) == ("New model kept: val Dice 0.790 (first model; a blend of 25% your training and "
                                    "75% the model it started from)")
    shipped = StoreDecision(True, 0.95, None, "", current={"weight_mix": 0.25, "init": "the pretrained lesions start "
                                                           "(PolypGen …)", "regime": "lesions"}, metric="Dice",
                            new_score=0.79)
    assert decision_text(shipped).endswith("a blend of 25% your training and 75% the shipped lesion start)")
    told = StoreDecision(True, 0.95, None, "", current={"weight_mix": 0.25, "weight_mix_trained": 0.613,
                                                        "val_images": 1},
                         metric="Dice", new_score=0.496)  # a new user saw 0.61 on the curve, then 0.496 kept
    assert decision_text(told) == (
        "New model kept: val Dice 0.496 on its 1 validation image (first model; a blend of 25% your training and "
        "75% the model it started "
        "from. Your training alone validated higher, Dice 0.613 on 1 validation image; the blend is kept unless it "
        "scores under half of that or loses image by image on three or more, because in our benchmarks such blends "
        "did better on new photos than the training alone)")
    assert decision_text(told, brief=True) == (  # the panel's line; the whole text is its tooltip
        "New model kept: val Dice 0.496 on its 1 validation image (first model; a blend of 25% your training and "
        "75% the model it started "
        "from; your training alone validated higher, Dice 0.613: point here (or Train → Last result in full) for "
        "why)")
    better = dataclasses.replace(told, new_score=0.65)
    assert decision_text(better, brief=True).endswith("75% the model it started from)")
    assert decision_text(better).endswith("Your training alone validated at Dice 0.613 on these images; in our "
                                          "benchmarks such blends did better on new photos)")
    not_kept = SimpleNamespace(kept_new=False, new_auc=0.90, old_auc=0.93, reason="")
    assert decision_text(not_kept) == f"Previous model kept (new AUC 0.900 < 0.930{NOW})"
    lesion = StoreDecision(False, 0.95, 0.93, "", metric="Dice", new_score=0.61, old_score=0.655)
    assert decision_text(lesion) == f"Previous model kept (new Dice 0.610 < 0.655{NOW})"
    tie = dataclasses.replace(lesion, new_score=0.9303, old_score=0.9295)  # an outside trial's one-step model
    assert decision_text(tie) == (f"Previous model kept (new Dice 0.930 vs 0.929{NOW}: not better by more than "
                                  "0.002, a tie)")
    then = StoreDecision(True, 0.76, 0.54, "", metric="Dice", new_score=0.1285, old_score=0.1203,
                         basis=BASIS_THEN)  # a trial read this beside 'Current model: val Dice 0.529' (today's)
    assert decision_text(then) == ("New model kept; compared with the previous model on the validation images they "
                                   "share, labelled as when the previous model was trained: Dice 0.129 against 0.120")
    assert decision_text(dataclasses.replace(then, current={"val_dice": 0.529})).startswith(
        "New model kept: val Dice 0.529; compared with the previous model on the validation images they share")
    assert decision_text(dataclasses.replace(lesion, basis=BASIS_THEN)) == (
        "Previous model kept (new Dice 0.610 < 0.655, both on the validation images this run shares with the previous "
        "model)")
    start = StoreDecision(True, 0.95, None, "", current={"start_kept": {"metric": "Dice", "start": 0.62,
                                                                        "trained": 0.58}}, metric="Dice")
    assert decision_text(start) == ("Start kept: the weights this run began from validated better than a model "
                                    "from your labels (val Dice 0.620 vs 0.580, each at its best threshold)")
    start_own = dataclasses.replace(start, current={**start.current, "val_dice": 0.801})
    assert decision_text(start_own).endswith("(val Dice 0.620 vs 0.580, each at its best threshold; as it predicts "
                                             "(its threshold, flips and clean-up) it validates at 0.801)")
    unstable = StoreDecision(True, float("nan"), None, "", current={"start_kept": {
        "metric": "Dice", "start": 0.62, "trained": None, "diverged": True}}, metric="Dice")
    assert decision_text(unstable).startswith("Start kept: training on your labels became numerically unstable")
    assert fmt_duration(125.4) == "2:05"
    info = {"val_auc": 0.9771, "trained_at": "2026-11-25T19:40:00", "preset": "default"}  # naive: shown as is
    assert model_text(info) == "Current model: val AUC 0.977, trained 2026-11-25 19:40, preset default"
    lesion = {**info, "regime": "lesions", "val_dice": 0.7104}
    assert model_text(lesion) == "Current model: val Dice 0.710 (AUC 0.977), trained 2026-11-25 19:40, preset default"
    assert model_text({**lesion, "weight_mix": 0.25}).endswith(
        "preset default; a blend of 25 % its training and 75 % the model it started from (such blends did better on "
        "new photos in our benchmarks)")  # new-user trial: after a restart nothing said why it was kept
    assert model_text({**lesion, "start_kept": {"start": 0.74, "trained": 0.73}}).endswith(
        "(AUC 0.977), the start its run began from, kept 2026-11-25 19:40 (it validated better than the weights its "
        "run trained), "
        "preset default")  # not "trained 19:40": it learnt nothing from the labels
    assert model_text(None) == "Current model: none yet — draw labels, then press Retrain."
    assert model_text(None, 8) == "Current model: none yet — press Retrain to train one on your 8 labelled images."
    assert model_text(None, 8, training=True) == "Current model: none yet — the first one is training."
    assert model_text(info, 8, training=True) == model_text(info)
    assert model_text(None, 8, off="no project is open") == (
        "Current model: none yet — Retrain is off: no project is open.")
    assert model_text(info, 8, off="read-only") == model_text(info) + ". Retrain is off: read-only."  # trial: none


def test_progress_text_follows_the_time_budget_with_1_based_epochs():
    budget = 180.0
    assert progress_text(_progress(0, 0, math.nan, 1.0, message="starting"), budget) == PREPARING_TEXT
    assert progress_text(_progress(0, 0, math.nan, 1.0, message="evaluating the current model"), budget) == (
        "Evaluating the current model on the validation images…")
    assert progress_text(_progress(0, 0, math.nan, 1.0, message="evaluating the start"), budget) == (
        "Evaluating the model this run starts from on the validation images…")  # no current model yet
    # third epoch running (two finished), AUC of the second
    text = progress_text(_progress(120, 2, val_auc=0.95), budget)
    assert text == "1:12 of 3:00 · step 120 · epoch 3 · loss 0.410 · val AUC 0.950 (epoch 2)"
    assert "validating epoch 2" in progress_text(_progress(120, 2, val_auc=0.9, message="validating"), budget)
    done = progress_text(_progress(200, 2, val_auc=0.96, message="epoch 2: loss 0.4100, validation AUC 0.96"), budget)
    assert "· epoch 2 done ·" in done and done.endswith("val AUC 0.960 (epoch 2)")
    # a lesion run's Dice says its threshold: a trial read 0.436 here, then "Previous model kept (new Dice 0.225 …)"
    lesion = dataclasses.replace(_progress(120, 2, val_auc=0.921), val_dice=0.6149)
    assert progress_text(lesion, budget).endswith("· val Dice 0.615 at best threshold, AUC 0.921 (epoch 2)")
    assert progress_text(_progress(5, 0, total=20), None).startswith("step 5/20 · ETA 1:40 · epoch 1")
    unknown = dataclasses.replace(_progress(1, 0, total=20), eta_s=math.nan)  # ml.control: before the second step
    assert progress_text(unknown, None).startswith("step 1/20 · epoch 1")


def test_loss_is_smoothed_and_the_text_shows_the_curve_s_value(qtbot, tmp_path):
    from medseg_gui.qt.panels.loss_plot import LossSmoother

    smoother = LossSmoother(0.5)
    assert smoother.add(1.0) == pytest.approx(1.0)  # no start-up bias towards 0
    assert smoother.add(0.0) == pytest.approx(1 / 3)  # (0.5 * 0.5 * 1 + 0.5 * 0) / (0.5 * 0.5 + 0.5)
    smoother.reset()
    assert smoother.add(2.0) == pytest.approx(2.0)
    assert progress_text(_progress(120, 2), 180.0, loss=0.2).split(" · ")[3] == "loss 0.200"
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=True)
    qtbot.addWidget(panel)
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=3.0)))  # a real worker, never started
    losses = [1.0, 0.2] * 20  # a step's loss jumps with its patches
    for step, loss in enumerate(losses, start=1):
        panel.show_progress(_progress(step, 0, loss=loss))
    panel.show_progress(_progress(len(losses), 1, loss=losses[-1], message="epoch 1: loss 0.2"))  # no new step
    curve = [v for _, v in panel.curve.losses]
    assert [s for s, _ in panel.curve.losses] == list(range(1, len(losses) + 1))
    assert max(curve[-10:]) - min(curve[-10:]) < 0.1  # smooth where the steps jump by 0.8
    assert 0.5 < curve[-1] < 0.7  # near the mean 0.6
    assert f"loss {curve[-1]:.3f}" in panel.progress_label.text()  # the text says what the curve ends at
    panel.clear_run()
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=3.0)))
    panel.show_progress(_progress(1, 0, loss=0.9))
    assert panel.curve.losses == [(1, pytest.approx(0.9))]  # the next run starts afresh


def test_train_panel_time_box_is_a_real_budget(qtbot):
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=True)
    qtbot.addWidget(panel)
    spin = panel.minutes_spin
    assert panel.preset_combo.currentText() == "default"
    assert spin.minimum() == 0.5 and spin.singleStep() == 0.5 and spin.maximum() == 120
    assert spin.specialValueText() == "" and spin.value() == 3.0  # TINY_TRAIN has no time box: GUI default
    spin.setValue(0.5)
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Down)  # no "no time limit" below the minimum
    assert spin.value() == 0.5 and spin.text() == "0.5 min"
    assert "0.5 to 120 minutes" in spin.toolTip()
    spin.setValue(3)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "0.2")  # typed below the minimum: the nearest allowed time, not the previous value
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert panel.training_config(TINY_TRAIN).minutes == 0.5 and spin.text() == "0.5 min"
    spin.setValue(3)
    panel.preset_combo.setCurrentText(preset_names()[-1])
    config = panel.training_config(TINY_TRAIN)
    assert config.minutes == 3.0 and config.preset == preset_names()[-1] and config.patch_size == 32
    assert config.init == "auto"  # Retrain continues from the current model by default
    panel.scratch_check.setChecked(True)
    assert panel.training_config(TINY_TRAIN).init == "scratch"
    default_panel = TrainPanel(preset_names(), TrainConfig(), loss_curve=False)
    qtbot.addWidget(default_panel)
    assert default_panel.minutes_spin.value() == 3.0


def test_start_from_scratch_applies_to_one_run(qtbot, tmp_path):
    """Outside trial: the box stayed ticked after the run it applied to, so every later Retrain started from random
    weights again. It stays ticked (greyed) while its run trains, then unticks: the next Retrain continues."""
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=False)
    qtbot.addWidget(panel)
    panel.scratch_check.setChecked(True)
    panel.attach(TrainWorker(tmp_path, "lesion", panel.training_config(TINY_TRAIN)))  # a real worker, never started
    assert panel.scratch_check.isChecked() and not panel.scratch_check.isEnabled()
    panel._on_cancelled()  # no model trained: the next Retrain still starts from scratch (review)
    assert panel.scratch_check.isChecked() and panel.training_config(TINY_TRAIN).init == "scratch"
    panel.attach(TrainWorker(tmp_path, "lesion", panel.training_config(TINY_TRAIN)))
    from medseg_gui.outcomes import TrainOutcome
    kept = StoreDecision(True, 0.9, 0.8, "Saved the new model.", "m-2", {"val_auc": 0.9, "val_images": 2}, "AUC", 0.9,
                         0.8)
    panel._on_finished(SimpleNamespace(rounds=0, outcome=TrainOutcome(None, kept), predictions_complete=True))
    assert not panel.scratch_check.isChecked() and panel.training_config(TINY_TRAIN).init == "auto"
    assert "once" in panel.scratch_check.toolTip()


def test_train_panel_progress_bar_and_validation_points(qtbot, tmp_path):
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=True)
    qtbot.addWidget(panel)
    assert panel.curve.plot.isHidden() and panel.progress_bar.isHidden()  # nothing to plot or follow yet
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=3.0)))  # a real worker, never started
    assert not panel.curve.plot.isHidden() and not panel.curve.key.isHidden() and not panel.progress_bar.isHidden()
    assert not panel.retrain_button.isEnabled() and panel.cancel_button.isEnabled()
    assert panel.progress_bar.maximum() == 0  # busy before the first batch
    assert panel.progress_label.text() == PREPARING_TEXT
    panel.show_progress(_progress(0, 0, math.nan, 2.0, message="starting"))
    assert panel.progress_bar.maximum() == 0
    panel.show_progress(_progress(60, 0, elapsed=45.0))
    assert panel.progress_bar.maximum() == 1000 and panel.progress_bar.value() == 250  # 45 s of 180 s
    panel.show_progress(_progress(100, 1, elapsed=60.0, val_auc=0.9, message="epoch 1: loss 0.4"))
    panel.show_progress(_progress(101, 1, elapsed=61.0, val_auc=0.9))
    panel.show_progress(_progress(200, 2, elapsed=90.0, val_auc=0.9, message="validating"))
    panel.show_progress(_progress(200, 2, elapsed=91.0, val_auc=0.93, message="epoch 2: loss 0.3"))
    assert panel.curve.validation_points() == {1: 0.9, 2: 0.93}
    assert "val AUC 0.930 (epoch 2)" in panel.progress_label.text()
    panel.show_progress(PredictProgress(2, 4, "img1"))
    assert panel.progress_label.text() == "Predicting 2/4: img1" and panel.progress_bar.value() == 500
    paints = Paints(panel.progress_bar)
    panel.show()
    qtbot.waitUntil(lambda: paints.count > 0)
    paints.count = 0
    panel.show_progress(PredictProgress(3, 4, "img2"))  # a QProgressBar repaints (the whole window) at once …
    assert panel.progress_bar.value() == 750 and paints.count == 0
    qtbot.waitUntil(lambda: paints.count > 0)  # … here it is repainted with the rest of the window
    ended = []
    panel.ended.connect(lambda how, text: ended.append(how))
    panel._on_cancelled()
    assert ended == ["cancelled"] and panel.retrain_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert panel.progress_bar.isHidden()
    assert panel.result_label.text() == "Training cancelled — no model was stored."  # no current model shown
    panel.show_model({"preset": "default", "val_auc": 0.9})
    panel._on_cancelled()
    assert panel.result_label.text() == "Training cancelled — previous model kept."
    panel.curve.plot.getPlotItem().getViewBox().setYRange(1.0, 2.0)  # the last run's axes
    assert panel.curve.plot.getPlotItem().legend is None  # the key is above the plot, never over the curve
    assert "training loss" in panel.curve.key.text() and "validation AUC" in panel.curve.key.text()
    from medseg_gui.qt.panels.loss_plot import LOSS_COLOUR  # the key's mark has the curve's colour (light-look trial)
    assert f'<span style="color:{LOSS_COLOUR}">━</span> training loss' in panel.curve.key.text()
    assert panel.curve._line.opts["pen"].color().name() == LOSS_COLOUR
    panel.clear_run()  # another project was opened
    assert panel.curve.validation_points() == {} and panel.result_label.text() == "" and not panel.curve.losses
    assert panel.curve.plot.isHidden() and panel.curve.key.isHidden()  # no run to plot: no empty axes
    view = panel.curve.plot.getPlotItem().getViewBox()
    assert all(view.autoRangeEnabled()) and view.viewRange()[1] == pytest.approx([0.0, 1.0])  # not the last run's


def test_image_list_formatting_and_unreadable(qtbot):
    assert format_score(None) == "" and format_score(math.nan) == "–" and format_score(0.98765) == "0.988"
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.set_images(["a", "b", "c"], ["lesion", "vessel"], {"b": "Image file 'b.png' is empty (0 bytes)."})
    panel.set_current_class("vessel")
    panel.set_metrics("vessel", {"a": {"auc": 0.5, "dice": 0.25}, "c": {"auc": math.nan}})
    assert panel.auc_text("a", "vessel") == "0.500" and panel.auc_text("c", "vessel") == "–"
    assert panel.dice_text("a", "vessel") == "0.250" and panel.auc_text("a", "lesion") == ""
    table = panel.table
    assert panel.headers() == ["Name", "Labelled (vessel)", "AUC", "Dice", "IoU", "Unsure"]
    assert table.item(1, 0).text() == "b" and table.item(1, 1).text() == UNREADABLE == "⚠ image unreadable"
    assert "empty (0 bytes)" in table.item(1, 0).toolTip()
    assert not panel.unreadable_note.isHidden()  # a note under the list stays while the folder is open
    assert panel.unreadable_note.text() == "⚠ 1 of 3 images cannot be read: select one to see why."
    panel.set_error("c", "Image file 'c.png' is not a readable image.")
    assert panel.unreadable_note.text().startswith("⚠ 2 of 3 images")
    panel.set_images(["a"], ["lesion"])
    assert panel.unreadable_note.isHidden()
    panel.set_images(["a", "b", "c"], ["lesion", "vessel"], {"b": "Image file 'b.png' is empty (0 bytes)."})
    panel.set_current_class("lesion")
    assert panel.headers()[1] == "Labelled (lesion)" and table.item(0, AUC_COL).text() == ""
    selected = []
    panel.stem_selected.connect(selected.append)
    for delta in (1, 1, -1, -1, -1):
        panel.step(delta)
    assert selected == ["a", "b", "a", "c", "b"]  # first step selects the first row; wraps around


def _click_header(qtbot, table, col):
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def test_image_list_sorts_by_clicking_headers_and_keeps_the_selection(qtbot):
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.show()
    stems = ["a", "b", "c", "d", "e"]
    panel.set_images(stems, ["vessel"], {"e": "Image file 'e.png' is empty."})
    panel.set_current_class("vessel")
    panel.set_metrics("vessel", {"a": {"auc": 0.9, "dice": 0.2}, "b": {"auc": 0.41, "dice": 0.7},
                                 "c": {"auc": math.nan, "dice": 0.0}, "d": {"auc": 0.95, "dice": 0.5}})
    panel.set_labelled({"a", "b", "c", "d"})
    assert panel.stems() == stems  # project order until a header is clicked
    panel.select("b")
    selected = []
    panel.stem_selected.connect(selected.append)
    _click_header(qtbot, panel.table, AUC_COL)
    assert panel.table.horizontalHeader().sortIndicatorSection() == AUC_COL
    assert panel.stems() == ["b", "a", "d", "c", "e"]  # worst first, "–" and no value last
    assert panel.current_stem() == "b" and selected == []  # same image, nothing reloaded
    _click_header(qtbot, panel.table, AUC_COL)
    assert panel.stems() == ["d", "a", "b", "c", "e"]  # descending: empty ones still last
    _click_header(qtbot, panel.table, DICE_COL)
    assert panel.stems()[:4] == ["c", "a", "d", "b"]
    # the list's APIs work on the sorted rows
    panel.select("d")
    assert selected == ["d"] and panel.current_stem() == "d"
    assert panel.auc_text("d", "vessel") == "0.950"
    panel.set_error("a", "Image file 'a.png' is damaged.")
    row_a = panel.stems().index("a")
    assert panel.table.item(row_a, 1).text() == UNREADABLE
    panel.set_metrics("vessel", {"a": {"auc": 0.9, "dice": 0.99}})  # re-sorted, selection kept
    assert panel.current_stem() == "d"
    after = panel.stems()[panel.stems().index("d") + 1]  # the row below d as shown (d then takes its new place)
    panel.step(1)
    assert panel.current_stem() == after


def test_the_threshold_suggestion_offers_its_link_only_while_the_box_differs(qtbot):
    panel = LayersPanel(threshold=0.5)
    qtbot.addWidget(panel)
    panel.show_suggestion({"threshold": 0.35, "val_dice": 0.62})
    assert "suggested 0.35" in panel.suggestion.text() and "use it" in panel.suggestion.text()
    panel.use_suggestion()
    assert panel.threshold() == 0.35 and "use it" not in panel.suggestion.text()
    panel.set_threshold(0.5)  # from the owner, without a signal
    assert "use it" in panel.suggestion.text()
    panel.show_suggestion({"threshold": 0.5, "val_dice": 0.62})  # a calibrated model: the box holds it already
    assert panel.suggestion.text() == "suggested 0.50"


def test_layers_panel_signals_and_threshold(qtbot):
    panel = LayersPanel(threshold=0.5)
    qtbot.addWidget(panel)
    seen = []
    panel.visibility_changed.connect(lambda layer, on: seen.append((layer, on)))
    panel.opacity_changed.connect(lambda layer, value: seen.append((layer, value)))
    panel.threshold_changed.connect(lambda value: seen.append(("threshold", round(value, 2))))
    panel.toggle("fpfn")
    panel.sliders["roi"].setValue(50)
    panel.threshold_spin.setFocus()
    qtbot.keyClick(panel.threshold_spin, Qt.Key.Key_Up)
    assert seen == [("fpfn", False), ("roi", 0.5), ("threshold", 0.55)]
    panel.set_threshold(0.3)  # programmatic: no signal
    assert panel.threshold() == 0.3 and seen[-1] == ("threshold", 0.55)


def test_checked_tool_button_is_highlighted(qtbot):
    panel = ToolsPanel()
    qtbot.addWidget(panel)
    panel.setStyleSheet(stylesheet("dark"))
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.mouseClick(panel.tool_buttons["eraser"], Qt.MouseButton.LeftButton)
    checked, other = panel.tool_buttons["eraser"], panel.tool_buttons["brush"]
    assert checked.isChecked() and not other.isChecked()

    def background(button):
        image = button.grab().toImage()
        return QColor(image.pixel(4, image.height() // 2))

    accent, plain = background(checked), background(other)
    assert accent.blue() > 150 and accent.blue() > accent.red() + 60  # the accent blue
    assert abs(plain.blue() - plain.red()) < 30  # a neutral grey
    for look in ("dark", "light"):
        assert "font-weight: bold" in stylesheet(look).split("QToolButton:checked")[1]


def test_a_lesion_runs_dots_are_its_validation_dice_and_the_key_says_so(qtbot, tmp_path):
    """The text above leads with val Dice for a lesion run; the dots and their key follow it (new-user trial: the key
    said "validation AUC" beside a text about Dice)."""
    from medseg_gui.ml.progress import AS_PREDICTED

    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=True)
    qtbot.addWidget(panel)
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=3.0)))
    assert "AUC" not in panel.curve.key.text()  # before the first validation: no figure named (trial, session 32)
    panel.show_progress(TrainProgress(100, 1000, 1, 0.4, 60.0, 100.0, 0.91, "epoch 1: loss 0.4", val_dice=0.62))
    assert panel.curve.validation_points() == {1: 0.62}
    assert "validation Dice at best threshold" in panel.curve.key.text()
    assert "validation Dice at best threshold" in panel.curve.plot.toolTip()
    assert panel.curve.plot.toolTip().endswith(AS_PREDICTED)  # why the decision's Dice differs (trial: 0.436, 0.225)
    panel._on_cancelled()
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=3.0)))  # the next run
    assert "validation score" in panel.curve.key.text()


def test_a_round_counts_the_labels_that_joined_it():
    """New-user trial: a label drawn during round 1 was in its training set, but the panel said "9 labelled images"."""
    decision = StoreDecision(True, 0.95, 0.94, "", metric="Dice", new_score=0.717, old_score=0.714)
    result = SimpleNamespace(metadata={}, joined=("img9", "img2"))  # a new image and a corrected one
    report = SimpleNamespace(number=1, kept=True, outcome=SimpleNamespace(
        stems=tuple(f"img{i}" for i in range(9)), decision=decision, result=result))
    assert round_text(report).startswith("Round 1 (10 labelled images, 2 of them saved during the round): ")
    report.outcome.result = SimpleNamespace(metadata={}, joined=())
    assert round_text(report).startswith("Round 1 (9 labelled images): ")


def test_scores_near_one_keep_the_decimals_that_tell_them_apart_and_saturation_is_explained():
    """New-user trial (vessel strokes on HRF): 'Previous model kept (new AUC 0.998 < 1.000)' and 'Current model: val
    AUC 1.000' for 0.9997; three Retrains rejected with no word that the stroke-only validation image was too easy."""
    from medseg_gui.qt.panels.train_text import TOO_EASY, fmt_score

    assert fmt_score(0.9997) == "0.9997" and fmt_score(1.0) == "1.000" and fmt_score(0.95) == "0.950"
    assert fmt_score(np.float32(0.9997)) == "0.9997" and fmt_score(1 - 1e-10) == "0.999999"  # (review)
    saturated = StoreDecision(False, 0.9984, 0.99971, "", metric="AUC", new_score=0.9984, old_score=0.99971)
    assert decision_text(saturated) == f"Previous model kept (new AUC 0.9984 < 0.9997{NOW}{TOO_EASY})"
    close = StoreDecision(False, 0.9501, 0.9504, "", metric="AUC", new_score=0.9501, old_score=0.9504)
    assert decision_text(close) == f"Previous model kept (new AUC 0.9501 < 0.9504{NOW})"
    start = SimpleNamespace(kept_new=True, current={"start_kept": {"metric": "AUC", "start": 0.9994,
                                                                   "trained": 0.997}})
    assert decision_text(start).endswith(f"(val AUC 0.999 vs 0.997{TOO_EASY})")


def test_a_finished_rounds_curve_stays_until_the_next_round_makes_a_step(qtbot, tmp_path):
    """New-user trial, session 36: Stop during continuous training's data preparation left an empty chart."""
    from medseg_gui.train_process import RoundReport

    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=True)
    qtbot.addWidget(panel)
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=3.0)))
    for step in (1, 2, 3):
        panel.show_progress(_progress(step, 1, loss=0.5 - 0.1 * step, val_auc=0.9 if step == 3 else None))
    decision = StoreDecision(True, 0.95, 0.94, "", metric="Dice", new_score=0.7, old_score=0.6)
    outcome = SimpleNamespace(stems=("a", "b"), decision=decision, result=SimpleNamespace(metadata={}, joined=()))
    panel.show_progress(RoundReport(1, tmp_path, "lesion", outcome, {}))
    panel.show_progress(_progress(0, 0, math.nan, message="preparing"))  # round 2 before its first step
    assert [s for s, _ in panel.curve.losses] == [1, 2, 3] and panel.curve.validation_points() == {1: 0.9}
    panel.show_progress(_progress(1, 1, loss=0.45))  # round 2's first step: a new curve
    assert [s for s, _ in panel.curve.losses] == [1] and panel.curve.validation_points() == {}


def test_scores_from_an_earlier_model_are_greyed_until_a_retrain(qtbot, tmp_path):
    """Continuous training re-predicts only the image on screen; the other images' scores come from earlier models
    (new-user trial: nothing said so)."""
    from medseg_gui.qt.panels.image_columns import STALE_COLOR, STALE_TIP

    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.set_images(["a", "b", "c"], ["lesion"])
    panel.set_current_class("lesion")
    panel.set_metrics("lesion", {"a": {"auc": 0.9, "dice": 0.5}, "b": {"auc": 0.95, "dice": 0.7}})
    panel.set_uncertainty("lesion", UncertaintyScores({"a": 0.2, "b": 0.4}))
    stale = {"b"}
    panel.set_stale("lesion", stale)
    for col in (AUC_COL, DICE_COL, UNCERTAINTY_COL):  # Unsure too: the same prediction (a trial: a step late)
        old = panel._item("b", col)
        assert old.foreground().color() == STALE_COLOR and STALE_TIP in old.toolTip()
        assert panel._item("a", col).foreground().style() == Qt.BrushStyle.NoBrush
        assert STALE_TIP not in panel._item("a", col).toolTip()
    panel.set_stale("lesion", set())
    assert panel._item("b", DICE_COL).foreground().style() == Qt.BrushStyle.NoBrush
    assert panel._item("b", UNCERTAINTY_COL).foreground().style() == Qt.BrushStyle.NoBrush


def test_scores_of_an_earlier_models_predictions_stay_greyed_after_reopening(tmp_path, qtbot, messages):
    """A trial stopped continuous training (rounds re-predict only the image shown) and reopened the project: the
    other images' scores from the previous model looked current. Whatever ended the run, provenance.json says which
    model made each prediction, and the list greys those of another model than the current one."""
    import json

    from medseg_gui.core.interchange.manifest import record_predictions
    from medseg_gui.qt.panels.image_columns import STALE_COLOR
    from tests.workers.helpers import make_project, open_window

    project = make_project(tmp_path / "p", n=3)
    a, b, c = project.stems
    project.save_metrics("lesion", {s: {"auc": 0.9, "dice": 0.5} for s in (a, b)})
    record_predictions(project, "lesion", [a, b], {"id": "m1"})
    record_predictions(project, "lesion", [a], {"id": "m2"})
    project.model_dir("lesion").mkdir(parents=True, exist_ok=True)
    (project.model_dir("lesion") / "current.json").write_text(json.dumps({"id": "m2", "regime": "lesions"}))
    window = open_window(qtbot, project)
    panel = window.image_list
    qtbot.waitUntil(lambda: panel._item(b, DICE_COL) is not None, timeout=5_000)
    assert panel._item(b, DICE_COL).foreground().color() == STALE_COLOR
    assert panel._item(a, DICE_COL).foreground().style() == Qt.BrushStyle.NoBrush
