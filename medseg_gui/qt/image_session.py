"""The image being edited: loads one image with its labels, predictions and ROI into the canvas (or shows, in the
canvas' place, why it cannot be read), queues a label save after every edit, re-thresholds the predictions and
accepts a prediction as the label (``accepting``: qt.accept_flow). It reports through signals; the window decides
where messages go.

The threshold, the probability maps and which classes are labelled live in the canvas' review state
(``self.review``, core.review); the session fills it and re-emits its label events as the Qt signals
``label_presence`` / ``annotated_share`` for the image list and the flows.

An image over 500×500 (see `core.image_view`) is decoded and prepared on a worker (`workers.view_loader`: the display
pyramid, its labels ready for the canvas and the saver's copies of them); a still picture of the last image stays on
screen and, after LOADING_MESSAGE_MS, the canvas' place says "Loading…". Nothing can be edited until it is shown (a
press meanwhile is answered: not drawn). One image loads at a time (workers.base.LatestJob): a load nobody waits for
any more is asked to stop and its result dropped, and of the images asked for meanwhile only the latest is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from medseg_gui.core.errors import ImageReadError, RegionUnknownError
from medseg_gui.core.image_view import ImageView, load_overlays, load_view, loads_in_background
from medseg_gui.core.masks import label_fits
from medseg_gui.core.project_format import stored_probability
from medseg_gui.core.regions import class_region
from medseg_gui.qt.accept_flow import AcceptFlow
from medseg_gui.qt.edit_gate import EditGate
from medseg_gui.qt.image_file_watch import ImageFileWatch
from medseg_gui.qt.left_out_labels import LeftOutLabels
from medseg_gui.qt.mark_keeper import MarkKeeper
from medseg_gui.qt.panels.canvas_area import CanvasArea
from medseg_gui.workers.base import FunctionWorker, LatestJob, WorkerHost, error_message
from medseg_gui.workers.label_saver import LabelSaver
from medseg_gui.workers.view_loader import LoadedView, Prepared, load_prepared, prepare_view

log = logging.getLogger(__name__)

PLACEHOLDER = np.full((64, 64, 3), 40, np.uint8)
LOADING_MESSAGE_MS = 250  # "Loading…" shows only for an image that takes longer (the last one stays until then)


class ImageSession(QObject):
    """`show(stem, …)` makes `stem` the image on the canvas; `stem` is None while nothing is editable."""

    status = Signal(str)  # a short note for the status bar
    problem = Signal(str, bool)  # (message, also show a dialog)
    unreadable = Signal(str, str)  # (stem, reason) for an image found unreadable while loading it; '' readable again
    label_presence = Signal(str, str, bool)  # (class, stem, has a label now) after an edit: review.events.label
    annotated_share = Signal(str, str, object)  # (class, stem, sparse label's share or None): review.events.annotated

    def __init__(self, area: CanvasArea, saver: LabelSaver, marks: MarkKeeper, host: WorkerHost,
                 threshold: float = 0.5, parent: QObject | None = None) -> None:
        super().__init__(parent)  # `marks`: how every image mark is set (kept and retried when not written)
        self.area, self.canvas, self.saver, self.marks, self.host = area, area.canvas, saver, marks, host
        self.review = self.canvas.review
        self.review.set_threshold(threshold)
        self.review.events.threshold.connect(lambda _t: self.show_region(self.canvas.current_class()))
        self.review.events.label.connect(self.label_presence.emit)
        self.review.events.annotated.connect(self.annotated_share.emit)
        self.project: Any = None
        self.stem: str | None = None
        self._asked: str | None = None  # the image last asked for (`show`), also while loading or unreadable
        self._asked_unreadable: str | None = None  # … when it was shown as unreadable
        self._image_roi: np.ndarray | None = None  # the image's own ROI (roi/<stem>.png); see show_region
        self._left_out = LeftOutLabels()  # label files of the image shown that could not be shown
        self._file = ImageFileWatch(self)  # the image's file: each replacement on disk is read again
        self._file.changed.connect(self._read_again)
        self._loads = LatestJob(host)  # background loads, one at a time: only the latest one asked for is shown
        self.accepting = AcceptFlow(self)  # Accept prediction (the window sets its question's Yes/No dialog)
        self.canvas.stroke_finished.connect(self._on_stroke_finished)
        self.canvas.doc.events.edited.connect(  # the saver's copies of the labels on screen follow every edit
            lambda cls, bbox: self.stem is not None and self.saver.touch(cls, self.stem, bbox))
        self.canvas.doc.events.filled.connect(
            lambda cls, value, bbox: self.stem is not None and self.saver.filled(cls, self.stem, value, bbox))
        self.gate = EditGate(self.canvas, self.status.emit, self)  # read-only or paused: no edit reaches the canvas
        area.pressed_instead.connect(self._pressed_instead)  # a stroke on the last image's picture or a message

    @property
    def threshold(self) -> float:
        return self.review.threshold

    def set_project(self, project: Any) -> None:
        self.project, self.stem, self._asked, self._asked_unreadable = project, None, None, None
        self._loads.drop()
        self._file.watch(None)

    def set_read_only(self, reason: str | None, paused: str | None = None) -> None:
        """Refuse every edit on the canvas while `reason` (read-only) or `paused` is not None (qt.edit_gate)."""
        self.gate.set(reason, paused)

    @property
    def read_only(self) -> str | None:
        return self.gate.read_only

    @property
    def paused(self) -> str | None:
        return self.gate.paused

    def show(self, stem: str, error: str | None, cls: str | None) -> None:
        """Load `stem` (labels not saved yet come from the saver, not the disk); `error` is a reason already known
        to make it unreadable, said without reading when its file is not there (one there is read again: it may be
        whole by now, a copy finished while another image was shown; review)."""
        if error is not None and self.project.image_path(stem).is_file():
            error = None
        if self.stem is not None:
            self.canvas.leave_image()  # a polygon or stroke under way: saved to the image it was drawn on
        unsaved = self._unsaved_masks(stem)  # before reading the disk: a save finishing meanwhile is not missed
        self.stem, view = None, None
        self._loads.drop()  # a load of the image left is stopped (held PgDown: one a step, all kept, 5 GB)
        self._asked = stem  # shown, loading or shown as unreadable: its file's changes read it again (_read_again)
        self._file.watch(stem, self.project.image_path(stem))  # before reading it: a change meanwhile is seen
        if error is None and loads_in_background(self.project.image_path(stem)):
            self._load_in_background(stem, cls, unsaved)
            return
        try:
            view = None if error else load_view(self.project, stem)
        except ImageReadError as err:
            error = str(err)
            self.unreadable.emit(stem, error)
        if view is None:
            self._show_unreadable(stem, error or f"{stem} cannot be read.")
            return
        self._show_view(view, cls, unsaved)

    def _load_in_background(self, stem: str, cls: str | None, unsaved: dict[str, np.ndarray | None]) -> None:
        focused = self.canvas.hasFocus()
        self._show_instead(stem, f"Loading {stem}…", cls, after_ms=LOADING_MESSAGE_MS)
        self.status.emit(f"Loading {stem}…")

        def show(loaded: LoadedView) -> None:
            self._show_view(loaded.view, self.canvas.current_class() or cls, unsaved, loaded.prepared)
            if focused:
                self.canvas.setFocus()

        prepare = partial(prepare_view, pyramid=self.canvas.prepare_image)
        self._start(stem, FunctionWorker(load_prepared, self.project, stem, prepare=prepare), show)

    def _show_view(self, view: ImageView, cls: str | None, unsaved: dict[str, np.ndarray | None],
                   prepared: Prepared | None = None) -> None:
        stem = view.stem
        unsaved = {c: mask for c, mask in unsaved.items() if label_fits(mask, view.shape)}  # else the saver rescues it
        self.area.show_canvas()
        self.canvas.setEnabled(True)
        self.canvas.set_image(stem, view.rgb, None if prepared is None else prepared.pyramid)
        fresh = frozenset(view.labels) - set(unsaved)  # read for this view only: the canvas keeps them uncopied
        labels = {**view.labels, **unsaved}  # the disk's labels with unsaved masks on top
        self._left_out.remember(self.project, stem, [c for c in fresh if view.labels[c] is None], view.misfit)
        if prepared is not None:
            labels.update({name: prepared.labels[name] for name in fresh})
        self.canvas.set_labels(labels, self._colors(), fresh)
        for name in fresh:  # the saver's copies of the labels as shown: a first save copies only the edit
            if view.labels[name] is None or prepared is not None:
                self.saver.follow(name, stem, self.canvas.doc.labels[name],
                                  prepared.copies.get(name) if prepared is not None else None)
        self.canvas.set_current_class(cls or self.project.class_names[0])
        self._image_roi, self.stem = view.roi, stem  # before the predictions: their observers judge this image
        if self._asked_unreadable == stem:  # its file is whole again (qt.image_file_watch)
            self._asked_unreadable = None
            self.unreadable.emit(stem, "")
        for name, prob in view.predictions.items():
            self.review.set_prediction(name, prob)
        self.show_region(self.canvas.current_class())
        for name in self.project.class_names:
            self.review.set_share(name, self._share(name))
        self._file.check()  # replaced again since it was read: read again
        warnings = view.warnings + self._left_out.warnings(stem)
        if warnings:
            self.problem.emit("\n".join(warnings), True)
        else:
            self.status.emit(f"{stem} — {view.shape[1]}×{view.shape[0]}")

    def reload_prediction(self, cls: str, handed: tuple[str, np.ndarray] | None = None) -> None:
        """Show the freshly saved prediction of `cls` (after a Retrain): `handed` (stem, map as saved) when the
        training handed over this image's map, else read (in the background for a large image)."""
        stem, shape = self.stem, self.canvas.doc.shape
        if stem is None or self._loads.waiting():
            return
        if handed is not None and handed[0] == stem and handed[1].shape == shape:  # the file's map, from memory
            self.review.set_prediction(cls, stored_probability(handed[1]))
            self.show_region(self.canvas.current_class())
            return

        def show(loaded: LoadedView) -> None:
            prob, roi, warnings = loaded.view
            if self.stem == stem:
                self.review.set_prediction(cls, prob)
                self._image_roi = roi
                self.show_region(self.canvas.current_class())
                if warnings:
                    self.problem.emit("\n".join(warnings), False)

        load = lambda project, s: load_overlays(project, s, cls, shape)  # noqa: E731
        if loads_in_background(self.project.image_path(stem)):
            self._start(stem, FunctionWorker(load_prepared, self.project, stem, load=load), show)
        else:
            show(LoadedView(load(self.project, stem)))

    def _start(self, stem: str, loader: FunctionWorker, on_loaded: Callable[[LoadedView], None]) -> None:
        """Run `loader` after the load under way (asked to stop: nobody waits for it); `on_loaded` its result, unless
        another load was asked for meanwhile."""
        self._loads.start(loader, on_loaded, partial(self._loader_errored, stem))

    def _loader_errored(self, stem: str, err: BaseException) -> None:
        message = error_message(err)
        if self.stem is None:  # the image itself could not be read
            self.unreadable.emit(stem, message)
            self._show_unreadable(stem, message)
            self._file.check()  # whole again while it was read (a copy finishing): read again
        else:
            self.problem.emit(message, False)

    def set_threshold(self, threshold: float) -> None:
        """Re-threshold the shown predictions (the canvas observes the review state); a region from a roi_class's
        prediction moves with it (``show_region`` observes it too)."""
        self.review.set_threshold(threshold)

    def show_region(self, cls: str | None) -> None:
        """Give the canvas the region `cls` is trained and scored in (outline, FP/FN and fill stop there): the image
        ROI, or for a two-stage class its roi_class's label as drawn now, else that class's prediction >= the
        threshold (core.regions); the image ROI with a note where the roi_class has neither yet."""
        if self.project is None or self.stem is None or not cls:
            return
        try:
            region = class_region(cls, lambda c: self.project.class_spec(c).roi_class, self._image_roi,
                                  lambda c: self.canvas.label(c) if self.canvas.is_labelled(c)
                                  and not self.canvas.is_sparse(c) else None,  # a sparse label is no outline
                                  self.review.probs.get, self.review.threshold)
        except RegionUnknownError as err:
            region = self._image_roi
            self.status.emit(f"{err}: '{cls}' is not restricted on {self.stem}.")
        self.canvas.set_roi(region)

    def _pressed_instead(self, late: str) -> None:
        """A press where the canvas' image is not shown (yet): say it drew nothing (a message that says why the
        image cannot be shown says enough)."""
        if late or (self.stem is None and self._loads.waiting()):
            self.canvas.notify(late or f"Not drawn: {self._asked} is still loading; draw once it is shown.")

    def _show_unreadable(self, stem: str, reason: str) -> None:
        self._asked_unreadable = stem
        self._show_instead(stem, f"{stem} cannot be shown.\n\n{reason}")
        self.problem.emit(reason, False)

    def _show_instead(self, stem: str, text: str, cls: str | None = None, after_ms: int = 0) -> None:
        """`text` in the canvas' place (after `after_ms`: until then the last image stays on screen); the canvas holds
        an empty placeholder at once, so nothing real can be edited."""
        self.canvas.setEnabled(False)
        self.area.show_message(text, after_ms)
        self.canvas.set_image(f"placeholder:{stem}", PLACEHOLDER)
        self.canvas.set_labels({name: None for name in self.project.class_names}, self._colors())
        if cls:
            self.canvas.set_current_class(cls)

    def _unsaved_masks(self, stem: str) -> dict[str, np.ndarray | None]:
        """Class → the newest mask of `stem` that is not on disk yet (queued, being written, or failed)."""
        found = {cls: self.saver.latest(cls, stem) for cls in self.project.class_names}
        return {cls: mask for cls, (pending, mask) in found.items() if pending}

    def may_write(self, cls: str) -> bool:
        """Whether `cls`'s label shown may be written (stroke, No-object): a left-out label file (unreadable, wrong
        size) is moved aside first (never deleted), said where; False (the edit reverted) when it cannot be."""
        if cls not in self._left_out:
            return True
        moved, message = self._left_out.move_aside(self.project, cls, self.stem)
        self.problem.emit(message, True)
        if not moved:
            self.reload_shown()
        return moved

    def _image_replaced(self) -> bool:
        """True (and the image is shown again from disk) when its file is no longer the size shown: replaced since,
        or unreadable now. Nothing left out of the view is judged by the picture on screen then."""
        try:
            if self.project.image_size(self.stem) == self.canvas.doc.shape:
                return False
        except ImageReadError:
            pass
        self._read_again(self.stem)
        return True

    @Slot(str)
    def _read_again(self, stem: str) -> None:
        """The file of image `stem` changed on disk since it was read: show it again from disk if it is the image
        shown (labels that fit are shown again; unsaved strokes that do not are set aside by the saver)."""
        if stem == self.stem:
            said = f"The image file of {stem} changed on disk since it was shown; it is read again."
            log.info("%s", said)  # the status line is soon replaced (fault-injection trial: nowhere to be found)
            self.status.emit(said)
            self.reload_shown()
        elif stem == self._asked and self.stem is None and not self._loads.waiting():  # shown as unreadable (review:
            cls = self.canvas.current_class()  #            a file caught half-copied stayed so until reopened)
            QTimer.singleShot(0, lambda: self.show(stem, None, cls) if self._asked == stem and self.stem is None
                              and not self._loads.waiting() else None)

    def reload_shown(self) -> None:
        """Show the current image again from disk (drops an edit that must not be kept; a read-only window shows
        what another saved), after the current event."""
        stem, cls = self.stem, self.canvas.current_class()
        if stem is not None:
            QTimer.singleShot(0, lambda: self.show(stem, None, cls) if self.stem == stem else None)

    def _colors(self) -> dict[str, tuple[int, int, int]]:
        return {spec.name: tuple(spec.color) for spec in self.project.classes}

    @Slot(str)
    def _on_stroke_finished(self, cls: str) -> None:
        """Queue the class's mask for saving (strokes, fills, undo/redo); a class that had no label file and is
        empty again (even after switching images and back) is not a 'background' label: its file is removed."""
        if self.stem is None:
            return
        if (why := self.gate.why_off()) is not None:
            self.problem.emit(f"Not saved: {why}.", False)
            self.reload_shown()
            return
        if replaced := self._image_replaced():  # saved if it fits the file by then, else rescued; never a delete
            if self.canvas.is_labelled(cls):
                self.saver.save_live(cls, self.stem, self.canvas.doc.labels[cls], self.canvas.is_sparse(cls))
        if replaced or not self.may_write(cls):
            return
        if said := self.marks.follow_accepted(self.project, self.stem, cls, self.canvas.doc.stands_accepted(cls)):
            self.status.emit(said)  # no longer the accepted prediction; an Undo or Redo back to the accept still is
        if self.canvas.is_labelled(cls):  # the saver copies what changed since its copy of the label was written
            self.saver.save_live(cls, self.stem, self.canvas.doc.labels[cls], self.canvas.is_sparse(cls))
        else:
            self.saver.save(cls, self.stem, None)
        self.review.label_edited(cls, self._share(cls))
        if cls != self.canvas.current_class():  # another class's step undone or redone: it may be the region shown
            self.show_region(self.canvas.current_class())

    def _share(self, cls: str) -> float | None:
        """Annotated share of a sparse label of `cls` on the canvas; None for a complete one or none."""
        sparse = self.canvas.is_labelled(cls) and self.canvas.is_sparse(cls)
        return self.canvas.annotated_fraction(cls) if sparse else None
