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
from typing import NamedTuple

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
    return mask_stem if mask_stem in stems else _named_after(mask_stem, stems)


def _named_after(stem: str, stems: set[str]) -> str | None:
    """The longest of `stems` that `stem` starts with, followed by _ . or - (never `stem` itself), or None."""
    for i in range(len(stem) - 1, 0, -1):
        if stem[i] in _SEPARATORS and stem[:i] in stems:
            return stem[:i]
    return None


def match_masks(images: list[Path], folder: Path | None) -> dict[Path, Path]:
    """{image: its mask in `folder`}: `<stem>.*` first, else the first (by name) `<stem>_<anything>.*` (or `.`,
    `-`) that no longer image stem claims, so `scan_2.png` is the mask of `scan_2`, never of `scan`; `<name>.*`
    for the image file `<name>` (`gray8.png.png` is `gray8.png`'s, beside `gray8.jpg`: the app's own export)."""
    return find_masks(images, folder).masks


class Matches(NamedTuple):
    """find_masks' answer: which mask is which image's, and the files that are no image's mask."""

    masks: dict[Path, Path]  # image → its mask
    unclaimed: list[Path]  # files no image claims
    photos: list[Path]  # files that are images themselves (or byte copies of their photos)
    shared: dict[Path, str]  # mask → why no image got it: it could be either of two images of one name


def find_masks(images: list[Path], folder: Path | None) -> Matches:
    """match_masks' masks of `images` in `folder`, and its files that are no image's mask. No image is its own mask:
    not its own file when `folder` holds some of `images` (a folder project's own folder: `_masks_beside`), nor a
    copy of its photo (`_match`: a photo folder with masks beside)."""
    if folder is None:
        return Matches({}, [], [], {})
    files = image_files(folder)
    own: set[str] = set()
    if folder.is_dir():
        here = {parent for parent in {image.parent for image in images} if parent.resolve() == folder.resolve()}
        own = {image.name for image in images if image.parent in here}
    if own:
        matched, unmatched, photos, shared = _masks_beside(images, own, files)
    else:
        matched, unmatched, photos, shared = _match(images, files)  # a second mask of one image: warned in _match
    _warn_photos(folder, photos)
    if unmatched:
        log.warning("%d file(s) in %s match no image (like %s), not imported%s", len(unmatched), shown_name(folder),
                    shown_name(unmatched[0].name), unmatched_hint(images, unmatched))
    broken = sorted(p.name for p in folder.iterdir() if p.is_symlink() and not p.exists()) if folder.is_dir() else []
    if broken:
        log.warning("%d link(s) in %s lead to no file (like %s), not imported", len(broken), shown_name(folder),
                    shown_name(broken[0]))
    return Matches(matched, unmatched, photos, shared)


def _warn_photos(folder: Path, photos: list[Path]) -> None:
    if photos:
        log.warning("%d file(s) in %s are the images' own photos (like %s), never their masks", len(photos),
                    shown_name(folder), shown_name(photos[0].name))


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


def _match(images: list[Path], candidates: list[Path]) -> Matches:
    """find_masks among `candidates`: a mask goes to the image it is named after (_owner), or whose whole file name
    is its stem (`gray8.png.png`). One named after a stem that several images share goes to the one of them without
    such a mask of its own, else to none: it could be either's (`shared`). Never to an image that is the
    candidate or whose bytes it holds: that is the photo, not its mask (`photos`)."""
    by_stem: dict[str, list[Path]] = {}
    for image in images:
        by_stem.setdefault(image.stem, []).append(image)
    by_name = {image.name: image for image in images}
    stems = set(by_stem)
    claims: dict[Path, list[Path]] = {}
    together: dict[str, list[Path]] = {}  # stem → masks named after it where images share it
    unclaimed: list[Path] = []
    photos: list[Path] = []
    for mask in candidates:
        owner = _owner(mask.stem, stems)
        owners = [by_name[mask.stem]] if mask.stem in by_name and mask.stem not in stems else by_stem.get(owner, [])
        if not owners:
            unclaimed.append(mask)
        elif any(_same_photo(image, mask) for image in owners):
            photos.append(mask)
        elif len(owners) == 1:
            claims.setdefault(owners[0], []).append(mask)
        else:
            together.setdefault(owners[0].stem, []).append(mask)
    shared: dict[Path, str] = {}
    for stem, masks in together.items():
        free = [image for image in by_stem[stem] if image not in claims]
        if len(free) == 1:
            claims[free[0]] = masks
            continue
        names = " and ".join(shown_name(p.name) for p in by_stem[stem])
        for mask in masks:
            shared[mask] = f"{names} share the name '{shown_name(stem)}', so it could be either's (rename one)"
    matched = {}
    for image, masks in claims.items():
        masks.sort(key=lambda m: (m.stem not in (image.stem, image.name), m.name))
        matched[image] = masks[0]
        if len(masks) > 1:
            ignored = ", ".join(shown_name(m.name) for m in masks[1:])
            log.warning("%s: using mask %s, not %s", shown_name(image.name), shown_name(masks[0].name), ignored)
    return Matches(matched, unclaimed, photos, shared)


