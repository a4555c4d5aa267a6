"""The review state of the open image: one Qt-free owner of the threshold, the probability map per class, which
classes are labelled and how much of a sparse label is annotated. The canvas, the image list (through the image
session) and the panels observe it through napari-style events, ``state.events.threshold.connect(fn)``; nobody
keeps a private copy.

Events (callbacks run at once, in connection order, on the caller's thread):
  image(stem)                    another image is under review: no prediction, no label yet
  threshold(value)               the threshold changed (emitted only on a change)
  prediction(cls)                the probability map of ``cls`` was set or removed
  label(cls, stem, present)      an edit of ``cls`` finished; ``present``: the class has a label now
  annotated(cls, stem, share)    annotated share of a sparse label of ``cls`` (None: complete or no label)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from medseg_gui.core.uncertainty import uncertainty_u8

Callback = Callable[..., Any]
EVENT_NAMES = ("image", "threshold", "prediction", "label", "annotated")


class Event:
    """Plain callbacks: ``connect(fn)`` (returns ``fn``, so it works as a decorator), ``disconnect(fn)``,
    ``emit(*args)``. A callback connected twice is called once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback] = []

    def connect(self, fn: Callback) -> Callback:
        if fn not in self._callbacks:
            self._callbacks.append(fn)
        return fn

    def disconnect(self, fn: Callback) -> None:
        if fn in self._callbacks:
            self._callbacks.remove(fn)

    def emit(self, *args: Any) -> None:
        for fn in list(self._callbacks):
            fn(*args)


class Events:
    """One ``Event`` per name, as attributes: ``events.threshold.connect(fn)``."""

    def __init__(self, names: tuple[str, ...]) -> None:
        for name in names:
            setattr(self, name, Event(name))

    def __getattr__(self, name: str) -> Event:  # only reached for an unknown name
        raise AttributeError(f"no event {name!r}")


class ReviewState:
    """What is known about the open image ``stem`` beyond its pixels and labels.

    ``probs``: class → float32 HxW probability map in [0, 1]; ``labelled``: classes with a label on this image (kept
    current by the label document while an edit runs, published by ``label_edited``); ``shares``: class → annotated
    share of a sparse label (None: complete). Read the attributes freely; change them only through the methods."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.events = Events(EVENT_NAMES)
        self.stem: str | None = None
        self.threshold = float(threshold)
        self.probs: dict[str, np.ndarray] = {}
        self.labelled: set[str] = set()
        self.shares: dict[str, float | None] = {}
        self._uncertainty: dict[str, tuple[np.ndarray, float, np.ndarray]] = {}  # class → (prob, threshold, map)

    def open(self, stem: str | None) -> None:
        """Another image: no prediction, no label until they are set; the threshold stays."""
        self.stem, self.probs, self.labelled, self.shares, self._uncertainty = stem, {}, set(), {}, {}
        self.events.image.emit(stem)

    def set_threshold(self, threshold: float) -> None:
        threshold = float(threshold)
        if threshold != self.threshold:
            self.threshold = threshold
            self.events.threshold.emit(threshold)

    def set_prediction(self, cls: str, prob: np.ndarray | None) -> None:
        """``prob``: float HxW in [0, 1] (kept, not copied), or None to remove it."""
        self._uncertainty.pop(cls, None)
        if prob is None:
            self.probs.pop(cls, None)
        else:
            self.probs[cls] = prob
        self.events.prediction.emit(cls)

    def uncertainty(self, cls: str) -> np.ndarray | None:
        """uint8 HxW closeness of the prediction of ``cls`` to the threshold (core.uncertainty), None without a
        prediction; computed when first asked for and kept until the map or the threshold changes."""
        prob = self.probs.get(cls)
        if prob is None:
            return None
        cached = self._uncertainty.get(cls)
        if cached is None or cached[0] is not prob or cached[1] != self.threshold:
            self._uncertainty = {cls: (prob, self.threshold, uncertainty_u8(prob, self.threshold))}  # one at a time
            cached = self._uncertainty[cls]
        return cached[2]

    # -- labels (the label document decides while an edit runs; the image session publishes when it ends) --------
    def set_labelled(self, cls: str, present: bool) -> None:
        """Mark ``cls`` labelled or not, silently (mid-edit); ``label_edited`` tells the observers."""
        if present:
            self.labelled.add(cls)
        else:
            self.labelled.discard(cls)

    def reset_labelled(self, labelled: set[str]) -> None:
        """The classes labelled as loaded (silently: nothing was edited)."""
        self.labelled = set(labelled)

    def label_edited(self, cls: str, share: float | None) -> None:
        """An edit of ``cls`` finished: emit ``label`` (is it labelled now) then ``annotated`` (``share``)."""
        self.events.label.emit(cls, self.stem, cls in self.labelled)
        self.set_share(cls, share)

    def set_share(self, cls: str, share: float | None) -> None:
        self.shares[cls] = share
        self.events.annotated.emit(cls, self.stem, share)
