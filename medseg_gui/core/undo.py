"""Bounded undo/redo of label edits as per-stroke bounding-box patches (no Qt, never whole-image copies).

Each step keeps the before/after pixels of the edit's bounding box, bit-packed and zlib-compressed, plus the
image key and class name; an edit that also set every other pixel to one value (a sparse start: all background
before, all "not annotated" after) keeps those two values (``fill``) instead of two whole-image planes; a step that
accepted a prediction whole says so (``accepted``). History is kept **per image key** and survives image switches;
one global byte budget (default 256 MB) and a per-image step cap evict the globally oldest steps first. Undo works
across class switches (a step remembers its class). ``events.changed(key)`` after every change of the stacks (for
Edit → Undo / Redo).
"""

from __future__ import annotations

import itertools
import zlib
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from medseg_gui.core.masks import BBox, bbox_slices, bbox_union
from medseg_gui.core.review import Events

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_STEPS = 1000
_OVERHEAD_BYTES = 200


def _pack(patch: np.ndarray) -> bytes:
    """Label codes 0–3 (``core.masks``: 2 = not annotated) as one bit plane, or two when any code is above 1."""
    low = np.packbits(patch & 1 if patch.dtype != np.bool_ else patch).tobytes()
    if patch.dtype == np.bool_ or not (patch > 1).any():
        return b"\x01" + zlib.compress(low, 1)
    return b"\x02" + zlib.compress(low + np.packbits(patch >> 1 & 1).tobytes(), 1)


