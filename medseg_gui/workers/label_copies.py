"""The label saver's own copies of labels (`LabelCopy`) and a queued save whose copy still needs a fill
(`FilledSave`): how a save copies only what changed since the copy was last written, and how a label set to one
value everywhere is filled on the saver thread, not the caller's (`workers.label_saver`)."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from medseg_gui.core.masks import BBox, LabelCodes, bbox_slices

Key = tuple[str, str]  # (class, stem)


@dataclass(eq=False)
class LabelCopy:
    """The saver's own copy of one label (codes 0/1/2); `source`: the live label it follows (`save_live`), with
    `dirty` the bbox where that label changed since the copy was last brought up to date. `pending_fill`: outside
    `dirty` the live label is this value (`LabelSaver.filled`) or another copy's codes (one being written when this
    copy was taken, `LabelSaver._take`); the copy is filled from it by the saver thread (`FilledSave`), not on the
    caller's."""

    codes: np.ndarray
    key: Key | None = None
    source: weakref.ref | None = None
    dirty: BBox | None = None
    data: Any = None  # what its last save queued: a bool view of `codes`, LabelCodes(codes) or a FilledSave
    pending_fill: int | LabelCopy | None = None
    fill_count: int = 0  # `filled` calls so far: a fill done for an older one leaves a newer one pending

    def update(self, live: np.ndarray, sparse: bool) -> np.ndarray | LabelCodes | FilledSave:
        """Bring the copy up to date with `live` (only its `dirty` bbox); what to queue."""
        if self.pending_fill is not None:  # `dirty` stays: everything changed since the fill
            bbox = self.dirty or (0, 0, 0, 0)
            patch = live[bbox_slices(bbox)].copy()
            self.data = FilledSave(self, self.pending_fill, self.fill_count, bbox, patch, sparse)
            return self.data
        if self.dirty is not None:
            s = bbox_slices(self.dirty)
            self.codes[s] = live[s]
            self.dirty = None
        self.data = LabelCodes(self.codes) if sparse else self.codes.view(bool)
        return self.data

    def fill(self, mask: np.ndarray) -> np.ndarray:
        """Copy a complete label's mask (bool or nonzero = class); what to queue."""
        self.data = self.codes.view(bool)
        np.copyto(self.data, mask, casting="unsafe")
        return self.data


class FilledSave:
    """A queued save of a copy with a pending fill (`LabelCopy.pending_fill`): the fill (a value, or a base copy's
    codes) everywhere, `patch` inside `bbox`. `label(lock)` writes that into the copy once, on the saver thread (or for
    `latest`), and returns what to save; the copy's pending fill is done then unless a newer one came meanwhile. A
    base copy counts as held (unchanged) until then (`base`)."""

    def __init__(self, copy: LabelCopy, fill: int | LabelCopy, count: int, bbox: BBox, patch: np.ndarray,
                 sparse: bool) -> None:
        self._copy, self._fill, self._count, self._sparse = copy, fill, count, sparse
        self._bbox, self._patch = bbox, patch
        self._label: np.ndarray | LabelCodes | None = None
        self._writing = threading.Lock()  # the saver thread and `latest` may both ask: one fills, the other waits

    @property
    def base(self) -> LabelCopy | None:
        """The copy whose codes this one is filled from, until it is."""
        return self._fill if isinstance(self._fill, LabelCopy) else None

    def label(self, lock: threading.Condition) -> np.ndarray | LabelCodes:
        with self._writing:
            if self._label is None:
                codes, base = self._copy.codes, self.base
                if base is None:
                    codes[...] = self._fill
                else:
                    if isinstance(base.data, FilledSave):  # its own fill first (done already unless it failed)
                        base.data.label(lock)
                    np.copyto(codes, base.codes)
                codes[bbox_slices(self._bbox)] = self._patch
                self._label = LabelCodes(codes) if self._sparse else codes.view(bool)
                with lock:
                    if self._copy.fill_count == self._count:
                        self._copy.pending_fill = None  # its `dirty` still covers every change since the patch
                    self._fill = 0  # the base is free again
            return self._label


def follows_nothing(copy: LabelCopy) -> bool:
    """The copy follows no live label (any more): a spare one."""
    return copy.source is None or copy.source() is None
