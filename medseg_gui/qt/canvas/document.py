"""The canvas' editable state for one image, without Qt: labels, areas, thresholded predictions, FP/FN, undo.

Labels are owned copies (HxW uint8 {0, 1}); the image, probabilities and ROI are referenced, not copied. Every
edit goes through here so that the label area, the FP/FN codes (recomputed only inside the edit's bbox) and the
undo history stay consistent.

``labelled`` is the one answer to "does this class have a label on this image": a class that had no label when the
image's undo history began and is empty again (erased, or undone after switching images and back) is *not*
labelled, so nobody saves it as an all-background training label.
"""

from __future__ import annotations

import logging

import numpy as np

from medseg_gui.core import masks
from medseg_gui.core.errors import LabelSizeError
from medseg_gui.core.masks import BBox, Region, bbox_slices, mask_bbox
from medseg_gui.core.undo import StrokeRecorder, UndoHistory, UndoStep

log = logging.getLogger(__name__)


def _as_u8_mask(mask: np.ndarray, copy: bool) -> np.ndarray:
    """uint8 {0, 1} C-contiguous version of a bool/0-1/0-255 mask (a view when possible and ``copy`` is false)."""
    if mask.dtype == bool:
        m = mask.view(np.uint8)
        return np.array(m, order="C", copy=True) if copy else np.ascontiguousarray(m)
    return np.ascontiguousarray((mask > 0).view(np.uint8))


