"""Which files of a project's image folder are its images (ProjectFolder.refresh_images): every image file there but
hidden ones, by name, not its subfolders' nor those the user removed from the project; in a folder project's own
folder (the photos' folder) also not the new files beside a photo that are its mask or a byte copy of it.

A trial "started a mask" by copying `a.jpg` to `a_mask.jpg`: File → Import masks… set the copy aside as the photo,
and reopening the folder listed it as a new image to label. The listing is decided here, once for every opening.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from medseg_gui.core.images import IMAGE_SUFFIXES
from medseg_gui.core.mask_files import masks_beside, named_after_another, photo_copies
from medseg_gui.core.names import listable, shown_name

log = logging.getLogger(__name__)


class ImageListing(NamedTuple):
    """list_image_folder's answer."""

    files: list[Path]  # the image files to list, by name (those listed already among them)
    masks: dict[Path, str]  # new files left out as masks beside their photos: masks_beside's {mask: "" or why}
    copies: dict[Path, Path]  # new files left out as byte copies of the photo they are named after: {copy: photo}


def _is_image_file(path: Path) -> bool:
    return not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def list_image_folder(folder: Path, root: Path, excluded: Collection[str], known: Collection[str],
                      beside: bool) -> ImageListing:
    """The image files of `folder` (in the project folder `root`) to list, but the `excluded` entry paths (removed by
    the user). With `beside` (a folder project's own folder) a file not `known` (an entry path: entries already
    listed stay, masks or not) is left out when it is a byte copy of the photo it is named after (photo_copies) or
    a mask beside it (masks_beside, which reads it: call off the GUI thread); a file named after a photo that reads
    as a photo (`scan_2.jpg`) is listed, and the log says so once, when it is new."""
    files = listable(sorted((p for p in folder.iterdir() if _is_image_file(p)), key=lambda p: p.name))
    files = [p for p in files if p.relative_to(root).as_posix() not in excluded]
    if not beside:
        return ImageListing(files, {}, {})
    new = [p for p in files if p.name not in known]
    masks = masks_beside(files, new)  # first: a copy of a mask (`a_mask_old.png`) is a mask, not a copy of a photo
    copies = photo_copies([p for p in files if p not in masks], [p for p in new if p not in masks])
    if copies:
        first = next(iter(copies))
        log.warning("%d file(s) in %s hold the bytes of the photo they are named after (like %s, a copy of %s): not "
                    "listed as images", len(copies), folder, shown_name(first.name), shown_name(copies[first].name))
    if masks:
        log.warning("%d file(s) in %s are named after a photo there and read as masks (like %s): not listed as "
                    "images; import them as masks", len(masks), folder, shown_name(next(iter(masks)).name))
    photos = [p for p in named_after_another(files) if p.name not in known and p not in copies and p not in masks]
    if photos:
        log.info("%d new file(s) in %s are named after a photo there but read as photos, not masks (like %s): listed "
                 "as images", len(photos), folder, shown_name(photos[0].name))
    return ImageListing([p for p in files if p not in copies and p not in masks], masks, copies)
