"""Export a class's masks as 0/255 PNGs (original image size); the HDF5 export is core.interchange.hdf5.

A sparse label (0/128/255 on disk, e.g. a corrected prediction) exports as 0/255: in `auto` mode its not-annotated
pixels are the thresholded prediction where the image has one ("label+prediction": what the window showed), otherwise
background (0), like every pixel the user did not paint as the class; the HDF5 export also stores which pixels were
annotated. Every export
writes a manifest (core.interchange.manifest) saying which mask is a human label and which a model prediction; in
`auto` mode, where both share a folder, a prediction's file is also named `<stem>_prediction.png`.

An image whose files cannot be read is skipped and reported (to the `skipped` list when given, else the log); a file
that cannot be written stops the export with a WriteError that says how far it got.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medseg_gui.core.atomic import is_temp_name
from medseg_gui.core.errors import CancelledError, MedsegError, ProjectError, skip, write_error
from medseg_gui.core.images import write_png
from medseg_gui.core.interchange.manifest import LABEL_AND_PREDICTION, MANIFEST, Manifest, exported_files
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import PROJECT_DATA_DIRS

log = logging.getLogger(__name__)

SOURCES = ("auto", "labels", "predictions")
SOURCE_FILES = {"auto": "label or prediction", "labels": "label", "predictions": "prediction"}  # what each takes


def left_out_text(missing: list[str], source: str, fmt: str = "png") -> str:
    """'nothing to export of cervix: no image has a label or prediction of it' for the classes the user chose that
    an export of `source` (a SOURCE_FILES key) had nothing of (COCO: 'no annotations of cervix', its category is
    listed)."""
    names = ", ".join(missing)
    what = f"no annotations of {names}" if fmt == "coco" else f"nothing to export of {names}"
    return f"{what}: no image has a {SOURCE_FILES[source]} of {'them' if len(missing) > 1 else 'it'}"


PREDICTION_SUFFIX = "_prediction"  # `auto` mode: <stem>_prediction.png is the model's mask, <stem>.png the label


def check_export_target(project: Project, out_dir: str | os.PathLike[str],
                        what: str = "Masks cannot be exported into", masks: bool = True) -> None:
    """ProjectError (its message starting `what`) when `out_dir` is a file (or lies under one), one of the project's
    own data folders or inside one (exported masks there would become labels, or replace predictions, ROIs or
    images), and, for `masks` (image files), the project folder or a folder holding its images (a plain folder opened
    as a project: a mask would overwrite the photo of its name; one HDF5 file there harms nothing: review)."""
    out = Path(out_dir).absolute().resolve()
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ProjectError(f"{what} {out}: {folder} is a file, not a folder.")
            break
    for name in PROJECT_DATA_DIRS:
        folder = project.root / name
        if out == folder or out.is_relative_to(folder):
            why = ("where they would replace what is stored there (exported predictions would become labels)" if masks
                   else "which holds only what the project itself writes there")
            raise ProjectError(f"{what} {out}: it is inside the project's own '{name}' folder, {why}. Choose a "
                               "folder outside the project.")
    if not masks:
        return
    image_folders = {f.absolute().resolve() for f in {project.image_path(stem).parent for stem in project.stems}}
    if out in image_folders:
        raise ProjectError(f"{what} {out}: the project's images are there, and a mask named like an image would "
                           "replace the photo (new files there would also be listed as images). Choose a folder "
                           "outside the project.")
    if out == project.root.absolute().resolve():
        raise ProjectError(f"{what} {out}: it is the project folder itself. Choose a folder outside the project.")


@dataclass(frozen=True)
class MaskToExport:
    """One image's exported mask of a class and where it came from."""

    mask: np.ndarray  # bool HxW
    source: str  # "label", "prediction" or LABEL_AND_PREDICTION
    annotated: np.ndarray | None = None  # bool HxW for a sparse label whose other pixels are background in `mask`


