"""Everything the canvas needs for one image, loaded and checked: image, labels, predictions, ROI; and the worker that
loads a large image off the GUI thread.

A label, prediction or ROI whose size differs from the image is left out with a clinician-readable warning instead
of crashing the canvas; an unreadable image raises ImageReadError. Decoding an 8000×8000 image takes seconds, so an
image over ``FOREGROUND_MAX_PIXELS`` (judged from its file header) is loaded by a `ViewLoader` on a worker thread;
smaller ones load at once, faster than a repaint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medseg_gui.core.errors import ImageReadError, MedsegError
from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.workers.base import Worker

log = logging.getLogger(__name__)

FOREGROUND_MAX_PIXELS = 2_000_000  # DRIVE, STARE and CHASE_DB1 images load on the GUI thread (< 50 ms)


@dataclass(frozen=True)
class ImageView:
    """One image's arrays, freshly read for this view (nobody else holds them)."""

    stem: str
    rgb: np.ndarray
    labels: dict[str, np.ndarray | LabelPixels | None]  # LabelPixels: a sparse label
    predictions: dict[str, np.ndarray | None]
    roi: np.ndarray | None
    warnings: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.rgb.shape[0]), int(self.rgb.shape[1])


def _size_warning(what: str, stem: str, shape: tuple[int, ...], image_shape: tuple[int, int]) -> str:
    return (
        f"The {what} of {stem} is {shape[1]}×{shape[0]} pixels but the image is {image_shape[1]}×{image_shape[0]}; "
        f"it was not loaded. Draw a new one (it will replace the file) or fix the file on disk."
    )


def _checked(load: Any, what: str, stem: str, image_shape: tuple[int, int], warnings: list[str]) -> Any:
    try:
        array = load()
    except ImageReadError as err:
        warnings.append(f"The {what} of {stem} cannot be read: {err}")
        return None
    except MedsegError as err:  # e.g. LabelSizeError raised by the loader itself
        warnings.append(str(err))
        return None
    shape = array.mask.shape if isinstance(array, LabelPixels) else getattr(array, "shape", image_shape)
    if array is not None and tuple(shape[:2]) != image_shape:
        warnings.append(_size_warning(what, stem, shape, image_shape))
        return None
    return array


def load_view(project: Any, stem: str) -> ImageView:
    """Load image `stem` with its labels/predictions for every class and its ROI; raises ImageReadError."""
    rgb = project.load_image(stem)
    shape = (int(rgb.shape[0]), int(rgb.shape[1]))
    warnings: list[str] = []
    labels: dict[str, np.ndarray | LabelPixels | None] = {}
    predictions: dict[str, np.ndarray | None] = {}
    for cls in project.class_names:
        label = _checked(lambda c=cls: project.load_label_pixels(c, stem), f"'{cls}' label", stem, shape, warnings)
        labels[cls] = label.mask if label is not None and label.annotated is None else label  # complete: the mask
        predictions[cls] = _checked(
            lambda c=cls: project.load_prediction(c, stem), f"'{cls}' prediction", stem, shape, warnings
        )
    roi = _checked(lambda: project.load_roi(stem), "region of interest", stem, shape, warnings)
    for message in warnings:
        log.warning(message)
    return ImageView(stem, rgb, labels, predictions, roi, warnings)


def load_overlays(project: Any, stem: str, cls: str, shape: tuple[int, int]
                  ) -> tuple[np.ndarray | None, np.ndarray | None, list[str]]:
    """(prediction of `cls`, ROI, warnings) of image `stem` of size `shape` (H, W), checked like `load_view`."""
    warnings: list[str] = []
    prob = _checked(lambda: project.load_prediction(cls, stem), f"'{cls}' prediction", stem, shape, warnings)
    roi = _checked(lambda: project.load_roi(stem), "region of interest", stem, shape, warnings)
    return prob, roi, warnings


def loads_in_background(path: Path) -> bool:
    """True for an image too large to decode on the GUI thread (or whose header cannot tell its size)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:  # reads the header only
            width, height = img.size
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return _file_size(path) > FOREGROUND_MAX_PIXELS // 2  # compressed bytes: a generous stand-in
    return width * height > FOREGROUND_MAX_PIXELS


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # missing: loading it at once reports the error at once


@dataclass(frozen=True)
class LoadedView:
    """What a `ViewLoader` hands the GUI: the view and what `prepare(view)` made of it (e.g. display pyramids)."""

    view: ImageView
    prepared: Any = None


class ViewLoader(Worker):
    """Loads `stem` with `load` (default `load_view`) on its thread, then runs `prepare(view)` there too, so only
    cheap work is left to the GUI; emits `finished(LoadedView)`, or `errored(err)` for an unreadable image."""

    def __init__(self, project: Any, stem: str, *, prepare: Callable[[ImageView], Any] | None = None,
                 load: Callable[[Any, str], ImageView] = load_view) -> None:
        super().__init__()
        self.project, self.stem, self._prepare, self._load = project, stem, prepare, load

    def work(self) -> LoadedView:
        view = self._load(self.project, self.stem)
        return LoadedView(view, self._prepare(view) if self._prepare is not None and not self.is_cancelled() else None)


def current_model_info(project: Any, cls: str) -> dict | None:
    """The metadata of the current model of `cls` (models/<cls>/current.json: val_auc, trained_at, preset, …), or
    None when there is no model or its description cannot be read."""
    path = project.model_dir(cls) / "current.json"
    try:
        info = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        log.warning("Cannot read %s: %s", path, err)
        return None
    return info if isinstance(info, dict) else None
