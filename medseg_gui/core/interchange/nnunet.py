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

from medseg_gui.core.atomic import atomic_write_json
from medseg_gui.core.errors import MedsegError, ProjectError, skip, write_error
from medseg_gui.core.export import (SOURCES, MaskToExport, check_export_target, classes_with_masks, masks_of_image,
                                     refuse_foreign_folder)
from medseg_gui.core.images import write_png
from medseg_gui.core.interchange.manifest import Manifest
from medseg_gui.core.project import Project

log = logging.getLogger(__name__)

CHANNEL_NAMES = {"0": "R", "1": "G", "2": "B"}  # nnU-Net's natural-image reader gives an RGB PNG three channels
FILE_ENDING = ".png"
IGNORE = "ignore"


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


def export_nnunet(
    project: Project, classes: list[str], out_dir: str | os.PathLike[str], source: str = "labels",
    threshold: float = 0.5, skipped: list[str] | None = None,
) -> NnunetExport:
    """Write the dataset into `out_dir` (name it DatasetNNN_Name for nnU-Net) with manifest.json; images that cannot
    be read are skipped with a message; WriteError when a file cannot be written."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    for cls in classes:
        project.class_spec(cls)  # ProjectError for an unknown class before anything is written
    check_export_target(project, out_dir)
    out = Path(out_dir)
    if (out / "dataset.json").exists() or (out / "imagesTr").exists():
        raise ProjectError(f"{out} already holds an nnU-Net dataset; choose a new or empty folder.")
    refuse_foreign_folder(project, out, "nnU-Net")
    manifest = Manifest(project, "nnunet", source, threshold)
    kept = classes_with_masks(project, classes, source)
    if len(kept) < len(classes):
        manifest.notes.append(f"Left out (no masks): {', '.join(c for c in classes if c not in kept)}.")
    manifest.notes.append("labelsTr values: 0 background, then the classes in dataset.json order; where classes "
                          "overlap the later class wins. Images lacking a mask of any exported class are in imagesTs "
                          "without a label.")
    cases, ignore_value = case_ids(project.stems), len(kept) + 1  # nnU-Net: the ignore label is the highest
    training = test = 0
    sparse = False
    try:
        for stem in project.stems:
            found = masks_of_image(project, kept, stem, source, threshold, skipped) if kept else {}
            try:
                image = project.load_image(stem)
            except MedsegError as err:
                skip(skipped, f"{stem} not exported: {err}")
                continue
            if not kept or len(found) < len(kept):
                write_png(out / "imagesTs" / f"{cases[stem]}_0000{FILE_ENDING}", image)
                test += 1
                continue
            values, ignore = label_map([found[c] for c in kept])
            if ignore is not None:
                values[ignore], sparse = ignore_value, True
            write_png(out / "imagesTr" / f"{cases[stem]}_0000{FILE_ENDING}", image)
            write_png(out / "labelsTr" / f"{cases[stem]}{FILE_ENDING}", values)
            training += 1
            for value, cls in enumerate(kept, start=1):
                manifest.add(stem, cls, found[cls].source, sparse=found[cls].annotated is not None,
                             file=f"labelsTr/{cases[stem]}{FILE_ENDING}", value=value,
                             image_file=f"imagesTr/{cases[stem]}_0000{FILE_ENDING}")
        names = {"background": 0, **{_label_name(cls): i for i, cls in enumerate(kept, start=1)}}
        if sparse:
            names[IGNORE] = manifest.unannotated = ignore_value
            manifest.notes[0] = (f"Sparse labels: pixels that were not annotated and that no class claims have the "
                                 f"'{IGNORE}' label ({ignore_value}), nnU-Net's convention for partial labels.")
        atomic_write_json(out / "dataset.json", {
            "channel_names": CHANNEL_NAMES, "labels": names, "numTraining": training,
            "file_ending": FILE_ENDING, "name": project.root.name,
            "description": f"Exported by medseg from {project.root.name}; see manifest.json for which masks are "
                           "human labels and which model predictions."})
        manifest.write(out)
    except OSError as err:
        raise write_error("Could not write the nnU-Net dataset", err, getattr(err, "filename", None) or out) from err
    result = NnunetExport(out, training, test, tuple(kept))
    log.info("%s", result.summary())
    return result