def mask_to_export(
    project: Project, cls: str, stem: str, source: str = "auto", threshold: float = 0.5
) -> MaskToExport | None:
    """The mask to export for one image, or None when it has nothing for `source`.

    auto: the label where one was drawn, else the thresholded prediction, pixel by pixel: a sparse label's
    not-annotated pixels take the prediction when there is one. Otherwise they are background (False). Predictions
    are cleared outside the ROI.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if source in ("auto", "labels"):
        label = project.load_label_pixels(cls, stem)
        if label is not None:
            predicted = None
            if label.annotated is not None and source == "auto":
                predicted = _predicted(project, cls, stem, threshold)
            if predicted is not None:
                return MaskToExport(np.where(label.annotated, label.mask, predicted), LABEL_AND_PREDICTION)
            return MaskToExport(label.mask, "label", label.annotated)
    if source in ("auto", "predictions"):
        predicted = _predicted(project, cls, stem, threshold)
        if predicted is not None:
            return MaskToExport(predicted, "prediction")
    return None


def _predicted(project: Project, cls: str, stem: str, threshold: float) -> np.ndarray | None:
    """The saved prediction >= threshold, False outside the ROI; None when the image has no prediction."""
    prob = project.load_prediction(cls, stem)
    if prob is None:
        return None
    roi = project.load_roi(stem)
    return prob >= threshold if roi is None else (prob >= threshold) & roi


def has_source(project: Project, cls: str, stem: str, source: str) -> bool:
    """Whether `stem` has a file for `source` (cheap: no file is read)."""
    return ((source != "predictions" and project.has_label(cls, stem))
            or (source != "labels" and project.prediction_path(cls, stem).is_file()))


def classes_with_masks(project: Project, classes: list[str], source: str) -> list[str]:
    """Those of `classes` that some image has a file of for `source` (has_source); the others export nothing."""
    return [c for c in classes if any(has_source(project, c, s, source) for s in project.stems)]


def masks_of_image(
    project: Project, classes: list[str], stem: str, source: str, threshold: float, skipped: list[str] | None
) -> dict[str, MaskToExport]:
    """{class: its mask} of one image for the classes that have one; unreadable files skipped with a message."""
    found: dict[str, MaskToExport] = {}
    for cls in classes:
        try:
            mask = mask_to_export(project, cls, stem, source, threshold)
        except MedsegError as err:
            skip(skipped, f"{stem}: {cls} not exported: {err}")
            continue
        if mask is not None:
            found[cls] = mask
    return found


def export_masks(
    project: Project, cls: str, out_dir: str | os.PathLike[str], source: str = "auto", threshold: float = 0.5,
    skipped: list[str] | None = None,
) -> list[Path]:
    """Write out_dir/<stem>.png (uint8 0/255, original size) for every image that has a mask, and manifest.json; the
    written masks. In `auto` mode a prediction's file is <stem>_prediction.png (labels and predictions share out_dir).

    Images whose label/prediction/ROI cannot be read are skipped with a message; WriteError when a file cannot be
    written (the files written before it stay, and the message says the export is incomplete).
    """
    _check_class_and_source(project, cls, source)
    check_export_target(project, out_dir)
    names = file_names(project, cls, source)
    refuse_foreign_files(project, Path(out_dir), names.values())
    return _write_masks(project, cls, Path(out_dir), names, source, threshold, skipped)


@dataclass(frozen=True)
class PngExport:
    """What export_pngs wrote: the folder, each class's files, the images left out (why, one line each) and the PNGs
    already in the class folders this export did not write (an earlier export's: never deleted), relative to it."""

    out_dir: Path
    files: dict[str, list[Path]]
    skipped: tuple[str, ...] = ()
    older: tuple[str, ...] = ()
    filled: tuple[Path, ...] = ()  # of the files, sparse labels whose not-annotated pixels are the prediction

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.files.values())


