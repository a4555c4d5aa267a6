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

from medseg_gui.core.atomic import file_version
from medseg_gui.core.errors import ImageReadError, LabelSizeError, MedsegError
from medseg_gui.core.label_encoding import LabelPixels

log = logging.getLogger(__name__)

FOREGROUND_MAX_PIXELS = 250_000  # 500×500; DRIVE, STARE and CHASE_DB1 images (0.3-1 MP) load in the background


@dataclass(frozen=True)
class ImageView:
    """One image's arrays, freshly read for this view (nobody else holds them). `misfit`: the classes whose label file
    reads but is not the image's size (left out like an unreadable one, with the size warning)."""

    stem: str
    rgb: np.ndarray
    labels: dict[str, np.ndarray | LabelPixels | None]  # LabelPixels: a sparse label
    predictions: dict[str, np.ndarray | None]
    roi: np.ndarray | None
    warnings: list[str] = field(default_factory=list)
    misfit: frozenset[str] = frozenset()

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.rgb.shape[0]), int(self.rgb.shape[1])


READ_TRIES = 3  # an image file replaced while its view is read is read again (then its labels are judged by it)


def _size_warning(what: str, stem: str, size: tuple[int, int], image_size: tuple[int, int]) -> str:
    """What a file of `what` ("'lesion' label", "'lesion' prediction", "region of interest") whose `size` is not the
    image's (both (W, H)) means to the user."""
    file, image = f"{size[0]}×{size[1]} pixels", f"{image_size[0]}×{image_size[1]}"
    if what.endswith("prediction"):
        return f"The saved {what} of {stem} does not fit this image ({file}, the image {image}); Retrain or Predict " \
               "makes a new one."
    if what.endswith("label"):
        return f"The {what} of {stem} is {file} but the image is {image}; it was not loaded. Draw a new one (it will " \
               "replace the file) or fix the file on disk."
    return f"The {what} of {stem} is {file} but the image is {image}; it was not loaded (the whole image counts). " \
           "Fix the file on disk."


def _checked(load: Any, what: str, stem: str, image_shape: tuple[int, int], warnings: list[str],
             misfit: set[str] | None = None) -> Any:
    """`load()`, or None with a warning when it cannot be read or is not `image_shape` (H, W); then `what` is added
    to `misfit` where it is not the image's size."""
    try:
        array = load()
    except ImageReadError as err:
        warnings.append(f"The {what} of {stem} cannot be read: {err}")
        return None
    except LabelSizeError as err:  # raised by the loader itself, against the image's size on disk
        known = err.size is not None and err.image_size is not None
        warnings.append(_size_warning(what, stem, err.size, err.image_size) if known else str(err))
        size = None
    except MedsegError as err:
        warnings.append(str(err))
        return None
    else:
        size = _size_of(array)
        if array is None or size == image_shape:
            return array
        warnings.append(_size_warning(what, stem, (size[1], size[0]), (image_shape[1], image_shape[0])))
    if misfit is not None:
        misfit.add(what)
    return None


def _size_of(array: Any) -> tuple[int, int] | None:
    """(H, W) of a loaded mask or map (LabelPixels: its mask's)."""
    shape = array.mask.shape if isinstance(array, LabelPixels) else getattr(array, "shape", None)
    return None if shape is None else (int(shape[0]), int(shape[1]))


def load_view(project: Any, stem: str) -> ImageView:
    """Load image `stem` with its labels/predictions for every class and its ROI, to be shown and edited (the
    project remembers the label files' versions: core.project.Project); raises ImageReadError. An image file
    replaced meanwhile is read again, so the labels are judged by the image shown."""
    path = project.image_path(stem)
    for _try in range(READ_TRIES):
        version = file_version(path)
        view = _read_view(project, stem)
        if file_version(path) == version:
            break
        log.warning("%s changed on disk while it was read; reading it again", path)
    for message in view.warnings:
        log.warning(message)
    return view


def _read_view(project: Any, stem: str) -> ImageView:
    rgb = project.load_image(stem)
    shape = (int(rgb.shape[0]), int(rgb.shape[1]))
    warnings: list[str] = []
    misfit: set[str] = set()
    labels: dict[str, np.ndarray | LabelPixels | None] = {}
    predictions: dict[str, np.ndarray | None] = {}
    for cls in project.class_names:
        label = _checked(lambda c=cls: project.load_label_pixels(c, stem, remember=True), f"'{cls}' label", stem,
                         shape, warnings, misfit)
        labels[cls] = label.mask if label is not None and label.annotated is None else label  # complete: the mask
        predictions[cls] = _checked(
            lambda c=cls: project.load_prediction(c, stem), f"'{cls}' prediction", stem, shape, warnings
        )
    roi = _checked(lambda: project.load_roi(stem), "region of interest", stem, shape, warnings)
    misfit_classes = frozenset(cls for cls in project.class_names if f"'{cls}' label" in misfit)
    return ImageView(stem, rgb, labels, predictions, roi, warnings, misfit_classes)


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
