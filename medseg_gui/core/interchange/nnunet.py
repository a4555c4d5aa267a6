"""Export a project as an nnU-Net v2 raw dataset: imagesTr/<case>_0000.png (RGB), labelsTr/<case>.png (one value per
class: 0 background, 1..N the classes in the order given), imagesTs/ for images without masks, dataset.json.

A case is an image that has a mask of every exported class (a class with no mask anywhere is left out and named in
the manifest): a class without a mask on an image is unknown there, not background. Where classes overlap, the later
class wins. Sparse labels use nnU-Net's own convention for partial annotation: an `ignore` label (the highest value)
on pixels that no class claims and that a sparse label left unannotated.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medseg_gui.core.atomic import atomic_write_json, is_temp_name
from medseg_gui.core.errors import MedsegError, ProjectError, skip, write_error
from medseg_gui.core.export import (SOURCES, MaskToExport, check_export_target, classes_with_masks, has_source,
                                     masks_of_image, refuse_foreign_files, refuse_foreign_folder)
from medseg_gui.core.images import write_png
from medseg_gui.core.interchange.manifest import MANIFEST, Manifest, exported_files
from medseg_gui.core.project import Project

log = logging.getLogger(__name__)

CHANNEL_NAMES = {"0": "R", "1": "G", "2": "B"}  # nnU-Net's natural-image reader gives an RGB PNG three channels
FILE_ENDING = ".png"
IGNORE = "ignore"
DATASET = "dataset.json"
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES = "imagesTr", "labelsTr", "imagesTs"


@dataclass(frozen=True)
class NnunetExport:
    """What was written: the dataset folder, its training cases and unlabelled (imagesTs) images."""

    folder: Path
    training: int
    test: int
    classes: tuple[str, ...]

    def summary(self) -> str:
        return (f"Wrote an nnU-Net dataset to {self.folder}: {self.training} training cases "
                f"({', '.join(self.classes) or 'no classes'}), {self.test} images without masks in imagesTs")


def case_ids(stems: list[str]) -> dict[str, str]:
    """{stem: nnU-Net case id}: letters, digits, - and _ only, unique."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for stem in stems:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", stem) or "case"
        case, n = base, 2
        while case.casefold() in used:
            case, n = f"{base}_{n}", n + 1
        used.add(case.casefold())
        ids[stem] = case
    return ids


def label_map(masks: list[MaskToExport]) -> tuple[np.ndarray, np.ndarray | None]:
    """(uint8 HxW values 0..N, bool HxW of pixels to ignore or None) for the masks of classes 1..N in order."""
    values = np.zeros(masks[0].mask.shape, np.uint8)
    unknown = None
    for value, found in enumerate(masks, start=1):
        values[found.mask] = value
        if found.annotated is not None:
            unknown = ~found.annotated if unknown is None else unknown | ~found.annotated
    return values, None if unknown is None else unknown & (values == 0)


def _label_name(cls: str) -> str:
    """The class's name in dataset.json; a class called background or ignore is renamed (nnU-Net reserves both)."""
    return f"{cls}_class" if cls.casefold() in ("background", IGNORE) else cls


def _planned(project: Project, kept: list[str], source: str) -> dict[str, list[str]]:
    """{stem: the files it is to get}: imagesTr/<case>_0000.png and labelsTr/<case>.png when it has a file of every
    kept class, else imagesTs/<case>_0000.png (cheap: no file is read)."""
    cases = case_ids(project.stems)
    return {stem: _files(cases[stem], bool(kept) and all(has_source(project, c, stem, source) for c in kept))
            for stem in project.stems}


def _files(case: str, training: bool) -> list[str]:
    if training:
        return [f"{TRAIN_IMAGES}/{case}_0000{FILE_ENDING}", f"{TRAIN_LABELS}/{case}{FILE_ENDING}"]
    return [f"{TEST_IMAGES}/{case}_0000{FILE_ENDING}"]


def _refuse_other_dataset(out: Path, ours: set[str], names: set[str]) -> None:
    """ProjectError when `out` holds a dataset file this export would not replace: anyone else's, or its own
    earlier export's of other cases (left beside the new ones, nnU-Net would see a dataset that is neither). A
    stopped export of the same cases is completed (a trial: it was refused as 'already holds a dataset')."""
    held = [DATASET] if (out / DATASET).exists() else []
    for folder in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES):
        if (out / folder).is_dir():
            held += sorted(p.relative_to(out).as_posix() for p in (out / folder).rglob("*")
                           if not is_temp_name(p.name))
    other = [name for name in held if name not in ours or name not in names]
    if other:
        more = f" and {len(other) - 1} more" if len(other) > 1 else ""
        why = "an earlier export's, of other images or classes" if other[0] in ours else (
            "not written by an export of this project")
        raise ProjectError(f"{out} already holds an nnU-Net dataset with files this export would not replace "
                           f"({other[0]}{more}: {why}); choose a new or empty folder.")


