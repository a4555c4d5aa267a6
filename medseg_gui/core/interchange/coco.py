"""Export masks as COCO instance segmentation: annotations.json plus images/<stem>.png (RGB, as shown in medseg).

One annotation per 8-connected component of a class's mask (a lesion), its outline as a polygon from OpenCV contours
(pixel-centre coordinates, so cv2.fillPoly gives the component back), bbox [x, y, w, h], area = its pixel count,
iscrowd 0. A hole inside a component is not represented (COCO polygons cannot cut holes): it is filled.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from medseg_gui.core.atomic import atomic_write_json
from medseg_gui.core.errors import MedsegError, skip, write_error
from medseg_gui.core.export import (SOURCES, check_export_target, has_source, masks_of_image,
                                     refuse_foreign_files, refuse_foreign_folder)
from medseg_gui.core.images import write_png
from medseg_gui.core.interchange.manifest import MANIFEST, Manifest
from medseg_gui.core.project import Project

log = logging.getLogger(__name__)

ANNOTATIONS = "annotations.json"
IMAGES = "images"  # the folder of the images, beside annotations.json


@dataclass(frozen=True)
class CocoExport:
    """What was written: annotations.json, how many images and annotations (components)."""

    path: Path
    images: int
    annotations: int

    def summary(self) -> str:
        a, i = self.annotations, self.images
        return (f"Wrote {a} COCO annotation{'s' if a != 1 else ''} on {i} image{'s' if i != 1 else ''} to "
                f"{self.path}")


@dataclass(frozen=True)
class Component:
    """One connected component of a mask, in COCO terms."""

    polygons: list[list[float]]  # each [x1, y1, x2, y2, ...], at least three points
    bbox: list[float]  # [x, y, width, height]
    area: float  # pixels


def _polygon(contour: np.ndarray) -> list[float]:
    points = contour.reshape(-1, 2).astype(float)
    while len(points) < 3:  # a one-pixel or one-pixel-wide component: repeat points, fillPoly still draws it
        points = np.concatenate([points, points[-1:]])
    return points.ravel().tolist()


def components(mask: np.ndarray) -> list[Component]:
    """The 8-connected components of a bool HxW mask as COCO polygons (outer outline only), in raster order."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    found = []
    for k in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[k])
        crop = (labels[y:y + h, x:x + w] == k).astype(np.uint8)
        contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x, y))
        found.append(Component([_polygon(c) for c in contours], [float(x), float(y), float(w), float(h)],
                               float(area)))
    return found


def _image_file(stem: str) -> str:
    return f"{IMAGES}/{stem}.png"


def export_coco(
    project: Project, classes: list[str], out_dir: str | os.PathLike[str], source: str = "auto",
    threshold: float = 0.5, skipped: list[str] | None = None,
) -> CocoExport:
    """Write `out_dir`/annotations.json, images/ and manifest.json for every image with a mask of any of `classes`
    (category ids 1..N in that order); unreadable files are skipped with a message. The manifest names the files
    first (Manifest.claim), so that an export stopped half-way can be run again into its folder; WriteError, saying
    how far it got, when a file cannot be written."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    for cls in classes:
        project.class_spec(cls)
    check_export_target(project, out_dir)
    out = Path(out_dir)
    refuse_foreign_folder(project, out, "COCO")
    stems = [s for s in project.stems if any(has_source(project, cls, s, source) for cls in classes)]
    names = [ANNOTATIONS, *map(_image_file, stems)]
    refuse_foreign_files(project, out, names)  # its own earlier ones, edited since, too (review: one was replaced)
    manifest = Manifest(project, "coco", source, threshold)
    manifest.notes.append("One COCO annotation per connected component (8-connected); holes inside a component are "
                          "filled. An image lists only the classes that have a mask on it in this manifest: for the "
                          "others it was not annotated, which COCO itself cannot say.")
    manifest.claim(out, names)
    categories = [{"id": i, "name": cls, "supercategory": "medseg"} for i, cls in enumerate(classes, start=1)]
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for n, stem in enumerate(stems, start=1):
        found = masks_of_image(project, classes, stem, source, threshold, skipped)
        if not found:
            continue
        try:
            image = project.load_image(stem)
        except MedsegError as err:
            skip(skipped, f"{stem} not exported: {err}")
            continue
        entry = {"id": len(images) + 1, "file_name": _image_file(stem), "width": int(image.shape[1]),
                 "height": int(image.shape[0])}
        try:
            write_png(out / entry["file_name"], image)
        except OSError as err:
            raise write_error(f"Export incomplete: could not write image {n} of {len(stems)} ({len(images)} "
                              "written)", err, out / entry["file_name"]) from err
        images.append(entry)
        for category, cls in enumerate(classes, start=1):
            if cls not in found:
                continue
            first = len(annotations) + 1
            for part in components(found[cls].mask):
                annotations.append({"id": len(annotations) + 1, "image_id": entry["id"], "category_id": category,
                                    "segmentation": part.polygons, "area": part.area, "bbox": part.bbox,
                                    "iscrowd": 0})
            manifest.add(stem, cls, found[cls].source, sparse=found[cls].annotated is not None, file=ANNOTATIONS,
                         image_id=entry["id"], category_id=category,
                         annotation_ids=list(range(first, len(annotations) + 1)))
    try:
        path = atomic_write_json(out / ANNOTATIONS, {
            "info": {"description": f"Exported by medseg from {project.root.name}; manifest.json says which masks "
                                    "are human labels and which model predictions.",
                     "date_created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")},
            "licenses": [], "images": images, "annotations": annotations, "categories": categories})
    except OSError as err:
        raise write_error(f"Export incomplete: could not write {ANNOTATIONS} (the {len(images)} images were "
                          "written)", err, out / ANNOTATIONS) from err
    try:
        manifest.write(out, [im["file_name"] for im in images])
    except OSError as err:
        raise write_error("Export incomplete: could not write the manifest", err, out / MANIFEST) from err
    result = CocoExport(path, len(images), len(annotations))
    log.info("%s", result.summary())
    return result
