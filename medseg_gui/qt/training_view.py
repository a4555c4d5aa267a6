"""Retrain and its results: check there is something to learn from, run a TrainWorker through the Train panel, keep
the window's actions in step while it runs, and show what it (or a model rollback, Train → Models…) predicted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QWidget

from medseg_gui.core.project import dataset_test_stems
from medseg_gui.core.regions import unknown_regions
from medseg_gui.ml.config import TrainConfig
from medseg_gui.outcomes import PREDICT_ALL_TEXT, stored_current
from medseg_gui.qt import dialogs
from medseg_gui.qt.demo_choice import OPEN_FOLDER_MENU
from medseg_gui.qt.panels.column import bring_into_view
from medseg_gui.qt.save_guard import marks_text, what_to_do
from medseg_gui.workers.training import TrainRun, TrainWorker


def no_labels_text(cls: str) -> str:
    return f"No labelled images for class '{cls}' yet — draw a label on at least one image, then press Retrain."


def first_names(stems: list[str]) -> str:
    return ", ".join(stems[:3]) + (", …" if len(stems) > 3 else "")


def without_region_text(cls: str, parent: str, missing: list[str], trained: list[str], total: int) -> str:
    """What a Retrain of `cls` does on the `missing` images, where its `parent` region is unknown: the `trained` ones
    (a `cls` label it learns from) are trained and predicted over the whole image, the others only predicted so (a
    trial's question said "trained and predicted" of 12 images none of which had a label to train on)."""
    n, k = len(missing), len(trained)
    head = f"'{cls}' is restricted to the '{parent}' region, but {n} of {total} images have no '{parent}' label"
    if not k:
        return (f"{head} and there is no '{parent}' model yet, so '{cls}' will be predicted over the whole image there "
                f"(e.g. {first_names(missing)}); none of them has a '{cls}' label, so training is not affected.")
    rest = f"; on the other {n - k} it would only be predicted over the whole image" if n > k else ""
    them = f"{k} of them has" if k == 1 else "all of them have" if k == n else f"{k} of them have"
    return (f"{head}, and there is no '{parent}' model yet to predict one. {them[0].upper()}{them[1:]} a '{cls}' "
            f"label ({first_names(trained)}): there '{cls}' would be trained and predicted over the whole image{rest}."
            f"\n\nTrain '{cls}' anyway? (No: outline '{parent}' on them, or retrain '{parent}' first.)")


class TrainingView(QObject):
    """`retrain()` starts one run (`worker` while it runs); `ended(how)` with "finished", "errored" or "cancelled";
    `status(text)` and `errored(text)` report; `keras_rows(list)`: the Keras rows (device, precision) a run's child
    read (about.SystemInfo.learn)."""

    ended = Signal(str)
    keras_rows = Signal(object)
    status = Signal(str)
    errored = Signal(str)

    def __init__(self, project: Callable[[], Any], panels: dict[str, Any], parts: dict[str, Any],
                 config: TrainConfig, remember: Callable[[], None], parent: QWidget) -> None:
        super().__init__(parent)
        self._project, self._config, self._remember = project, config, remember
        self._panel, self._layers = panels["train_panel"], panels["layers"]
        self._images, self._session = panels["image_list"], panels["session"]
        self._workers, self._guard, self._saver = parts["workers"], parts["guard"], parts["saver"]
        self._models, self._classes, self._actions = parts["models"], parts["classes"], parts["actions"]
        self.worker: TrainWorker | None = None
        self._panel.retrain_requested.connect(self.retrain)
        self._panel.continuous_requested.connect(self.train_continuously)
        self._panel.round_finished.connect(self.show_results)  # a kept round predicted the image shown
        self._panel.decided.connect(self._show_kept)
        self._panel.running_changed.connect(self._on_running)
        self._panel.ended.connect(self._on_ended)
        self._panel.models_requested.connect(self.show_models)
        self._models.rolled_back.connect(self.show_results)  # the same refresh as after a Retrain

    def _write_refusal(self) -> str | None:
        """Why nothing may be written into the project now (read-only, lock taken over by another program)."""
        project = self._project()
        return project.write_refusal() if project is not None else None

    def refusal(self, cls: str) -> str | None:
        """Why Retrain of `cls` cannot start now (None: it can): its model could not be saved (read-only, lock
        taken over; a folder that became read-only while open is found by the worker's `probe`, off this thread),
        a rollback is running, labels or image marks are unsaved, or there are no labels."""
        if (why := self._write_refusal()) is not None:
            return f"Retrain was not started: {why}."
        if self._models.busy():
            return ("Every image is being predicted with a model (Use this model, or Predict all images); Retrain "
                    "when that is done.")
        if not self._guard.all_saved():
            unsaved, marks = self._saver.unsaved(), self._guard.marks.pending(self._project())
            also = f", and {len(marks)} image mark(s) could not be written to project.json" if marks else ""
            reasons = [*unsaved.values(), *(reason for _on, reason in marks.values())]  # a trial was told of one
            return (f"{len(unsaved)} label(s) could not be saved, so Retrain would not see them{also}. "
                    f"{what_to_do(reasons)}" if unsaved else
                    "Retrain was not started: it reads from project.json which labels are accepted predictions (not "
                    f"validated on), confirmed complete or “none”, and not every mark is there yet. {marks_text(marks)}"
                    if marks else
                    "Labels are still being saved; try Retrain again in a moment.")
        return None if self._project().labelled_stems(cls) else no_labels_text(cls)

    @Slot()
    def train_continuously(self) -> TrainWorker | None:
        """Continuous training of the current class (the panel's toggle): rounds until stopped (train_process)."""
        return self.retrain(continuous=True)

    @Slot()
    def retrain(self, continuous: bool = False) -> TrainWorker | None:
        """Close a polygon left open, wait for the labels' saves, check there is something to learn from, then train +
        predict the current class (`continuous`: train in rounds until stopped, predicting the image shown after each
        kept round)."""
        cls, project = self._classes.current(), self._project()
        if project is None or cls is None or self.worker is not None:
            return None
        # a polygon left open is closed and saved first, as on any exit, and `refusal` waits for its save (without
        # freezing), so this run learns from it (a trial's Ctrl+R trained without the polygon just drawn)
        closed = self._session.canvas.leave_image()
        refusal = self.refusal(cls)
        if refusal is not None:
            self.errored.emit(refusal)
            return None
        if (unrestricted := self._without_region_asked(cls)) is None:
            return None
        if self.worker is not None or self._project() is not project:  # started or closed while the saves were
            return None  # waited for (the event loop ran)
        self._remember()
        worker = TrainWorker(self._project().root, cls,
                             self._panel.training_config(self._config, continuous=continuous),
                             threshold=self._session.threshold, continuous=continuous,
                             shown=lambda: self._session.stem,  # read on the worker's thread: a plain attribute
                             probe=self._project().write_probe)
        self.worker = worker
        worker.keras_rows.connect(self.keras_rows)  # queued: the worker emits on its thread
        said = f"{closed[0].upper()}{closed[1:]}. " if closed else ""  # replaced at once, else unread
        self.status.emit(f"{said}Training '{cls}'{' continuously' if continuous else ''}…{unrestricted}")
        self._panel.run(worker, self._workers, on_done=self.show_results)  # results, then `ended`
        return worker

    def _without_region_asked(self, cls: str) -> str | None:
        """Where `cls` lives inside another class that is unknown on some images (no label, prediction or model of it:
        core.regions.unknown_regions): asks before training it over the whole of those with a `cls` label (None: the
        user chose not to); where none has one, training is not affected and only the status line says that the
        run predicts it over them (returned, after a space; "" for nothing to say). After a No the keys go back to the
        canvas (a trial's went to "Start from scratch", which Space would have ticked)."""
        project = self._project()
        parent, missing = unknown_regions(project, cls)
        if not missing:
            return ""
        held = dataset_test_stems(project)  # never trained on
        trained = [stem for stem in missing if stem not in held and project.has_label(cls, stem)]
        text = without_region_text(cls, parent, missing, trained, len(project.stems))
        if not trained:
            return f" {text}"
        if dialogs.ask_yes_no(self.parent(), "Train without its region?", text):
            return ""
        self._session.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        return None

    @Slot(object)
    def _show_kept(self, outcome: Any) -> None:
        """A Retrain's new model became current: the panel names it while the images are predicted with it (a trial
        read "Current model: none yet — the first one is training" beside its first model's figures)."""
        kept = getattr(outcome.decision, "current", None)
        if kept is not None and self.worker is not None and self.worker.cls == self._classes.current():
            self._panel.show_model(dict(kept))

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._actions.retrain.setEnabled(not running)
        self._actions.cancel.setEnabled(running)
        self._layers.threshold_spin.setEnabled(not running)  # metrics.json is being written at the current one

    @Slot()
    def show_models(self) -> Any:
        """Train → Models…: the current class's models; "Use this model" is refused while training runs."""
        def busy() -> str | None:
            if (why := self._write_refusal()) is not None:
                return f"No model was changed: {why}."
            return "Training is running; use another model when it has finished." if self.worker else None

        if self._project() is None:  # the button did nothing, without a word (verification trial)
            self.errored.emit(f"No project is open: open a folder of images ({OPEN_FOLDER_MENU}) to see its models.")
            return None
        return self._models.open(self._project(), self._classes.current(), self._images.current_stem(),
                                 self._session.threshold, refuse_use=busy)

    @Slot(object)
    def show_results(self, run: TrainRun) -> None:
        """A Retrain (TrainRun) or a rollback (RollbackRun, same fields) predicted every image: show the results."""
        project = self._project()
        if project is None or project.root != run.project_root:  # another project is open
            return
        self._session.reload_prediction(run.cls, getattr(run, "shown_prediction", None))  # a rollback: none
        roi_class = project.class_spec(run.cls).roi_class
        if roi_class is not None:  # two-stage: its prediction may have been made first, where it was missing
            self._session.reload_prediction(roi_class)
        decision = getattr(getattr(run, "outcome", None), "decision", None)  # a rollback has none
        kept = getattr(decision, "current", None)  # the kept model's metadata, as current.json now holds it
        if decision is None and hasattr(run, "model_id") and run.cls == self._classes.current():
            self._panel.show_rollback(run)
        with self._images.batch():  # one re-sort and column fit for all of it
            self._images.set_metrics(run.cls, run.metrics or project.load_metrics(run.cls))
            self._images.set_uncertainty(run.cls, project.load_uncertainty(run.cls))  # a small json file
            self._classes.show_state(kept if run.cls == self._classes.current() else None)

    @Slot(str, str)
    def _on_ended(self, how: str, message: str) -> None:
        worker, self.worker = self.worker, None
        if how != "finished" and worker is not None and (stored := self._stored_anyway(worker, message)):
            message += stored
            self._panel.show_result(message, error=how == "errored")  # the red line said only the error (a trial)
        if how == "finished":  # the layers are what reviewing the run needs (its curve and lines had pushed them
            # out of view at 1280×720: trials), as far as the result's first lines stay in view
            bring_into_view(self._layers, start=self._panel.result_label)
        (self.errored if how == "errored" else self.status).emit(message)
        self.ended.emit(how)

    def _stored_anyway(self, worker: TrainWorker, message: str) -> str:
        """A run that failed or was stopped after it stored its model (the disk filled up while it predicted: a
        fault-injection trial, session 39, read "Current model: none yet" beside a kept model): the class is shown
        with that model, and what to add to the `message` unless it says so itself (train_process.prediction_died)."""
        project = self._project()
        if project is None or project.root != worker.project_root or worker.cls != self._classes.current():
            return ""
        info = project.current_model_info(worker.cls)
        if info is None or info.get("id") == self._panel.model_id:
            return ""
        self._classes.show_state(info)
        if stored_current(worker.cls) in message:
            return ""
        return (f" {stored_current(worker.cls)}, but not every image was predicted with it: once that is fixed, "
                f"{PREDICT_ALL_TEXT} predicts them all.")
