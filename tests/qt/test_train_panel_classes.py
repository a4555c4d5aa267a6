"""The Train panel says which class a run belongs to while another class is shown, and a run that ends under another
class keeps its result for its own (an outside trial started a lesion Retrain, pressed 2 for the cervix, and read the
lesion run's progress and its "New model kept" under the cervix's Current model line)."""

from __future__ import annotations

from types import SimpleNamespace

from medseg_gui.ml.config import TrainConfig, preset_names
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.ml.store import StoreDecision
from medseg_gui.qt.panels.train_panel import TrainPanel
from medseg_gui.workers.training import PredictProgress, TrainOutcome, TrainWorker
from tests.workers.helpers import TINY_TRAIN

KEPT = StoreDecision(True, 0.9, 0.8, "Saved the new model.", "m-2", {"val_auc": 0.9, "val_images": 2}, "AUC", 0.9, 0.8)


def _panel(qtbot, tmp_path, shown: str = "lesion") -> TrainPanel:
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=False)
    qtbot.addWidget(panel)
    panel.show_class(shown)
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=1.5)))  # a real worker, never started
    return panel


def _run(decision: StoreDecision = KEPT) -> SimpleNamespace:
    """A finished Retrain (workers.training.TrainRun's fields that the panel reads)."""
    return SimpleNamespace(rounds=0, outcome=TrainOutcome(None, decision), predictions_complete=True)


def test_a_runs_lines_name_its_class_while_another_class_is_shown(qtbot, tmp_path):
    panel = _panel(qtbot, tmp_path)
    progress = TrainProgress(145, 1000, 2, 0.41, 39.0, 100.0, None, "")
    panel.show_progress(progress)
    assert panel.progress_label.text().startswith("0:39 of 1:30 · step 145")  # its own class: no name
    panel.show_class("cervix")  # key 2 while the lesion trains
    assert panel.progress_label.text().startswith("Training 'lesion': 0:39 of 1:30 · step 145")
    panel.show_progress(TrainProgress(146, 1000, 2, 0.41, 40.0, 100.0, None, ""))
    assert panel.progress_label.text().startswith("Training 'lesion': 0:40 of 1:30")
    decided = []
    panel.decided.connect(decided.append)
    panel.show_progress(TrainOutcome(None, KEPT))
    assert panel.result_label.text().startswith("'lesion': New model kept: val AUC 0.900")
    assert len(decided) == 1  # the window updates the model line only for the class shown (training_view)
    panel.show_progress(PredictProgress(1, 3, "img0"))
    assert panel.progress_label.text() == "'lesion': Predicting 1/3: img0"
    panel.show_class("lesion")  # back to the run's own class: no name
    assert panel.result_label.text().startswith("New model kept: val AUC 0.900")
    assert panel.progress_label.text() == "Predicting 1/3: img0"


def test_a_run_ending_under_another_class_keeps_its_result_for_its_class(qtbot, tmp_path):
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=False)
    qtbot.addWidget(panel)
    panel.show_class("cervix")
    panel.show_result("Cervix's own last result")
    panel.show_class("lesion")
    assert panel.result_label.text() == ""
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=1.5)))
    panel.show_class("cervix")
    assert panel.model_label.text() == "Current model: none yet — draw labels, then press Retrain."  # not "the
    #                                                          first one is training": that is the lesion's run
    ended = []
    panel.ended.connect(lambda how, text: ended.append((how, text)))
    panel._on_finished(_run())
    assert [how for how, _ in ended] == ["finished"]
    assert ended[0][1].startswith("'lesion': New model kept: val AUC 0.900")  # the status bar's line
    assert panel.result_label.text() == "Cervix's own last result"  # not the lesion's under the cervix
    assert panel.result_label.toolTip() == ""
    panel.show_class("lesion")
    assert panel.result_label.text() == ended[0][1].removeprefix("'lesion': ")
    assert panel.result_label.toolTip() == "Saved the new model."
    panel.show_class("cervix")
    assert panel.result_label.text() == "Cervix's own last result"


def test_a_cancel_under_another_class_says_what_its_own_class_kept(qtbot, tmp_path):
    panel = TrainPanel(preset_names(), TINY_TRAIN, loss_curve=False)
    qtbot.addWidget(panel)
    panel.show_class("lesion")
    panel.show_model({"val_auc": 0.8})  # the lesion has a model
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=1.5)))
    panel.show_class("cervix")
    panel.show_model(None)  # the cervix has none
    ended = []
    panel.ended.connect(lambda how, text: ended.append((how, text)))
    panel._on_cancelled()
    assert ended == [("cancelled", "'lesion': Training cancelled — previous model kept.")]
    assert panel.result_label.text() == "" and panel.result_label.isHidden()
    panel.show_class("lesion")
    assert panel.result_label.text() == "Training cancelled — previous model kept."
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=1.5)))
    panel._on_errored(OSError("No space left on device."))  # its own class shown: said in red, unnamed
    assert "No space left on device." in panel.result_label.text()
    assert not panel.result_label.text().startswith("'lesion'") and "c0392b" in panel.result_label.styleSheet()
