"""The main window: a thin assembly of the image list, the canvas, the right-hand panels and the actions.

Long work runs in workers (scan, train + predict, export) on QThreads; labels are saved by a background LabelSaver
when a stroke ends. Messages go to the status bar and a non-blocking message box; `last_error` keeps the latest.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget

from medseg_gui.config import AppConfig
from medseg_gui.core.errors import ImageReadError
from medseg_gui.ml.config import preset_names
from medseg_gui.qt import dialogs
from medseg_gui.qt.actions import connect_view_actions, create_actions, install_menus
from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.qt.panels.layers_panel import LayersPanel
from medseg_gui.qt.panels.tools_panel import ToolsPanel
from medseg_gui.qt.panels.train_panel import CANCELLED_TEXT, TrainPanel, decision_text
from medseg_gui.workers.base import WorkerHost
from medseg_gui.workers.export import ExportResult, ExportWorker
from medseg_gui.workers.label_saver import LabelSaver
from medseg_gui.workers.loading import load_view
from medseg_gui.workers.scan import ScanProgress, ScanResult, ScanWorker
from medseg_gui.workers.training import KerasWarmUp, TrainRun, TrainWorker

log = logging.getLogger(__name__)

__all__ = ["CANCELLED_TEXT", "MainWindow", "no_labels_text"]

PLACEHOLDER = np.full((64, 64, 3), 40, np.uint8)


def no_labels_text(cls: str) -> str:
    return f"No labelled images for class '{cls}' yet — draw a label on at least one image, then press Retrain."


class MainWindow(QMainWindow):
    """`MainWindow(project, config)`; `project` may be None (open one later via File or `open_folder`)."""

    project_loaded = Signal()
    training_ended = Signal(str)  # "finished" | "errored" | "cancelled"
    export_ended = Signal(str)  # "finished" | "errored"

    def __init__(self, project: Any = None, config: AppConfig | None = None) -> None:
        super().__init__()
        self.config = config or AppConfig()
        self.project: Any = None
        self.last_error = ""
        self.train_worker: TrainWorker | None = None
        self._stem: str | None = None  # image whose labels the canvas holds (None: nothing editable)
        self._on_disk: set[str] = set()  # classes with a label file when the current image was loaded
        self._warmed = False
        self.workers = WorkerHost(self)
        self.saver = LabelSaver(parent=self)
        self._build_widgets()
        self.actions = create_actions(self)
        install_menus(self, self.actions)
        self._connect()
        self.resize(1400, 860)
        self._update_title()
        if project is not None:
            self.set_project(project)

    def _build_widgets(self) -> None:
        self.image_list = ImageListPanel(self)
        self.canvas = Canvas(self)
        self.tools = ToolsPanel(self)
        self.layers = LayersPanel(self)
        self.train_panel = TrainPanel(preset_names(), self.config.train, loss_curve=self.config.show_loss_curve)
        side = QWidget(self)
        column = QVBoxLayout(side)
        for panel in (self.tools, self.layers, self.train_panel):
            column.addWidget(panel)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for widget, stretch in ((self.image_list, 0), (self.canvas, 1), (scroll, 0)):
            splitter.addWidget(widget)
            splitter.setStretchFactor(splitter.count() - 1, stretch)
        splitter.setSizes([300, 800, 340])
        self.setCentralWidget(splitter)
        for layer, (visible, opacity) in self.layers.states().items():
            self.canvas.set_layer_visible(layer, visible)
            self.canvas.set_layer_opacity(layer, opacity)
        self.canvas.set_brush_size(self.tools.brush_slider.value())

    def _connect(self) -> None:
        a, c = self.actions, self.canvas
        self.image_list.stem_selected.connect(self.show_image)
        c.stroke_finished.connect(self._on_stroke_finished)
        c.tool_changed.connect(self.tools.set_tool)
        c.brush_size_changed.connect(self.tools.set_brush_size)
        c.cursor_info.connect(self.statusBar().showMessage)
        self.tools.class_changed.connect(self.set_current_class)
        self.tools.tool_changed.connect(c.set_tool)
        self.tools.brush_size_changed.connect(c.set_brush_size)
        self.tools.wand_tolerance_changed.connect(c.set_wand_tolerance)
        self.tools.accept_prediction_requested.connect(self.accept_prediction)
        self.layers.visibility_changed.connect(c.set_layer_visible)
        self.layers.opacity_changed.connect(c.set_layer_opacity)
        self.train_panel.retrain_requested.connect(self.retrain)
        self.train_panel.running_changed.connect(self._on_training_running)
        self.saver.pending_changed.connect(self.setWindowModified)
        self.saver.errored.connect(self._on_worker_error)
        a.open_folder.triggered.connect(self._ask_open_folder)
        a.open_demo.triggered.connect(self.open_demo)
        a.export_masks.triggered.connect(self.export_masks)
        a.quit.triggered.connect(self.close)
        a.retrain.triggered.connect(self.retrain)
        a.cancel.triggered.connect(self.train_panel.cancel)
        a.shortcuts.triggered.connect(
            lambda: dialogs.show_message(self, "Keyboard shortcuts", dialogs.shortcuts_html()))
        a.about.triggered.connect(
            lambda: dialogs.show_message(self, "About medseg_gui", dialogs.about_html(dialogs.demo_credits())))
        connect_view_actions(a, c, self.tools, self.layers, self.image_list)

    # -- project and images --------------------------------------------------------------------------------------
    def set_project(self, project: Any, errors: dict[str, str] | None = None) -> None:
        """Show `project`; images in `errors` (stem → message) are listed in red and cannot be edited."""
        self.saver.set_project(project)
        self.project, self._stem = project, None
        self.tools.set_classes([(spec.name, tuple(spec.color)) for spec in project.classes])
        labelled = [cls for cls in project.class_names if project.labelled_stems(cls)]
        if labelled and self.current_class() not in labelled:
            self.tools.select_class(labelled[0])  # e.g. the demo opens on 'vessel', the class it has labels for
        self.image_list.set_images(project.stems, project.class_names, errors)
        for cls in project.class_names:
            self.image_list.set_metrics(cls, project.load_metrics(cls))
        self._refresh_labelled()
        self._update_title()
        readable = [s for s in project.stems if s not in (errors or {})]
        if readable:
            self.image_list.select(readable[0])
        if errors:
            self.show_error(f"{len(errors)} of {len(project.stems)} images cannot be read; they are marked red "
                            "in the list.", dialog=False)
        self.project_loaded.emit()

    def open_folder(self, folder: Path) -> ScanWorker:
        """Open a project or plain folder of images in the background; `project_loaded` fires when it is shown."""
        return self._scan(ScanWorker(Path(folder)))

    def open_demo(self) -> ScanWorker:
        from medseg_gui.core.demo import ensure_demo_copy

        return self._scan(ScanWorker(prepare=ensure_demo_copy))

    def _scan(self, worker: ScanWorker) -> ScanWorker:
        self.saver.flush()
        self.statusBar().showMessage("Opening images…")
        worker.progress.connect(self._on_scan_progress)
        worker.finished.connect(self._on_scan_finished)
        worker.errored.connect(self._on_worker_error)
        self.workers.start(worker)
        return worker

    @Slot(object)
    def _on_scan_progress(self, p: ScanProgress) -> None:
        self.statusBar().showMessage(f"Checking images {p.done}/{p.total}: {p.stem}")

    @Slot(object)
    def _on_scan_finished(self, result: ScanResult) -> None:
        self.set_project(result.project, result.errors)
        if not result.errors:
            self.statusBar().showMessage(f"Opened {result.project.root} — {len(result.project.stems)} images", 8000)

    def _ask_open_folder(self) -> None:
        folder = dialogs.choose_directory(self, "Open a folder of images or a project")
        if folder is not None:
            self.open_folder(folder)

    def current_class(self) -> str | None:
        return self.tools.current_class()

    def show_image(self, stem: str) -> None:
        """Show `stem` on the canvas; an unreadable image shows its message and leaves nothing editable."""
        if self.project is None:
            return
        self.saver.flush()
        self._stem = None
        error, view = self.image_list.error(stem), None
        try:
            view = None if error else load_view(self.project, stem)
        except ImageReadError as err:
            error = str(err)
            self.image_list.set_error(stem, error)
        if view is None:
            self.canvas.set_image(f"unreadable:{stem}", PLACEHOLDER)
            self.canvas.set_labels({cls: None for cls in self.project.class_names}, self._colors())
            self.canvas.setEnabled(False)
            self.show_error(error or f"{stem} cannot be read.", dialog=False)
            return
        self.canvas.setEnabled(True)
        self.canvas.set_image(stem, view.rgb)
        self.canvas.set_labels(view.labels, self._colors())
        self.canvas.set_current_class(self.current_class() or self.project.class_names[0])
        for cls, prob in view.predictions.items():
            self.canvas.set_prediction(cls, prob, self.config.threshold)
        self.canvas.set_roi(view.roi)
        self._stem, self._on_disk = stem, {c for c, m in view.labels.items() if m is not None}
        if view.warnings:
            self.show_error("\n".join(view.warnings))
        else:
            self.statusBar().showMessage(f"{stem} — {view.shape[1]}×{view.shape[0]}", 5000)

    def set_current_class(self, cls: str) -> None:
        self.canvas.set_current_class(cls)
        self._refresh_labelled()

    def _colors(self) -> dict[str, tuple[int, int, int]]:
        return {spec.name: tuple(spec.color) for spec in self.project.classes}

    def _refresh_labelled(self) -> None:
        cls = self.current_class()
        if self.project is not None and cls:
            self.image_list.set_labelled(set(self.project.labelled_stems(cls)))

    # -- editing -------------------------------------------------------------------------------------------------
    def _on_stroke_finished(self, cls: str) -> None:
        """Queue the class's mask for saving (strokes, fills, undo/redo); a class that had no label file and is
        empty again is not a 'background' label, so its file is removed instead."""
        if self._stem is None:
            return
        mask = self.canvas.label(cls)
        unlabelled = cls not in self._on_disk and not mask.any()
        self.saver.save(cls, self._stem, None if unlabelled else mask)
        if cls == self.current_class():
            labelled = set(self.project.labelled_stems(cls))
            self.image_list.set_labelled(labelled - {self._stem} if unlabelled else labelled | {self._stem})

    def accept_prediction(self) -> None:
        if self._stem is not None:
            self.canvas.accept_prediction()

    # -- training ------------------------------------------------------------------------------------------------
    def retrain(self) -> TrainWorker | None:
        """Flush labels, check there is something to learn from, then train + predict the current class."""
        cls = self.current_class()
        if self.project is None or cls is None or self.train_worker is not None:
            return None
        if not self.saver.flush():
            self.show_error("Labels are still being saved; try Retrain again in a moment.")
            return None
        if not self.project.labelled_stems(cls):
            self.show_error(no_labels_text(cls))
            return None
        worker = TrainWorker(self.project.root, cls, self.train_panel.training_config(self.config.train))
        self.train_panel.attach(worker)
        worker.finished.connect(self._on_train_finished)
        worker.errored.connect(self._on_train_errored)
        worker.cancelled.connect(self._on_train_cancelled)
        self.train_worker = worker
        self.statusBar().showMessage(f"Training '{cls}'…")
        self.workers.start(worker)
        return worker

    @Slot(bool)
    def _on_training_running(self, running: bool) -> None:
        self.actions.retrain.setEnabled(not running)
        self.actions.cancel.setEnabled(running)

    @Slot(object)
    def _on_train_finished(self, run: TrainRun) -> None:
        self.train_worker = None
        if self.project is None or self.project.root != run.project_root:
            self.training_ended.emit("finished")  # another project was opened meanwhile: nothing to show
            return
        self.image_list.set_metrics(run.cls, run.metrics or self.project.load_metrics(run.cls))
        self.statusBar().showMessage(decision_text(run.outcome.decision), 15000)
        if self._stem is not None:
            view = load_view(self.project, self._stem)
            self.canvas.set_prediction(run.cls, view.predictions.get(run.cls), self.config.threshold)
            self.canvas.set_roi(view.roi)
        self.training_ended.emit("finished")

    @Slot(str)
    def _on_train_errored(self, message: str) -> None:
        self.train_worker = None
        self.show_error(message)
        self.training_ended.emit("errored")

    @Slot()
    def _on_train_cancelled(self) -> None:
        self.train_worker = None
        self.statusBar().showMessage(CANCELLED_TEXT, 15000)
        self.training_ended.emit("cancelled")

    # -- export, messages, close ---------------------------------------------------------------------------------
    def export_masks(self) -> ExportWorker | None:
        """Ask for a folder, then write <folder>/<class>/<stem>.png (0/255, original size) for every class."""
        if self.project is None:
            return None
        out_dir = dialogs.choose_directory(self, "Export masks as PNG into…")
        if out_dir is None:
            return None
        self.saver.flush()
        worker = ExportWorker(self.project.root, self.project.class_names, out_dir)
        worker.finished.connect(self._on_export_finished)
        worker.errored.connect(self._on_export_errored)
        self.statusBar().showMessage(f"Exporting masks to {out_dir}…")
        self.workers.start(worker)
        return worker

    @Slot(object)
    def _on_export_finished(self, result: ExportResult) -> None:
        counts = ", ".join(f"{cls}: {len(files)}" for cls, files in result.files.items())
        self.statusBar().showMessage(f"Exported {result.count} masks to {result.out_dir} ({counts})", 15000)
        self.export_ended.emit("finished")

    @Slot(str)
    def _on_export_errored(self, message: str) -> None:
        self.show_error(message)
        self.export_ended.emit("errored")

    @Slot(str)
    def _on_worker_error(self, message: str) -> None:
        self.show_error(message)

    def show_error(self, message: str, *, dialog: bool = True) -> None:
        """Status bar + (optionally) a non-blocking message box; tests read `last_error`."""
        self.last_error = message
        log.warning("%s", message)
        self.statusBar().showMessage(message.splitlines()[0] if message else "", 20000)
        if dialog:
            dialogs.show_message(self, "medseg_gui", message, error=True)

    def _update_title(self) -> None:
        name = self.project.root.name if self.project is not None else "no project"
        self.setWindowTitle(f"{name}[*] — medseg_gui")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self.config.warm_up_keras and not self._warmed:
            self._warmed = True
            self.workers.start(KerasWarmUp())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.train_panel.cancel()
        if not self.workers.shutdown(int(self.config.close_timeout_s * 1000)):
            # a Keras import or a long batch cannot be interrupted; every write is atomic, so just let it end
            self.statusBar().showMessage("Waiting for the background work to stop…")
            self.workers.shutdown(60_000)
        if not self.saver.close(self.config.close_timeout_s):
            log.error("Some labels could not be saved before closing")
        super().closeEvent(event)
