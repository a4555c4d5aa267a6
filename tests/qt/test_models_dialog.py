"""Train → Models…: the dialog lists every model, "Use this model" puts an earlier one back and the window shows its
predictions, "Compare on this image" scores two models on the shown image (offscreen, tiny models)."""

from __future__ import annotations

import json
import numpy as np
import pytest
from PySide6.QtCore import Qt

from medseg_gui import pipeline
from medseg_gui.core.lesions import per_image_metrics
from medseg_gui.core.model_names import local_time
from medseg_gui.ml import store
from medseg_gui.qt import dialogs
from tests.workers.helpers import open_window


def _entry(model_id: str, *, current=False, present=True, kept=True, val_auc=0.9):
    from medseg_gui.ml.store import ModelEntry

    return ModelEntry(model_id, "2026-12-01T10:00:00+00:00", "default", "lesions", 4, 1, val_auc, 0.5, kept, current,
                      present, "")


def test_the_decision_says_what_each_compared_figure_is(qtbot):
    """An outside trial read 'rejected (AUC 0.993 vs 0.994)' and found 0.994 nowhere in the table: it is the model
    then current scored on this run's validation images, not its own run's figure (its row's Val AUC)."""
    import dataclasses

    from medseg_gui.qt.models_dialog import DECISION_TIP, ModelsDialog

    dialog = ModelsDialog("vessel", "img0")
    qtbot.addWidget(dialog)
    rejected = dataclasses.replace(_entry("b-2", kept=False, val_auc=0.993), compared=("AUC", 0.993, 0.994))
    then = dataclasses.replace(_entry("c-3", val_auc=0.97), compared=("Dice", 0.71, 0.70), compared_then=True)
    dialog.set_models([_entry("a-1", current=True, val_auc=0.981), rejected, then])
    decision = 6  # the Decision column
    assert dialog.table.item(1, decision).text() == ("rejected: AUC 0.993 against the then current model's 0.994, "
                                                     "both on this run's validation images")
    assert dialog.table.item(0, decision).text() == (  # not the row's Val Dice (0.500): said first (outside trial)
        "kept: compared on only the validation images it shared with the then current model, labelled as when that "
        "one was trained: Dice 0.710 against 0.700 (its Val Dice: on all of its own)")
    assert dialog.table.horizontalHeaderItem(decision).toolTip() == DECISION_TIP
    assert "the model current then, both on that run's validation images" in DECISION_TIP


def test_the_dialog_fits_the_screen_and_the_decision_wraps(qtbot):
    """Outside trial at 1366×768: the dialog was about 1230 pixels wide and the Decision sentence was cut off on the
    right. The dialog stays within the screen and the Decision column wraps its sentence in the width left to it
    (its cell's tooltip has it whole)."""
    import dataclasses

    from PySide6.QtGui import QFontMetrics

    from medseg_gui.qt import dialogs
    from medseg_gui.qt.models_dialog import COLUMNS, ModelsDialog

    dialog = ModelsDialog("lesion", "img0")
    qtbot.addWidget(dialog)
    long = [dataclasses.replace(_entry(f"m-{i}", kept=False), compared=("AUC", 0.993, 0.994), compared_then=True)
            for i in range(3)]
    dialog.set_models(long)
    dialog.show()
    qtbot.waitExposed(dialog)
    area = dialog.screen().availableGeometry()  # offscreen: 800×800
    table, decision = dialog.table, COLUMNS.index("Decision")
    text = table.item(0, decision).text()
    assert QFontMetrics(table.font()).horizontalAdvance(text) > area.width() / 2  # too long beside the rest
    assert dialog.width() <= area.width() - 2 * dialogs.FRAME and dialog.height() <= area.height() - dialogs.TITLE_BAR
    header = table.horizontalHeader()
    right = header.sectionViewportPosition(decision) + header.sectionSize(decision)
    assert right <= table.viewport().width()  # the column ends inside the table: nothing cut off on the right
    width = header.sectionSize(decision) - 8  # the cell's padding
    lines = QFontMetrics(table.font()).boundingRect(0, 0, width, 10_000, Qt.TextFlag.TextWordWrap, text).height()
    qtbot.waitUntil(lambda: table.rowHeight(0) >= lines, timeout=2_000)  # wrapped onto the lines it needs
    assert table.item(0, decision).toolTip() == text


def test_buttons_follow_the_selection(qtbot):
    from medseg_gui.qt.models_dialog import ModelsDialog

    dialog = ModelsDialog("lesion", "img0")
    qtbot.addWidget(dialog)
    dialog.set_models([_entry("a-1", present=False, kept=False), _entry("b-2", current=True),
                       _entry("c-3", kept=None, val_auc=None)])
    assert [dialog.table.item(r, 0).text() for r in range(3)] == ["", "● current", ""]  # newest first
    assert dialog.table.item(0, 4).text() == "–" and dialog.table.item(2, 6).text() == "rejected · removed"
    assert dialog.table.item(1, 2).text() == "default (lesions)" and dialog.table.item(1, 3).text() == "4 + 1 val"
    assert "its own run" in dialog.table.horizontalHeaderItem(5).toolTip()  # validation figures: not comparable
    cases = [(["c-3"], True, False), (["b-2"], False, False), (["a-1"], False, False), (["b-2", "c-3"], False, True),
             (["a-1", "c-3"], False, False)]  # the current one is in use; a removed one can be neither used nor run
    for ids, use, compare in cases:
        dialog.select_ids(ids)
        assert sorted(dialog.selected_ids()) == ids
        assert (dialog.use_button.isEnabled(), dialog.compare_button.isEnabled()) == (use, compare), ids
    used = []
    dialog.use_requested.connect(used.append)
    dialog.select_ids(["c-3"])
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert used == ["c-3"]
    dialog.set_busy(True)
    assert not dialog.use_button.isEnabled()