class LabelDocument:
    """Labels and overlays of the image shown under ``key``; the undo history is shared across images."""

    def __init__(self, history: UndoHistory) -> None:
        self.history = history
        self.key = ""
        self.image: np.ndarray | None = None
        self.labels: dict[str, np.ndarray] = {}
        self.labelled: set[str] = set()
        self.edited: set[str] = set()
        self.probs: dict[str, np.ndarray] = {}
        self.preds: dict[str, np.ndarray] = {}
        self.thresholds: dict[str, float] = {}
        self.roi: np.ndarray | None = None
        self._areas: dict[str, int] = {}
        self._fpfn: dict[str, np.ndarray] = {}
        self._stroke: StrokeRecorder | None = None
        self._stroke_cls = ""
        self._unlabelled_at_start: dict[str, set[str]] = {}  # image key -> classes without a label before its history

    # -- content -------------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (0, 0) if self.image is None else self.image.shape[:2]

    def set_image(self, key: str, rgb: np.ndarray) -> None:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
        self.key, self.image = key, np.ascontiguousarray(rgb)
        self.labels, self.labelled, self.edited = {}, set(), set()
        self.probs, self.preds, self.thresholds = {}, {}, {}
        self.roi, self._areas, self._fpfn, self._stroke = None, {}, {}, None

    def _check(self, what: str, arr: np.ndarray) -> None:
        if arr.shape[:2] != self.shape:
            raise LabelSizeError(f"The {what} is {arr.shape[1]}×{arr.shape[0]} px but the image is "
                                 f"{self.shape[1]}×{self.shape[0]} px.")

    def set_labels(self, labels: dict[str, np.ndarray | None], owned: frozenset[str] = frozenset()) -> None:
        """``owned``: classes whose arrays nobody else keeps (freshly read): a bool one is kept without a copy."""
        for name, mask in labels.items():
            if mask is not None:
                self._check(f"label '{name}'", mask)
        self.labels = {name: (np.zeros(self.shape, np.uint8) if m is None else
                              _as_u8_mask(m, copy=name not in owned or not m.flags.writeable))
                       for name, m in labels.items()}
        self.labelled = {name for name, m in labels.items() if m is not None}
        self.edited, self._areas, self._fpfn, self._stroke = set(), {}, {}, None
        if self.history.can_undo(self.key) or self.history.can_redo(self.key):
            start = self._unlabelled_at_start.get(self.key, set())
        else:  # no history to go back through: what is on disk now is the start
            start = set()
        self._unlabelled_at_start[self.key] = start | (set(labels) - self.labelled)

    def set_prediction(self, name: str, prob: np.ndarray | None, threshold: float = 0.5) -> None:
        self._fpfn.pop(name, None)
        if prob is None:
            for store in (self.probs, self.preds, self.thresholds):
                store.pop(name, None)
            return
        self._check(f"prediction for '{name}'", prob)
        self.probs[name], self.thresholds[name] = prob, float(threshold)
        self.preds[name] = np.ascontiguousarray((prob >= threshold).view(np.uint8))

    def set_roi(self, roi: np.ndarray | None) -> None:
        if roi is not None:
            self._check("region of interest", roi)
        self.roi = None if roi is None else _as_u8_mask(roi, copy=False)
        self._fpfn = {}

    def area(self, name: str) -> int:
        if name not in self._areas:
            self._areas[name] = int(np.count_nonzero(self.labels[name])) if name in self.labels else 0
        return self._areas[name]

    def fpfn(self, name: str) -> np.ndarray | None:
        """FP/FN codes of the thresholded prediction vs. the label of ``name`` (inside the ROI); ``None`` without a
        prediction or before the class is labelled. Built lazily, then kept current inside each edit's bbox."""
        if name not in self.preds or name not in self.labelled or name not in self.labels:
            return None
        if name not in self._fpfn:
            self._fpfn[name] = masks.fp_fn_codes(self.preds[name], self.labels[name], self.roi)
        return self._fpfn[name]

    def drop_fpfn_except(self, name: str) -> None:
        """Free the FP/FN codes of the other classes (one full-size byte map each)."""
        self._fpfn = {k: v for k, v in self._fpfn.items() if k == name}

    # -- edits ---------------------------------------------------------------------------------------------------
    def _edited(self, name: str, bbox: BBox, area_delta: int) -> None:
        self.edited.add(name)
        if name in self._areas:  # a cold cache is counted afresh, after the edit
            self._areas[name] += area_delta
        if self.area(name) == 0 and name in self._unlabelled_at_start.get(self.key, ()):
            self.labelled.discard(name)
        else:
            self.labelled.add(name)
        codes = self._fpfn.get(name)
        if codes is not None:
            s = bbox_slices(bbox)
            roi = None if self.roi is None else self.roi[s]
            codes[s] = masks.fp_fn_codes(self.preds[name][s], self.labels[name][s], roi)

    def begin_stroke(self, name: str) -> None:
        self._stroke, self._stroke_cls = StrokeRecorder(self.labels[name]), name

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
        old = int(np.count_nonzero(sub[region.mask]))
        sub[region.mask] = value
        new = region.area if value else 0
        self._edited(name, region.bbox, new - old)
        return region.bbox

    def apply_region(self, name: str, region: Region | None, value: int) -> BBox | None:
        """Set a selection to ``value`` as one undoable step; returns the bbox when something changed."""
        if region is None or name not in self.labels:
            return None
        before = self.labels[name][bbox_slices(region.bbox)].copy()
        if np.all(before[region.mask] == value):
            return None
        self._apply(name, region, value)
        self.history.push(self.key, name, region.bbox, self.shape, before, self.labels[name][bbox_slices(region.bbox)])
        return region.bbox

    def accept_prediction(self, name: str, region: np.ndarray | Region | None = None) -> BBox | None:
        """Copy the thresholded prediction into the label: everywhere, or where ``region`` (full-size mask or a
        cropped :class:`Region`) is true. One undoable step covering only the pixels that change."""
        pred, label = self.preds.get(name), self.labels.get(name)
        if pred is None or label is None:
            return None
        self.labelled.add(name)
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
        self._edited(name, tight, int(np.count_nonzero(label[t])) - int(np.count_nonzero(before)))
        self.history.push(self.key, name, tight, self.shape, before, label[t])
        return tight

    def undo(self) -> UndoStep | None:
        return self._restore(self.history.undo(self.key), undo=True)

    def redo(self) -> UndoStep | None:
        return self._restore(self.history.redo(self.key), undo=False)

    def _restore(self, step: UndoStep | None, undo: bool) -> UndoStep | None:
        if step is None:
            return None
        label = self.labels.get(step.cls)
        expected, target = (step.after(), step.before()) if undo else (step.before(), step.after())
        s = bbox_slices(step.bbox)
        if label is None or step.image_shape != self.shape or not np.array_equal(label[s], expected):
            log.warning("Undo history of %s no longer matches its labels (reloaded?); history cleared.", self.key)
            self.history.clear(self.key)
            return None
        old = int(np.count_nonzero(label[s]))
        label[s] = target
        self._edited(step.cls, step.bbox, int(np.count_nonzero(target)) - old)
        return step
