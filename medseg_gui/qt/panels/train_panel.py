"""Right panel: preset, time box, ONE Retrain button, the Continuous toggle, Cancel, progress, validation AUC per
epoch, the current model.

The texts themselves live in `train_text` (plain functions, tested without widgets), the loss curve in `loss_plot`,
the progress and result lines (and the class they speak of) in `run_lines`, the time box in `time_box`; the buttons
wrap into two rows in a narrow column (`wrap_grid`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGroupBox, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from medseg_gui.core.model_names import model_story
from medseg_gui.ml.config import TrainConfig
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.qt.keymap import key_text
from medseg_gui.qt.panels.column import text_line
from medseg_gui.qt.panels.loss_plot import LossCurve
from medseg_gui.qt.panels.preset_box import PresetBox
from medseg_gui.qt.panels.run_lines import TRAINING, RunLines, Said
from medseg_gui.qt.panels.time_box import DEFAULT_MINUTES, MAX_MINUTES, MIN_MINUTES, time_box
from medseg_gui.qt.panels.train_text import (
    CANCELLED_NO_MODEL_TEXT,
    CANCELLED_TEXT,
    PREPARING_TEXT,
    continuous_text,
    decision_text,
    label_notice,
    model_text,
    outcome_text,
    progress_fraction,
    progress_text,
    rollback_text,
    round_text,
    run_texts,
    started,
)
from medseg_gui.qt.panels.wrap_grid import WrapGrid
from medseg_gui.workers.base import WorkerHost, error_message
from medseg_gui.workers.model_history import RollbackRun
from medseg_gui.workers.training import PredictProgress, RoundReport, TrainOutcome, TrainRun, TrainWorker

__all__ = ["CANCELLED_TEXT", "DEFAULT_MINUTES", "MAX_MINUTES", "MIN_MINUTES", "TrainPanel", "decision_text"]

ROUND_MINUTES = 1.0  # continuous training: the longest round (the time box when it is shorter)


class TrainPanel(QGroupBox):
    """Shows one training run: `run(worker, host, on_done)` starts a TrainWorker and follows it until it ends;
    Cancel cancels it."""

    retrain_requested = Signal()
    continuous_requested = Signal()  # the "Continuous" toggle was switched on
    round_finished = Signal(object)  # continuous training: a train_process.RoundReport
    decided = Signal(object)  # a Retrain's TrainOutcome, its model stored or not, before its images are predicted
    models_requested = Signal()  # the "Models…" button: model history, rollback, compare
    running_changed = Signal(bool)
    ended = Signal(str, str)  # ("finished" | "errored" | "cancelled", the sentence shown)

    def __init__(self, presets: list[str], config: TrainConfig, *, loss_curve: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__("Train", parent)
        self.preset_combo = PresetBox(presets, config.preset, self)  # follows the current model (show_model)
        self.minutes_spin = time_box(self)
        self.set_minutes(config.minutes or DEFAULT_MINUTES)
        self.scratch_check = QCheckBox("Start from scratch", self)
        self.scratch_check.setObjectName("fromScratch")
        self.scratch_check.setToolTip("Retrain normally continues from the current model (or, for lesions, from the "
                                      "shipped pretrained start) when it fits; tick to start the next Retrain from "
                                      "random weights (once: it unticks itself when that run has trained; a "
                                      "cancelled or failed run leaves it ticked)")

        self.retrain_button = QPushButton("Retrain", self)
        self.retrain_button.setObjectName("retrainButton")
        self.retrain_button.setToolTip(
            "Save labels, train on every labelled image of this class, then predict all images "
            f"({key_text('retrain')})")
        self.retrain_button.setDefault(True)
        self.retrain_button.clicked.connect(self.retrain_requested)
        self.continuous_button = QPushButton("Continuous", self)
        self.continuous_button.setObjectName("continuousButton")
        self.continuous_button.setCheckable(True)
        self.continuous_button.setToolTip(
            f"Keep training in the background in rounds of up to {ROUND_MINUTES:g} minute (the time box if shorter), "
            "each continuing from the current model; labels you save meanwhile join the round at its next epoch. A "
            "better model replaces the current one and re-predicts the image on screen. While on, the button reads "
            "\"■ Stop\": click it (or Cancel) to stop.")
        self.continuous_button.toggled.connect(self._on_continuous_toggled)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.models_button = QPushButton("Models…", self)
        self.models_button.setObjectName("modelsButton")
        self.models_button.setToolTip("Every trained model of this class: use an earlier one again, or compare two "
                                      "on the image shown")
        self.models_button.clicked.connect(self.models_requested)

        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setVisible(False)  # shown while a run is followed (set_running)
        self.progress_label = self._line("")
        self.result_label = self._line("trainResult")
        self.lines = RunLines(self.progress_label, self.result_label)  # what they say, of which class
        self.model_label = self._line("currentModel", model_text(None))
        self._model_info: dict | None = None  # decides what a cancel says and the notice (show_model)
        self._labels: tuple[str, dict[str, float]] = ("", {})  # the notice reads them too (show_labels)
        self._off = ""  # why Retrain is off (set_training_off), '' while it is on
        self.region_label = self._line("classRegion", hidden=True)
        self.label_notice = self._line("labelNotice", hidden=True)  # too few labels (train_text.label_notice)

        form = QFormLayout()
        form.addRow("Preset", self.preset_combo)
        form.addRow("Time box", self.minutes_spin)
        form.addRow("", self.scratch_check)
        buttons = WrapGrid((4, 2))  # two rows in a narrow column
        buttons.addWidget(self.retrain_button, 2)
        buttons.addWidget(self.continuous_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        buttons.addWidget(self.models_button, 1)
        layout = QVBoxLayout(self)  # the controls first: lines that come and go below never move them (a trial's
        layout.addLayout(form)  # click on Stop landed on the progress bar when an advice line appeared above it)
        layout.addLayout(buttons)
        layout.addWidget(self.model_label)
        layout.addWidget(self.region_label)
        layout.addWidget(self.label_notice)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.result_label)
        self.curve = LossCurve(self, plot=loss_curve)
        if self.curve.plot is not None:
            layout.addWidget(self.curve.key)
            layout.addWidget(self.curve.plot)
        self._budget_s: float | None = None
        self._worker: TrainWorker | None = None
        self._cancel_other: Callable[[], None] | None = None  # another job that predicts (follow)
        self._run_model: dict | None = None  # the model of the run's class as it started (Cancel keeps it)
        self.lines.clear()
        self.curve.show(False)  # until a run starts: empty axes took 150 px, pushing Layers out of a 1400×860 view

    def _line(self, name: str, text: str = "", *, hidden: bool = False) -> QLabel:
        """A `column.text_line` named `name` (tests find it by name), `hidden` until it has something to say."""
        label = text_line(text, self)
        label.setObjectName(name)
        if hidden:
            label.setVisible(False)
        return label

    # -- settings ------------------------------------------------------------------------------------------------
    def training_config(self, base: TrainConfig, *, continuous: bool = False) -> TrainConfig:
        """`base` with the preset, time box and start chosen here (the GUI always trains against a time budget;
        `continuous`: a round's, at most ROUND_MINUTES)."""
        minutes = min(self.minutes(), ROUND_MINUTES) if continuous else self.minutes()
        return replace(base, preset=self.preset_combo.currentText(), minutes=minutes,
                       init="scratch" if self.scratch_check.isChecked() else "auto")

    def minutes(self) -> float:
        return float(self.minutes_spin.value())

    def set_minutes(self, minutes: float) -> None:
        self.minutes_spin.setValue(min(MAX_MINUTES, max(MIN_MINUTES, float(minutes))))

    def show_model(self, info: dict | None) -> None:
        """The current model of the class (metadata of models/<class>/current.json, None when there is none); the
        Preset box shows its preset unless the user chose one for this class."""
        self._model_info = info
        self.preset_combo.follow((info or {}).get("preset"))
        self._show_notice()

    @property
    def model_id(self) -> str | None:
        """The id of the model the panel shows as current (None: none)."""
        return (self._model_info or {}).get("id")

    def show_labels(self, cls: str, shares: dict[str, float]) -> None:
        """Advise when `cls` has too few labels for a useful model (stem → annotated share; 1.0 = complete), unless
        the current model already validates well (train_text.label_notice); either call may come first."""
        self._labels = (cls, dict(shares))
        self._show_notice()

    def set_training_off(self, why: str) -> None:
        """Retrain and Continuous off for `why` (no project, read-only; the model line says it); '' on again."""
        self._off = why
        if self._worker is None:  # else as set_running left them
            self.retrain_button.setEnabled(not why)
            self.continuous_button.setEnabled(not why)
        self._show_notice()

    def _show_notice(self) -> None:
        training = self._worker is not None and self.lines.shown in (None, self._worker.cls)  # not another class's
        self.model_label.setText(model_text(self._model_info, len(self._labels[1]), training, self._off))
        text = label_notice(*self._labels, self._model_info) if self._labels[0] and not self._off else ""
        self.label_notice.setText(text)
        self.label_notice.setVisible(bool(text))

    def show_region(self, text: str) -> None:
        """Where the current class is trained (two-stage: "Inside cervix: …"); '' hides the line."""
        self.region_label.setText(text)
        self.region_label.setVisible(bool(text))

    # -- one run -------------------------------------------------------------------------------------------------
    def run(self, worker: TrainWorker, host: WorkerHost, on_done: Callable[[TrainRun], None]) -> None:
        """Start `worker` on `host` and follow it: progress, then `on_done(run)` (the window shows the results)
        followed by the decision, or the error or cancellation; then `ended`."""
        def finished(run: TrainRun) -> None:
            on_done(run)
            self._on_finished(run)

        self.attach(worker)
        host.start(worker, on_progress=self.show_progress, on_done=finished, on_error=self._on_errored,
                   on_cancelled=self._on_cancelled)

    def attach(self, worker: TrainWorker) -> None:
        """Show `worker` as the running training (Cancel cancels it) until its end is reported."""
        self.lines.begin(worker.cls)  # the result shown stays its class's last one
        self._worker = worker
        self._run_model = self._model_info if self.lines.shown in (None, worker.cls) else None
        minutes = worker.config.minutes
        self._budget_s = 60.0 * minutes if minutes else None
        self.set_running(True)

    def follow(self, cancel: Callable[[], None] | None) -> None:
        """Another job predicts every image (Train → Predict all images): the bar shows its `show_progress` and
        Cancel calls `cancel`, until `follow(None)`."""
        self._cancel_other = cancel
        self.cancel_button.setEnabled(cancel is not None)
        self.progress_bar.setVisible(cancel is not None)
        self._set_fraction(None if cancel is not None else 0.0)
        self.lines.say_progress("")

    @Slot()
    def cancel(self) -> None:
        """Cancel the training followed, else the other job (`follow`)."""
        if self._worker is None and self._cancel_other is None:
            return
        (self._worker.cancel if self._worker is not None else self._cancel_other)()
        self.lines.say_progress("Stopping…" if self._worker is not None and self._worker.continuous else
                                "Cancelling…")

    @Slot(bool)
    def _on_continuous_toggled(self, on: bool) -> None:
        if on and self._worker is None:
            self.continuous_requested.emit()
            if self._worker is None:  # refused (the window says why)
                self._set_continuous(False)
        elif not on:
            self.cancel()

    def _set_continuous(self, on: bool) -> None:
        self.continuous_button.blockSignals(True)
        self.continuous_button.setChecked(on)
        self.continuous_button.setText("■ Stop" if on else "Continuous")  # on: lit, and says what a click does
        self.continuous_button.blockSignals(False)

    @Slot(object)
    def _on_finished(self, run: TrainRun) -> None:
        if self._worker is not None and self._worker.config.init == "scratch":  # one run that trained (a trial's
            self.scratch_check.setChecked(False)  #  stayed on; one cancelled or failed leaves it: review)
        self.set_running(False)
        if run.rounds:  # the last round's decision stays in view (a trial never saw round 2's rejection)
            last = self.lines.result.text
            text = continuous_text(run, last if last.startswith("Round ") else "")
            self._end("finished", Said(text), text)
            return
        text, brief, tip = run_texts(run)
        self._end("finished", Said(brief, tip, full=tip if text != brief else ""), text)

    def _on_errored(self, err: BaseException) -> None:
        message = error_message(err)
        self.set_running(False)
        self._end("errored", Said(message, error=True), message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.set_running(False)
        shown = self.lines.shown in (None, self.lines.run_class)  # else its class's model is not the one shown
        text = CANCELLED_TEXT if (self._model_info if shown else self._run_model) is not None else \
            CANCELLED_NO_MODEL_TEXT
        self._end("cancelled", Said(text), text)

    def _end(self, how: str, said: Said, message: str) -> None:
        """Say how the run ended, and `ended` with `message`; both name the run's class while another class is shown,
        and the result then waits for its class to be chosen again (a trial read the lesion's "New model kept"
        under the cervix's model)."""
        self.lines.say(said)
        message = self.lines.named(message)
        if self.lines.settle():
            self.curve.clear()
        self.ended.emit(how, message)

    def set_running(self, running: bool) -> None:
        continuous = running and self._worker is not None and self._worker.continuous
        self._set_continuous(continuous)
        self.continuous_button.setEnabled((not running and not self._off) or continuous)  # on: the way to stop it
        self.retrain_button.setEnabled(not running and not self._off)
        self.cancel_button.setEnabled(running)
        self.preset_combo.setEnabled(not running)
        self.minutes_spin.setEnabled(not running)
        self.scratch_check.setEnabled(not running)
        self.progress_bar.setVisible(running)  # an empty bar when idle only pushed the Layers panel down (trial)
        if running:
            self._clear_shown()
            self.curve.show(True)  # stays with the last run's curve after it ends
            self._set_fraction(None)  # busy until the first step: data preparation, network building
            self.lines.say_progress(PREPARING_TEXT, TRAINING)
        else:
            self._worker = None
            self._set_fraction(0.0)
        self._show_notice()  # "the first one is training" while there is no model yet
        self.running_changed.emit(running)

    @Slot(object)
    def show_progress(self, progress: object) -> None:
        if isinstance(progress, TrainProgress):
            self._show_train_progress(progress)
        elif isinstance(progress, RoundReport):
            self.curve.round_ended()  # its curve stays until the next round's first step (trial: Stop left it empty)
            self.show_result(round_text(progress))
            self.round_finished.emit(progress)
        elif isinstance(progress, TrainOutcome):  # decided: said while the images are predicted
            self.show_result(outcome_text(progress))
            if (kept := getattr(progress.decision, "current", None)) is not None:
                self._run_model = dict(kept)  # what a Cancel now keeps
            self.decided.emit(progress)
        elif isinstance(progress, PredictProgress):
            frac = progress.done / progress.total if progress.total else 1.0
            self._set_fraction(frac)
            self.lines.say_progress(f"Predicting {progress.done}/{progress.total}: {progress.stem}")

    def show_result(self, text: str, *, error: bool = False) -> None:
        """The result line says `text` (of the run's class: named while another class is shown)."""
        self.lines.say(Said(text, error=error))

    def result_in_full(self) -> str:
        """The result line with its reasons (its tooltip), for Train → Last result in full; before any run here, the
        current model's line and what its metadata tells of its run (core.model_names.model_story); '' when there is
        neither."""
        said = self.lines.named(self.lines.result.in_full())
        if said or not self._model_info:
            return said
        return f"{model_text(self._model_info)}. {model_story(self._model_info)}"

    def show_rollback(self, run: RollbackRun) -> None:
        """A model put back (Models… → Use this model) or the current one's predictions remade (Predict all images):
        not the last run's words nor its curve (a trial read "New model kept" under the model put back)."""
        self._clear_shown()
        self.show_result(rollback_text(run))

    def clear_run(self) -> None:
        """Forget the last run shown (its result, progress and curve) and every class's last result, e.g. when
        another project is opened."""
        self.lines.forget()
        self.curve.clear()

    def _clear_shown(self) -> None:
        self.lines.clear()
        self.curve.clear()

    def show_class(self, cls: str) -> None:
        """Another class is chosen: a finished run of another class is no longer shown (a trial read the cervix
        run's result and curve under the lesion), and the result of this class's last run (its words, not its
        curve) is shown again. A run under way stays in view until it ends, naming its class while another is shown
        (run_lines); its end then waits for its class to be chosen again. The Preset box follows its model again."""
        self.preset_combo.release()
        if self.lines.show_class(cls, running=self._worker is not None):
            self.curve.clear()
        self._show_notice()  # "the first one is training" only for the class of the run

    def _set_fraction(self, fraction: float | None) -> None:
        """The bar shows `fraction` (None: busy). A QProgressBar repaints at once when its value changes, and that
        paints every pending change of the window inside the call (15–50 ms when a training has just ended and the
        canvas, list and panel all changed); with its updates off meanwhile, the bar is repainted with the rest."""
        bar = self.progress_bar
        maximum, value = (0, 0) if fraction is None else (1000, round(1000 * fraction))
        if (bar.maximum(), bar.value()) == (maximum, value) or (maximum == 0 and bar.maximum() == 0):
            return
        bar.setUpdatesEnabled(False)
        bar.setRange(0, maximum)
        if maximum:
            bar.setValue(value)
        bar.setUpdatesEnabled(True)  # schedules the bar's repaint

    def _show_train_progress(self, p: TrainProgress) -> None:
        if p.note:  # a time box too short to train (ml.run_end.short_box): in view until the run's result
            self.show_result(p.note)
        shown = self.curve.add(p)  # the text shows the curve's last point
        self._set_fraction(progress_fraction(p, self._budget_s) if started(p) else None)
        self.lines.say_progress(progress_text(p, self._budget_s, loss=shown), TRAINING)
