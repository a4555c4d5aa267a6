"""Train → Predict all images: every image of the current class predicted with its current model, without training
(photos added since, predictions a cancelled or failed run left incomplete, a model trained or put back with `medseg`).

It is Models… → Use this model's job with the current model's id, whose rollback then changes nothing
(`ModelsFlow.predict_all`: workers.model_history.rollback_and_predict in a child process, so Keras never loads in the
window's process), and its end reaches the window as a rollback's does (`ModelsFlow.rolled_back` →
`TrainingView.show_results`: the list's scores and greyed cells, the image shown, the Train panel's text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from medseg_gui.qt.keymap import ACTIONS
from medseg_gui.qt.panels.train_text import rollback_text
from medseg_gui.workers.base import FunctionWorker
from medseg_gui.workers.training import PredictProgress


class PredictAllFlow(QObject):
    """`refusal()` says why it cannot run now (the action is off then, its menu entry saying why), `start()` runs it
    or says why not, the Train panel's Cancel and Esc stop it; `status(text)` (progress, the end) and `errored(text)`
    report."""

    status = Signal(str)
    errored = Signal(str)

    def __init__(self, project: Callable[[], Any], panels: dict[str, Any], parts: dict[str, Any],
                 parent: QWidget) -> None:
        super().__init__(parent)
        self._project = project
        self._panel, self._session, self._layers = panels["train_panel"], panels["session"], panels["layers"]
        self._models, self._training, self._classes = parts["models"], parts["training"], parts["classes"]
        self._action, self._cancel = parts["actions"].predict_all, parts["actions"].cancel
        self._text = self._action.text()  # "&Predict all images"
        self.worker: FunctionWorker | None = None
        self._action.triggered.connect(self.start)
        self._models.progress.connect(self._on_progress)
        self._models.rolled_back.connect(self._on_predicted)
        self._models.busy_changed.connect(self._on_busy)
        for changed in (self._panel.running_changed, self._training.ended, panels["tools"].class_changed,
                        parts["read_only"].changed):  # ended: after the training's worker is let go
            changed.connect(lambda *_: self.update_action())
        self.update_action()

    def refusal(self) -> str | None:
        """Why every image cannot be predicted now, in a sentence (None: it can)."""
        why = self._why()
        return None if why is None else why[1]

    def _why(self) -> tuple[str, str] | None:
        """(a few words for the menu entry, a sentence) saying why every image cannot be predicted now, or None."""
        project, cls = self._project(), self._classes.current()
        if project is None or not cls:
            return "no project", "no project is open"
        if self._models.busy():
            return "predicting", "every image is already being predicted with a model; wait for it to finish"
        if self._training.worker is not None:
            return "training", "a training is running; try again when it has finished"
        if (why := project.write_refusal()) is not None:
            return "read-only", why
        if not (project.current_model_info(cls) or {}).get("id"):
            return "no model yet", f"'{cls}' has no model to predict with yet: label some images, then Retrain"
        return None

    def update_action(self) -> None:
        """The action on only when it can run; off, its menu entry says why in a few words and its tip in a sentence
        (Fusion menus show no status tip of a disabled entry)."""
        why = self._why()
        self._action.setEnabled(why is None)
        self._action.setText(self._text if why is None else f"{self._text} ({why[0]})")
        tip = ACTIONS["predict_all"].text if why is None else f"Predict all images is off: {why[1]}."
        self._action.setStatusTip(tip)
        self._action.setToolTip(tip)

    @Slot()
    def start(self) -> FunctionWorker | None:
        """Predict every image of the current class with its current model in the background."""
        why = self.refusal()
        if why is not None:
            self.errored.emit(f"Nothing was predicted: {why}.")
            self.update_action()
            return None
        project, cls = self._project(), self._classes.current()
        model_id = project.current_model_info(cls)["id"]
        worker = self._models.predict_all(project.root, cls, model_id, self._session.threshold)
        if worker is None:  # refusal() saw no job running
            return None
        self.worker = worker
        self._panel.follow(worker.cancel)
        self._cancel.setEnabled(True)  # Esc
        self._layers.threshold_spin.setEnabled(False)  # the scores are computed at the threshold it started with
        self.status.emit(f"Predicting the '{cls}' images the current model has not predicted yet…")  # maybe one
        return worker

    @Slot(object)
    def _on_progress(self, progress: PredictProgress) -> None:
        if self.worker is not None:
            self._panel.show_progress(progress)
            self.status.emit(f"Predicting {progress.done}/{progress.total}: {progress.stem}…")

    @Slot(object)
    def _on_predicted(self, run: Any) -> None:
        if self.worker is not None:  # ours (one job at a time); the window refreshes through TrainingView
            self.status.emit(rollback_text(run))

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        if not busy and self.worker is not None:
            self.worker = None
            self._panel.follow(None)
            self._cancel.setEnabled(False)
            self._layers.threshold_spin.setEnabled(True)
        self.update_action()
