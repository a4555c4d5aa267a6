"""Panels on their own: texts the clinician reads, config from the train panel, list formatting."""

from __future__ import annotations

import math
from types import SimpleNamespace

from medseg_gui.ml.config import TrainConfig, preset_names
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.qt.panels.image_list import ImageListPanel, format_auc, short_reason
from medseg_gui.qt.panels.layers_panel import LayersPanel
from medseg_gui.qt.panels.train_panel import TrainPanel, decision_text, fmt_duration
from medseg_gui.workers.training import PredictProgress
from tests.workers.helpers import TINY_TRAIN


def test_decision_texts():
    kept = SimpleNamespace(kept_new=True, new_auc=0.9621, old_auc=0.955, reason="")
    assert decision_text(kept) == "New model kept: val AUC 0.962 (previous 0.955)"
    first = SimpleNamespace(kept_new=True, new_auc=0.8, old_auc=None, reason="")
    assert decision_text(first) == "New model kept: val AUC 0.800 (first model)"
    not_kept = SimpleNamespace(kept_new=False, new_auc=0.90, old_auc=0.93, reason="")
    assert decision_text(not_kept) == "Previous model kept (new 0.900 < 0.930)"
    assert fmt_duration(125.4) == "2:05"


def test_train_panel_config_and_progress(qtbot):
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=True)
    qtbot.addWidget(panel)
    assert panel.preset_combo.currentText() == "default"
    assert panel.minutes_spin.text() == "no time limit"  # TINY_TRAIN has minutes=None
    assert panel.training_config(TINY_TRAIN) == TINY_TRAIN
    panel.minutes_spin.setValue(3)
    panel.preset_combo.setCurrentText(preset_names()[-1])
    config = panel.training_config(TINY_TRAIN)
    assert config.minutes == 3.0 and config.preset == preset_names()[-1] and config.patch_size == 32

    default_panel = TrainPanel(preset_names(), TrainConfig(), loss_curve=False)
    qtbot.addWidget(default_panel)
    assert default_panel.minutes_spin.value() == 3.0

    panel.set_running(True)
    assert not panel.retrain_button.isEnabled() and panel.cancel_button.isEnabled()
    panel.show_progress(TrainProgress(5, 20, 1, 0.4, 10.0, 30.0, 0.91, ""))
    assert "Step 5/20" in panel.progress_label.text() and "ETA 0:30" in panel.progress_label.text()
    assert panel.auc_label.text() == "Validation AUC: 0.910"
    assert panel.progress_bar.value() == 250
    panel.show_progress(PredictProgress(2, 4, "img1"))
    assert panel.progress_label.text() == "Predicting 2/4: img1" and panel.progress_bar.value() == 500
    panel.set_running(False)
    assert panel.retrain_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_image_list_formatting(qtbot):
    assert format_auc(None) == "" and format_auc(math.nan) == "–" and format_auc(0.98765) == "0.988"
    assert short_reason("Image file 'x.png' is empty (0 bytes).") == "cannot read: file is empty (0 bytes)"
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.set_images(["a", "b", "c"], ["lesion", "vessel"], {"b": "Image file 'b.png' is empty (0 bytes)."})
    panel.set_metrics("vessel", {"a": {"auc": 0.5}, "c": {"auc": math.nan}})
    assert panel.auc_text("a", "vessel") == "0.500" and panel.auc_text("c", "vessel") == "–"
    assert panel.auc_text("a", "lesion") == ""
    selected = []
    panel.stem_selected.connect(selected.append)
    panel.step(1)
    panel.step(1)
    panel.step(-1)
    panel.step(-1)
    panel.step(-1)
    assert selected == ["a", "b", "a", "c", "b"]  # first step selects the first row; wraps around


def test_layers_panel_signals(qtbot):
    panel = LayersPanel()
    qtbot.addWidget(panel)
    seen = []
    panel.visibility_changed.connect(lambda layer, on: seen.append((layer, on)))
    panel.opacity_changed.connect(lambda layer, value: seen.append((layer, value)))
    panel.toggle("fpfn")
    panel.sliders["roi"].setValue(50)
    assert seen == [("fpfn", False), ("roi", 0.5)]