def export_pngs(
    project: Project, classes: list[str], out_dir: str | os.PathLike[str], source: str = "auto",
    threshold: float = 0.5, *, subfolders: bool | None = None, skipped: list[str] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[tuple[int, int, str]], None] = lambda _p: None,
) -> PngExport:
    """export_masks for several classes: into `out_dir/<class>/` (`subfolders`; by default when there is more than
    one class) or `out_dir` itself. Every class and folder is checked before anything is written (a file named like
    the second class must not stop the export half-way). Reports `(done, total, file)` after each mask (`file`
    relative to `out_dir`, e.g. 'lesion/a.png'; the total counts every class's); stops with CancelledError between
    classes when `should_stop()`. Images left out go to `skipped` when given (else the log) and into the result."""
    out = Path(out_dir)
    split = len(classes) > 1 if subfolders is None else subfolders
    if not split and len(classes) > 1:
        raise ValueError("several classes need one subfolder each (their masks share file names)")
    folders = {cls: out / cls if split else out for cls in classes}
    for cls in classes:
        _check_class_and_source(project, cls, source)
    for folder in (out, *folders.values()):
        check_export_target(project, folder)
    names = {cls: file_names(project, cls, source) for cls in classes}
    for cls in classes:
        refuse_foreign_files(project, folders[cls], names[cls].values())
    left_out: list[str] = []
    files: dict[str, list[Path]] = {}
    filled: list[Path] = []
    total, done = sum(len(n) for n in names.values()), 0

    def wrote(path: Path) -> None:
        nonlocal done
        done += 1
        progress((done, total, path.relative_to(out).as_posix()))

    for cls in classes:
        if should_stop():
            raise CancelledError("Export cancelled.")
        files[cls] = _write_masks(project, cls, folders[cls], names[cls], source, threshold, left_out, filled, wrote)
    for message in left_out:
        skip(skipped, message)
    return PngExport(out, files, tuple(left_out), _older_files(folders, files, out), tuple(filled))


def _check_class_and_source(project: Project, cls: str, source: str) -> None:
    project.class_spec(cls)  # ProjectError for an unknown class before anything is written
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")