def _unpack(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    n = shape[0] * shape[1]
    bits = np.frombuffer(zlib.decompress(data[1:]), dtype=np.uint8)
    low = np.unpackbits(bits, count=n).reshape(shape)
    if data[0] == 1:
        return low
    high = np.unpackbits(bits[(n + 7) // 8:], count=n).reshape(shape)
    return low | (high << 1)


@dataclass(frozen=True)
class UndoStep:
    """One edit of one class label: the bbox patch before and after, stored compressed (label codes 0/1/2)."""

    key: str
    cls: str
    bbox: BBox
    image_shape: tuple[int, int]
    _before: bytes = field(repr=False)
    _after: bytes = field(repr=False)
    seq: int = 0
    fill: tuple[int, int] | None = None  # (before, after) value of every pixel outside the bbox; None: unchanged
    accepted: bool = False  # the step made the label a model's prediction accepted whole (core.label_status)

    @classmethod
    def create(cls, key: str, name: str, bbox: BBox, image_shape: tuple[int, int], before: np.ndarray,
               after: np.ndarray, seq: int = 0, fill: tuple[int, int] | None = None,
               accepted: bool = False) -> UndoStep:
        return cls(key, name, bbox, image_shape, _pack(before), _pack(after), seq, fill, accepted)

    @property
    def shape(self) -> tuple[int, int]:
        y0, x0, y1, x1 = self.bbox
        return (y1 - y0, x1 - x0)

    @property
    def nbytes(self) -> int:
        return len(self._before) + len(self._after) + _OVERHEAD_BYTES

    def before(self) -> np.ndarray:
        """uint8 label-code patch (0/1, 2 = not annotated) of the bbox as it was before the edit."""
        return _unpack(self._before, self.shape)

    def after(self) -> np.ndarray:
        """uint8 label-code patch of the bbox as it was after the edit."""
        return _unpack(self._after, self.shape)


class UndoHistory:
    """Per-image undo/redo stacks under one byte budget. ``push`` clears that image's redo stack; every change
    emits ``events.changed(key)`` (key None: all images)."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES, max_steps: int = DEFAULT_MAX_STEPS) -> None:
        self.events = Events(("changed",))
        self.budget_bytes = int(budget_bytes)
        self.max_steps = int(max_steps)
        self._undo: dict[str, deque[UndoStep]] = {}
        self._redo: dict[str, list[UndoStep]] = {}
        self._bytes = 0
        self._seq = itertools.count()

    def push(self, key: str, cls: str, bbox: BBox, image_shape: tuple[int, int],
             before: np.ndarray, after: np.ndarray, fill: tuple[int, int] | None = None,
             accepted: bool = False) -> UndoStep:
        """``fill``: (before, after) value of every pixel outside ``bbox``, when the edit set them all (see UndoStep);
        ``accepted``: the edit accepted a prediction as the label."""
        step = UndoStep.create(key, cls, bbox, image_shape, before, after, next(self._seq), fill, accepted)
        self._drop(self._redo.pop(key, []))
        stack = self._undo.setdefault(key, deque())
        stack.append(step)
        self._bytes += step.nbytes
        while len(stack) > self.max_steps:
            self._drop([stack.popleft()])
        self._evict()
        self.events.changed.emit(key)
        return step

    def undo(self, key: str) -> UndoStep | None:
        """Pop the newest step of ``key`` onto its redo stack; the caller writes ``step.before()`` back."""
        stack = self._undo.get(key)
        if not stack:
            return None
        step = stack.pop()
        self._redo.setdefault(key, []).append(step)
        self.events.changed.emit(key)
        return step

    def redo(self, key: str) -> UndoStep | None:
        """Pop the newest undone step of ``key`` back onto its undo stack; the caller writes ``step.after()``."""
        stack = self._redo.get(key)
        if not stack:
            return None
        step = stack.pop()
        self._undo.setdefault(key, deque()).append(step)
        self.events.changed.emit(key)
        return step

    def can_undo(self, key: str) -> bool:
        return bool(self._undo.get(key))

    def can_redo(self, key: str) -> bool:
        return bool(self._redo.get(key))

    def steps(self, key: str) -> int:
        return len(self._undo.get(key, ()))

    def newest(self, key: str, cls: str) -> UndoStep | None:
        """The newest step of ``cls`` on ``key`` still applied (not undone), if the history holds one."""
        return next((step for step in reversed(self._undo.get(key, ())) if step.cls == cls), None)

    def classes(self, key: str) -> set[str]:
        """The classes with a step of ``key`` to undo or redo."""
        return {step.cls for step in (*self._undo.get(key, ()), *self._redo.get(key, ()))}

    @property
    def memory_bytes(self) -> int:
        return self._bytes

    def clear(self, key: str | None = None) -> None:
        """Forget the history of one image (e.g. its labels were reloaded with other content), or of all."""
        keys = list(set(self._undo) | set(self._redo)) if key is None else [key]
        for k in keys:
            self._drop(self._undo.pop(k, deque()))
            self._drop(self._redo.pop(k, []))
        self.events.changed.emit(key)

    def _drop(self, steps) -> None:
        for step in steps:
            self._bytes -= step.nbytes

    def _evict(self) -> None:
        """Drop the globally oldest steps (by creation order, undo or redo) until the budget holds."""
        while self._bytes > self.budget_bytes:
            candidates = [(s[0].seq, k, "undo") for k, s in self._undo.items() if s]
            candidates += [(s[0].seq, k, "redo") for k, s in self._redo.items() if s]
            if not candidates:
                break
            _, key, kind = min(candidates)
            if kind == "undo":
                self._drop([self._undo[key].popleft()])
            else:
                self._drop([self._redo[key].pop(0)])


class StrokeRecorder:
    """Captures the "before" pixels of an edit whose extent grows while it happens (a brush stroke), tile by tile.

    Call :meth:`touch` with a bbox *before* modifying it; at the end :meth:`before` rebuilds the stroke's bbox as it
    was. Memory is proportional to the tiles touched, not to the image.
    """

    def __init__(self, target: np.ndarray, tile: int = 64) -> None:
        self._target = target
        self._tile = tile
        self._saved: dict[tuple[int, int], np.ndarray] = {}
        self.bbox: BBox | None = None

    def touch(self, bbox: BBox | None) -> None:
        if bbox is None:
            return
        self.bbox = bbox_union(self.bbox, bbox)
        t = self._tile
        y0, x0, y1, x1 = bbox
        for ty in range(y0 // t, (y1 - 1) // t + 1):
            for tx in range(x0 // t, (x1 - 1) // t + 1):
                if (ty, tx) not in self._saved:
                    self._saved[(ty, tx)] = self._target[ty * t:(ty + 1) * t, tx * t:(tx + 1) * t].copy()

    def before(self) -> np.ndarray:
        """The stroke bbox's pixels as they were before the first touch (requires a non-empty bbox)."""
        assert self.bbox is not None
        y0, x0, y1, x1 = self.bbox
        out = self._target[bbox_slices(self.bbox)].copy()
        t = self._tile
        for (ty, tx), patch in self._saved.items():
            ty0, tx0 = ty * t, tx * t
            sy0, sx0 = max(ty0, y0), max(tx0, x0)
            sy1, sx1 = min(ty0 + patch.shape[0], y1), min(tx0 + patch.shape[1], x1)
            if sy1 > sy0 and sx1 > sx0:
                out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = patch[sy0 - ty0:sy1 - ty0, sx0 - tx0:sx1 - tx0]
        return out