def _same_photo(image: Path, candidate: Path) -> bool:
    """Whether `candidate` is the file `image` or holds its bytes (a project's images are byte copies of the photos
    it was made from): stat-ed first, read only where the sizes are equal."""
    try:
        return os.path.samefile(image, candidate) or filecmp.cmp(image, candidate, shallow=False)
    except OSError:
        return False


def named_after_another(files: list[Path]) -> list[Path]:
    """The `files` named after another of them plus `_…` (or `.…`, `-…`): beside their images, these are masks."""
    stems = {f.stem for f in files}
    return [f for f in files if _named_after(f.stem, stems) is not None]


def photo_copies(files: list[Path], candidates: list[Path]) -> dict[Path, Path]:
    """{candidate: the photo among `files` whose bytes it holds} of the `candidates` named after that photo plus `_…`
    (or `.…`, `-…`): a user starts a mask by copying `x.jpg` to `x_mask.jpg`. The import sets such a copy aside as
    the photo (`_match`); a folder project lists none as an image. Reads only files of the photo's size."""
    by_stem: dict[str, list[Path]] = {}
    for f in files:
        by_stem.setdefault(f.stem, []).append(f)
    stems, copies = set(by_stem), {}
    for candidate in candidates:
        owner = _named_after(candidate.stem, stems)
        photo = next((f for f in by_stem.get(owner or "", []) if _same_photo(f, candidate)), None)
        if photo is not None:
            copies[candidate] = photo
    return copies


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
    named = set(named_after_another(files))
    read = {path: _read_beside(path) for path in candidates if path in named}
    return {path: why for path, why in read.items() if why is not None}


def _masks_beside(images: list[Path], own: set[str], files: list[Path]) -> Matches:
    """find_masks in the folder of `files` that holds the `images` named `own` (a folder project's own): as in
    images_and_masks, a file named after another image is its mask and no file is its own mask; one of the images
    themselves (listed before masks were told apart) is a mask only where masks_beside takes it for one (an
    unreadable one too: the import then says why it left it out)."""
    named = named_after_another(files)
    listed = masks_beside(files, [f for f in named if f.name in own])
    masks = sorted([f for f in named if f.name not in own] + list(listed))
    if masks:
        log.warning("the masks folder is the image folder: %d file(s) named after an image (like %s) are read as "
                    "masks, never an image's own file", len(masks), shown_name(masks[0].name))
    mask_names = {m.name for m in masks}
    matched, unclaimed, photos, shared = _match([i for i in images if i.name not in mask_names & own], masks)
    others = [f for f in files if f.name not in own and f.name not in mask_names]  # neither image nor mask
    return Matches(matched, sorted(unclaimed + others), photos, shared)


def images_and_masks(src: Path, masks: Path | None) -> tuple[list[Path], dict[Path, Path], dict[Path, str]]:
    """The images of `src` and {image: its mask in `masks`}. When `masks` is `src` itself (`x.png` beside
    `x_mask.png`), a file named after another image plus `_…` (or `.…`, `-…`) is that image's mask, not an image, and
    no file is its own mask. A mask of a name two images share goes to neither (it could be either's), unless one
    of them has its own by its whole file name (`gray8.png.png`, the app's export beside `gray8.png`); the third
    item is {such a mask: why it goes to neither}, each logged."""
    images = image_files(src)
    if masks is not None and masks.resolve() == src.resolve():
        mask_files = named_after_another(images)
        images = [image for image in images if image not in mask_files]
        if mask_files:
            log.warning("the masks folder is the image folder: %d file(s) named after an image (like %s) are read as "
                        "masks, not images", len(mask_files), shown_name(mask_files[0].name))
        found = _match(images, mask_files)  # every mask file here is claimed: that made it a mask
        _warn_photos(src, found.photos)  # a copy of a photo named as its mask: neither an image nor a mask
    else:
        found = find_masks(images, masks)
    for mask, why in found.shared.items():
        log.warning("the mask %s was not imported: %s", shown_name(mask.name), why)
    return images, found.masks, found.shared


