"""Import public dataset layouts (DRIVE, CHASE_DB1, STARE), a plain folder or a labelme folder into a new project.

Each layout is a function that yields `Found(image, label, roi, split)` paths; `import_dataset` copies them in.
An import is all-or-nothing: the project is built in a hidden folder next to the destination and moved into place
only when complete, so a failure or Ctrl+C never leaves a half-made project.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from shlex import quote


from medseg_gui.core.atomic import new_dir_mode
from medseg_gui.core.errors import ImageReadError, LabelMapError, LabelSizeError, ProjectError
from medseg_gui.core.images import probe_image, read_image, subfolder_images, subfolders_text
from medseg_gui.core.label_encoding import LabelPixels, inverted_note
from medseg_gui.core.label_status import CONFIRMED_KEY, set_marks
from medseg_gui.core.mask_files import first_image, image_files, images_and_masks, match_masks, read_fitted
from medseg_gui.core.names import listable, shown_name
from medseg_gui.core.project import DEFAULT_CLASSES, PROJECT_FILE, ClassSpec, Project

log = logging.getLogger(__name__)

LAYOUTS = ("drive", "chase", "stare", "folder", "labelme")


@dataclass(frozen=True)
class Found:
    """One image of a dataset with its optional label and ROI files."""

    image: Path
    label: Path | None = None
    roi: Path | None = None
    split: str | None = None


def find_drive(src: Path) -> Iterator[Found]:
    """DRIVE: `training|test/images/NN_split.tif`, `1st_manual/NN_manual1.gif`, `mask/NN_split_mask.gif`."""
    for split in ("training", "test"):
        base = src / split
        for image in image_files(base / "images"):
            number = image.stem.split("_")[0]
            yield Found(
                image=image,
                label=first_image(base / "1st_manual", number, "_manual1.*"),
                roi=first_image(base / "mask", image.stem, "_mask.*"),
                split=split,
            )


def find_chase(src: Path) -> Iterator[Found]:
    """CHASE_DB1 flat layout: `Image_NNX.jpg`, `Image_NNX_1stHO.png`, `Image_NNX_mask.png`."""
    for image in image_files(src):
        if not re.fullmatch(r"Image_\d+[LR]", image.stem):
            continue
        yield Found(image=image, label=first_image(src, image.stem, "_1stHO.*"),
                    roi=first_image(src, image.stem, "_mask.*"))


def find_stare(src: Path) -> Iterator[Found]:
    """STARE: `images/imNNNN.ppm`, `1st_manual/imNNNN.ah.ppm` (Hoover's labels), optional `mask/imNNNN*`."""
    images = image_files(src / "images")
    rois = match_masks(images, src / "mask")
    for image in images:
        label = first_image(src / "1st_manual", image.stem, ".ah.*")
        yield Found(image=image, label=label, roi=rois.get(image))


def find_folder(src: Path, masks: Path | None = None, roi: Path | None = None,
                left_out: list[str] | None = None) -> Iterator[Found]:
    """A plain folder of images; labels from `masks/` by name when given (core.mask_files: `masks` may be `src`),
    regions of interest (a fundus photo's field of view) from `roi/` alike. A mask that two images of one name share
    goes to neither: its file name goes to `left_out` (its warning, logged, says why)."""
    images, labels, shared = images_and_masks(src, masks)
    if left_out is not None:
        left_out.extend(shown_name(mask.name) for mask in shared)
    rois = match_masks(images, roi)
    for image in images:
        yield Found(image=image, label=labels.get(image), roi=rois.get(image))


def import_dataset(
    src: Path, dest: Path, layout: str, cls: str = "vessel", masks: Path | None = None, roi: Path | None = None,
    resized: list[str] | None = None, left_out: list[str] | None = None,
) -> Project:
    """Create a project at `dest` (new, empty, or without images/, labels/, roi/) from the dataset at `src`; labels
    go to class `cls`, FOV masks to roi/ (layout "labelme": labels go to the classes their names say, see
    core.interchange.labelme). `masks`, `roi`: the label and region-of-interest folders of the "folder" layout.
    All-or-nothing: on any error nothing is left at `dest`.

    Unreadable images, and images whose names a project cannot list (not valid UTF-8), are skipped; unreadable,
    mis-sized or ambiguous (label map, partial, a mask two images of one name share) label/ROI files are left out;
    each with a warning naming the file.
    A label/ROI of the image at another scale is resized to it (mask_files.fit_to_image); `resized` gets its image's
    name ("<name> (region of interest)" for an ROI); `left_out` the name of each label file left out (each ROI file's
    as "<file> (region of interest)").
    """
    src, dest = Path(src), Path(dest)
    if layout == "labelme":  # a JSON per image; labels become classes (core.interchange.labelme)
        from medseg_gui.core.interchange.labelme import import_labelme

        return import_labelme(src, dest)
    masks = Path(masks) if masks is not None else None
    if not src.is_dir():
        raise ProjectError(f"Cannot import: {src} is not a folder.")
    if masks is not None and not masks.is_dir():
        raise ProjectError(f"Cannot import: the masks folder {masks} is not a folder.")
    roi = Path(roi) if roi is not None else None
    if roi is not None and not roi.is_dir():
        raise ProjectError(f"Cannot import: the region-of-interest folder {roi} is not a folder.")
    if roi is not None and layout != "folder":
        raise ProjectError(f"Cannot import: --roi is for --layout folder; the '{layout}' layout reads its own.")
    if roi is not None and any(roi.resolve() == f.resolve() for f in (src, masks) if f is not None):
        raise ProjectError(f"Cannot import: the region-of-interest folder {roi} is also the image or masks folder; "
                           "give the regions of interest (e.g. fields of view) a folder of their own.")
    if dest.absolute().resolve() == src.absolute().resolve():
        raise ProjectError(f"Cannot import {src} into itself: choose a new folder for the project (or open {src} "
                           "in the app, which makes it a project where it is).")
    finders = {"drive": find_drive, "chase": find_chase, "stare": find_stare}
    if layout == "folder":
        found = list(find_folder(src, masks, roi, left_out))
    elif layout in finders:
        found = list(finders[layout](src))
    else:
        raise ProjectError(f"Unknown layout '{layout}'; choose one of: {', '.join(LAYOUTS)}.")
    usable = set(listable([item.image for item in found]))
    found = [item for item in found if item.image in usable]
    if not found:
        below = subfolder_images(src) if layout == "folder" and src.is_dir() else {}
        raise ProjectError(f"No images found in {src} for the '{layout}' layout — check the folder and --layout." +
                           (f" It holds {subfolders_text(below)}: import one of those folders (a folder's "
                            "subfolders are not read)." if below else ""))
    # the imported class alone (a project of lesion photos had also got an empty `vessel` class); its default
    # colour when it is one of DEFAULT_CLASSES; Edit → Classes… or `medseg classes --add` add others
    classes = tuple(c for c in DEFAULT_CLASSES if c.name == cls) or (ClassSpec(cls, (255, 255, 0)),)

    def fill(project: Project) -> None:
        refused_maps, complete = 0, []
        for item in found:
            refused_maps += _import_one(project, item, cls, complete, [] if resized is None else resized,
                                        [] if left_out is None else left_out)
        set_marks(project, complete, CONFIRMED_KEY, cls, True)  # as File → Import masks… (core.mask_import) does
        kept = len(project.labelled_stems(cls))
        if refused_maps and kept:
            log.warning("%d mask(s) were refused as label maps (several classes in one file), so the %d imported from "
                        "the same folder may each hold one class of such a map (e.g. only the values 0 and 2, read "
                        "as '%s'): check them, or export one class per file and import again", refused_maps, kept, cls)

    return build_project(dest, classes, fill)


def build_project(dest: Path, classes: tuple[ClassSpec, ...], fill: Callable[[Project], None]) -> Project:
    """A new project at `dest` with `classes`, filled by `fill(project)`; all-or-nothing (built in a hidden folder
    beside `dest` and moved into place when `fill` returns; on any error nothing is left at `dest`)."""
    _check_destination(dest)
    stage = _staging_folder(dest)
    try:
        project = Project.create(stage, classes)  # checks the class names before it writes anything
        fill(project)
        _publish(stage, dest)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise ProjectError(f"Cannot create the project {dest}: {exc.strerror or exc}.") from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return Project.open(dest)


_CREATED = ("images", "labels", "roi", PROJECT_FILE)


def _check_destination(dest: Path) -> None:
    if (dest / PROJECT_FILE).exists():
        raise ProjectError(f"{dest} already holds a project; choose a new folder (to bring masks into that project: "
                           f"medseg import {quote(str(dest))} --masks DIR --class CLASS, with --replace to replace "
                           "its labels).")
    if dest.exists() and not dest.is_dir():
        raise ProjectError(f"Cannot import into {dest}: it is a file, not a folder.")
    clash = [name for name in _CREATED if (dest / name).exists()]
    if clash:
        raise ProjectError(f"{dest} already has {', '.join(clash)}; choose a new or empty folder.")


_STAGE_TAG = ".medseg-import-"
STALE_STAGE_S = 3600.0  # a running import rewrites project.json in its folder after every image


def _staging_folder(dest: Path) -> Path:
    """A new hidden folder beside `dest` (same file system, so moving it into place is a rename) with the mode the
    project folder should have (an existing empty `dest`'s, else a plain mkdir's: mkdtemp makes 0700 folders, which
    colleagues could not open); first removes the folders of imports killed an hour or more ago."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        for old in dest.parent.glob(f".{glob.escape(dest.name)}{_STAGE_TAG}*"):
            if old.is_dir() and not old.is_symlink() and time.time() - old.stat().st_mtime > STALE_STAGE_S:
                log.info("removing %s, left by an import that did not finish", shown_name(old))
                shutil.rmtree(old, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}{_STAGE_TAG}", dir=dest.parent))
    except OSError as exc:
        raise ProjectError(f"Cannot create the project {dest}: {exc.strerror or exc}.") from None
    try:
        stage.chmod(dest.stat().st_mode & 0o7777 if dest.is_dir() else new_dir_mode())
    except OSError:
        log.debug("file system of %s does not keep permission bits", dest.parent)
    return stage


def _publish(stage: Path, dest: Path) -> None:
    """Move the finished project from `stage` to `dest`: one rename, or (into a non-empty folder) one per top-level
    entry with project.json last, undone if one fails."""
    if not dest.exists() or (dest.is_dir() and not any(dest.iterdir())):
        try:
            os.replace(stage, dest)  # POSIX: replaces an empty folder; elsewhere it must not exist
        except OSError:
            if not dest.exists():
                raise
            dest.rmdir()
            os.rename(stage, dest)
        return
    moved: list[str] = []
    try:
        for child in sorted(stage.iterdir(), key=lambda p: p.name == PROJECT_FILE):
            os.rename(child, dest / child.name)
            moved.append(child.name)
    except OSError:
        for name in moved:
            os.rename(dest / name, stage / name)
        raise
    stage.rmdir()


DECODE_CHECK_PIXELS = 16_000_000  # larger images are checked by their header only (decoding takes seconds)


def _import_one(project: Project, item: Found, cls: str, complete: list[str], resized: list[str],
                left_out: list[str]) -> int:
    """Copy one image in (skipped if unreadable) with its label and ROI (each left out if unreadable or mis-sized: its
    file named in `left_out`; resized when of the image at another scale: said in `resized`); its stem goes to
    `complete` when its label is a whole mask (not a partial file). Images up to DECODE_CHECK_PIXELS are decoded
    whole: a truncated JPEG's header reads fine (a new user's was imported without a word and left out of every
    training run after)."""
    try:
        h, w = probe_image(item.image)
        if h * w <= DECODE_CHECK_PIXELS:
            read_image(item.image)
    except ImageReadError as err:
        log.warning("skipped %s: %s", shown_name(item.image), err)
        return 0
    entry = project.add_image(item.image, copy=True)
    if item.split:
        project.set_state(entry.stem, "split", item.split)
    label = None
    if item.label is not None:
        label = _add_mask(item, "label", item.label, (h, w), lambda pixels: _save_label(
            project, cls, entry.stem, item.label, pixels, complete), sparse=True)
        if label is True:
            resized.append(entry.stem)
        elif isinstance(label, Exception):
            left_out.append(shown_name(item.label.name))
    if item.roi is not None:
        roi = _add_mask(item, "region of interest", item.roi, (h, w),
                        lambda pixels: project.save_roi(entry.stem, pixels.mask))
        if roi is True:
            resized.append(f"{entry.stem} (region of interest)")
        elif isinstance(roi, Exception):
            left_out.append(f"{shown_name(item.roi.name)} (region of interest)")
    return int(isinstance(label, LabelMapError))  # 1: its label was a label map


def _save_label(project: Project, cls: str, stem: str, path: Path, pixels: LabelPixels, complete: list[str]) -> None:
    """Save an imported label; a partial one without a single object pixel is saved as read (0/128 is this program's
    partial label: background strokes only) but said aloud: another tool's 0/128 mask marks its object with 128. The
    same for one without a background pixel (128/255: another tool's grey background)."""
    project.save_label(cls, stem, *pixels)
    if not pixels.sparse:
        complete.append(stem)
    note = inverted_note(pixels)
    if note is not None:
        log.warning("%s %s", shown_name(path), note)
    elif pixels.annotated is not None and not pixels.mask.any():
        log.warning("%s has only the values 0 and 128, read as a partial label (128 = not annotated) without a single "
                    "'%s' pixel; if 128 marks the %s, save the mask as 0/255 and import it again",
                    shown_name(path), cls, cls)
    elif pixels.annotated is not None and not (pixels.annotated & ~pixels.mask).any():
        log.warning("%s has only the values 128 and 255, read as a partial label (128 = not annotated) without a "
                    "single background pixel; if 128 marks the background, save the mask as 0/255 and import it again",
                    shown_name(path))


def _add_mask(item: Found, what: str, path: Path, shape: tuple[int, int], save: Callable[[LabelPixels], None],
              sparse: bool = False) -> Exception | bool:
    """Read one mask at its image's `shape` (H, W) (mask_files.read_fitted: a partial 0/128/255 file is a sparse
    label where `sparse`, else refused) and save it. The error that left it out, else whether it was resized."""
    try:
        pixels, scaled, _turned = read_fitted(path, what, item.image, shape, sparse)  # _turned: logged there
        save(pixels)
    except (ImageReadError, LabelSizeError) as err:  # LabelReadError and MaskFormatError are ImageReadErrors
        log.warning("%s imported without its %s %s: %s", shown_name(item.image.name), what, shown_name(path.name), err)
        return err
    return scaled
