"""Which file is which image's mask, for imports: image files of a folder, masks matched to images by name (also
when the masks lie beside their images, where a folder project leaves them out of its images: `masks_beside`), and a
mask drawn on a sideways camera photo turned upright with it.

Every rule that warns (a second mask of one image, masks matching no image, broken links, two images of one name)
names a file, so a user sees why an image came in without its label.
"""

from __future__ import annotations

import filecmp
import glob
import logging
import os
import re
from pathlib import Path

import cv2
import numpy as np

from medseg_gui.core.errors import ImageReadError, LabelSizeError, MaskFormatError
from medseg_gui.core.images import IMAGE_SUFFIXES, apply_orientation, header_orientation, read_label, read_mask
from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.core.names import shown_name

log = logging.getLogger(__name__)


def is_image_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_image_file(p)) if folder.is_dir() else []


def first_image(folder: Path, prefix: str, pattern: str) -> Path | None:
    """The first image file (by name) in `folder` matching glob `prefix + pattern`; `prefix` is taken literally."""
    hits = sorted(p for p in folder.glob(glob.escape(prefix) + pattern) if is_image_file(p)) if folder.is_dir() else []
    return hits[0] if hits else None


_SEPARATORS = frozenset("_.-")


def _owner(mask_stem: str, stems: set[str]) -> str | None:
    """The image stem a mask named `mask_stem` belongs to: itself, else the longest stem followed by _ . or -."""
    if mask_stem in stems:
        return mask_stem
    for i in range(len(mask_stem) - 1, 0, -1):
        if mask_stem[i] in _SEPARATORS and mask_stem[:i] in stems:
            return mask_stem[:i]
    return None


def match_masks(images: list[Path], folder: Path | None) -> dict[str, Path]:
    """{image stem: its mask in `folder`}: `<stem>.*` first, else the first (by name) `<stem>_<anything>.*` (or `.`,
    `-`) that no longer image stem claims, so `scan_2.png` is the mask of `scan_2`, never of `scan`."""
    return find_masks(images, folder)[0]


def find_masks(images: list[Path], folder: Path | None) -> tuple[dict[str, Path], list[Path], list[Path]]:
    """(match_masks' {image stem: its mask in `folder`}, the files of `folder` that no image claims, the files that
    are images themselves). No image is its own mask: not its own file when `folder` holds some of `images` (a folder
    project's own folder: `_masks_beside`), nor a copy of its photo (`_match`: a photo folder with masks beside)."""
    if folder is None:
        return {}, [], []
    files = image_files(folder)
    own: set[str] = set()
    if folder.is_dir():
        here = {parent for parent in {image.parent for image in images} if parent.resolve() == folder.resolve()}
        own = {image.name for image in images if image.parent in here}
    if own:
        matched, unmatched, photos = _masks_beside(images, own, files)
    else:
        matched, unmatched, photos = _match(images, files)  # a second mask of one image is warned of in _match
    if photos:
        log.warning("%d file(s) in %s are the images' own photos (like %s), never their masks", len(photos),
                    shown_name(folder), shown_name(photos[0].name))
    if unmatched:
        log.warning("%d file(s) in %s match no image (like %s), not imported%s", len(unmatched), shown_name(folder),
                    shown_name(unmatched[0].name), unmatched_hint(images, unmatched))
    broken = sorted(p.name for p in folder.iterdir() if p.is_symlink() and not p.exists()) if folder.is_dir() else []
    if broken:
        log.warning("%d link(s) in %s lead to no file (like %s), not imported", len(broken), shown_name(folder),
                    shown_name(broken[0]))
    return matched, unmatched, photos


def unmatched_hint(images: list[Path], unmatched: list[Path]) -> str:
    """Why files match none of `images`, where a likely cause shows ("; 1 differs from an image's name only in
    upper/lower case (like …)", or _prefix_hint's), else "": for the log and File → Import masks…'s summary."""
    lower = {image.stem.lower() for image in images}
    case = [m for m in unmatched if m.stem.lower() in lower]
    if case:
        return (f"; {len(case)} differ{'s' if len(case) == 1 else ''} from an image's name only in upper/lower case "
                f"(like {shown_name(case[0].name)})")
    return _word_before_hint(images, unmatched) or _prefix_hint(images, unmatched)


def _word_before_hint(images: list[Path], unmatched: list[Path]) -> str:
    """A hint when masks carry a word before their image's name (`mask_x.png` for `x.jpg`; a trial's clinic folder)."""
    stems = {image.stem: image for image in images}
    for m in unmatched:
        for i, c in enumerate(m.stem[:-1]):
            if c in _SEPARATORS and m.stem[i + 1:] in stems:
                image = stems[m.stem[i + 1:]]
                return (f"; {shown_name(m.name)} puts a word before its image's name: rename the masks "
                        f"{shown_name(image.stem)}_{shown_name(m.stem[:i])}{m.suffix} (the image's name first)")
    return ""


