"""The image being edited: loads one image with its labels, predictions and ROI into the canvas (or shows, in the
canvas' place, why it cannot be read), queues a label save after every edit, re-thresholds the predictions and
accepts a prediction as the label. It reports through signals; the window decides where messages go.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from medseg_gui.core.errors import ImageReadError
from medseg_gui.qt.panels.canvas_area import CanvasArea
from medseg_gui.workers.label_saver import LabelSaver
from medseg_gui.workers.loading import load_view

PLACEHOLDER = np.full((64, 64, 3), 40, np.uint8)


class ImageSession(QObject):
    """`show(stem, …)` makes `stem` the image on the canvas; `stem` is None while nothing is editable."""

    status = Signal(str)  # a short note for the status bar
    problem = Signal(str, bool)  # (message, also show a dialog)
    unreadable = Signal(str, str)  # (stem, reason) for an image found unreadable while loading it
    label_presence = Signal(str, str, bool)  # (class, stem, has a label now) after an edit

    def __init__(self, area: CanvasArea, saver: LabelSaver, threshold: float = 0.5,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.area, self.canvas, self.saver = area, area.canvas, saver
        self.threshold = threshold
        self.project: Any = None
        self.stem: str | None = None
        self._probs: dict[str, np.ndarray] = {}  # class → probability map of this image
        self.canvas.stroke_finished.connect(self._on_stroke_finished)

    def set_project(self, project: Any) -> None:
        self.project, self.stem, self._probs = project, None, {}

    def show(self, stem: str, error: str | None, cls: str | None) -> None:
        """Load `stem` (flushing pending saves first); `error` is a reason already known to make it unreadable."""
        self.saver.flush()
        self.stem, self._probs, view = None, {}, None
        try:
            view = None if error else load_view(self.project, stem)
        except ImageReadError as err:
            error = str(err)
            self.unreadable.emit(stem, error)
        if view is None:
            self._show_unreadable(stem, error or f"{stem} cannot be read.")
            return
        self.area.show_canvas()
        self.canvas.setEnabled(True)
        self.canvas.set_image(stem, view.rgb)
        self.canvas.set_labels(view.labels, self._colors())
        self.canvas.set_current_class(cls or self.project.class_names[0])
        for name, prob in view.predictions.items():
            self._set_prediction(name, prob)
        self.canvas.set_roi(view.roi)
        self.stem = stem
        if view.warnings:
            self.problem.emit("\n".join(view.warnings), True)
        else:
            self.status.emit(f"{stem} — {view.shape[1]}×{view.shape[0]}")

    def reload_prediction(self, cls: str) -> None:
        """Show the freshly saved prediction of `cls` (after a Retrain)."""
        if self.stem is not None:
            view = load_view(self.project, self.stem)
            self._set_prediction(cls, view.predictions.get(cls))
            self.canvas.set_roi(view.roi)

    def set_threshold(self, threshold: float) -> None:
        self.threshold = threshold
        for name, prob in list(self._probs.items()):
            self.canvas.set_prediction(name, prob, threshold)

    def accept_prediction(self, cls: str) -> None:
        """Replace the label of `cls` by its thresholded prediction (one undo step) and say so."""
        if self.stem is None:
            return
        if cls not in self._probs:
            self.problem.emit(f"There is no {cls} prediction for {self.stem} yet — press Retrain first.", False)
            return
        self.canvas.accept_prediction()
        self.status.emit(f"Prediction accepted as the {cls} label — Ctrl+Z to undo")

    def _set_prediction(self, cls: str, prob: np.ndarray | None) -> None:
        self._probs.pop(cls, None)
        if prob is not None:
            self._probs[cls] = prob
        self.canvas.set_prediction(cls, prob, self.threshold)

    def _show_unreadable(self, stem: str, reason: str) -> None:
        self.canvas.set_image(f"unreadable:{stem}", PLACEHOLDER)
        self.canvas.set_labels({cls: None for cls in self.project.class_names}, self._colors())
        self.canvas.setEnabled(False)
        self.area.show_message(f"{stem} cannot be shown.\n\n{reason}")
        self.problem.emit(reason, False)

    def _colors(self) -> dict[str, tuple[int, int, int]]:
        return {spec.name: tuple(spec.color) for spec in self.project.classes}

    @Slot(str)
    def _on_stroke_finished(self, cls: str) -> None:
        """Queue the class's mask for saving (strokes, fills, undo/redo); a class that had no label file and is
        empty again (even after switching images and back) is not a 'background' label: its file is removed."""
        if self.stem is None:
            return
        labelled = self.canvas.is_labelled(cls)
        self.saver.save(cls, self.stem, self.canvas.label(cls) if labelled else None)
        self.label_presence.emit(cls, self.stem, labelled)
