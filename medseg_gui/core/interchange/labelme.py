"""Import a folder annotated with labelme (one JSON per image) into a new project.

Each shape's `label` becomes a class (matched to an existing class name ignoring case, else a new class); polygon,
rectangle and circle shapes are filled into that class's mask (other shape types, such as lines and points, are left out
with a warning). A JSON annotates its whole image: every class drawn as an area anywhere in the import gets a label on
each annotated image, empty where that image has no shape of it; an image whose shapes of a class are none of them areas
stays unlabelled for that class (an empty label would call the object they mark background). The image is the file
`imagePath` names, relative to the JSON; image data embedded in the JSON (`imageData`) is not used, so a JSON whose
image file is missing is skipped with a warning. Images in the folder without a JSON are imported unlabelled.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
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


@dataclass
class LeftOut:
    """The shapes of one class that are not areas: how many of each type, and the images left unlabelled for it
    (shown names) because it has no area there."""

    kinds: Counter[str] = field(default_factory=Counter)
    unlabelled: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """How labels become classes: {labelme label: class ("" = left out)}, the classes drawn as an area on some image
    (only they get empty labels), and the shapes left out so far, by class."""

    mapping: dict[str, str]
    areas: set[str]
    left_out: dict[str, LeftOut] = field(default_factory=dict)


def _area(shape: dict[str, Any]) -> tuple[str, np.ndarray] | None:
    """The type and float Nx2 points of a shape that is an area, or None when its type or points do not make one."""
    kind = shape.get("shape_type") or "polygon"
    try:
        points = np.asarray(shape.get("points"), dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        return None
    if (kind == "polygon" and len(points) >= 3) or (kind in ("rectangle", "circle") and len(points) == 2):
        return kind, points
    return None


def shape_mask(shape: dict[str, Any], height: int, width: int) -> np.ndarray | None:
    """bool HxW of one filled labelme shape, or None when its type is not an area or its points do not make one."""
    area = _area(shape)
    if area is None:
        return None
    kind, points = area
    mask = np.zeros((height, width), np.uint8)
    pts = np.round(points).astype(np.int32)
    if kind == "polygon":
        cv2.fillPoly(mask, [pts], 1)
    elif kind == "rectangle":
        cv2.rectangle(mask, tuple(int(v) for v in pts.min(0)), tuple(int(v) for v in pts.max(0)), 1, thickness=-1)
    else:
        radius = int(round(float(np.hypot(*(points[1] - points[0])))))
        cv2.circle(mask, (int(pts[0][0]), int(pts[0][1])), radius, 1, thickness=-1)
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


def _class_of(shape: dict[str, Any], mapping: dict[str, str]) -> str:
    """The class a shape goes to, or "" when its label is left out."""
    return mapping.get(str(shape.get("label") or "").strip(), "")


def _area_classes(items: list[Annotated], mapping: dict[str, str]) -> set[str]:
    """The classes drawn as an area on some image: only they get empty labels where an image has no shape of them."""
    return {cls for item in items for shape in item.shapes if (cls := _class_of(shape, mapping)) and _area(shape)}


def _label_masks(item: Annotated, plan: Plan, height: int, width: int) -> dict[str, np.ndarray]:
    """{class: bool HxW} of one image: every class of `plan.areas`, empty where it has no shapes, except those whose
    shapes here are none of them areas (left unlabelled, and recorded in `plan.left_out`)."""
    masks = {cls: np.zeros((height, width), bool) for cls in sorted(plan.areas)}
    drawn_here, skipped_here = set(), set()
    for shape in item.shapes:
        cls = _class_of(shape, plan.mapping)
        drawn = shape_mask(shape, height, width) if cls else None
        if drawn is not None:
            masks[cls] |= drawn
            drawn_here.add(cls)
        elif cls:
            plan.left_out.setdefault(cls, LeftOut()).kinds[str(shape.get("shape_type") or "polygon")] += 1
            skipped_here.add(cls)
    for cls in sorted(skipped_here - drawn_here):
        masks.pop(cls, None)
        plan.left_out[cls].unlabelled.append(shown_name(item.image.name))
    return masks


def _warn_left_out(plan: Plan) -> None:
    """One warning per class with shapes that are not areas: how many, and where the class stays unlabelled."""
    for cls, what in sorted(plan.left_out.items()):
        kinds = ", ".join(f"{n} {kind}" for kind, n in what.kinds.items())
        text = (f"left out {what.kinds.total()} shape(s) of '{shown_name(cls)}' ({kinds}): only "
                f"{', '.join(FILLED)} shapes are areas")
        if what.unlabelled:
            names = ", ".join(what.unlabelled[:3]) + (", …" if len(what.unlabelled) > 3 else "")
            text += (f"; '{shown_name(cls)}' stays unlabelled (not background) on the {len(what.unlabelled)} "
                     f"image(s) where it has no area: {names}")
        if cls not in plan.areas:
            text += "; it is drawn as an area nowhere, so it has no labels at all"
        log.warning("%s", text)


def _add(project: Project, item: Annotated | None, image: Path, plan: Plan) -> None:
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
    for cls, mask in _label_masks(item, plan, height, width).items():
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
    plan = Plan(mapping, _area_classes(items, mapping))

    def fill(project: Project) -> None:
        for image in images:
            _add(project, annotated.get(image), image, plan)

    project = build_project(dest, classes, fill)
    _warn_left_out(plan)
    log.info("imported %d images (%d with labelme files) into %s", len(images), len(items), dest)
    return project