def _write_case(out: Path, files: list[str], arrays: list[np.ndarray], which: str) -> None:
    """Write one image's files (its image, and its label map in training); WriteError saying the export is
    incomplete at `which` ('image 2 of 40 (1 written)') when one cannot be written."""
    for name, array in zip(files, arrays):
        try:
            write_png(out / name, array)
        except OSError as err:
            raise write_error(f"Export incomplete: could not write {which}", err, out / name) from err


def export_nnunet(
    project: Project, classes: list[str], out_dir: str | os.PathLike[str], source: str = "labels",
    threshold: float = 0.5, skipped: list[str] | None = None,
) -> NnunetExport:
    """Write the dataset into `out_dir` (name it DatasetNNN_Name for nnU-Net) with manifest.json; images that cannot
    be read are skipped with a message. The manifest names the files first (Manifest.claim), so that an export
    stopped half-way can be run again into its folder; WriteError, saying how far it got, when a file cannot be
    written."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    for cls in classes:
        project.class_spec(cls)  # ProjectError for an unknown class before anything is written
    check_export_target(project, out_dir)
    out = Path(out_dir)
    refuse_foreign_folder(project, out, "nnU-Net")
    kept = classes_with_masks(project, classes, source)
    planned = _planned(project, kept, source)
    names = {DATASET, *(name for files in planned.values() for name in files)}
    refuse_foreign_files(project, out, sorted(names))
    _refuse_other_dataset(out, exported_files(out, project) or set(), names)
    manifest = Manifest(project, "nnunet", source, threshold)
    if len(kept) < len(classes):
        manifest.notes.append(f"Left out (no masks): {', '.join(c for c in classes if c not in kept)}.")
    manifest.notes.append("labelsTr values: 0 background, then the classes in dataset.json order; where classes "
                          "overlap the later class wins. Images lacking a mask of any exported class are in imagesTs "
                          "without a label.")
    manifest.claim(out, names)
    cases, ignore_value = case_ids(project.stems), len(kept) + 1  # nnU-Net: the ignore label is the highest
    images: list[str] = []
    training = test = 0
    sparse = False
    for n, stem in enumerate(project.stems, start=1):
        found = masks_of_image(project, kept, stem, source, threshold, skipped) if kept else {}
        try:
            image = project.load_image(stem)
        except MedsegError as err:
            skip(skipped, f"{stem} not exported: {err}")
            continue
        files = _files(cases[stem], bool(kept) and len(found) == len(kept))
        if not names.issuperset(files):  # a mask that could not be read: the image goes to imagesTs
            refuse_foreign_files(project, out, files)
            manifest.claim(out, files)
            names.update(files)
        arrays = [image]
        if len(files) == 2:
            values, ignore = label_map([found[c] for c in kept])
            if ignore is not None:
                values[ignore], sparse = ignore_value, True
            arrays.append(values)
        _write_case(out, files, arrays, f"image {n} of {len(planned)} ({training + test} written)")
        images.append(files[0])  # its label map is in the manifest's masks
        if len(files) == 1:
            test += 1
            continue
        training += 1
        for value, cls in enumerate(kept, start=1):
            manifest.add(stem, cls, found[cls].source, sparse=found[cls].annotated is not None, file=files[1],
                         value=value, image_file=files[0])
    labels = {"background": 0, **{_label_name(cls): i for i, cls in enumerate(kept, start=1)}}
    if sparse:
        labels[IGNORE] = manifest.unannotated = ignore_value
        manifest.notes[0] = (f"Sparse labels: pixels that were not annotated and that no class claims have the "
                             f"'{IGNORE}' label ({ignore_value}), nnU-Net's convention for partial labels.")
    try:
        atomic_write_json(out / DATASET, {
            "channel_names": CHANNEL_NAMES, "labels": labels, "numTraining": training,
            "file_ending": FILE_ENDING, "name": project.root.name,
            "description": f"Exported by medseg from {project.root.name}; see manifest.json for which masks are "
                           "human labels and which model predictions."})
    except OSError as err:
        raise write_error(f"Export incomplete: could not write {DATASET} (the {training + test} images were "
                          "written)", err, out / DATASET) from err
    try:
        manifest.write(out, [DATASET, *images])
    except OSError as err:
        raise write_error("Export incomplete: could not write the manifest", err, out / MANIFEST) from err
    result = NnunetExport(out, training, test, tuple(kept))
    log.info("%s", result.summary())
    return result