_STORED_TURN = {2: ("mirrored", "mirrored"), 3: ("180°", "upside down"), 4: ("flipped", "upside down"),
                5: ("90°, mirrored", "sideways"), 6: ("90°", "sideways"), 7: ("90°, mirrored", "sideways"),
                8: ("90°", "sideways")}
"""EXIF orientation → (how the photo is stored, how a mask drawn on those stored pixels lies on the photo shown)."""


def upright(pixels: LabelPixels, image: Path, path: Path, shape: tuple[int, int]) -> tuple[LabelPixels, str]:
    """The mask `pixels` (file `path`) on the photo `image` shown at `shape` (H, W), and what to tell of it ("" when
    nothing). Where the photo has an EXIF turn (core.images.header_orientation) a mask whose size fits only the stored
    pixels (a quarter turn, not square) is turned upright like the photo; one whose size fits both ways (180°, a
    mirror, a square photo) is taken as drawn on the photo as shown, and said to be so: it may lie turned."""
    if pixels.mask.shape not in (shape, shape[::-1]):
        return pixels, ""
    orientation = header_orientation(image)
    if orientation == 1:
        return pixels, ""
    photo, mask = shown_name(image.name), shown_name(path.name)
    if pixels.mask.shape != shape:
        if orientation not in (5, 6, 7, 8):
            return pixels, ""
        note = f"{mask} fits {photo} only as stored before the photo's EXIF rotation: turned upright like the photo"
        log.warning("%s", note)
        return LabelPixels(*(None if a is None else apply_orientation(a, orientation) for a in pixels)), note
    if orientation in (5, 6, 7, 8) and shape[0] != shape[1]:
        return pixels, ""  # it fits only the photo as shown
    how, lies = _STORED_TURN[orientation]
    note = (f"{photo} is stored turned (EXIF orientation {orientation}, {how}): its mask {mask} was taken as drawn "
            f"on the photo as shown; if it was drawn on the stored pixels, it is {lies} - check it in the window")
    log.warning("%s", note)
    return pixels, note


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


class Fitted(NamedTuple):
    """read_fitted's mask: its pixels at the image's size, whether it was resized, upright's note ("" or why)."""

    pixels: LabelPixels
    resized: bool
    turned: str


def read_fitted(path: Path, what: str, image: Path, shape: tuple[int, int], partial: bool) -> Fitted:
    """The mask at `path` as `what` ("lesion label", "region of interest") of `image`, whose size is `shape` (H, W):
    upright (with upright's note of an EXIF turn, "" when none), and resized when it is the image at another scale
    (scaled_to). A partial 0/128/255 file is a sparse label where `partial`, else refused. ImageReadError (unreadable,
    a label map …) or LabelSizeError naming both sizes. Every import (into a new project or an open one) reads its
    masks here."""
    pixels = read_label(path, what) if partial else LabelPixels(read_mask(path, what), None)
    pixels, turned = upright(pixels, image, path, shape)
    fitted = scaled_to(pixels, shape)
    if fitted is None:
        h, w = pixels.mask.shape
        raise LabelSizeError(f"it is {w}×{h} pixels, the image {shape[1]}×{shape[0]} (width×height), and "
                             "not the image at another scale")
    return Fitted(fitted, fitted is not pixels, turned)


def resized_note(names: list[str] | tuple[str, ...]) -> str:
    """What an import's summary says of the masks it resized (read_fitted): "2 of them drawn on the image at another
    scale, resized to it: a, b"."""
    return (f"{len(names)} of them drawn on the image at another scale, resized to it: "
            f"{', '.join(names[:3])}{', …' if len(names) > 3 else ''}")


def reasons_text(lines: list[str] | tuple[str, ...]) -> str:
    """The first three "<file>: why" lines of an import's summary, joined by "; " with each one's own closing full
    stop dropped (a trial read "…unsupported format).; p3.png"), and "; …" after them when there are more."""
    return "; ".join(line.rstrip(".") for line in lines[:3]) + ("; …" if len(lines) > 3 else "")