def _prefix_hint(images: list[Path], unmatched: list[Path]) -> str:
    """A hint when masks share only a leading ID with images (DRIVE: `21_training.tif`, `21_manual1.gif`), which
    --masks does not match (a mask must be named `<image>` or `<image>_…`): what the dataset layouts are for."""
    def lead(name: str) -> str:
        return re.split(r"[_.\-]", name, maxsplit=1)[0]

    by_lead = {lead(image.stem): image for image in images}
    pairs = [(by_lead[lead(m.stem)], m) for m in unmatched if lead(m.stem) in by_lead]
    if len(pairs) * 2 < len(unmatched):
        return ""
    image, mask = pairs[0]
    return (f"; names like {shown_name(image.name)} and {shown_name(mask.name)} share only their first part: rename "
            "the masks <image>_mask.*, or for the DRIVE download import its top folder with `medseg import "
            "--layout drive`")


def _match(images: list[Path], candidates: list[Path]) -> tuple[dict[str, Path], list[Path], list[Path]]:
    """({image stem: its mask among `candidates`}, the candidates no image claims, the candidates that are one of
    `images` itself or a byte-for-byte copy of it: the photo, never its own mask)."""
    by_stem: dict[str, list[Path]] = {}
    for image in images:
        by_stem.setdefault(image.stem, []).append(image)
    stems = set(by_stem)
    claims: dict[str, list[Path]] = {}
    unclaimed: list[Path] = []
    photos: list[Path] = []
    for mask in candidates:
        owner = _owner(mask.stem, stems)
        if owner is None:
            unclaimed.append(mask)
        elif any(_same_photo(image, mask) for image in by_stem[owner]):
            photos.append(mask)
        else:
            claims.setdefault(owner, []).append(mask)
    matched = {}
    for stem, masks in claims.items():
        masks.sort(key=lambda m: (m.stem != stem, m.name))
        matched[stem] = masks[0]
        if len(masks) > 1:
            ignored = ", ".join(shown_name(m.name) for m in masks[1:])
            log.warning("%s: using mask %s, not %s", shown_name(stem), shown_name(masks[0].name), ignored)
    return matched, unclaimed, photos


def _same_photo(image: Path, candidate: Path) -> bool:
    """Whether `candidate` is the file `image` or holds its bytes (a project's images are byte copies of the photos
    it was made from): stat-ed first, read only where the sizes are equal."""
    try:
        return os.path.samefile(image, candidate) or filecmp.cmp(image, candidate, shallow=False)
    except OSError:
        return False


def _named_after_another(files: list[Path]) -> list[Path]:
    """The `files` named after another of them plus `_…` (or `.…`, `-…`): beside their images, these are masks."""
    stems = {f.stem for f in files}
    return [f for f in files if _owner(f.stem, stems - {f.stem}) is not None]


def _read_beside(path: Path) -> str | None:
    """"" when core.images.read_label reads `path` as one class's mask, why when no decoder reads it at all, None
    when it decodes to no mask (a photo it refuses, "does not look like a mask", or a label map)."""
    try:
        read_label(path, "mask")
    except MaskFormatError:
        return None
    except ImageReadError as err:
        return str(err).rstrip(".")
    return ""


def masks_beside(files: list[Path], candidates: list[Path]) -> dict[Path, str]:
    """{candidate: "", or why it cannot be read} of the `candidates` that are masks beside their photos in a folder
    whose image files are `files`: named after another of `files` plus `_…` (or `.…`, `-…`, as images_and_masks)
    and read as a mask, or not readable at all (its name is all there is to go by: a damaged `x_mask.png` listed as
    an image would stay one); `scan_2.jpg` beside `scan.jpg` that reads as a photo is a second photo. Reads only the
    candidates so named."""
    named = set(_named_after_another(files))
    read = {path: _read_beside(path) for path in candidates if path in named}
    return {path: why for path, why in read.items() if why is not None}


def _masks_beside(images: list[Path], own: set[str], files: list[Path]
                  ) -> tuple[dict[str, Path], list[Path], list[Path]]:
    """find_masks in the folder of `files` that holds the `images` named `own` (a folder project's own): as in
    images_and_masks, a file named after another image is its mask and no file is its own mask; one of the images
    themselves (listed before masks were told apart) is a mask only where masks_beside takes it for one (an
    unreadable one too: the import then says why it left it out)."""
    named = _named_after_another(files)
    listed = masks_beside(files, [f for f in named if f.name in own])
    masks = sorted([f for f in named if f.name not in own] + list(listed))
    if masks:
        log.warning("the masks folder is the image folder: %d file(s) named after an image (like %s) are read as "
                    "masks, never an image's own file", len(masks), shown_name(masks[0].name))
    mask_names = {m.name for m in masks}
    matched, unclaimed, photos = _match([i for i in images if i.name not in mask_names & own], masks)
    others = [f for f in files if f.name not in own and f.name not in mask_names]  # neither image nor mask
    return matched, sorted(unclaimed + others), photos


