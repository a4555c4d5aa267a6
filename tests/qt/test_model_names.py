"""One model, one name: the Train panel, the Models dialog and the rollback message name a model by when it was trained,
in local time (an outside trial in Berlin read 17:02 in the panel, 16:02 under "Trained (UTC)" and "Model
20261207-160221-e797f1 is current again" for one model); a run says which model it continues from."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from medseg_gui.core.model_names import START_MODEL, began_text, start_name
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.model_jobs import RollbackRun
from medseg_gui.qt.panels.train_text import (PREPARING_TEXT, decision_text, model_text, progress_text, rollback_text,
                                             run_texts, started_from)

MODEL_ID = "20261207-160221-e797f1"
TRAINED_AT = "2026-12-07T16:02:21+00:00"
LOCAL = "2026-12-07 17:02"  # Berlin, winter: UTC+1


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()  # the process's own time zone again
    time.tzset()


def _entry():
    from medseg_gui.ml.store import ModelEntry

    return ModelEntry(MODEL_ID, TRAINED_AT, "default", "lesions", 10, 2, 0.9, 0.5, True, False, True, "")


def test_the_panel_the_models_table_and_the_rollback_message_name_a_model_alike(qtbot, berlin):
    from medseg_gui.qt.models_dialog import COLUMNS, ModelsDialog

    info = {"id": MODEL_ID, "trained_at": TRAINED_AT, "val_auc": 0.9, "preset": "default"}
    assert f"trained {LOCAL}," in model_text(info)
    dialog = ModelsDialog("lesion", "img0")
    qtbot.addWidget(dialog)
    dialog.set_models([_entry()])
    trained = COLUMNS.index("Trained")
    assert dialog.table.horizontalHeaderItem(trained).text() == "Trained"  # local time: no "(UTC)"
    assert dialog.table.item(0, trained).text() == LOCAL
    assert MODEL_ID in dialog.table.item(0, trained).toolTip()  # the id where one is needed
    run = RollbackRun(Path("p"), "lesion", MODEL_ID, {}, trained_at=TRAINED_AT)
    assert rollback_text(run) == f"The model trained {LOCAL} is current again; every image was predicted with it."
    cancelled = RollbackRun(Path("p"), "lesion", MODEL_ID, {}, predictions_complete=False, trained_at=TRAINED_AT)
    assert rollback_text(cancelled).startswith(f"The model trained {LOCAL} is current again; its prediction was ")


def test_a_run_says_what_it_starts_from_as_it_starts_and_in_its_result(berlin):
    continued = {"init": "the model of 2026-12-07 16:02", START_MODEL: {"id": MODEL_ID, "trained_at": TRAINED_AT}}
    assert began_text(continued) == f"This run continues from the model trained {LOCAL}."
    shipped = {"init": "the pretrained lesions start (PolypGen …)", "regime": "lesions"}
    assert began_text(shipped) == "This run starts from the shipped lesion start."
    scratch = {"init": "scratch (not the pretrained start: another network)"}
    assert began_text(scratch) == "This run starts from scratch."
    assert began_text(shipped, done=True) == "This run started from the shipped lesion start."  # not "startd"
    assert began_text(continued, done=True).startswith("This run continued from")
    assert start_name({"init": "the model of 2026-12-01 10:00"}) == "an earlier model"  # an older model's record
    p = TrainProgress(0, 100, 0, float("nan"), 1.0, 60.0, None, "starting", began=began_text(continued))
    assert progress_text(p, 60.0) == f"{PREPARING_TEXT} This run continues from the model trained {LOCAL}."
    assert progress_text(TrainProgress(0, 100, 0, float("nan"), 1.0, 60.0, None, "starting"), 60.0) == PREPARING_TEXT
    # the result's blend names it too (a trial read "75 % the model it started from")
    assert started_from({**continued, "weight_mix": 0.25}) == f"the model trained {LOCAL}"
    assert started_from({}) == "the model it started from"


def test_a_finished_runs_result_in_full_says_which_model_it_continued_from(berlin):
    from medseg_gui.ml.store import StoreDecision
    from medseg_gui.pipeline import TrainOutcome

    decision = StoreDecision(True, 0.91, 0.9, "", "m-3", {"val_auc": 0.91}, "AUC", 0.91, 0.9)
    metadata = {"init": "the model of 2026-12-07 16:02", START_MODEL: {"id": MODEL_ID, "trained_at": TRAINED_AT}}
    run = SimpleNamespace(outcome=TrainOutcome(SimpleNamespace(metadata=metadata), decision), predictions_complete=True)
    full, brief, tip = run_texts(run)
    assert brief == decision_text(decision, brief=True)
    assert full.endswith(f". This run continued from the model trained {LOCAL}.") and full in tip


def test_before_any_run_the_result_in_full_tells_the_current_models_run(qtbot, berlin):
    """A nurse reopening yesterday's project found Train → Last result in full greyed: what the run that made the
    current model did was gone. Before any run in the session it says the model line and what its metadata keeps."""
    from medseg_gui.qt.panels.train_panel import TrainPanel
    from tests.workers.helpers import TINY_TRAIN

    panel = TrainPanel(["default"], TINY_TRAIN, loss_curve=False)
    qtbot.addWidget(panel)
    assert panel.result_in_full() == ""  # no model, no run: nothing to say (the menu item stays greyed)
    info = {"id": "m-2", "trained_at": "2026-12-08T09:00:00+00:00", "val_auc": 0.9, "preset": "default",
            "train_images": 10, "val_images": 2, "init": "the model of …",
            START_MODEL: {"id": MODEL_ID, "trained_at": TRAINED_AT}}
    panel.show_model(info)
    assert panel.result_in_full() == (f"{model_text(info)}. It was trained on 10 images and validated on 2. Its run "
                                      f"continued from the model trained {LOCAL}.")
    assert "trained 2026-12-08 10:00" in panel.result_in_full()
    panel.show_result("Round 2: kept")  # a run of this session says its own
    assert panel.result_in_full() == "Round 2: kept"


def test_a_kept_start_is_not_described_as_trained_on_the_labels(berlin):
    """An outside trial's Retrain kept the built-in vessel start, yet the panel said 'trained 18:31', the Models dialog
    'Images: 3 + 1 val' and the export's manifest only trained_at: as if the weights had learnt from those images."""
    from medseg_gui.core.model_names import model_story
    from medseg_gui.pipeline import model_provenance
    from medseg_gui.qt.models_dialog import model_cells
    from medseg_gui.ml.store import ModelEntry

    info = {"id": MODEL_ID, "val_auc": 0.9812, "trained_at": TRAINED_AT, "preset": "vessels", "regime": "vessels",
            "init": "the pretrained vessel start", "train_images": 3, "val_images": 1,
            "start_kept": {"metric": "AUC", "start": 0.98, "trained": 0.97, "steps": 40}}
    kept = (f"the shipped vessel start, kept {LOCAL} (it validated better than the weights its run trained on your "
            "3 images + 1 val)")
    assert model_text(info) == f"Current model: val AUC 0.981, {kept}, preset vessels"
    assert model_story(info) == f"It is {kept}, unchanged: its weights learnt nothing from your labels."
    unstable = {**info, "start_kept": {"diverged": True}}
    assert "(training on your 3 images + 1 val became numerically unstable)" in model_text(unstable)
    assert model_provenance(info)["trained_at"] == TRAINED_AT  # when the run ended: a fact of it
    assert model_provenance(info)["weights"] == f"{kept}, unchanged: not trained on this project's labels"
    assert "weights" not in model_provenance({**info, "start_kept": None})
    entry = ModelEntry(MODEL_ID, TRAINED_AT, "vessels", "vessels", 3, 1, 0.98, None, True, True, True, start=True)
    assert model_cells(entry)[3] == "none: start kept (its run: 3 + 1 val)"
    trained = {**info, "start_kept": None}
    assert model_text(trained) == f"Current model: val AUC 0.981, trained {LOCAL}, preset vessels"
    assert model_story(trained).startswith("It was trained on 3 images and validated on 1. ")
