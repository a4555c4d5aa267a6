"""The canvas' editable state for one image, without Qt: labels, areas, thresholded predictions, FP/FN, undo.

Labels are owned copies of label codes (HxW uint8: 0 background, 1 class, 2 not annotated, see ``core.masks``);
the image, probabilities and ROI are referenced, not copied. Every edit goes through here so that the label area,
the count of unannotated pixels, the FP/FN codes (recomputed only inside the edit's bbox) and the undo history stay
consistent.

The document decides, as edits run, the one answer to "does this class have a label on this image" and writes it
into the review state (``review.labelled``, core.review; ``labelled`` here reads it): a class that had no label when the
image's undo history began and is empty again (erased, or undone after switching images and back) is *not*
labelled, so nobody saves it as an all-background training label; neither is a label with no annotated pixel.

A label is *sparse* while any pixel is not annotated (saved 0/128/255), else complete (0/255). The rule for a class
without a label on this image: its first edit starts a sparse label (every other pixel not annotated) when it is a
background-brush stroke or when ``sparse_new`` is set (the sparse and corrective modes); otherwise a complete one
(every unpainted pixel background), as before sparse labels existed.
"""

from __future__ import annotations

import logging

import numpy as np

from medseg_gui.core import masks
from medseg_gui.core.errors import LabelSizeError
from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.core.masks import (OBJECT, UNANNOTATED, BBox, LabelCodes, ReadyLabel, Region, as_codes, as_u8_mask,
                                    bbox_slices, code_counts, mask_bbox)
from medseg_gui.core.metrics import fp_fn_codes
from medseg_gui.core.review import Events, ReviewState
from medseg_gui.core.undo import StrokeRecorder, UndoHistory, UndoStep

log = logging.getLogger(__name__)