def images_and_masks(src: Path, masks: Path | None) -> tuple[list[Path], dict[str, Path]]:
    """The images of `src` and {stem: its mask in `masks`}. When `masks` is `src` itself (`x.png` beside
    `x_mask.png`), a file named after another image plus `_…` (or `.…`, `-…`) is that image's mask, not an image, and
    no file is its own mask. Two images of one name get no mask (it could be either's)."""
    images = image_files(src)
    if masks is not None and masks.resolve() == src.resolve():
        mask_files = _named_after_another(images)
        images = [image for image in images if image not in mask_files]
        if mask_files:
            log.warning("the masks folder is the image folder: %d file(s) named after an image (like %s) are read as "
                        "masks, not images", len(mask_files), shown_name(mask_files[0].name))
        labels = _match(images, mask_files)[0]  # every mask file here is claimed: that made it a mask
    else:
        labels = match_masks(images, masks)
    by_stem: dict[str, list[Path]] = {}
    for image in images:
        by_stem.setdefault(image.stem, []).append(image)
    for stem, same in by_stem.items():
        if len(same) > 1 and stem in labels:
            log.warning("%s share the name '%s', so the mask %s could be either's: imported without it (rename one)",
                        " and ".join(shown_name(p.name) for p in same), shown_name(stem), shown_name(labels[stem].name))
            del labels[stem]
    return images, labels


def upright(pixels: LabelPixels, image: Path, path: Path, shape: tuple[int, int]) -> LabelPixels:
    """A mask drawn on a camera photo's stored (sideways) pixels, turned upright like the photo: only where the photo
    has an EXIF quarter turn (orientation 5-8) and the mask's size is the photo's with width and height swapped, so
    it fits no other way (a square photo's mask is taken as drawn)."""
    if pixels.mask.shape != shape[::-1] or shape[0] == shape[1]:
        return pixels
    orientation = header_orientation(image)
    if orientation not in (5, 6, 7, 8):
        return pixels
    log.warning("%s fits %s only as stored before the photo's EXIF rotation: turned upright like the photo",
                shown_name(path.name), shown_name(image.name))
    return LabelPixels(*(None if a is None else apply_orientation(a, orientation) for a in pixels))


def scaled_to(pixels: LabelPixels, shape: tuple[int, int]) -> LabelPixels | None:
    """`pixels` resized to the image's `shape` (H, W) when the mask is the image at another scale: the same aspect
    ratio to within a pixel (a trial's PolypGen masks are 1350×1080, the demo's copies of their photos 640×512);
    None when the shapes differ otherwise. Area-weighted, then cut at one half (no jagged nearest-pixel edges)."""
    h, w = pixels.mask.shape
    H, W = shape
    if (h, w) == (H, W):
        return pixels
    if abs(h * W / w - H) > 1.0 or abs(w * H / h - W) > 1.0:
        return None

    def fit(a: np.ndarray) -> np.ndarray:
        return cv2.resize(a.astype(np.float32), (W, H), interpolation=cv2.INTER_AREA) >= 0.5

    return LabelPixels(fit(pixels.mask), None if pixels.annotated is None else fit(pixels.annotated))


def read_fitted(path: Path, what: str, image: Path, shape: tuple[int, int], partial: bool) -> tuple[LabelPixels, bool]:
    """The mask at `path` as `what` ("lesion label", "region of interest") of `image`, whose size is `shape` (H, W):
    upright, and resized when it is the image at another scale (scaled_to); True when it was resized. A partial
    0/128/255 file is a sparse label where `partial`, else refused. ImageReadError (unreadable, a label map …) or
    LabelSizeError naming both sizes. Every import (into a new project or an open one) reads its masks here."""
    pixels = read_label(path, what) if partial else LabelPixels(read_mask(path, what), None)
    pixels = upright(pixels, image, path, shape)
    fitted = scaled_to(pixels, shape)
    if fitted is None:
        h, w = pixels.mask.shape
        raise LabelSizeError(f"it is {w}×{h} pixels, the image {shape[1]}×{shape[0]} (width×height), and "
                             "not the image at another scale")
    return fitted, fitted is not pixels


def resized_note(names: list[str] | tuple[str, ...]) -> str:
    """What an import's summary says of the masks it resized (read_fitted): "2 of them drawn on the image at another
    scale, resized to it: a, b"."""
    return (f"{len(names)} of them drawn on the image at another scale, resized to it: "
            f"{', '.join(names[:3])}{', …' if len(names) > 3 else ''}")


def reasons_text(lines: list[str] | tuple[str, ...]) -> str:
    """The first three "<file>: why" lines of an import's summary, joined by "; " with each one's own closing full
    stop dropped (a trial read "…unsupported format).; p3.png"), and "; …" after them when there are more."""
    return "; ".join(line.rstrip(".") for line in lines[:3]) + ("; …" if len(lines) > 3 else "")
