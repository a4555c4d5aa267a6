"""Everything the canvas needs for one image, loaded and checked (no Qt): image, labels, predictions, ROI.

A label, prediction or ROI whose size differs from the image is left out with a clinician-readable warning instead
of crashing the canvas; an unreadable image raises ImageReadError.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medseg_gui.core.errors import ImageReadError, MedsegError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageView:
    stem: str
    rgb: np.ndarray
    labels: dict[str, np.ndarray | None]
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
    if array is not None and tuple(array.shape[:2]) != image_shape:
        warnings.append(_size_warning(what, stem, array.shape, image_shape))
        return None
    return array


def load_view(project: Any, stem: str) -> ImageView:
    """Load image `stem` with its labels/predictions for every class and its ROI; raises ImageReadError."""
    rgb = project.load_image(stem)
    shape = (int(rgb.shape[0]), int(rgb.shape[1]))
    warnings: list[str] = []
    labels: dict[str, np.ndarray | None] = {}
    predictions: dict[str, np.ndarray | None] = {}
    for cls in project.class_names:
        labels[cls] = _checked(lambda c=cls: project.load_label(c, stem), f"'{cls}' label", stem, shape, warnings)
        predictions[cls] = _checked(
            lambda c=cls: project.load_prediction(c, stem), f"'{cls}' prediction", stem, shape, warnings
        )
    roi = _checked(lambda: project.load_roi(stem), "region of interest", stem, shape, warnings)
    for message in warnings:
        log.warning(message)
    return ImageView(stem, rgb, labels, predictions, roi, warnings)


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