def test_tab_leaves_the_models_table(qtbot):
    """Outside keyboard trial: Tab cycled the table's columns; Use this model, Compare and Close were out of reach."""
    from PySide6.QtWidgets import QApplication

    from medseg_gui.qt.models_dialog import ModelsDialog

    dialog = ModelsDialog("lesion", "img0")
    qtbot.addWidget(dialog)
    dialog.set_models([_entry("a-1"), _entry("b-2", current=True)])
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    dialog.select_ids(["a-1"])
    dialog.table.setFocus()
    qtbot.waitUntil(dialog.table.hasFocus, timeout=2_000)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.use_button
    with qtbot.waitSignal(dialog.use_requested, timeout=2_000):
        qtbot.keyClick(dialog.use_button, Qt.Key.Key_Space)


@pytest.mark.slow
def test_models_dialog_lists_uses_and_compares(two_models_project, qtbot, messages, monkeypatch):
    project = two_models_project  # two lesion models (seeds 0 and 1)
    questions = []  # Use this model on a rejected one asks first (verification trial)
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: questions.append(text) or True)
    pipeline.predict_class(project, "lesion")
    model_dir = project.model_dir("lesion")
    entries = store.list_models(model_dir)
    assert len(entries) == 2
    other = next(e.id for e in entries if not e.current)

    window = open_window(qtbot, project)
    window.image_list.select(project.stems[0])
    dialog = window.show_models()
    qtbot.waitUntil(lambda: len(dialog.entries) == 2, timeout=60_000)
    assert [e.id for e in dialog.entries] == [e.id for e in reversed(entries)]  # newest first
    assert dialog.table.item([e.id for e in dialog.entries].index(other), 0).text() == ""
    assert not dialog.use_button.isEnabled()

    dialog.select_ids([e.id for e in entries])
    assert dialog.compare_button.isEnabled() and not dialog.use_button.isEnabled()
    qtbot.mouseClick(dialog.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.compare_table.isVisible, timeout=60_000)
    stem = project.stems[0]
    image, label = project.load_image(stem), project.load_label("lesion", stem)
    for col, entry in enumerate(dialog.entries):  # known answer: each model's own prediction, scored here
        expected = per_image_metrics(store.load_model(model_dir, entry.id).predict(image), label)
        assert float(dialog.compare_table.item(0, col).text()) == pytest.approx(expected["auc"], abs=6e-4)
        assert float(dialog.compare_table.item(1, col).text()) == pytest.approx(expected["dice"], abs=6e-4)

    dialog.select_ids([other])
    assert dialog.use_button.isEnabled()
    window.train_panel.show_result("New model kept: val Dice 0.158")  # the last run's words (trial, session 39)
    window.train_panel.curve.losses.append((1, 0.5))  # and its curve
    with qtbot.waitSignal(window.models.rolled_back, timeout=120_000):
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert json.loads((model_dir / "current.json").read_text())["id"] == other
    rejected = next(e for e in entries if e.id == other).kept is False
    assert len(questions) == int(rejected) and all("was not kept when it was trained" in q for q in questions)
    put_back = next(e for e in entries if e.id == other)  # named as the Train panel and the table name it
    assert window.train_panel.result_label.text() == (f"The model trained {local_time(put_back.trained_at)} is "
                                                      "current again; every image was predicted with it.")
    assert f"trained {local_time(put_back.trained_at)}," in window.train_panel.model_label.text()
    assert window.train_panel.curve.losses == []  # the replaced run's curve is gone too (verification trial)
    expected = store.load_model(model_dir, other).predict(image)
    np.testing.assert_allclose(project.load_prediction("lesion", stem), expected, atol=1 / 65535)
    saved = project.load_metrics("lesion")[stem]["auc"]
    assert float(window.image_list.auc_text(stem, "lesion")) == pytest.approx(saved, abs=5e-4)
    qtbot.waitUntil(lambda: any(e.current and e.id == other for e in dialog.entries), timeout=60_000)
    assert dialog.table.item([e.id for e in dialog.entries].index(other), 0).text() == "● current"
    assert window.last_error == ""


def test_using_a_rejected_model_asks_first_and_no_keeps_the_current_one(qtbot, monkeypatch, tmp_path):
    """A verification trial made a worse, rejected model current with one click. Use this model asks first for a
    rejected one; No starts nothing; a kept one is put back without a question."""
    from types import SimpleNamespace

    from medseg_gui.qt.models_dialog import ModelsDialog, ModelsFlow
    from medseg_gui.workers.base import WorkerHost

    questions, started = [], []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: questions.append(text) or False)
    flow = ModelsFlow(WorkerHost(), None)
    monkeypatch.setattr(flow, "_start", lambda *a, **k: started.append(a[2]))
    flow.dialog = ModelsDialog("lesion", None)
    qtbot.addWidget(flow.dialog)
    flow.dialog.set_models([_entry("m-2", current=True), _entry("m-1", kept=False), _entry("m-0")])
    flow._where, flow._refuse_use = (SimpleNamespace(root=tmp_path), "lesion", None, 0.5), lambda: None
    assert flow.use("m-1") is None and started == [] and len(questions) == 1
    assert "was not kept when it was trained" in questions[0] and "Make it current anyway" in questions[0]
    flow.use("m-0")
    assert started == ["m-0"] and len(questions) == 1
