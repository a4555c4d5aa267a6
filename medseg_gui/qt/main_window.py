"""The main window: a thin assembly of the image list, the canvas, the right-hand panels and the actions.

Long work runs in workers (scan, train + predict, metrics, export) on QThreads; the image being edited is an
`ImageSession`; what is remembered between sessions is a `WindowMemory`. Messages go to the status bar and a
non-blocking message box; `last_error` keeps the latest.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QVBoxLayout, QWidget

from medseg_gui.config import AppConfig
from medseg_gui.core.errors import MedsegError
from medseg_gui.ml.config import preset_names
from medseg_gui.qt import dialogs
from medseg_gui.qt.about import DeviceLabel, SystemInfo
from medseg_gui.qt.actions import connect_help_actions, connect_view_actions, create_actions, install_menus
from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.class_dialog import ClassesDialog
from medseg_gui.qt.export_flow import ExportFlow
from medseg_gui.qt.image_session import ImageSession
from medseg_gui.qt.label_shares import LabelShareFlow
from medseg_gui.qt.models_dialog import ModelsFlow
from medseg_gui.qt.negative_flow import NegativeFlow, negatives
from medseg_gui.qt.next_image import open_next_to_label
from medseg_gui.qt.open_flow import OpenFlow
from medseg_gui.qt.project_files import ProjectFiles
from medseg_gui.qt.panels.canvas_area import CanvasArea
from medseg_gui.qt.panels.column import scroll_column
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.qt.panels.layers_panel import LayersPanel
from medseg_gui.qt.panels.tools_panel import ToolsPanel
from medseg_gui.qt.panels.train_panel import CANCELLED_TEXT, TrainPanel
from medseg_gui.qt.panels.train_text import model_split
from medseg_gui.qt.read_only import ReadOnlyBanner, set_editing_enabled
from medseg_gui.qt.region_flow import RegionFlow, region_text
from medseg_gui.qt.save_guard import SaveGuard
from medseg_gui.qt.theme import DEFAULT_THEME, THEME_KEY, ThemeMenu, app_icon
from medseg_gui.qt.threshold_metrics import MetricsRefresher
from medseg_gui.qt.window_state import WindowMemory, fitted_size
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message
from medseg_gui.workers.label_saver import LabelSaver
from medseg_gui.workers.loading import current_model_info
from medseg_gui.workers.scan import ScanResult, ScanWorker
from medseg_gui.workers.training import KerasWarmUp, PredictRun, TrainRun, TrainWorker

log = logging.getLogger(__name__)

__all__ = ["CANCELLED_TEXT", "MainWindow", "no_labels_text"]

QUIT_QUESTION = "Training is running — cancel it and quit?"


def no_labels_text(cls: str) -> str:
    return f"No labelled images for class '{cls}' yet — draw a label on at least one image, then press Retrain."


class MainWindow(QMainWindow):
    """`MainWindow(project, config)`; `project` may be None (open one later via File or `open_folder`)."""

    project_loaded = Signal()
    training_ended = Signal(str)  # "finished" | "errored" | "cancelled"
    export_ended = Signal(str)  # "finished" | "errored"
    metrics_updated = Signal(str)  # class whose metrics were recomputed at a new threshold

    def __init__(self, project: Any = None, config: AppConfig | None = None) -> None:
        super().__init__()
        self.config = config or AppConfig()
        self.project: Any = None
        self.last_error = ""
        self.train_worker: TrainWorker | None = None
        self.left_running = 0  # background threads still running when the window closed (the app exits anyway)
        self._warmed = False
        self.workers = WorkerHost(self)
        self.saver = LabelSaver(parent=self)
        self.guard = SaveGuard(self.saver, self)
        self.memory = WindowMemory(self.config.settings_file)
        self._build_widgets()
        self.actions = create_actions(self)
        install_menus(self, self.actions, recent=self.files.recent_menu, theme=self.theme_menu)
        self._connect()
        if not self.memory.restore_geometry(self):
            self.resize(fitted_size(self.screen().availableGeometry()))
        self._update_title()
        self.setWindowIcon(app_icon())
        if project is not None:
            self.set_project(project)

    def _build_widgets(self) -> None:
        self.image_list = ImageListPanel(self)
        self.canvas = Canvas(self)
        self.canvas_area = CanvasArea(self.canvas, self)
        self.session = ImageSession(self.canvas_area, self.saver, self.workers, self.config.threshold, self)
        self.label_shares = LabelShareFlow(self.workers, self.image_list, self.session, self)
        self.tools = ToolsPanel(self)
        self.layers = LayersPanel(self, threshold=self.config.threshold)
        self.train_panel = TrainPanel(preset_names(), self.config.train, loss_curve=self.config.show_loss_curve)
        self.side_scroll = scroll_column([self.tools, self.train_panel, self.layers], self)  # Retrain high up
        self.exporter = ExportFlow(self.workers, self)
        self.opener = OpenFlow(self.workers, self, before_open=self.guard.confirm_leave)
        self.files = ProjectFiles(self, self.opener, self.workers, self.memory, lambda: self.project)
        self.metrics_refresher = MetricsRefresher(self.workers, parent=self)
        self._remember_later = QTimer(self, singleShot=True, interval=1000)  # the threshold, once it has settled
        self._remember_later.timeout.connect(self._remember)
        self.regions = RegionFlow(self)
        self.models = ModelsFlow(self.workers, self)
        self.negatives = NegativeFlow(self.session, self.saver, self)  # X: "no <class> here"
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for widget, stretch in ((self.image_list, 0), (self.canvas_area, 1), (self.side_scroll, 0)):
            splitter.addWidget(widget)
            splitter.setStretchFactor(splitter.count() - 1, stretch)
        splitter.setSizes([320, 800, 340])
        self.memory.restore_layout(self._layout_widgets())
        self.banner = ReadOnlyBanner(self)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.system = SystemInfo(self.workers, self.config.train.precision, self)
        self.device_label = DeviceLabel(self.system, self)  # "Training on <device> · <precision>" while training
        self.statusBar().addPermanentWidget(self.device_label)
        self.theme_menu = ThemeMenu(self.memory.value(THEME_KEY, DEFAULT_THEME), self)  # app.py applied it
        self.theme_menu.chosen.connect(lambda theme: self.memory.set_value(THEME_KEY, theme))

    def _connect(self) -> None:
        a, c, s = self.actions, self.canvas, self.session
        self.image_list.stem_selected.connect(self.show_image)
        s.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        s.problem.connect(lambda text, dialog: self.show_error(text, dialog=dialog))
        s.unreadable.connect(self.image_list.set_error)
        s.label_presence.connect(self._on_label_presence)
        s.annotated_share.connect(self.image_list.set_annotated)
        c.cursor_info.connect(self.statusBar().showMessage)
        c.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        c.set_confirm(lambda question: dialogs.ask_yes_no(self, "Fill", question))
        self.tools.class_changed.connect(self.set_current_class)
        self.tools.accept_prediction_requested.connect(self.accept_prediction)
        self.layers.threshold_changed.connect(self.set_threshold)
        self.layers.threshold_spin.editingFinished.connect(self._threshold_entered)
        self.metrics_refresher.updated.connect(self._on_metrics)
        self.workers.errored.connect(lambda err: self.show_error(error_message(err)))  # a job without on_error
        self.exporter.status.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.opener.status.connect(self.statusBar().showMessage)
        self.opener.errored.connect(self.show_error)
        self.opener.read_only_changed.connect(self._apply_read_only)
        self.opener.opened.connect(self._on_opened)
        self.exporter.errored.connect(self.show_error)
        self.exporter.ended.connect(self.export_ended)
        self.train_panel.retrain_requested.connect(self.retrain)
        self.train_panel.running_changed.connect(self._on_training_running)
        self.train_panel.running_changed.connect(self.device_label.set_training)
        self.train_panel.ended.connect(self._train_ended)
        self.saver.pending_changed.connect(self.setWindowModified)
        self.saver.saved.connect(self._label_saved)
        self.guard.problem.connect(lambda text, dialog: self.show_error(text, dialog=dialog))
        self.guard.unsaved_changed.connect(self._show_unsaved)
        self.files.status.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.files.errored.connect(self.show_error)
        a.open_folder.triggered.connect(self.files.ask_open)
        a.open_demo.triggered.connect(lambda: self.open_demo("vessel"))
        a.open_lesion_demo.triggered.connect(lambda: self.open_demo("lesion"))
        a.export_masks.triggered.connect(self.export_masks)
        a.export_other.triggered.connect(self.export_other)
        a.quit.triggered.connect(self.close)
        a.retrain.triggered.connect(self.retrain)
        a.reviewed.triggered.connect(self.toggle_reviewed)
        a.edit_classes.triggered.connect(self.edit_classes)
        a.cancel.triggered.connect(self.train_panel.cancel)
        a.restrict_class.triggered.connect(lambda: self.regions.ask(self.project, self.current_class()))
        self.regions.changed.connect(self._on_region_changed)
        self.regions.errored.connect(self.show_error)
        a.models.triggered.connect(self.show_models)
        self.train_panel.models_requested.connect(self.show_models)
        self.models.rolled_back.connect(self._on_train_finished)  # the same refresh as after a Retrain
        self.models.errored.connect(self.show_error)
        connect_view_actions(a, c, self.tools, self.layers, self.image_list)
        a.next_to_label.triggered.connect(lambda: self.statusBar().showMessage(
            open_next_to_label(self.image_list, self.current_class()), 15000))
        self.image_list.next_to_label_requested.connect(a.next_to_label.trigger)
        self.image_list.labels_changed.connect(self.train_panel.show_labels)  # "too few labels" notice
        a.no_object.triggered.connect(lambda: self.statusBar().showMessage(
            self.negatives.toggle(self.current_class()), 10000))
        self.negatives.changed.connect(lambda _cls: self._show_negatives())
        connect_help_actions(a, self, self.system)

    # -- project and images --------------------------------------------------------------------------------------
    def set_project(self, project: Any, errors: dict[str, str] | None = None) -> None:
        """Show `project`; images in `errors` (stem → message) are listed as unreadable and cannot be edited."""
        if self._remember_later.isActive():  # a threshold change of the previous project not remembered yet
            self._remember_later.stop()
            self._remember()
        if self.train_worker is None and (self.project is None or self.project.root != project.root):
            self.train_panel.clear_run()  # the result and curve shown belong to the previous project
        self.saver.set_project(project)
        self.project = project
        self.session.set_project(project)
        remembered = self.memory.project(project.root)
        self.train_panel.set_minutes(remembered.get("minutes", self.train_panel.minutes()))
        self.layers.set_threshold(remembered.get("threshold", self.layers.threshold()))
        self.session.set_threshold(self.layers.threshold())
        self._show_class_list()
        labelled = [cls for cls in project.class_names if project.labelled_stems(cls)]
        if remembered.get("class") in project.class_names:
            self.tools.select_class(remembered["class"])
        elif labelled and self.current_class() not in labelled:
            self.tools.select_class(labelled[0])  # e.g. the demo opens on 'vessel', the class it has labels for
        self.image_list.set_images(project.stems, project.class_names, errors)
        self.image_list.set_reviewed(self._reviewed())
        for cls in project.class_names:
            self.image_list.set_metrics(cls, project.load_metrics(cls))
            self.image_list.set_uncertainty(cls, project.load_uncertainty(cls))
        self._show_class_state()
        self._apply_read_only()
        readable = [s for s in project.stems if s not in (errors or {})]
        if readable:
            self.image_list.select(readable[0])
        if errors:
            self.show_error(f"{len(errors)} of {len(project.stems)} images cannot be read; they are marked "
                            "“⚠ unreadable” in the list.", dialog=False)
        self.project_loaded.emit()

    def open_folder(self, folder: Path) -> ScanWorker | None:
        """Open a project or plain folder of images in the background; `project_loaded` fires when it is shown."""
        return self.opener.open_folder(folder)

    def open_demo(self, which: str = "vessel") -> ScanWorker | None:
        return self.opener.open_demo(which)

    @property
    def read_only(self) -> str | None:
        """Why this window must not change its project (None: it may)."""
        return self.project.read_only if self.project is not None else None

    def _apply_read_only(self) -> None:
        reason = self.read_only
        self.banner.show_reason(reason)
        self.session.set_read_only(reason)
        set_editing_enabled(reason is None, self.actions, self.tools, self.train_panel)
        self._update_title()

    @Slot(object)
    def _on_opened(self, result: ScanResult) -> None:
        self.set_project(result.project, result.errors)
        if not result.errors:
            self.statusBar().showMessage(f"Opened {result.project.root} — {len(result.project.stems)} images", 8000)

    def _reviewed(self) -> set[str]:
        return {e.stem for e in self.project.images if e.state.get("reviewed")} if self.project is not None else set()

    def toggle_reviewed(self) -> None:
        """Flip the current image's "reviewed" state (saved in project.json) and show it in the list."""
        stem = self.image_list.current_stem()
        if self.project is None or stem is None:
            return
        reviewed = stem not in self._reviewed()
        try:
            self.project.set_state(stem, "reviewed", reviewed)
        except MedsegError as err:
            self.show_error(f"{stem} was not marked reviewed: {err}")
            return
        self.image_list.set_reviewed(self._reviewed())
        self.statusBar().showMessage(f"{stem} marked {'reviewed' if reviewed else 'not reviewed'}", 5000)

    def current_class(self) -> str | None:
        return self.tools.current_class()

    def show_image(self, stem: str) -> None:
        """Show `stem` on the canvas; an unreadable image shows its reason in the canvas' place."""
        if self.project is not None:
            self.session.show(stem, self.image_list.error(stem), self.current_class())

    def set_current_class(self, cls: str) -> None:
        self.canvas.set_current_class(cls)
        self.session.show_region(cls)
        self._show_class_state()
        self._remember()

    def _show_class_state(self) -> None:
        """Labelled ticks, AUC/Dice columns and the current model of the current class."""
        cls = self.current_class()
        if self.project is not None and cls:
            self.image_list.set_current_class(cls)
            self.image_list.set_labelled(set(self.project.labelled_stems(cls)))
            self.label_shares.refresh(self.project, cls)  # "✓ 12 %" of sparse labels, read in the background
            self._show_unsaved()
            model = current_model_info(self.project, cls)
            self.train_panel.show_model(model)
            self.layers.show_suggestion(model)  # best-validation-Dice threshold beside the box
            self.image_list.set_split(*model_split(model))  # "· train" / "· val" beside the ticks
            self._show_negatives()
            self.train_panel.show_region(region_text(self.project.class_spec(cls).roi_class))

    def _show_negatives(self) -> None:
        if self.project is not None and self.current_class():
            self.image_list.set_negatives(negatives(self.project, self.current_class()))

    def _show_class_list(self) -> None:
        classes = self.project.classes
        self.tools.set_classes([(spec.name, tuple(spec.color)) for spec in classes],
                               {spec.name: spec.roi_class for spec in classes if spec.roi_class})

    @Slot(str, str)
    def _on_region_changed(self, cls: str, message: str) -> None:
        """A class was made two-stage (or not): the panels say so and the canvas outlines its region."""
        self._show_class_list()
        self._show_class_state()
        self.session.show_region(self.current_class())
        self.statusBar().showMessage(message, 10000)

    def edit_classes(self) -> ClassesDialog | None:
        """Edit → Classes…: add, rename, recolour or delete a class; the window shows each change at once."""
        if self.project is None:
            return None
        box = ClassesDialog(self.project, self._classes_locked, self)
        box.changed.connect(self._on_classes_changed)
        box.errored.connect(self.show_error)
        box.open()
        return box

    def _classes_locked(self) -> str | None:
        """Why the classes may not change now (None: they may)."""
        if self.read_only is not None:
            return f"this project is open read-only ({self.read_only})."
        if self.train_worker is not None or self.models.busy():
            return "a training (or a change of model) is running; try again when it has finished."
        return None if self.guard.all_saved() else "some labels are not saved yet; try again in a moment."

    @Slot(str, str)
    def _on_classes_changed(self, message: str, show: str) -> None:
        stem = self.image_list.current_stem()
        self.set_project(self.project, {s: e for s in self.project.stems if (e := self.image_list.error(s))})
        if show:
            self.tools.select_class(show)
        if stem is not None:
            self.image_list.select(stem)
        self.statusBar().showMessage(message, 10000)

    def _remember(self) -> None:
        if self.project is not None:
            self.memory.remember_project(self.project.root, **{
                "class": self.current_class(), "minutes": self.train_panel.minutes(),
                "threshold": self.layers.threshold()})

    # -- editing and review --------------------------------------------------------------------------------------
    @Slot()
    def _show_unsaved(self) -> None:
        """Mark the images whose current-class label is not on disk because saving it failed."""
        cls = self.current_class()
        self.image_list.set_unsaved({stem: why for (c, stem), why in self.saver.unsaved().items() if c == cls})

    @Slot(str, str, bool)
    def _on_label_presence(self, cls: str, stem: str, present: bool) -> None:
        if cls == self.current_class():
            self.image_list.set_present(stem, present)

    def accept_prediction(self) -> None:
        if self.current_class():
            self.session.accept_prediction(self.current_class())

    @Slot(float)
    def set_threshold(self, threshold: float) -> None:
        """Re-threshold the shown predictions now; recompute Dice/Se/Sp of the class once the value settles."""
        self.session.set_threshold(threshold)
        self._remember_later.start()  # not a settings write per spin step; closing remembers it too
        cls = self.current_class()
        if self.project is not None and cls and self.image_list.has_metrics(cls) and self.train_worker is None \
                and not self.models.busy():  # a rollback is writing metrics.json at the old threshold
            self.metrics_refresher.schedule(self.project.root, cls, self.layers.threshold())

    @Slot(str, str, bool)
    def _label_saved(self, cls: str, stem: str, _present: bool) -> None:
        """A changed label changes its image's scores: re-score the class once the edits settle (worker thread)."""
        if self.project is not None and self.train_worker is None and self.project.prediction_path(cls, stem).is_file():
            self.metrics_refresher.schedule(self.project.root, cls, self.layers.threshold())

    @Slot()
    def _threshold_entered(self) -> None:
        """Enter in the threshold box hands the keys back to the canvas, so B, G, E… pick tools again (new-user
        trial: a typed threshold kept the keyboard and the next stroke used the wrong tool)."""
        if self.layers.threshold_spin.hasFocus():
            self.canvas.setFocus()

    @Slot(object)
    def _on_metrics(self, run: PredictRun) -> None:
        self.image_list.set_metrics(run.cls, run.metrics)
        self.metrics_updated.emit(run.cls)

    # -- training ------------------------------------------------------------------------------------------------
    def retrain(self) -> TrainWorker | None:
        """Flush labels, check there is something to learn from, then train + predict the current class."""
        cls = self.current_class()
        if self.project is None or cls is None or self.train_worker is not None:
            return None
        if self.read_only is not None:
            self.show_error(f"This project is open read-only ({self.read_only}); Retrain would write into it.")
            return None
        if self.models.busy():
            self.show_error("An earlier model is being put back and its predictions made; Retrain when it is done.")
            return None
        if not self.guard.all_saved():
            unsaved = len(self.saver.unsaved())
            self.show_error(f"{unsaved} label(s) could not be saved, so Retrain would not see them; free some disk "
                            "space or fix the folder's permissions first." if unsaved else
                            "Labels are still being saved; try Retrain again in a moment.")
            return None
        if not self.project.labelled_stems(cls):
            self.show_error(no_labels_text(cls))
            return None
        self._remember()
        worker = TrainWorker(self.project.root, cls, self.train_panel.training_config(self.config.train),
                             threshold=self.layers.threshold())
        self.train_worker = worker
        self.statusBar().showMessage(f"Training '{cls}'…")
        self.train_panel.run(worker, self.workers, on_done=self._on_train_finished)  # results, then `ended`
        return worker

    @Slot(bool)
    def _on_training_running(self, running: bool) -> None:
        self.actions.retrain.setEnabled(not running)
        self.actions.cancel.setEnabled(running)
        self.layers.threshold_spin.setEnabled(not running)  # metrics.json is being written at the current one
        focus = QApplication.focusWidget()
        if focus is None or not focus.isEnabled() or focus.window() is not self:
            self.canvas.setFocus()  # keys 1–9, B, E… keep working after the Retrain button is disabled

    def show_models(self) -> Any:
        """Train → Models…: the current class's models; "Use this model" is refused while training runs."""
        busy = (lambda: f"This project is open read-only ({self.read_only})." if self.read_only is not None else
                "Training is running; use another model when it has finished." if self.train_worker else None)
        return self.models.open(self.project, self.current_class(), self.image_list.current_stem(),
                                self.layers.threshold(), refuse_use=busy)

    @Slot(object)
    def _on_train_finished(self, run: TrainRun) -> None:
        """A Retrain (TrainRun) or a rollback (RollbackRun, same fields) predicted every image: show the results."""
        if self.project is not None and self.project.root == run.project_root:  # else: another project is open
            self.image_list.set_metrics(run.cls, run.metrics or self.project.load_metrics(run.cls))
            self.image_list.set_uncertainty(run.cls, self.project.load_uncertainty(run.cls))  # a small json file
            self.session.reload_prediction(run.cls)
            roi_class = self.project.class_spec(run.cls).roi_class
            if roi_class is not None:  # two-stage: its prediction may have been made first, where it was missing
                self.session.reload_prediction(roi_class)
            self._show_class_state()

    @Slot(str, str)
    def _train_ended(self, how: str, message: str) -> None:
        self.train_worker = None
        if how == "errored":
            self.show_error(message)
        else:
            self.statusBar().showMessage(message, 15000)
        self.training_ended.emit(how)

    # -- export, messages, close ---------------------------------------------------------------------------------
    def export_masks(self) -> FunctionWorker | None:
        """Ask for a folder, then write <folder>/<class>/<stem>.png (0/255, original size) for every class."""
        if self.project is None:
            return None
        return self.exporter.start(self.project, self.layers.threshold(), self.guard.all_saved)

    def export_other(self) -> FunctionWorker | None:
        """Ask for a format (nnU-Net dataset, COCO JSON, HDF5) and a folder, then export every class."""
        if self.project is None:
            return None
        return self.exporter.start_other(self.project, self.layers.threshold(), self.guard.all_saved)

    @Slot(str)
    def show_error(self, message: str, *, dialog: bool = True) -> None:
        """Status bar + (optionally) a non-blocking message box; tests read `last_error`."""
        self.last_error = message
        log.warning("%s", message)
        self.statusBar().showMessage(message.splitlines()[0] if message else "", 20000)
        if dialog:
            dialogs.show_message(self, "medseg_gui", message, error=True)

    def _update_title(self) -> None:
        name = self.project.root.name if self.project is not None else "no project"
        self.setWindowTitle(f"{name}[*]{' (read-only)' if self.read_only else ''} — medseg_gui")

    def _layout_widgets(self) -> dict[str, Any]:
        return {"splitter": self.splitter, "image_columns": self.image_list.table.horizontalHeader()}

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self.config.warm_up_keras and not self._warmed:
            self._warmed = True
            self.workers.start(KerasWarmUp(), on_error=lambda _err: None)  # logged; a Retrain reports it itself

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Ask before cancelling a running training; then stop the workers briefly and leave any that cannot stop
        yet (a Keras import or a first batch) to the exiting process — every write is atomic."""
        if self.train_worker is not None and not dialogs.ask_yes_no(self, "Quit medseg_gui", QUIT_QUESTION):
            event.ignore()
            return
        if not self.guard.confirm_leave():  # waits for queued saves without freezing; asks about failed ones
            event.ignore()
            return
        self.train_panel.cancel()
        self.train_worker = None  # cancelled: not asked about again
        self._remember()
        self.memory.save_geometry(self)
        self.memory.save_layout(self._layout_widgets())
        if not self.workers.shutdown(int(self.config.close_timeout_s * 1000)):
            self.left_running = self.workers.abandon()
            log.warning("%d background task(s) still running at close; not waiting for them", self.left_running)
        if not self.saver.close(self.config.close_timeout_s):
            log.error("Some labels could not be saved before closing")
        self.opener.release()
        super().closeEvent(event)
