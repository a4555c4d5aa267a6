"""Import a folder annotated with labelme (one JSON per image) into a new project.

Each shape's `label` becomes a class (matched to an existing class name ignoring case, else a new class); polygon,
rectangle and circle shapes are filled into that class's mask (other shape types, such as lines and points, are left
out with a warning). A JSON annotates its whole image: every class that occurs anywhere in the import gets a label on
each annotated image, empty where that image has no such shape. The image is the file `imagePath` names, relative to
the JSON; image data embedded in the JSON (`imageData`) is not used, so a JSON whose image file is missing is skipped
with a warning. Images in the folder without a JSON are imported unlabelled.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from medseg_gui.core.errors import ImageReadError, ProjectError
from medseg_gui.core.images import probe_image
from medseg_gui.core.importers import build_project, find_folder
from medseg_gui.core.names import shown_name
from medseg_gui.core.project import DEFAULT_CLASSES, ClassSpec, Project
from medseg_gui.core.project_format import check_class_name

log = logging.getLogger(__name__)

FILLED = ("polygon", "rectangle", "circle")
PALETTE = ((255, 99, 71), (65, 105, 225), (186, 85, 211), (0, 206, 209), (255, 140, 0), (154, 205, 50))


@dataclass
class Annotated:
    """One labelme JSON: its image file, size and shapes."""

    json_path: Path
    image: Path
    size: tuple[int, int] | None  # (H, W) from imageHeight/imageWidth when given
    shapes: list[dict[str, Any]] = field(default_factory=list)


def shape_mask(shape: dict[str, Any], height: int, width: int) -> np.ndarray | None:
    """bool HxW of one filled labelme shape, or None when its type is not an area or its points do not make one."""
    kind = shape.get("shape_type") or "polygon"
    try:
        points = np.asarray(shape.get("points"), dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        return None
    mask = np.zeros((height, width), np.uint8)
    pts = np.round(points).astype(np.int32)
    if kind == "polygon" and len(pts) >= 3:
        cv2.fillPoly(mask, [pts], 1)
    elif kind == "rectangle" and len(pts) == 2:
        cv2.rectangle(mask, tuple(int(v) for v in pts.min(0)), tuple(int(v) for v in pts.max(0)), 1, thickness=-1)
    elif kind == "circle" and len(pts) == 2:
        radius = int(round(float(np.hypot(*(points[1] - points[0])))))
        cv2.circle(mask, (int(pts[0][0]), int(pts[0][1])), radius, 1, thickness=-1)
    else:
        return None
    return mask.astype(bool)


def read_labelme(path: Path) -> Annotated:
    """The image and shapes of a labelme JSON; ProjectError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise ProjectError(f"{shown_name(path.name)} is not a readable labelme file ({err}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list) or not data.get("imagePath"):
        raise ProjectError(f"{shown_name(path.name)} is not a labelme file (it needs 'shapes' and 'imagePath').")
    image = (path.parent / str(data["imagePath"]).replace("\\", "/")).resolve()
    h, w = data.get("imageHeight"), data.get("imageWidth")
    size = (int(h), int(w)) if isinstance(h, int) and isinstance(w, int) else None
    return Annotated(path, image, size, [s for s in data["shapes"] if isinstance(s, dict)])


def _find(src: Path) -> list[Annotated]:
    found: dict[Path, Annotated] = {}
    for path in sorted(src.glob("*.json")):
        try:
            item = read_labelme(path)
        except ProjectError as err:
            log.warning("skipped %s", err)
            continue
        if not item.image.is_file():
            embedded = " (the image data embedded in the JSON is not used)"
            log.warning("skipped %s: its image %s was not found%s", shown_name(path.name), shown_name(item.image),
                        embedded)
        elif item.image in found:
            log.warning("skipped %s: %s already has the labelme file %s", shown_name(path.name),
                        shown_name(item.image.name), shown_name(found[item.image].json_path.name))
        else:
            found[item.image] = item
    return list(found.values())


def _classes(items: list[Annotated]) -> tuple[tuple[ClassSpec, ...], dict[str, str]]:
    """The project's classes (the defaults plus one per new label) and {labelme label: class name}."""
    classes = list(DEFAULT_CLASSES)
    mapping: dict[str, str] = {}
    for item in items:
        for shape in item.shapes:
            label = str(shape.get("label") or "").strip()
            if not label or label in mapping:
                continue
            known = next((c.name for c in classes if c.name.casefold() == label.casefold()), None)
            if known is None:
                try:
                    check_class_name(label)
                except ProjectError as err:
                    log.warning("shapes labelled '%s' left out: %s", shown_name(label), err)
                    mapping[label] = ""
                    continue
                classes.append(ClassSpec(label, PALETTE[(len(classes) - len(DEFAULT_CLASSES)) % len(PALETTE)]))
                known = label
            mapping[label] = known
    return tuple(classes), mapping


def _label_masks(item: Annotated, mapping: dict[str, str], height: int, width: int) -> dict[str, np.ndarray]:
    """{class: bool HxW} of one image, every class of `mapping` present (empty where it has no shapes)."""
    masks = {cls: np.zeros((height, width), bool) for cls in sorted(set(mapping.values())) if cls}
    left_out: dict[str, int] = {}
    for shape in item.shapes:
        cls = mapping.get(str(shape.get("label") or "").strip())
        if not cls:
            continue
        drawn = shape_mask(shape, height, width)
        if drawn is None:
            kind = str(shape.get("shape_type") or "polygon")
            left_out[kind] = left_out.get(kind, 0) + 1
            continue
        masks[cls] |= drawn
    if left_out:
        kinds = ", ".join(f"{n} {kind}" for kind, n in left_out.items())
        log.warning("%s: left out %s shape(s) (only %s shapes are areas)", shown_name(item.json_path.name), kinds,
                    "/".join(FILLED))
    return masks


def _add(project: Project, item: Annotated | None, image: Path, mapping: dict[str, str]) -> None:
    try:
        height, width = probe_image(image)
    except ImageReadError as err:
        log.warning("skipped %s: %s", shown_name(image), err)
        return
    stem = project.add_image(image, copy=True).stem
    if item is None:
        return
    if item.size is not None and item.size != (height, width):
        log.warning("%s imported without its labels: %s says the image is %d×%d, but it is %d×%d (width×height)",
                    shown_name(image.name), shown_name(item.json_path.name), item.size[1], item.size[0], width,
                    height)
        return
    for cls, mask in _label_masks(item, mapping, height, width).items():
        project.save_label(cls, stem, mask)


def import_labelme(src: str | Path, dest: str | Path) -> Project:
    """A new project at `dest` from the labelme folder `src` (see the module docstring); all-or-nothing."""
    src, dest = Path(src), Path(dest)
    if not src.is_dir():
        raise ProjectError(f"Cannot import: {src} is not a folder.")
    items = _find(src)
    annotated = {item.image: item for item in items}
    images = sorted({*annotated, *(found.image.resolve() for found in find_folder(src))}, key=lambda p: p.name)
    if not images:
        raise ProjectError(f"No images found in {src} for the 'labelme' layout — check the folder and --layout.")
    classes, mapping = _classes(items)

    def fill(project: Project) -> None:
        for image in images:
            _add(project, annotated.get(image), image, mapping)

    project = build_project(dest, classes, fill)
    log.info("imported %d images (%d with labelme files) into %s", len(images), len(items), dest)
    return project