def file_names(project: Project, cls: str, source: str) -> dict[str, str]:
    """{stem: its mask's file name} of the images with a file for `source`: <stem>.png, in `auto` mode a
    prediction's <stem>_prediction.png (labels and predictions share the folder). A name already taken (image
    'scan_prediction' beside the prediction of 'scan'; names differing in case only) gets _2, _3 …: one file each
    (fault injection: two masks were counted and one was left)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for stem in project.stems:
        if not has_source(project, cls, stem, source):
            continue
        base = stem + (PREDICTION_SUFFIX if source == "auto" and not project.has_label(cls, stem) else "")
        names[stem] = unique_png_name(base, taken)
    return names


def unique_png_name(base: str, taken: set[str]) -> str:
    """'<base>.png', or '<base>_2.png', '_3' … where that name (in any case) is in `taken` (lower-case names, to
    which it is added): one file each where names differ in case only."""
    name, n = f"{base}.png", 1
    while name.lower() in taken:
        n += 1
        name = f"{base}_{n}.png"
    taken.add(name.lower())
    return name


def refuse_foreign_files(project: Project, folder: Path, names: Iterable[str]) -> None:
    """ProjectError when `folder` holds a file of one of `names` (or a manifest.json) that no export of `project`
    wrote (its manifest.json does not list it): an export replaces only its own earlier files (fault injection: a
    mask the user kept there was replaced without a word)."""
    ours = exported_files(folder, project)
    if ours is None:
        return
    foreign = [folder / n for n in (*names, MANIFEST) if n not in ours and (folder / n).exists()]
    if foreign:
        more = f" (and {len(foreign) - 1} more of the names this export writes)" if len(foreign) > 1 else ""
        raise ProjectError(f"{foreign[0]} already exists{more} and was not written by an export of this project, "
                           "and an export never replaces such files. Choose another folder (or move those files "
                           "away first).")


def refuse_foreign_folder(project: Project, folder: Path, what: str) -> None:
    """ProjectError when `folder` holds anything but no manifest.json of an earlier export of `project`: a COCO or
    nnU-Net export writes files and folders of fixed names there (review: a user's annotations.json was replaced).
    A temporary file of a killed write (core.atomic) is not counted: a trial's stopped export could not be re-run."""
    held = sorted(p.name for p in folder.iterdir() if not is_temp_name(p.name)) if folder.is_dir() else []
    if held and not exported_files(folder, project):  # said as it is: a lone notes.txt would not be replaced (trial)
        more = f" and {len(held) - 1} more" if len(held) > 1 else ""
        raise ProjectError(f"{folder} holds other files ({held[0]}{more}), which no export of this project wrote, "
                           f"and {what} exports need an empty folder. Choose a new or empty folder.")


def _write_masks(
    project: Project, cls: str, out: Path, names: dict[str, str], source: str, threshold: float,
    skipped: list[str] | None, filled: list[Path] | None = None, done: Callable[[Path], None] = lambda _p: None,
) -> list[Path]:
    """export_masks once its target was checked, into the `names` (file_names); the files of sparse labels
    completed by the prediction are also added to `filled`. `done(path)` after each of `names`, written or not."""
    manifest = Manifest(project, "png", source, threshold)
    written: list[Path] = []
    stems = project.stems
    if names:
        manifest.claim(out, names.values())
    for n, stem in enumerate(stems, start=1):
        if stem not in names:
            continue
        path = out / names[stem]
        found = _write_mask(project, cls, stem, source, threshold, path, skipped, f"{n} of {len(stems)}")
        done(path)
        if found is None:
            continue
        written.append(path)
        if filled is not None and found.source == LABEL_AND_PREDICTION:
            filled.append(path)
        manifest.add(stem, cls, found.source, sparse=found.annotated is not None, file=path.name)
    if written:
        try:
            manifest.write(out)
        except OSError as err:
            raise write_error("Export incomplete: could not write the manifest", err, out / "manifest.json") from err
        log.info("exported %d %s mask(s) to %s", len(written), cls, out)
    else:
        log.info("no %s mask to export (no label, no prediction): nothing written to %s", cls, out)
    return written


def _write_mask(project: Project, cls: str, stem: str, source: str, threshold: float, path: Path,
                skipped: list[str] | None, which: str) -> MaskToExport | None:
    """Write `stem`'s mask to `path`; what was written, or None when it has none or it cannot be read (skipped with
    a message). WriteError (saying the export is incomplete at mask `which`) when the file cannot be written."""
    try:
        found = mask_to_export(project, cls, stem, source, threshold)
    except MedsegError as err:
        skip(skipped, f"{stem} not exported: {err}")
        return None
    if found is None:
        log.debug("export: %s has no %s %s, skipped", stem, cls, source)
        return None
    try:
        write_png(path, found.mask.astype(np.uint8) * 255)
    except OSError as err:
        raise write_error(f"Export incomplete: could not write mask {which}", err, path) from err
    return found


def _older_files(folders: dict[str, Path], files: dict[str, list[Path]], out: Path) -> tuple[str, ...]:
    """The PNGs in the classes' folders this export did not write, relative to `out` ('lesion/a_prediction.png')."""
    older: list[str] = []
    for cls, written in files.items():
        names, folder = {p.name for p in written}, folders[cls]
        if folder.is_dir():
            older += sorted((folder / p.name).relative_to(out).as_posix() for p in folder.iterdir()
                            if p.suffix.lower() == ".png" and p.name not in names)
    return tuple(older)


def older_note(older: tuple[str, ...]) -> str:
    """'1 older PNG in these folders was not written by this export and is left as it was (lesion/b_prediction.png)'
    for the files `PngExport.older` names (three at most), '' for none: a nurse's second export left the earlier
    b_prediction.png beside the new label's b.png and the message did not say which file was the older one."""
    if not older:
        return ""
    n = len(older)
    names = ", ".join(older[:3]) + (", …" if n > 3 else "")
    return (f"{n} older PNG{' was' if n == 1 else 's were'} in these folders, not written by this export, and "
            f"{'is' if n == 1 else 'are'} left as {'it was' if n == 1 else 'they were'} ({names})")
