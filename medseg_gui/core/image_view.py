"""Everything the canvas needs for one image, read and checked: image, labels, predictions, ROI.

A label, prediction or ROI whose size differs from the image is left out with a clinician-readable warning instead
of crashing the canvas; an unreadable image raises ImageReadError. Decoding an 8000×8000 image takes seconds and a
2-megapixel one tens of milliseconds, so an image over ``FOREGROUND_MAX_PIXELS`` (judged from its file header,
`loads_in_background`) is loaded on a worker thread (workers.view_loader); smaller ones load at once, in about
as much time as a repaint (a 256×256 PNG with its labels: 2 ms of CPU).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from medseg_gui.core.errors import ImageReadError, MedsegError
from medseg_gui.core.label_encoding import LabelPixels

log = logging.getLogger(__name__)

FOREGROUND_MAX_PIXELS = 250_000  # 500×500; DRIVE, STARE and CHASE_DB1 images (0.3-1 MP) load in the background


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
    """Load image `stem` with its labels/predictions for every class and its ROI, to be shown and edited (the
    project remembers the label files' versions: core.project.Project); raises ImageReadError."""
    rgb = project.load_image(stem)
    shape = (int(rgb.shape[0]), int(rgb.shape[1]))
    warnings: list[str] = []
    labels: dict[str, np.ndarray | LabelPixels | None] = {}
    predictions: dict[str, np.ndarray | None] = {}
    for cls in project.class_names:
        label = _checked(lambda c=cls: project.load_label_pixels(c, stem, remember=True), f"'{cls}' label", stem,
                         shape, warnings)
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
