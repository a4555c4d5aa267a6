"""Canvas widget: draws the layers back to front in ``paintEvent`` and repaints only dirty rectangles.

Layers (each with visibility and opacity): image, roi (darkens outside), others (other classes' labels), label
(current class; a sparse label also shows its annotated background in grey, its not-annotated pixels clear; in the
corrective mode the thresholded prediction shows faintly beneath it), fpfn (FP red / FN blue of the current class'
thresholded prediction vs. its label, inside the ROI and on annotated pixels only, once the class has a label),
contours (predicted outlines of every class with a prediction, a thin-structure class's only from 100 % zoom),
uncertainty (off at first: magenta where the current class' prediction is close to its threshold, ``core.uncertainty``).
Label modes (``LABEL_MODES``) decide what the first edit of an unlabelled class starts (``LabelDocument``).
Holding H hides every overlay. Undo history is kept per image key under one byte budget (see ``core.undo``).

The canvas is a view: the probability maps, the threshold and which classes are labelled live in ``review``
(``core.review.ReviewState``, observed through its events); label pixels and undo in ``doc`` (``LabelDocument``,
whose ``edited(cls, bbox)`` event repaints the changed rectangle); mouse and keys in ``input`` (``CanvasInput``);
what to tell the user once an edit has ended in ``EditNotes``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QResizeEvent, QTransform
from PySide6.QtWidgets import QWidget

from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.core.label_status import LABEL_MODES, NewLabelRule
from medseg_gui.core.masks import BACKGROUND as BG_CODE, OBJECT, UNANNOTATED, BBox, LabelCodes, ReadyLabel, Region
from medseg_gui.core.review import ReviewState
from medseg_gui.core.undo import DEFAULT_BUDGET_BYTES, UndoHistory
from medseg_gui.qt import defaults
from medseg_gui.qt.canvas import layers as L
from medseg_gui.qt.canvas.document import LabelDocument
from medseg_gui.qt.canvas.edit_notes import EditNotes
from medseg_gui.qt.canvas.input import CanvasInput
from medseg_gui.qt.canvas.layer_stack import LayerStack
from medseg_gui.qt.canvas.toolset import Tool, ToolSet
from medseg_gui.qt.canvas.view import View, actual_size_zoom, fitted_view, image_span, min_zoom

LAYERS = L.LAYERS
BACKGROUND = QColor(40, 40, 40)


class Canvas(QWidget):
    """Image annotation canvas; see the module docstring and docs/ARCHITECTURE.md for the public API."""

    stroke_finished = Signal(str)
    cursor_info = Signal(str)
    notice = Signal(str)  # a tool refused or undid something and says why (status bar)
    shape_closed = Signal(str)  # what became of a polygon left open on the image left behind (leave_image)
    history_changed = Signal()  # a step added, undone, redone or dropped; a polygon corner; another image; set_editable
    tool_changed = Signal(str)
    brush_size_changed = Signal(int)
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None, undo_budget_bytes: int = DEFAULT_BUDGET_BYTES,
                 review: ReviewState | None = None) -> None:
        super().__init__(parent)
        self.history = UndoHistory(undo_budget_bytes)
        self.review = review if review is not None else ReviewState()
        self.doc = LabelDocument(self.history, self.review)
        self.doc.events.edited.connect(self._on_edited)
        self.history.events.changed.connect(lambda _key: self.history_changed.emit())
        self.review.events.prediction.connect(self._on_prediction)
        self.review.events.threshold.connect(self._on_threshold)
        self.view = View()
        self._views: dict[str, View] = {}
        self._layers = LayerStack(self.doc, lambda name: self.new_label.is_thin(name))  # thin: outlines from 100 %
        self._class = ""
        self._brush = defaults.BRUSH_SIZE
        self._tolerance = defaults.WAND_TOLERANCE
        self._tools = ToolSet(self)
        self._label_mode = "auto"
        self._notes = EditNotes(self.doc, self.notify)  # once an edit has ended: outside the region, complete start
        self.new_label = NewLabelRule()  # auto mode: sparse for thin-structure classes (core.label_status)
        self._confirm: Callable[[str], bool] | None = None
        self.input = CanvasInput(self)
        self.editable = True  # False: undo and redo leave labels alone (ImageSession refuses every other edit too)

    # -- content -------------------------------------------------------------------------------------------------
    def set_image(self, key: str, rgb: np.ndarray, prepared: L.ImagePyramid | None = None) -> None:
        """Show ``rgb`` (uint8 HxWx3) under ``key``; clears labels, prediction and ROI until they are set again.
        ``prepared``: ``prepare_image(rgb)``, made beforehand on a loading thread for a large image."""
        self._tools.finish()
        if self.doc.image is not None:
            self._views[self.doc.key] = self.view
        self.doc.set_image(key, rgb)
        self.input.late.changed("the image changed")  # a press made before, delivered after, is refused
        self._layers.image_changed(prepared if prepared is not None else L.ImagePyramid(self.doc.image))
        saved = self._views.get(key)
        self.view = saved if saved is not None and not saved.fitted else self._fitted()
        self.update()
        self.zoom_changed.emit(self.view.zoom)
        self.history_changed.emit()

    @staticmethod
    def prepare_image(rgb: np.ndarray) -> L.ImagePyramid:
        """The display pyramid of ``rgb`` with every zoomed-out level built (thread-safe: no widget involved)."""
        return L.ImagePyramid(np.ascontiguousarray(rgb)).build_levels()

    def set_labels(self, labels: dict[str, np.ndarray | LabelPixels | LabelCodes | ReadyLabel | None],
                   colors: dict[str, tuple[int, int, int]], owned: frozenset[str] = frozenset()) -> None:
        """Per-class masks (bool or uint8, HxW: complete labels; ``LabelPixels``: sparse when ``annotated`` is set;
        ``ReadyLabel``: made on a loading thread, taken as it is; ``None`` = not labelled yet) and their RGB colours.
        The canvas copies them, except ReadyLabels and the ``owned`` classes' bool arrays (ones nobody else keeps)."""
        self._tools.finish()
        self.doc.set_labels(labels, owned)
        self._layers.labels_changed(colors)
        if self._class not in self.doc.labels and self.doc.labels:
            self._class = next(iter(self.doc.labels))
        self._sync_new_label()
        self.update()

    def set_current_class(self, name: str) -> None:
        self._tools.end_shape()  # a polygon being drawn is filled into the class it was drawn for, and saved
        if name != self._class:
            self.input.late.changed("the class changed")
        self._class = name
        self._sync_new_label()
        self.doc.drop_fpfn_except(name)
        self._layers.class_changed()
        self.update()
        self.input.emit_cursor_info()

    def current_class(self) -> str:
        return self._class

    def label(self, name: str) -> np.ndarray:
        """A bool HxW copy of the class pixels of the label (all false if the class was never labelled)."""
        return self.doc.labels[name] == OBJECT

    def label_view(self, name: str) -> np.ndarray:
        """Read-only bool HxW view of the live label's class pixels (``LabelDocument.label_view``)."""
        return self.doc.label_view(name)

    def annotated(self, name: str) -> np.ndarray | None:
        """bool HxW copy of the annotated pixels of a sparse label; None for a complete one."""
        return self.doc.labels[name] != UNANNOTATED if self.doc.is_sparse(name) else None

    def is_sparse(self, name: str) -> bool:
        """True while some pixel of the label is not annotated (it is saved 0/128/255)."""
        return self.doc.is_sparse(name)

    def annotated_fraction(self, name: str) -> float:
        """Share of the image annotated for ``name`` (1.0 complete, 0.0 not labelled)."""
        return self.doc.annotated_fraction(name)

    def set_label_mode(self, mode: str) -> None:
        """``LABEL_MODES``: "auto" (sparse for a class predicted as thin structures, else complete; core.label_status),
        "complete" (a new label's unpainted pixels are background), "sparse" (not annotated), "correct" (sparse, and
        the thresholded prediction shows beneath the label: paint only what is wrong)."""
        if mode not in LABEL_MODES:
            raise ValueError(f"unknown label mode {mode!r}; expected one of {', '.join(LABEL_MODES)}")
        self._label_mode = mode
        self._sync_new_label()
        self.update()
        if mode == "correct" and self.doc.image is not None and self._class not in self.doc.preds:
            self.notify(f"No '{self._class}' prediction on this image yet: new labels are sparse, with nothing to "
                        "correct until you retrain.")

    def label_mode(self) -> str:
        return self._label_mode

    def assume_thin(self, assumed: dict[str, bool]) -> None:
        """Another project: which classes are thin structures until their predictions say (NewLabelRule.reset)."""
        self.new_label.reset(assumed)
        self._sync_new_label()

    def _sync_new_label(self) -> None:
        self.doc.sparse_new = self.new_label.starts_sparse(self._label_mode, self._class)

    def mark_complete(self, name: str, complete: bool) -> bool:
        """Make the label of ``name`` complete (not annotated → background) or sparse (background → not annotated),
        as one undoable step; False when nothing changed (no label, already so, or nothing painted to keep)."""
        label = self.doc.labels.get(name)
        if label is None or name not in self.doc.labelled or (not complete and not (label == OBJECT).any()):
            return False
        src, dst = (UNANNOTATED, BG_CODE) if complete else (BG_CODE, UNANNOTATED)
        if self.doc.apply_region(name, Region(0, 0, label == src), dst) is None:
            return False
        self.edit_finished(name)
        return True

    def is_labelled(self, name: str) -> bool:
        """Whether the class has a label on this image (one that should be on disk), even an empty one the user
        erased; False for a class that was unlabelled and is empty again (e.g. after undo)."""
        return name in self.doc.labelled

    def set_prediction(self, name: str, prob: np.ndarray | None, threshold: float | None = None) -> None:
        """Probability map (float32 HxW in [0, 1]) of ``name``; ``None`` removes it. ``threshold``: set the review
        threshold too (it applies to every class). Short for ``review.set_threshold`` + ``review.set_prediction``."""
        if prob is not None:
            self.doc.check_prediction(name, prob)
        if threshold is not None:
            self.review.set_threshold(threshold)
        self.review.set_prediction(name, prob)

    def _on_prediction(self, name: str) -> None:
        """The review state's map of ``name`` changed (or, from ``_on_threshold``, the threshold): threshold it,
        rebuild its outline, repaint."""
        self.doc.threshold_prediction(name)
        self.new_label.saw_prediction(self.doc.key, name, self.doc.preds.get(name))
        self._sync_new_label()
        self._layers.prediction_changed(name)
        self.update()

    def _on_threshold(self, _threshold: float) -> None:
        for name in list(self.review.probs):
            self._on_prediction(name)

    def set_roi(self, roi: np.ndarray | None) -> None:
        self.doc.set_roi(roi)
        self._layers.roi_changed()
        self.update()
        self._notes.region_set(self._class)  # a note that part of the label lies outside: said, or no longer true

    def accept_prediction(self, region: np.ndarray | None = None) -> None:
        """The current class' label becomes its thresholded prediction (in ``region``: specks left out), accepted."""
        self.accept_in(region, whole=True)

    # -- layers --------------------------------------------------------------------------------------------------
    def set_layer_visible(self, layer: str, visible: bool) -> None:
        self._layers.visible[L.layer_name(layer)] = bool(visible)
        self.update()

    def layer_visible(self, layer: str) -> bool:
        return self._layers.visible[L.layer_name(layer)]

    def layer_shown(self, layer: str) -> bool:
        """Whether ``layer`` is drawn now: ticked, opacity above 0 and overlays not held hidden (H)."""
        return self._layers.shown(L.layer_name(layer), self.input.hide_overlays)

    def class_color(self, name: str) -> tuple[int, int, int]:
        """The RGB colour the label of ``name`` is drawn in (from ``set_labels``)."""
        return self._layers.color(name)

    def set_layer_opacity(self, layer: str, opacity: float) -> None:
        self._layers.opacity[L.layer_name(layer)] = min(max(float(opacity), 0.0), 1.0)
        self.update()

    def layer_opacity(self, layer: str) -> float:
        return self._layers.opacity[L.layer_name(layer)]

    # -- tools ---------------------------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        if self._tools.choose(tool):  # ends what the tools were doing; ValueError for an unknown tool
            self.input.update_cursor_shape()
            self.update()
            self.tool_changed.emit(tool)

    def tool(self) -> str:
        return self._tools.current

    def active_tool(self) -> Tool:
        return self._tools.active()

    def set_brush_size(self, px: int) -> None:
        px = min(max(int(px), defaults.BRUSH_RANGE[0]), defaults.BRUSH_RANGE[1])
        if px != self._brush:
            self.input.update_preview()
            self._brush = px
            self.input.update_preview()
            self.brush_size_changed.emit(px)

    def brush_size(self) -> int:
        return self._brush

    def set_wand_tolerance(self, t: int) -> None:
        self._tolerance = min(max(int(t), defaults.WAND_RANGE[0]), defaults.WAND_RANGE[1])

    def wand_tolerance(self) -> int:
        return self._tolerance

    def set_confirm(self, ask: Callable[[str], bool] | None) -> None:
        """``ask(question) -> yes`` asks the user before a sweeping edit (a fill over most of the image); without
        it such edits are refused (with a ``notice``)."""
        self._confirm = ask

    def confirm(self, question: str) -> bool:
        return self._confirm is not None and bool(self._confirm(question))

    def notify(self, text: str) -> None:
        self.notice.emit(text)

    # -- view ----------------------------------------------------------------------------------------------------
    def _image_size(self) -> tuple[int, int]:
        h, w = self.doc.shape
        return (w, h)

    def _fitted(self) -> View:
        return fitted_view(self._image_size(), (self.width(), self.height()))

    def fit(self) -> None:
        self.set_view(self._fitted())

    def actual_size(self) -> None:
        """100 %: one image pixel per device pixel, also on a high-DPI screen (Ctrl+1)."""
        self.set_zoom(actual_size_zoom(self.devicePixelRatioF()))

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Absolute zoom (widget pixels per image pixel) around ``anchor`` (widget coordinates; default: centre)."""
        a = (self.width() / 2, self.height() / 2) if anchor is None else (anchor.x(), anchor.y())
        floor = min_zoom(self._image_size(), (self.width(), self.height()), self.devicePixelRatioF())
        self.set_view(self.view.zoomed(factor, a, floor))

    def zoom(self) -> float:
        return self.view.zoom

    def set_view(self, view: View) -> None:
        changed = view.zoom != self.view.zoom
        self.view = view
        self.update()
        if changed:
            self.zoom_changed.emit(view.zoom)
            self.input.emit_cursor_info()

    def image_to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(*self.view.to_widget(x, y))

    def widget_to_image(self, p: QPointF) -> tuple[float, float]:
        return self.view.to_image(p.x(), p.y())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        if self.view.fitted and self.doc.image is not None:  # re-fitted: the status bar's zoom follows
            self.set_view(self._fitted())
        super().resizeEvent(event)

    # -- undo ----------------------------------------------------------------------------------------------------
    def set_editable(self, editable: bool) -> None:
        """Undo and redo on or off (a read-only project, a pause); `history_changed` lets the actions follow."""
        self.editable = editable
        self.history_changed.emit()

    def undo(self) -> None:
        if not self._tools.undo():  # True: a polygon being drawn lost its last corner, and that is all
            self._after_restore(self.doc.undo() if self.editable else None)

    def redo(self) -> None:
        if not self._tools.redo():  # True: a polygon is being drawn (a corner Undo took came back, if any)
            self._after_restore(self.doc.redo() if self.editable else None)

    def _after_restore(self, step) -> None:
        if step is not None:
            self.input.late.changed("an undo or redo")
            self.stroke_finished.emit(step.cls)
            self.input.emit_cursor_info()
        self._notes.restored(step.cls if step is not None and step.cls == self._class else None)  # roi: this class's

    def can_undo(self) -> bool:  # a corner of the polygon being drawn, else a label step of this image
        return self._tools.polygon.can_undo() or self.history.can_undo(self.doc.key)

    def can_redo(self) -> bool:
        return self._tools.polygon.can_redo(self.history.can_redo(self.doc.key))

    def undo_memory_bytes(self) -> int:
        return self.history.memory_bytes

    def _on_edited(self, _name: str, bbox: BBox) -> None:
        """Label pixels changed (``doc.events.edited``): repaint only the widget area showing ``bbox``."""
        self.update(QRect(*self.view.widget_box(bbox)))

    # -- callbacks used by the tools (ToolContext) ----------------------------------------------------------------
    def edit_finished(self, name: str) -> None:
        self.stroke_finished.emit(name)
        self.input.emit_cursor_info()
        self._notes.after_edit(name)  # last: the label-status check's line would replace it at once

    def accept_in(self, region: np.ndarray | Region | None, whole: bool = False) -> None:
        name = self._class
        if self.doc.accept_prediction(name, region, whole) is not None:
            self.input.late.changed("the prediction was accepted")
            self.edit_finished(name)

    # -- painting ------------------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        rect = event.rect()
        painter.fillRect(rect, BACKGROUND)
        span = None
        if self.doc.image is not None:
            span = image_span(self.view, rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1,
                              self.doc.shape, pad=2)
        if span is not None:
            self._paint_layers(painter, QRectF(span[1], span[0], span[3] - span[1], span[2] - span[0]))
        self.active_tool().preview(painter, self.input.preview_cursor())
        painter.end()

    def _paint_layers(self, painter: QPainter, src: QRectF) -> None:
        v = self.view
        painter.setTransform(QTransform(v.zoom, 0, 0, v.zoom, v.ox, v.oy))
        self._layers.draw(painter, src, v.zoom * self.devicePixelRatioF(), self._class, self.input.hide_overlays,
                          self._label_mode == "correct")  # levels and smoothing follow device pixels
        painter.resetTransform()
        painter.setOpacity(1.0)

    def leave_image(self) -> str | None:
        """Before another image or project is shown, Retrain or Accept prediction, or the window closes: a polygon
        being drawn with three corners or more is closed and filled (one undoable step, saved as any stroke), one with
        fewer is dropped, and the user is told (``shape_closed``, also returned); a brush stroke under way (PgDown with
        the button held) ends there and is saved on this image. A press still on its way is refused (``input``)."""
        if (left := self._tools.leave()) is not None:
            self.shape_closed.emit(left)
        return left