class LabelDocument:
    """Labels and overlays of the image shown under ``key``; the undo history is shared across images.

    The probability maps, the threshold and which classes are labelled live in ``review`` (core.review); the
    document keeps what it derives from them (thresholded predictions, FP/FN codes) and marks a class labelled or not
    as edits run. ``events.edited(cls, bbox)`` after every change of label pixels (bbox: y0, x0, y1, x1); after an
    edit that set the whole label, also ``events.filled(cls, value, bbox)``: every pixel outside ``bbox`` (None: every
    pixel) is ``value`` now, so an observer keeping a copy can fill it later instead of copying 64 MB now."""

    def __init__(self, history: UndoHistory, review: ReviewState | None = None) -> None:
        self.history = history
        self.review = review if review is not None else ReviewState()
        self.events = Events(("edited", "filled"))
        self.key = ""
        self.image: np.ndarray | None = None
        self.labels: dict[str, np.ndarray] = {}
        self.preds: dict[str, np.ndarray] = {}  # class → prediction >= the review threshold (uint8 {0, 1})
        self.roi: np.ndarray | None = None
        self._areas: dict[str, int] = {}
        self._unannotated: dict[str, int] = {}
        self.sparse_new = False  # a class without a label starts a sparse one at its first edit (see module doc)
        self._fpfn: dict[str, np.ndarray] = {}
        self._stroke: StrokeRecorder | None = None
        self._stroke_start: np.ndarray | None = None  # the label before a stroke that started it sparse (not empty)
        self._stroke_fill = False  # the stroke started an empty label sparse: its undo step keeps fill values
        self._stroke_cls = ""
        self._unlabelled_at_start: dict[str, set[str]] = {}  # image key -> classes without a label before its history

    # -- content -------------------------------------------------------------------------------------------------
    @property
    def labelled(self) -> set[str]:
        """Classes labelled on this image (the review state's set; read-only here, see ``_edited``)."""
        return self.review.labelled

    @property
    def probs(self) -> dict[str, np.ndarray]:
        return self.review.probs

    @property
    def shape(self) -> tuple[int, int]:
        return (0, 0) if self.image is None else self.image.shape[:2]

    def set_image(self, key: str, rgb: np.ndarray) -> None:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
        self.key, self.image = key, np.ascontiguousarray(rgb)
        self.labels, self.preds = {}, {}
        self.review.open(key)
        self.roi, self._areas, self._unannotated, self._fpfn, self._stroke = None, {}, {}, {}, None

    def _check(self, what: str, arr: np.ndarray) -> None:
        if arr.shape[:2] != self.shape:
            raise LabelSizeError(f"The {what} is {arr.shape[1]}×{arr.shape[0]} px but the image is "
                                 f"{self.shape[1]}×{self.shape[0]} px.")

    def set_labels(self, labels: dict[str, np.ndarray | LabelPixels | LabelCodes | ReadyLabel | None],
                   owned: frozenset[str] = frozenset()) -> None:
        """A mask (bool/{0,1}/{0,255}: a complete label), ``LabelPixels`` (sparse when ``annotated`` is set),
        ``LabelCodes`` or ``ReadyLabel`` (taken as it is) per class. ``owned``: classes whose arrays nobody else keeps
        (freshly read): bool ones become the label without a copy."""
        for name, mask in labels.items():
            if mask is not None:
                self._check(f"label '{name}'", mask[0] if isinstance(mask, tuple) else mask)
        self.labels = {name: np.zeros(self.shape, np.uint8) if m is None else m.codes if isinstance(m, ReadyLabel)
                       else as_codes(m, name in owned) for name, m in labels.items()}
        self.review.reset_labelled({name for name, m in labels.items()
                                    if m is not None and not (isinstance(m, ReadyLabel) and not m.labelled)})
        # counts known without a pass over the label: none for a fresh zero array, a ReadyLabel's own
        counts = {name: (0, 0) if m is None else m.counts for name, m in labels.items()
                  if m is None or isinstance(m, ReadyLabel)}
        self._areas = {name: c[0] for name, c in counts.items()}
        self._unannotated = {name: c[1] for name, c in counts.items()}
        self._fpfn, self._stroke = {}, None
        # a class with steps to go back through keeps its start; for the others what is on disk now is the start
        # (a label imported while this image had steps of another class was told to be a "New complete" one)
        edited = self.history.classes(self.key)
        start = {name for name in self._unlabelled_at_start.get(self.key, ()) if name in edited}
        self._unlabelled_at_start[self.key] = start | (set(labels) - self.labelled)

    def check_prediction(self, name: str, prob: np.ndarray) -> None:
        """LabelSizeError unless ``prob`` has the image's size."""
        self._check(f"prediction for '{name}'", prob)

    def threshold_prediction(self, name: str) -> None:
        """Derive the thresholded prediction of ``name`` from the review state (after its map or the threshold
        changed)."""
        self._fpfn.pop(name, None)
        prob = self.review.probs.get(name)
        if prob is None:
            self.preds.pop(name, None)
            return
        self.check_prediction(name, prob)
        self.preds[name] = np.ascontiguousarray((prob >= self.review.threshold).view(np.uint8))

    def set_roi(self, roi: np.ndarray | None) -> None:
        if roi is not None:
            self._check("region of interest", roi)
        self.roi = None if roi is None else as_u8_mask(roi, copy=False)
        self._fpfn = {}

    def area(self, name: str) -> int:
        """Class pixels of the label of ``name``."""
        if name not in self._areas:
            self._count(name)
        return self._areas[name]

    def unannotated(self, name: str) -> int:
        """Not-annotated pixels of the label of ``name`` (0: a complete label)."""
        if name not in self._unannotated:
            self._count(name)
        return self._unannotated[name]

    def _count(self, name: str) -> None:
        label = self.labels.get(name)
        self._areas[name], self._unannotated[name] = (0, 0) if label is None else code_counts(label)

    def label_view(self, name: str) -> np.ndarray:
        """A read-only bool HxW view of the class pixels of the live label, without a copy for a complete label (it
        changes with the next edit: copy it at once if it must be kept)."""
        codes = self.labels[name]
        view = codes == OBJECT if self.is_sparse(name) else codes.view(bool)
        view.flags.writeable = False
        return view

    def is_sparse(self, name: str) -> bool:
        return name in self.labels and self.unannotated(name) > 0

    def annotated_fraction(self, name: str) -> float:
        """Share of the image's pixels that are annotated (1.0 for a complete label, 0.0 without a label)."""
        if name not in self.labelled:
            return 0.0
        total = self.shape[0] * self.shape[1]
        return 1.0 - self.unannotated(name) / total if total else 0.0

    def fpfn(self, name: str) -> np.ndarray | None:
        """FP/FN codes of the thresholded prediction vs. the label of ``name`` (inside the ROI); ``None`` without a
        prediction or before the class is labelled. Built lazily, then kept current inside each edit's bbox."""
        if name not in self.preds or name not in self.labelled or name not in self.labels:
            return None
        if name not in self._fpfn:
            self._fpfn[name] = fp_fn_codes(self.preds[name], self.labels[name], self.roi)
        return self._fpfn[name]

    def drop_fpfn_except(self, name: str) -> None:
        """Free the FP/FN codes of the other classes (one full-size byte map each)."""
        self._fpfn = {k: v for k, v in self._fpfn.items() if k == name}

    def new_here(self, name: str) -> bool:
        """Whether the class had no label on this image when its edit history began (a label started here)."""
        return name in self._unlabelled_at_start.get(self.key, ())

    # -- edits ---------------------------------------------------------------------------------------------------
    def _edited(self, name: str, bbox: BBox, before: tuple[int, int], after: tuple[int, int]) -> None:
        """``before``/``after``: (class, not-annotated) pixel counts of the changed pixels."""
        if name in self._areas:  # a cold cache is counted afresh, after the edit
            self._areas[name] += after[0] - before[0]
            self._unannotated[name] += after[1] - before[1]
        nothing_annotated = self.unannotated(name) == self.shape[0] * self.shape[1]
        erased = self.area(name) == 0 and self.unannotated(name) == 0
        was = name in self.labelled
        self.review.set_labelled(name, not (nothing_annotated or
                                            (erased and name in self._unlabelled_at_start.get(self.key, ()))))
        if (name in self.labelled) != was:  # the FP/FN overlay comes or goes everywhere, not only in the bbox
            bbox = (0, 0, *self.shape)  # (a trial: undo, then a new stroke, left the prediction red only near it)
        codes = self._fpfn.get(name)
        if codes is not None:
            s = bbox_slices(bbox)
            roi = None if self.roi is None else self.roi[s]
            codes[s] = fp_fn_codes(self.preds[name][s], self.labels[name][s], roi)
        self.events.edited.emit(name, bbox)

    def starts_sparse(self, name: str, value: int, background_brush: bool = False) -> bool:
        """Whether an edit setting ``value`` on ``name`` starts a sparse label first (the rule in the module doc)."""
        return (name in self.labels and name not in self.labelled and value != UNANNOTATED
                and (self.sparse_new or background_brush) and not self.is_sparse(name))

    def _make_sparse(self, name: str) -> None:
        """Every pixel of the (unlabelled) class not annotated; the caller has captured the "before" pixels."""
        label = self.labels[name]
        before = (self.area(name), self.unannotated(name))
        label[...] = UNANNOTATED
        self._edited(name, (0, 0, *self.shape), before, (0, label.size))
        self.events.filled.emit(name, UNANNOTATED, None)

    def _empty(self, name: str) -> bool:
        """The label of ``name`` is all background (its counts say so): a sparse start's undo step then keeps only
        the edit's bbox and the fill values 0 → not annotated, not two whole-image planes."""
        return self.area(name) == 0 and self.unannotated(name) == 0

    def begin_stroke(self, name: str, sparse: bool = False) -> None:
        """Start a brush stroke; ``sparse``: start a sparse label first (``starts_sparse``), in the same undo step.
        A sparse start of an empty label is recorded with fill values; of any other label, with one copy of it."""
        self._stroke, self._stroke_cls = StrokeRecorder(self.labels[name]), name
        self._stroke_fill = sparse and self._empty(name)
        self._stroke_start = self.labels[name].copy() if sparse and not self._stroke_fill else None
        if sparse:
            self._make_sparse(name)

    def stroke_segment(self, p0: tuple[float, float], p1: tuple[float, float], size: int, value: int) -> BBox | None:
        if self._stroke is None:
            return None
        label = self.labels[self._stroke_cls]
        region = masks.capsule_region(label.shape, p0, p1, size)
        if region is None:
            return None
        self._stroke.touch(region.bbox)
        return self._apply(self._stroke_cls, region, value)

    def end_stroke(self) -> str | None:
        """Record the finished stroke; returns its class when it changed any pixel."""
        stroke, self._stroke = self._stroke, None
        start, self._stroke_start = self._stroke_start, None
        fill, self._stroke_fill = self._stroke_fill, False
        if stroke is not None and fill:  # a sparse start of an empty label: its bbox (maybe none) and fill values
            bbox = stroke.bbox or (0, 0, 0, 0)
            after = self.labels[self._stroke_cls][bbox_slices(bbox)]
            self.history.push(self.key, self._stroke_cls, bbox, self.shape, np.zeros_like(after), after,
                              fill=(0, UNANNOTATED))
            return self._stroke_cls
        if stroke is not None and start is not None:  # a sparse start: every pixel changed
            self.history.push(self.key, self._stroke_cls, (0, 0, *self.shape), self.shape, start,
                              self.labels[self._stroke_cls])
            return self._stroke_cls
        if stroke is None or stroke.bbox is None:
            return None
        before = stroke.before()
        after = self.labels[self._stroke_cls][bbox_slices(stroke.bbox)]
        if np.array_equal(before, after):
            return None
        self.history.push(self.key, self._stroke_cls, stroke.bbox, self.shape, before, after)
        return self._stroke_cls

    def _apply(self, name: str, region: Region, value: int) -> BBox | None:
        sub = self.labels[name][bbox_slices(region.bbox)]
        old = code_counts(sub[region.mask])
        sub[region.mask] = value
        new = (region.area if value == OBJECT else 0, region.area if value == UNANNOTATED else 0)
        self._edited(name, region.bbox, old, new)
        return region.bbox

    def apply_region(self, name: str, region: Region | None, value: int, sparse: bool = False) -> BBox | None:
        """Set a selection to ``value`` as one undoable step; returns the bbox when something changed. ``sparse``:
        start a sparse label first (``starts_sparse``), in the same step."""
        if region is None or name not in self.labels:
            return None
        if sparse:
            fill = self._empty(name)
            before = np.zeros(region.mask.shape, np.uint8) if fill else self.labels[name].copy()
            self._make_sparse(name)
            self._apply(name, region, value)
            bbox = region.bbox if fill else (0, 0, *self.shape)
            self.history.push(self.key, name, bbox, self.shape, before, self.labels[name][bbox_slices(bbox)],
                              fill=(0, UNANNOTATED) if fill else None)
            return (0, 0, *self.shape)
        before = self.labels[name][bbox_slices(region.bbox)].copy()
        if np.all(before[region.mask] == value):
            return None
        self._apply(name, region, value)
        self.history.push(self.key, name, region.bbox, self.shape, before, self.labels[name][bbox_slices(region.bbox)])
        return region.bbox

    def accept_prediction(self, name: str, region: np.ndarray | Region | None = None,
                          whole: bool = False) -> BBox | None:
        """Copy the thresholded prediction into the label: everywhere, or where ``region`` (full-size mask or a
        cropped :class:`Region`) is true. One undoable step covering only the pixels that change; ``whole``: the label
        is the accepted prediction from then on (``stands_accepted``)."""
        pred, label = self.preds.get(name), self.labels.get(name)
        if pred is None or label is None:
            return None
        self.review.set_labelled(name, True)
        if region is None:
            bbox, sel = (0, 0, *self.shape), None
        elif isinstance(region, Region):
            bbox, sel = region.bbox, region.mask
        else:
            self._check("accept region", region)
            bbox, sel = (0, 0, *self.shape), region.astype(bool, copy=False)
        s = bbox_slices(bbox)
        change = label[s] != pred[s]
        if sel is not None:
            change &= sel
        local = mask_bbox(change)
        if local is None:
            return None
        tight = (bbox[0] + local[0], bbox[1] + local[1], bbox[0] + local[2], bbox[1] + local[3])
        t = bbox_slices(tight)
        change = change[bbox_slices(local)]
        before = label[t].copy()
        label[t] = np.where(change, pred[t], before)
        self._edited(name, tight, code_counts(before), code_counts(label[t]))
        self.history.push(self.key, name, tight, self.shape, before, label[t], accepted=whole)
        return tight

    def stands_accepted(self, name: str) -> bool:
        """Whether the label of ``name`` is, as far as this image's history tells, an accepted prediction not edited
        since: its newest applied step accepted it (after an Undo of a later stroke, or a Redo of the accept, too)."""
        step = self.history.newest(self.key, name)
        return step is not None and step.accepted

    def undo(self) -> UndoStep | None:
        return self._restore(self.history.undo(self.key), undo=True)

    def redo(self) -> UndoStep | None:
        return self._restore(self.history.redo(self.key), undo=False)

    def _restore(self, step: UndoStep | None, undo: bool) -> UndoStep | None:
        if step is None:
            return None
        label = self.labels.get(step.cls)
        expected, target = (step.after(), step.before()) if undo else (step.before(), step.after())
        fills = (step.fill[::-1] if undo else step.fill) if step.fill else None  # (expected, target) outside
        s = bbox_slices(step.bbox)
        if (label is None or step.image_shape != self.shape or not np.array_equal(label[s], expected)
                or (fills and (self.area(step.cls), self.unannotated(step.cls)) != self._filled(expected, fills[0]))):
            log.warning("Undo history of %s no longer matches its labels (reloaded?); history cleared.", self.key)
            self.history.clear(self.key)
            return None
        if fills:  # every pixel outside the bbox was one value (the counts above prove it): set them all
            old, new, bbox = self._filled(expected, fills[0]), self._filled(target, fills[1]), (0, 0, *self.shape)
            label[...] = fills[1]
        else:
            old, new, bbox = code_counts(label[s]), code_counts(target), step.bbox
        label[s] = target
        self._edited(step.cls, bbox, old, new)
        if fills:
            self.events.filled.emit(step.cls, fills[1], step.bbox)
        return step

    def _filled(self, patch: np.ndarray, fill: int) -> tuple[int, int]:
        """(class, not-annotated) pixel counts of a label that is ``patch`` inside a bbox and ``fill`` outside it."""
        outside = self.shape[0] * self.shape[1] - patch.size
        area, unannotated = code_counts(patch)
        return area + outside * (fill == OBJECT), unannotated + outside * (fill == UNANNOTATED)
