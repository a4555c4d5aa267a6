"""Import public dataset layouts (DRIVE, CHASE_DB1, STARE) or a plain folder into a new project.

Each layout is a function that yields `Found(image, label, roi, split)` paths; `import_dataset` copies them in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from medseg_gui.core.errors import ImageReadError, ProjectError
from medseg_gui.core.images import IMAGE_SUFFIXES, read_mask
from medseg_gui.core.project import Project

log = logging.getLogger(__name__)

LAYOUTS = ("drive", "chase", "stare", "folder")


@dataclass(frozen=True)
class Found:
    """One image of a dataset with its optional label and ROI files."""

    image: Path
    label: Path | None = None
    roi: Path | None = None
    split: str | None = None


def _images_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _first(folder: Path, pattern: str) -> Path | None:
    hits = sorted(folder.glob(pattern)) if folder.is_dir() else []
    return hits[0] if hits else None


def find_drive(src: Path) -> Iterator[Found]:
    """DRIVE: `training|test/images/NN_split.tif`, `1st_manual/NN_manual1.gif`, `mask/NN_split_mask.gif`."""
    for split in ("training", "test"):
        base = src / split
        for image in _images_in(base / "images"):
            number = image.stem.split("_")[0]
            yield Found(
                image=image,
                label=_first(base / "1st_manual", f"{number}_manual1.*"),
                roi=_first(base / "mask", f"{image.stem}_mask.*"),
                split=split,
            )


def find_chase(src: Path) -> Iterator[Found]:
    """CHASE_DB1 flat layout: `Image_NNX.jpg`, `Image_NNX_1stHO.png`, `Image_NNX_mask.png`."""
    for image in _images_in(src):
        if not re.fullmatch(r"Image_\d+[LR]", image.stem):
            continue
        yield Found(image=image, label=_first(src, f"{image.stem}_1stHO.*"), roi=_first(src, f"{image.stem}_mask.*"))


def find_stare(src: Path) -> Iterator[Found]:
    """STARE: `images/imNNNN.ppm`, `1st_manual/imNNNN.ah.ppm` (Hoover's labels), optional `mask/imNNNN*`."""
    for image in _images_in(src / "images"):
        yield Found(image=image, label=_first(src / "1st_manual", f"{image.stem}.ah.*"), roi=_first(src / "mask", f"{image.stem}*"))


def find_folder(src: Path, masks: Path | None = None) -> Iterator[Found]:
    """A plain folder of images; labels from `masks/` named `<stem>.*` or `<stem>_<anything>.*` when given."""
    for image in _images_in(src):
        label = None
        if masks is not None:
            label = _first(masks, f"{image.stem}.*") or _first(masks, f"{image.stem}_*")
        yield Found(image=image, label=label)


def import_dataset(
    src: Path, dest: Path, layout: str, cls: str = "vessel", masks: Path | None = None
) -> Project:
    """Create a project at `dest` from the dataset at `src`; labels go to class `cls`, FOV masks to roi/."""
    src, dest = Path(src), Path(dest)
    if not src.is_dir():
        raise ProjectError(f"Cannot import: {src} is not a folder.")
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
    project = Project.create(dest)
    if cls not in project.class_names:
        project.add_class(cls, (255, 255, 0))
    for item in found:
        entry = project.add_image(item.image, copy=True)
        if item.split:
            project.set_state(entry.stem, "split", item.split)
        try:
            if item.label is not None:
                project.save_label(cls, entry.stem, read_mask(item.label))
            if item.roi is not None:
                project.save_roi(entry.stem, read_mask(item.roi))
        except ImageReadError as err:
            log.warning("%s: %s (imported without it)", entry.stem, err)
    project.save()
    return project
