"""The Train panel's Preset box follows the current model of the class shown (a trial trained fxfviolet from the
command line, then saw Preset = default in the window: Retrain would have switched recipe), and describes each
preset in its tooltips."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from medseg_gui.ml.config import PRESET_LINES, PRESETS, preset_names
from tests.workers.helpers import make_project, open_window


def _model(project, cls: str, preset: str) -> None:
    """A stand-in current model of `cls` trained with `preset` (only its description: nothing here loads it)."""
    project.model_dir(cls).mkdir(parents=True, exist_ok=True)
    (project.model_dir(cls) / "current.json").write_text(json.dumps({"preset": preset, "val_auc": 0.9}))


def _choose(box, name: str) -> None:
    """The user picks `name` in the box (what Qt does on a click or key in it)."""
    box.setCurrentIndex(box.findText(name))
    box.activated.emit(box.currentIndex())


def test_the_preset_box_follows_the_current_model_until_the_user_chooses(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=1, cls="lesion")
    _model(project, "lesion", "fxfviolet")
    window = open_window(qtbot, project)
    box, panel = window.train_panel.preset_combo, window.train_panel
    assert window.current_class() == "lesion"
    assert box.currentText() == "fxfviolet"
    assert panel.training_config(window.config.train).preset == "fxfviolet"  # Retrain continues its recipe
    window.tools.select_class("vessel")  # no model: the configured preset
    assert box.currentText() == "default"
    window.tools.select_class("lesion")
    assert box.currentText() == "fxfviolet"
    _choose(box, "cvxtz")
    window.classes.show_state()  # the model shown again (e.g. after a threshold check): the choice stays
    assert box.currentText() == "cvxtz" and panel.training_config(window.config.train).preset == "cvxtz"
    window.tools.select_class("vessel")
    window.tools.select_class("lesion")  # another class shown and back: its model's preset again
    assert box.currentText() == "fxfviolet"
    _choose(box, "vessels")
    other = make_project(tmp_path / "q", n=2, labelled=1, cls="lesion")
    _model(other, "lesion", "cvxtz")
    window.set_project(other)  # another project, the same class: its model's preset, not the choice made before
    assert window.current_class() == "lesion" and box.currentText() == "cvxtz"


def test_a_model_of_an_unknown_preset_shows_the_configured_one(tmp_path, qtbot):
    project = make_project(tmp_path / "p", n=2, labelled=1, cls="lesion")
    _model(project, "lesion", "retired")
    window = open_window(qtbot, project)
    assert window.train_panel.preset_combo.currentText() == "default"


def test_each_preset_is_described_in_one_line(qtbot):
    from medseg_gui.qt.panels.train_panel import TrainPanel
    from tests.workers.helpers import TINY_TRAIN

    shipped = [n for n in preset_names() if n != "tiny-test"]  # tests' own preset (conftest) may be registered
    assert set(PRESET_LINES) == set(shipped) and set(shipped) <= set(PRESETS)
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=False)
    qtbot.addWidget(panel)
    box = panel.preset_combo
    for name in shipped:
        line = box.itemData(box.findText(name), Qt.ItemDataRole.ToolTipRole)
        assert line == PRESET_LINES[name] and "\n" not in line and len(line) <= 120
        assert f"{name}: {line}" in box.toolTip()
    assert "512x512" in PRESET_LINES["fxfviolet"]  # how it differs from its reference
    for name in ("cvxtz", "fxfviolet"):  # what they are for, in plain words before the network (a colposcopist's trial)
        assert PRESET_LINES[name].startswith("For comparison only: a published U-Net, reproduced (")
