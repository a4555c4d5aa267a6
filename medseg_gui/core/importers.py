"""Import public dataset layouts (DRIVE, CHASE_DB1, STARE) or a plain folder into a new project.

Each layout is a function that yields `Found(image, label, roi, split)` paths; `import_dataset` copies them in.
"""

from __future__ import annotations

import glob
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medseg_gui.core.errors import ImageReadError, LabelSizeError, ProjectError
from medseg_gui.core.images import IMAGE_SUFFIXES, probe_image, read_mask
from medseg_gui.core.project import DEFAULT_CLASSES, ClassSpec, Project

log = logging.getLogger(__name__)

LAYOUTS = ("drive", "chase", "stare", "folder")


@dataclass(frozen=True)
class Found:
    """One image of a dataset with its optional label and ROI files."""

    image: Path
    label: Path | None = None
    roi: Path | None = None
    split: str | None = None


def _is_image(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if _is_image(p)) if folder.is_dir() else []


def _first(folder: Path, prefix: str, pattern: str) -> Path | None:
    """The first image file (by name) in `folder` matching glob `prefix + pattern`; `prefix` is taken literally."""
    hits = sorted(p for p in folder.glob(glob.escape(prefix) + pattern) if _is_image(p)) if folder.is_dir() else []
    return hits[0] if hits else None


def find_drive(src: Path) -> Iterator[Found]:
    """DRIVE: `training|test/images/NN_split.tif`, `1st_manual/NN_manual1.gif`, `mask/NN_split_mask.gif`."""
    for split in ("training", "test"):
        base = src / split
        for image in _images_in(base / "images"):
            number = image.stem.split("_")[0]
            yield Found(
                image=image,
                label=_first(base / "1st_manual", number, "_manual1.*"),
                roi=_first(base / "mask", image.stem, "_mask.*"),
                split=split,
            )


def find_chase(src: Path) -> Iterator[Found]:
    """CHASE_DB1 flat layout: `Image_NNX.jpg`, `Image_NNX_1stHO.png`, `Image_NNX_mask.png`."""
    for image in _images_in(src):
        if not re.fullmatch(r"Image_\d+[LR]", image.stem):
            continue
        yield Found(image=image, label=_first(src, image.stem, "_1stHO.*"), roi=_first(src, image.stem, "_mask.*"))


def find_stare(src: Path) -> Iterator[Found]:
    """STARE: `images/imNNNN.ppm`, `1st_manual/imNNNN.ah.ppm` (Hoover's labels), optional `mask/imNNNN*`."""
    for image in _images_in(src / "images"):
        label = _first(src / "1st_manual", image.stem, ".ah.*")
        yield Found(image=image, label=label, roi=_first(src / "mask", image.stem, "*"))


def find_folder(src: Path, masks: Path | None = None) -> Iterator[Found]:
    """A plain folder of images; labels from `masks/` named `<stem>.*` or `<stem>_<anything>.*` when given."""
    for image in _images_in(src):
        label = None
        if masks is not None:
            label = _first(masks, image.stem, ".*") or _first(masks, image.stem, "_*")
        yield Found(image=image, label=label)


def import_dataset(
    src: Path, dest: Path, layout: str, cls: str = "vessel", masks: Path | None = None
) -> Project:
    """Create a project at `dest` from the dataset at `src`; labels go to class `cls`, FOV masks to roi/.

    Unreadable images are skipped and unreadable or mis-sized label/ROI files left out, each with a logged warning.
    """
    src, dest = Path(src), Path(dest)
    masks = Path(masks) if masks is not None else None
    if not src.is_dir():
        raise ProjectError(f"Cannot import: {src} is not a folder.")
    if masks is not None and not masks.is_dir():
        raise ProjectError(f"Cannot import: the masks folder {masks} is not a folder.")
    finders = {"drive": find_drive, "chase": find_chase, "stare": find_stare}
    if layout == "folder":
        found = list(find_folder(src, masks))
    elif layout in finders:
        found = list(finders[layout](src))
    else:
        raise ProjectError(f"Unknown layout '{layout}'; choose one of: {', '.join(LAYOUTS)}.")
    if not found:
        raise ProjectError(f"No images found in {src} for the '{layout}' layout — check the folder and --layout.")
    if (dest / "project.json").exists():
        raise ProjectError(f"{dest} already holds a project; choose a new folder.")
    classes = DEFAULT_CLASSES
    if cls not in {c.name for c in classes}:
        classes += (ClassSpec(cls, (255, 255, 0)),)
    project = Project.create(dest, classes)  # checks the class names before it writes anything
    for item in found:
        _import_one(project, item, cls)
    return project


def _import_one(project: Project, item: Found, cls: str) -> None:
    """Copy one image in (skipped if unreadable) with its label and ROI (each left out if unreadable or mis-sized)."""
    try:
        probe_image(item.image)
    except ImageReadError as err:
        log.warning("skipped %s: %s", item.image, err)
        return
    entry = project.add_image(item.image, copy=True)
    if item.split:
        project.set_state(entry.stem, "split", item.split)
    if item.label is not None:
        _add_mask(item, "label", item.label, lambda mask: project.save_label(cls, entry.stem, mask))
    if item.roi is not None:
        _add_mask(item, "region of interest", item.roi, lambda mask: project.save_roi(entry.stem, mask))


def _add_mask(item: Found, what: str, path: Path, save: Callable[[np.ndarray], None]) -> None:
    try:
        save(read_mask(path))
    except (ImageReadError, LabelSizeError) as err:
        log.warning("%s imported without its %s: %s", item.image.name, what, err)
