"""Train → Models…: every stored model of the current class (date, preset, images used, validation AUC/Dice, kept or
rejected), "Use this model" (roll back, then predict every image with it, as a finished Retrain does) and
"Compare on this image" (two models' metrics on the image shown, side by side; nothing is saved).

The dialog only shows and asks; `ModelsFlow` runs the workers (workers/model_history.py) and hands a finished rollback
to the window (`rolled_back`), which refreshes the list, the canvas and the train panel like after a Retrain. Train →
Predict all images (qt/predict_flow.py) runs the same job with the current model, one job at a time (`busy`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from medseg_gui.core.model_names import local_time, model_name
from medseg_gui.qt import dialogs
from medseg_gui.qt.focus_home import FocusHome
from medseg_gui.qt.panels.train_text import fmt_score, rollback_text
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message
from medseg_gui.workers.model_history import (
    ModelScores,
    RollbackRun,
    compare_models,
    list_models,
    rollback_and_predict,
)
from medseg_gui.workers.training import PredictProgress

COLUMNS = ("", "Trained", "Preset", "Images", "Val AUC", "Val Dice", "Decision")
COMPARED = (("auc", "AUC"), ("dice", "Dice"), ("iou", "IoU"), ("sensitivity", "Sensitivity"),
            ("specificity", "Specificity"))
HINT = "Select one model to use it again, or two to compare them on the image shown."
VAL_TIP = ("Each model's score on the validation images of its own run. Runs may hold out different images (and your "
           "labels change between runs), so two models' figures need not be comparable: select both to compare them "
           "on the same image.")

DECISION_TIP = ("Kept or rejected when it was trained, with the figures that decided it: this model's and the model "
                "current then, both on that run's validation images (where the two runs' validation images or labels "
                "differed: on only the images they shared, labelled as when the model then current was trained). The "
                "Val columns are each model's own run's, not these.")


def model_cells(entry: Any) -> list[str]:
    """One table row of an ml.store.ModelEntry, in COLUMNS order."""
    preset = f"{entry.preset} ({entry.regime})" if entry.regime and entry.regime != entry.preset else entry.preset
    images = "–" if entry.train_images is None else f"{entry.train_images} + {entry.val_images or 0} val"
    if entry.start:  # its weights learnt from none of them (a trial read "3 + 1 val" as what it was trained on)
        images = f"none: start kept (its run: {images})"
    decision = entry.decision + ("" if entry.present else " · removed")
    return ["● current" if entry.current else "", local_time(entry.trained_at), preset, images,
            fmt_score(entry.val_auc), fmt_score(entry.val_dice), decision]


class ModelsDialog(QDialog):
    """The model table (newest first), two buttons and the comparison table; emits what the user asked for."""

    use_requested = Signal(str)
    compare_requested = Signal(str, str)

    def __init__(self, cls: str, stem: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Models of '{cls}'")
        self.stem = stem
        self.entries: list[Any] = []  # newest first, as shown
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("modelTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for col in (COLUMNS.index("Val AUC"), COLUMNS.index("Val Dice")):  # new-user trial: 0.112 beside 0.570
            self.table.horizontalHeaderItem(col).setToolTip(VAL_TIP)
        self.table.horizontalHeaderItem(COLUMNS.index("Decision")).setToolTip(DECISION_TIP)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons (arrows move between cells)
        self.table.setWordWrap(True)  # the Decision sentence wraps in the width left to it (a 1366-pixel screen cut it)
        decision = COLUMNS.index("Decision")
        self.table.horizontalHeader().setSectionResizeMode(decision, QHeaderView.ResizeMode.Stretch)
        self._rewrap = QTimer(self, singleShot=True, interval=0)  # once the table has laid out the new width
        self._rewrap.timeout.connect(self.table.resizeRowsToContents)
        self.table.horizontalHeader().sectionResized.connect(
            lambda col, _old, _new: self._rewrap.start() if col == decision else None)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.use_button = QPushButton("Use this model", self)
        self.use_button.setToolTip("Make the selected model current again and predict every image with it")
        self.use_button.clicked.connect(lambda: self.use_requested.emit(self.selected_ids()[0]))
        self.compare_button = QPushButton("Compare on this image", self)
        self.compare_button.setToolTip("Predict the image shown with both selected models and score them against its "
                                       "label (nothing is saved)")
        self.compare_button.clicked.connect(lambda: self.compare_requested.emit(*self.selected_ids()))
        self.status_label = QLabel("Reading the models…", self)
        self.status_label.setWordWrap(True)
        self.status_label.setObjectName("modelsStatus")
        self.compare_table = QTableWidget(0, 2, self)
        self.compare_table.setObjectName("compareTable")
        self.compare_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compare_table.setTabKeyNavigation(False)
        self.compare_table.setVisible(False)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.compare_table)
        layout.addWidget(close)
        dialogs.fit_to_screen(self, 760, 420)
        self._focus_home = FocusHome(self, [self.table])  # Use this model greys out as its job starts
        self._busy = False
        self._update_buttons()

    def set_models(self, entries: list[Any]) -> None:
        """`entries`: ml.store.ModelEntry, oldest first (list_models); shown newest first."""
        self.entries = list(reversed(entries))
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            for col, text in enumerate(model_cells(entry)):
                item = QTableWidgetItem(text)
                if col <= COLUMNS.index("Trained"):  # the id where one is needed (`medseg models`, the log)
                    item.setToolTip(f"Model {entry.id}" + (f"\n{entry.reason}" if entry.reason else ""))
                elif COLUMNS[col] == "Decision":
                    item.setToolTip(text)  # whole, wherever the table scrolls
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self._fit()
        self.table.resizeRowsToContents()
        self.set_status(HINT if entries else "No trained models for this class yet.")

    def _fit(self) -> None:
        """Wide enough for every column on one line, within the screen: there the Decision sentence wraps instead."""
        decision = COLUMNS.index("Decision")
        columns = sum(self.table.sizeHintForColumn(c) if c == decision else self.table.columnWidth(c)
                      for c in range(len(COLUMNS)))
        margins = self.layout().contentsMargins()
        needed = columns + self.table.verticalScrollBar().sizeHint().width() + margins.left() + margins.right() + 8
        dialogs.fit_to_screen(self, max(self.width(), needed), self.height())

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.entries[r].id for r in rows if r < len(self.entries)]

    def select_ids(self, ids: list[str]) -> None:
        self.table.clearSelection()
        flag = self.table.selectionModel().SelectionFlag
        for row, entry in enumerate(self.entries):
            if entry.id in ids:
                self.table.selectionModel().select(self.table.model().index(row, 0), flag.Select | flag.Rows)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def show_scores(self, result: ModelScores, labels: dict[str, str]) -> None:
        """Metrics of each model on the image side by side (`labels`: model id → column title)."""
        ids = list(result.scores)
        self.compare_table.setColumnCount(len(ids))
        self.compare_table.setHorizontalHeaderLabels([labels.get(i, i) for i in ids])
        self.compare_table.setRowCount(len(COMPARED))
        self.compare_table.setVerticalHeaderLabels([title for _, title in COMPARED])
        for col, model_id in enumerate(ids):
            for row, (key, _) in enumerate(COMPARED):
                self.compare_table.setItem(row, col, QTableWidgetItem(fmt_score(result.scores[model_id].get(key))))
        self.compare_table.resizeColumnsToContents()
        self.compare_table.setVisible(True)
        if result.labelled:
            self.set_status(f"On {result.stem}: each model's prediction inside the class's region, scored against "
                            "the label.")
        else:
            self.set_status(f"{result.stem} has no label for this class, so there is nothing to score the two models "
                            "against; label it first.")

    def _update_buttons(self) -> None:
        chosen = [e for e in self.entries if e.id in self.selected_ids()]
        usable = all(e.present for e in chosen)
        self.use_button.setEnabled(not self._busy and len(chosen) == 1 and usable and not chosen[0].current)
        self.compare_button.setEnabled(not self._busy and len(chosen) == 2 and usable and self.stem is not None)


class ModelsFlow(QObject):
    """Opens the dialog for a project's class and runs its workers; `rolled_back(RollbackRun)` when a model was put
    back (or the current one, `predict_all`) and the images predicted with it, also when that was cancelled,
    `errored(message)` when it failed (the dialog says so too); `progress(PredictProgress)` meanwhile and
    `busy_changed(bool)` when such a job starts and ends."""

    rolled_back = Signal(object)
    errored = Signal(str)
    progress = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, workers: WorkerHost, parent: QWidget) -> None:
        super().__init__(parent)
        self._workers, self._parent = workers, parent
        self.dialog: ModelsDialog | None = None
        self._rollback: FunctionWorker | None = None
        self._job: tuple[Path, str, str, bool] = (Path(), "", "", True)  # root, class, model id, a switch asked
        self._where: tuple[Any, str, str | None, float] | None = None  # project, class, stem, threshold

    def busy(self) -> bool:
        """A rollback (and its predictions) is running: Retrain waits for it."""
        return self._rollback is not None

    def open(self, project: Any, cls: str | None, stem: str | None, threshold: float,
             refuse_use: Callable[[], str | None] = lambda: None) -> ModelsDialog | None:
        """Show the models of `cls` (window-modal, not blocking); `refuse_use()` says why a rollback may not start
        now (a training running, a read-only project) or None."""
        if project is None or not cls:
            return None
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self._where = (project, cls, stem, threshold)
        self._refuse_use = refuse_use
        dialog = self.dialog = ModelsDialog(cls, stem, self._parent)
        dialog.use_requested.connect(self.use)
        dialog.compare_requested.connect(self.compare)
        dialog.set_busy(self.busy())
        self._list()
        dialog.open()
        return dialog

    def _list(self) -> None:
        project, cls, _, _ = self._where
        self._workers.start(FunctionWorker(list_models, project.root, cls), on_done=self._on_listed,
                            on_error=self._say_error)

    @Slot(object)
    def _on_listed(self, entries: list) -> None:
        if self.dialog is not None:
            self.dialog.set_models(entries)

    @Slot(str)
    def _say(self, text: str) -> None:
        if self.dialog is not None:
            self.dialog.set_status(text)

    def _say_error(self, err: BaseException) -> None:
        self._say(error_message(err))

    @Slot(str)
    def use(self, model_id: str) -> FunctionWorker | None:
        reason = self._refuse_use()
        if reason or self._rollback is not None or self._where is None:
            self._say(reason or "Images are being predicted with a model; wait for it to finish.")
            return None
        entry = self._entry(model_id)
        if entry is not None and entry.kept is False and not entry.current and not dialogs.ask_yes_no(
                self.dialog, "Use a rejected model?", f"{self._name(model_id)[0].upper()}{self._name(model_id)[1:]} "
                f"was not kept when it was trained ({entry.decision}). Make it current anyway and predict every "
                "image with it?"):  # a verification trial put a worse, rejected model back with one click
            self._say("The current model stays.")
            return None
        project, cls, _, threshold = self._where
        self._say(f"Putting back {self._name(model_id)}…")
        return self._start(project.root, cls, model_id, threshold, switch=True)

    def predict_all(self, root: Path, cls: str, model_id: str, threshold: float) -> FunctionWorker | None:
        """Predict every image of `cls` with its current model `model_id` (the rollback job, whose rollback then
        changes nothing); cancelling the worker returned stops it. None while another such job runs."""
        return None if self._rollback is not None else self._start(root, cls, model_id, threshold, switch=False)

    def _start(self, root: Path, cls: str, model_id: str, threshold: float, *, switch: bool) -> FunctionWorker:
        worker = self._rollback = FunctionWorker(rollback_and_predict, root, cls, model_id, threshold)
        self._job = (root, cls, model_id, switch)
        if self.dialog is not None:
            self.dialog.set_busy(True)
        self.busy_changed.emit(True)
        self._workers.start(worker, on_progress=self._on_progress, on_done=self._on_rolled_back,
                            on_error=self._on_rollback_failed, on_cancelled=self._on_cancelled,
                            on_ended=self._rollback_done)
        return worker

    @Slot(object)
    def _on_progress(self, progress: object) -> None:
        if isinstance(progress, PredictProgress):
            self.progress.emit(progress)
            counted = f"{progress.done}/{progress.total}: {progress.stem}"
            name = self._name(self._job[2])
            self._say(f"{name[0].upper()}{name[1:]} is current again; predicting {counted}" if self._job[3]
                      else f"Predicting {counted}")

    @Slot(object)
    def _on_rolled_back(self, run: RollbackRun) -> None:
        self._say(rollback_text(run))
        self.rolled_back.emit(run)
        if self.dialog is not None and self._where is not None and self._where[0].root == run.project_root:
            self._list()

    def _on_cancelled(self) -> None:
        """The child did not stop in time and was ended (only Predict all images is cancelled: the current model
        stays); the window shows what is on disk."""
        root, cls, model_id, switch = self._job
        entry = self._entry(model_id)
        self._on_rolled_back(RollbackRun(root, cls, model_id, {}, predictions_complete=False, switched=switch,
                                         trained_at=entry.trained_at if entry is not None else ""))

    def _entry(self, model_id: str) -> Any:
        """The dialog's ml.model_list.ModelEntry of `model_id`, or None."""
        entries = self.dialog.entries if self.dialog is not None else []
        return next((e for e in entries if e.id == model_id), None)

    def _name(self, model_id: str) -> str:
        """'the model trained 2026-12-07 17:02' (core.model_names.model_name), as the Train panel names it."""
        entry = self._entry(model_id)
        return model_name(entry.trained_at if entry is not None else "", model_id)

    def _on_rollback_failed(self, err: BaseException) -> None:
        message = error_message(err)
        self._say(message)
        what = "The model was not put back" if self._job[3] else "Not every image was predicted"
        self.errored.emit(f"{what}: {message}")

    @Slot()
    def _rollback_done(self) -> None:
        self._rollback = None
        if self.dialog is not None:
            self.dialog.set_busy(False)
        self.busy_changed.emit(False)

    @Slot(str, str)
    def compare(self, first: str, second: str) -> FunctionWorker | None:
        if self._where is None or self._where[2] is None:
            return None
        project, cls, stem, threshold = self._where
        worker = FunctionWorker(compare_models, project.root, cls, stem, [first, second], threshold)
        self._say(f"Predicting {stem} with both models…")
        self._workers.start(worker, on_done=self._on_compared, on_error=self._say_error)
        return worker

    @Slot(object)
    def _on_compared(self, result: ModelScores) -> None:
        if self.dialog is not None:
            titles = {e.id: f"{model_cells(e)[1]} · {e.id[-6:]}" for e in self.dialog.entries}
            self.dialog.show_scores(result, titles)
