"""The main window: a thin assembly of the image list, the canvas, the right-hand panels and the actions.

Long work runs in workers (scan, train + predict, metrics, export) on QThreads; the image being edited is an
`ImageSession`; what is remembered between sessions is a `WindowMemory`. The parts with logic live beside it:
`ClassView` (the current class in every panel, Edit → Classes…), `TrainingView` (Retrain and its results),
`ThresholdView` (threshold and re-scoring), `ProjectFiles` (open, recent, drag-and-drop), `ReadOnlyView` (the
banner, the editing controls, what another window saves) and the *_flow modules.
Messages go to the status bar and a non-blocking message box; `last_error` keeps the latest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from medseg_gui.config import AppConfig
from medseg_gui.ml.config import preset_names
from medseg_gui.qt import dialogs
from medseg_gui.qt.about import DeviceLabel, SystemInfo
from medseg_gui.qt.actions import (connect_help_actions, connect_view_actions, connect_window_actions, create_actions,
                                   install_menus)
from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.class_view import ClassView
from medseg_gui.qt.defaults import threshold_in_range
from medseg_gui.qt.export_flow import ExportFlow
from medseg_gui.qt.focus_home import FocusHome
from medseg_gui.qt.import_flow import ImportFlow
from medseg_gui.qt.keyboard import keyboard_buttons
from medseg_gui.qt.image_session import ImageSession
from medseg_gui.qt.label_shares import LabelShareFlow
from medseg_gui.qt.label_status_flow import LabelStatusFlow
from medseg_gui.qt.models_dialog import ModelsFlow
from medseg_gui.qt.negative_flow import NegativeFlow
from medseg_gui.qt.next_image import NextImageLine
from medseg_gui.qt.open_flow import OpenFlow, opened_text
from medseg_gui.qt.predict_flow import PredictAllFlow
from medseg_gui.qt.project_files import ProjectFiles
from medseg_gui.qt.panels.canvas_area import CanvasArea
from medseg_gui.qt.panels.column import scroll_column
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.qt.panels.list_count import ListCount
from medseg_gui.qt.panels.layers_panel import LayersPanel
from medseg_gui.qt.panels.tools_panel import ToolsPanel
from medseg_gui.qt.panels.train_panel import CANCELLED_TEXT, TrainPanel
from medseg_gui.qt.read_only import ReadOnlyBanner, ReadOnlyView, remembers_choices
from medseg_gui.qt.reviewed import reviewed_stems, toggle_reviewed
from medseg_gui.qt.region_flow import RegionFlow
from medseg_gui.qt.remove_flow import RemoveFlow
from medseg_gui.qt.rescued_flow import RescuedFlow
from medseg_gui.qt.save_guard import SaveGuard
from medseg_gui.qt.tab_order import set_tab_order
from medseg_gui.qt.theme import DEFAULT_THEME, THEME_KEY, ThemeMenu, app_icon
from medseg_gui.qt.message_bar import MessageBar, StatusField
from medseg_gui.qt.threshold_metrics import MetricsRefresher
from medseg_gui.qt.threshold_view import ThresholdView
from medseg_gui.qt.training_view import TrainingView, no_labels_text
from medseg_gui.qt.window_state import WindowMemory, fitted_size, split_window
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message
from medseg_gui.workers.label_saver import LabelSaver
from medseg_gui.workers.scan import ScanResult, ScanWorker
from medseg_gui.workers.training import TrainWorker

log = logging.getLogger(__name__)
__all__ = ["CANCELLED_TEXT", "MainWindow", "no_labels_text"]  # tests import the texts from here
QUIT_QUESTION = "Training is running — cancel it and quit?"


class MainWindow(QMainWindow):
    """`MainWindow(project, config)`; `project` may be None (open one later via File or `open_folder`)."""

    project_loaded = Signal()
    training_ended = Signal(str)  # "finished" | "errored" | "cancelled"
    export_ended = Signal(str)  # "finished" | "errored"
    metrics_updated = Signal(str)  # class whose metrics were recomputed at a new threshold
    closing = Signal()  # the window closes for good (asked, saved), before its work is stopped: app.main ends helpers

    def __init__(self, project: Any = None, config: AppConfig | None = None) -> None:
        super().__init__()
        self.config = config or AppConfig()
        self.project: Any = None
        self.last_error = ""
        self.left_running = 0  # background threads still running when the window closed (the app exits anyway)
        self.ask_on_close = True  # False: closing asks nothing (app.end_on_signals: SIGTERM, SIGHUP)
        self.workers = WorkerHost(self)
        self.saver = LabelSaver(parent=self)
        self.guard = SaveGuard(self.saver, self)
        self.memory = WindowMemory(self.config.settings_file)
        self.actions = create_actions(self)
        self.message_bar = MessageBar(self)  # messages wrap instead of being cut off beside the readout fields
        self.setStatusBar(self.message_bar)
        self._build_widgets()
        install_menus(self, self.actions, recent=self.files.recent_menu, theme=self.theme_menu)
        self.next_line = NextImageLine(self.statusBar().showMessage, self.statusBar().currentMessage)  # why N opened it
        self._connect()
        if not self.memory.restore_geometry(self):
            self.resize(fitted_size(self.screen().availableGeometry()))
        self._update_title()
        self.setWindowIcon(app_icon())
        if project is not None:
            self.set_project(project)
        else:
            self.read_only_view.apply()  # nothing to edit or train yet

    def _build_widgets(self) -> None:
        self.image_list = ImageListPanel(self)
        self.canvas = Canvas(self)
        self.canvas_area = CanvasArea(self.canvas, self)
        self.focus_home = FocusHome(self, [self.canvas, self.image_list.table])  # where a disabled control's keys go
        self.session = ImageSession(self.canvas_area, self.saver, self.guard.marks, self.workers,
                                    threshold_in_range(self.config.threshold), self)
        self.label_shares = LabelShareFlow(self.workers, self.image_list, self.session, self)
        self.tools = ToolsPanel(self)
        self.layers = LayersPanel(self)
        self.layers.observe(self.session.review)  # the threshold's one owner
        self.train_panel = TrainPanel(preset_names(), self.config.train, loss_curve=self.config.show_loss_curve)
        panels = {"tools": self.tools, "canvas": self.canvas, "session": self.session, "image_list": self.image_list,
                  "train_panel": self.train_panel, "layers": self.layers}
        self.classes = ClassView(lambda: self.project, panels, self.saver, self.label_shares, self._remember, self)
        self.side_scroll = scroll_column([self.tools, self.train_panel, self.layers], self)  # Retrain high up
        set_tab_order(self)  # the screen's order, not the order the widgets were made in
        self.opener = OpenFlow(self.workers, self, self._leave_shown, lambda: (self.project, self.image_list.errors()))
        self.files = ProjectFiles(self, self.opener, self.workers, self.memory, lambda: self.project)
        self.exporter = ExportFlow(self.workers, self, folders=self.files.recent)
        self.importer = ImportFlow(self.workers, self, folders=self.files.recent)
        self.metrics_refresher = MetricsRefresher(self.workers, parent=self)
        self.remover = RemoveFlow(self.workers, self, lambda: self.project, self.image_list, self._reshow,
                                  self.metrics_refresher, self.canvas.leave_image)
        self.regions = RegionFlow(self)
        self.models = ModelsFlow(self.workers, self)
        parts = {"workers": self.workers, "guard": self.guard, "saver": self.saver, "models": self.models,
                 "classes": self.classes, "actions": self.actions}
        self.training = TrainingView(lambda: self.project, panels, parts, self.config.train, self._remember, self)
        self.negatives = NegativeFlow(self.session, self.saver, self)  # X: "no <class> here"
        self.label_status = LabelStatusFlow(self.session, self)  # K / Shift+K: sparse or complete; doubts
        self.threshold = ThresholdView(lambda: self.project, panels, self.metrics_refresher, self.saver,
                                       lambda: not (self.train_worker or self.models.busy()), self._remember, self)
        self.splitter = splitter = split_window(self, self.image_list, self.canvas_area, self.side_scroll)
        self._layout = {"splitter": splitter, "image_columns": self.image_list.table.horizontalHeader()}  # remembered
        self.memory.restore_layout(self._layout)
        self.image_list.table.fit_columns()  # the column modes are this version's, whichever version saved the layout
        self.banner = ReadOnlyBanner(self)
        self.read_only_view = ReadOnlyView(self.banner, lambda: self.project, panels, self.actions, self.opener,
                                           self.classes.show_saved, self)
        self.predictions = PredictAllFlow(lambda: self.project, panels, parts | {  # Train → Predict all images
            "training": self.training, "read_only": self.read_only_view}, self)
        self.rescued = RescuedFlow(self.workers, self.opener, self.guard.all_saved, self._reshow, self)  # at open
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
        # the pixel readout in a field of its own: as the status message it replaced every notice at the next mouse
        # move (new-user trial: "a click alone paints nothing", a new label's meaning, came and went unread)
        self.pixel_label = StatusField(self)
        self.pixel_label.setContentsMargins(12, 0, 0, 0)  # apart from the device line ("…bfloat16  x 263" ran on)
        self.statusBar().addPermanentWidget(ListCount(self.image_list, self))  # '254/300 labelled'
        self.statusBar().addPermanentWidget(self.pixel_label)
        self.theme_menu = ThemeMenu(self.memory.value(THEME_KEY, DEFAULT_THEME), self)  # app.py applied it
        self.theme_menu.chosen.connect(lambda theme: self.memory.set_value(THEME_KEY, theme))
        keyboard_buttons(self.image_list, self.side_scroll)  # Space / Return press them; a click leaves the keys

    def _connect(self) -> None:
        a, c, s = self.actions, self.canvas, self.session
        self.image_list.stem_selected.connect(self.show_image)
        s.status.connect(self.next_line.session_line)
        c.shape_closed.connect(self.next_line.on_leaving)
        c.stroke_finished.connect(self.next_line.edited)
        s.problem.connect(lambda text, dialog: self.show_error(text, dialog=dialog))
        s.unreadable.connect(self.image_list.set_error)
        s.label_presence.connect(self.classes.on_label_presence)
        s.annotated_share.connect(self.image_list.set_annotated)
        c.cursor_info.connect(self.pixel_label.setText)
        c.notice.connect(lambda text: self.statusBar().showMessage(text, 10000))
        c.set_confirm(lambda question: dialogs.ask_yes_no(self, "Fill", question))
        self.tools.accept_prediction_requested.connect(lambda: self.session.accepting.accept(
            self.current_class(), self.image_list.labelled_column.split_of(self.session.stem) == "val"))
        self.session.accepting.confirm = lambda question: dialogs.ask_yes_no(self, "Accept prediction", question)
        self.threshold.metrics_updated.connect(self.metrics_updated)
        self.workers.errored.connect(lambda err: self.show_error(error_message(err)))  # a job without on_error
        for part in (self.exporter, self.importer, self.training, self.classes, self.files,  # stay a while
                     self.read_only_view, self.predictions, self.rescued, self.remover):
            part.status.connect(lambda text: self.statusBar().showMessage(text, 15000))
        for part in (self.opener, self.exporter, self.importer, self.training, self.classes, self.files,
                     self.regions, self.models, self.predictions, self.rescued, self.remover):
            part.errored.connect(self.show_error)
        for said in (self.rescued.restored, self.remover.said):  # beside the line of the image shown next
            said.connect(lambda text: self.next_line.beside_image(text, self.image_list.current_stem()))
        self.opener.status.connect(self.statusBar().showMessage)
        self.read_only_view.changed.connect(self._update_title)
        self.opener.opened.connect(self._on_opened)
        self.exporter.ended.connect(self.export_ended)
        self.importer.finished.connect(self.threshold.rescore_imported)
        for who, flow in (("import", self.importer), ("restore", self.rescued),  # a stroke's autosave would undo them
                          ("remove", self.remover)):
            flow.editing_paused.connect(lambda why, who=who: self.read_only_view.pause(why, who))
        self.device_label.follow(self.train_panel.running_changed, self.training.keras_rows, self.train_panel.decided)
        self.training.ended.connect(self.training_ended)
        self.guard.modified.connect(self.setWindowModified)  # a label or an image mark not on disk
        self.guard.problem.connect(lambda text, dialog: self.show_error(text, dialog=dialog))
        self.guard.later = self.canvas.input.pause.after  # its dialogs wait for a pause in the drawing
        self.guard.recovered.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.guard.unsaved_changed.connect(self.classes.show_unsaved)
        self.classes.classes_changed.connect(self._reshow)
        connect_window_actions(a, self)  # File, Edit and Train menu items
        self.regions.changed.connect(self.classes.on_region_changed)
        connect_view_actions(a, c, self.tools, self.layers, self.image_list, self.canvas_area.legend)
        a.next_to_label.triggered.connect(lambda: self.next_line.open_next(self.image_list, self.current_class()))
        self.image_list.next_to_label_requested.connect(a.next_to_label.trigger)
        self.image_list.labels_changed.connect(self.train_panel.show_labels)  # "too few labels" notice
        self.negatives.changed.connect(lambda _cls: self.classes.show_image_marks())
        self.label_status.doubt_changed.connect(self.image_list.labelled_column.set_doubt)
        self.label_shares.doubts_read.connect(self.label_status.set_doubts)
        connect_help_actions(a, self, self.system)

    # -- project and images --------------------------------------------------------------------------------------
    def set_project(self, project: Any, errors: dict[str, str] | None = None, suggested: str | None = None) -> None:
        """Show `project`; images in `errors` (stem → message) are listed as unreadable and cannot be edited; the
        class shown first is the one remembered, else `suggested` (ScanResult.suggested_class), else ClassView's."""
        self.threshold.flush()  # a threshold change of the previous project not remembered yet
        if self.train_worker is None and (self.project is None or self.project.root != project.root):
            self.train_panel.clear_run()  # the result and curve shown belong to the previous project
        if self.project is not None and project is not self.project:
            self._remember(project)  # the project shown until now: reopened later on its image, brush and choices
        self.saver.set_project(project)
        self.project = project
        self.session.set_project(project)
        remembered = self.memory.project(project.root)
        self.train_panel.set_minutes(remembered.get("minutes", self.train_panel.minutes()))
        self.session.set_threshold(threshold_in_range(remembered.get("threshold", self.session.threshold)))
        self.classes.show_project(remembered.get("class") or suggested)
        if "brush" in remembered:
            self.canvas.set_brush_size(remembered["brush"])
        with self.image_list.batch():  # one re-sort and column fit of the new list, not one per step of its fill
            self.image_list.set_images(project.stems, project.class_names, errors)
            self.image_list.set_reviewed(reviewed_stems(project))
            self.classes.show_saved()
        self.threshold.check_scores(self.current_class())  # labels saved as the window closed, or by another program
        self.read_only_view.apply()
        readable = [s for s in project.stems if s not in (errors or {})]
        if readable:  # the image last shown in this project, else the first
            self.image_list.select(remembered["image"] if remembered.get("image") in readable else readable[0])
        if errors:
            self.show_error(f"{len(errors)} of {len(project.stems)} images cannot be read; they are marked "
                            "“⚠ image unreadable” in the list.", dialog=False)
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

    @Slot(object)
    def _on_opened(self, result: ScanResult) -> None:
        self.set_project(result.project, result.errors, result.suggested_class)
        text, beside = opened_text(result)
        if beside:
            self.next_line.beside_image(text, self.image_list.current_stem())
        elif text:
            self.statusBar().showMessage(text, 8000)

    def toggle_reviewed(self) -> None:
        """Flip the current image's "reviewed" mark (R) and show it in the list."""
        text, error = toggle_reviewed(self.guard.marks, self.project, self.image_list.current_stem())
        if error:
            self.show_error(text)
        elif text:
            self.image_list.set_reviewed(reviewed_stems(self.project))
            self.statusBar().showMessage(text, 5000)

    def current_class(self) -> str | None:
        return self.tools.current_class()

    def show_image(self, stem: str) -> None:
        """Show `stem` on the canvas; an unreadable image shows its reason in the canvas' place."""
        if self.project is not None:
            self.session.show(stem, self.image_list.error(stem), self.current_class())

    @Slot(str)
    def _reshow(self, _class: str = "") -> None:
        """Show the project again after its classes changed (unreadable images stay marked), on the same image."""
        self._remember()
        self.set_project(self.project, self.image_list.errors())

    def classes_locked(self) -> str | None:
        """Why the classes may not change now (None: they may)."""
        if self.read_only is not None:
            return f"this project is open read-only ({self.read_only})."
        if self.train_worker is not None or self.models.busy():
            return "a training (or a prediction with a model) is running; try again when it has finished."
        if self.session.paused is not None:  # an import writes labels of the classes it was given
            return f"{self.session.paused}; try again when they are in."
        return self.guard.why_unsaved()

    def _remember(self, reopened: Any = None) -> None:
        if remembers_choices(self.project, reopened):  # not a read-only window's (qt.read_only)
            self.memory.remember_project(self.project.root, **{
                "class": self.current_class(), "minutes": self.train_panel.minutes(),
                "threshold": self.session.threshold, "image": self.session.stem, "brush": self.canvas.brush_size()})

    # -- training (qt.training_view) -----------------------------------------------------------------------------
    @property
    def train_worker(self) -> TrainWorker | None:
        return self.training.worker

    @train_worker.setter
    def train_worker(self, worker: TrainWorker | None) -> None:
        self.training.worker = worker

    def retrain(self) -> TrainWorker | None:
        return self.training.retrain()

    def show_models(self) -> Any:
        return self.training.show_models()

    # -- export, messages, close ---------------------------------------------------------------------------------
    def export_masks(self, source: str = "auto") -> FunctionWorker | None:
        """Ask for a folder, then write <folder>/<class>/<stem>.png (0/255, original size) for every class: the
        label, else the prediction ("auto"), or the labels alone ("labels")."""
        if self.project is None:
            return None
        return self.exporter.start(self.project, self.session.threshold, self.guard.all_saved, source=source)

    def import_masks(self) -> FunctionWorker | None:
        """Ask for a folder of masks and whether they are a class's labels or regions of interest; import them."""
        if self.project is None:
            self.show_error("Open a project first (File → Open folder of images): masks are matched to its images.")
            return None
        return self.importer.start(self.project, self.current_class(), self.guard.all_saved, self.files.open_folder)

    def export_other(self, fmt: str | None = None) -> FunctionWorker | None:
        """Ask for a format (nnU-Net dataset, COCO JSON, HDF5) unless `fmt` ("outlines": the photos with outlines)
        is given, and a folder, then export every class."""
        if self.project is None:
            return None
        return self.exporter.start_other(self.project, self.session.threshold, self.guard.all_saved, fmt)

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

    def _leave_shown(self) -> bool:
        """Before another project opens: a polygon or stroke under way is saved like any edit (Canvas.leave_image),
        then every label is on disk or discarded by the user; False: stay."""
        self.canvas.leave_image()
        return self.guard.confirm_leave()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Ask before cancelling a running training; then stop the workers briefly and leave any that cannot stop
        yet (a Keras import or a first batch) to the exiting process — every write is atomic."""
        # "No" never quits, also when the training ended while the question was open ("Yes" then cancels nothing);
        # a signal (app.end_on_signals) may clear ask_on_close while a question is open: the close goes on
        if self.ask_on_close and self.train_worker is not None and not dialogs.ask_yes_no(
                self, "Quit medseg_gui", QUIT_QUESTION) and self.ask_on_close:
            event.ignore()
            return
        self.canvas.leave_image()  # a polygon being drawn is saved like a stroke (a trial's Ctrl+Q lost one)
        if self.ask_on_close and not self.guard.confirm_leave() and self.ask_on_close:  # waits for queued saves
            event.ignore()  # without freezing; asks about failed ones
            return
        self.guard.begin_close()  # unasked, failed saves are tried once more, no longer said to be retried
        self.closing.emit()
        self.train_panel.cancel()
        self.train_worker = None  # cancelled: not asked about again
        self._remember()
        self.read_only_view.placement.save_geometry(self.memory)  # not a second window's (qt.second_window)
        self.memory.save_layout(self._layout)
        if not self.workers.shutdown(int(self.config.close_timeout_s * 1000)):
            self.left_running = self.workers.abandon()
            log.warning("%d background task(s) still running at close; not waiting for them", self.left_running)
        self.guard.close(self.config.close_timeout_s, None if self.project is None else self.project.root)
        self.opener.release()
        super().closeEvent(event)
