"""Rename, recolour and delete a class of a project without losing a label (adding one is `Project.add_class`).

A class's name is also its folder name under labels/, predictions/ and models/. Renaming moves those folders (one
`os.replace` each) and then saves project.json; deleting moves them into "deleted classes/<name> <time>/" inside the
project, never removing a file. If project.json cannot be saved, the folders are moved back and nothing changes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from medseg_gui.core.atomic import atomic_write_json, untaken
from medseg_gui.core.errors import ProjectError
from medseg_gui.core.label_status import ACCEPTED_KEY, CONFIRMED_KEY, NONE_KEY
from medseg_gui.core.project_format import ClassSpec, check_class_name, check_color

log = logging.getLogger(__name__)

CLASS_FOLDERS = ("labels", "predictions", "models")
TRASH_FOLDER = "deleted classes"
STATE_KEYS = (NONE_KEY, CONFIRMED_KEY, ACCEPTED_KEY)  # project.json image states that list class names
# colours for new classes, none near the review overlays' FP red, FN blue or magenta uncertainty (a trial's new
# "cervix" class came out red, the colour of false positives; tests/core/test_classes.py)
PALETTE = ((80, 200, 255), (255, 160, 80), (120, 220, 90), (200, 120, 255), (60, 220, 200), (255, 140, 200),
           (150, 150, 255), (255, 200, 60))


def free_color(project: Any) -> tuple[int, int, int]:
    """A palette colour no class of `project` uses yet (the first one when all are taken)."""
    used = {tuple(c.color) for c in project.classes}
    return next((c for c in PALETTE if c not in used), PALETTE[0])


def rename_class(project: Any, old: str, new: str) -> ClassSpec:
    """Rename class `old` to `new` with its labels, predictions and models; classes restricted to it follow."""
    spec = project.class_spec(old)
    check_class_name(new)
    if new == old:
        return spec
    if any(c.name.casefold() == new.casefold() and c.name != old for c in project.classes):
        raise ProjectError(f"The project already has a class called '{new}'.")
    moves = [(project.root / sub / old, project.root / sub / new) for sub in CLASS_FOLDERS]
    moves = [(src, dest) for src, dest in moves if src.is_dir()]
    for _, dest in moves:
        if dest.exists() and not _same_folder(dest, project.root / dest.parent.name / old):
            raise ProjectError(f"'{old}' was not renamed: the folder {dest} already exists. Move it away first.")
    classes = tuple(replace(c, name=new if c.name == old else c.name,
                            roi_class=new if c.roi_class == old else c.roi_class) for c in project.classes)
    images = tuple(_with_state_classes(e, lambda c: new if c == old else c) for e in project.images)
    _move_then_save(project, moves, classes, images)
    log.info("renamed class %s to %s in %s", old, new, project.root)
    return next(c for c in classes if c.name == new)


def _with_state_classes(entry: Any, rename: Any) -> Any:
    """`entry` with every class listed in its ``STATE_KEYS`` image states mapped by `rename` (None drops it)."""
    state = {key: [n for n in (rename(c) for c in entry.state[key]) if n is not None]
             for key in STATE_KEYS if entry.state.get(key)}
    return replace(entry, state={**entry.state, **state}) if state else entry


def recolour_class(project: Any, name: str, color: tuple[int, int, int]) -> ClassSpec:
    rgb = check_color(name, color)
    new = replace(project.class_spec(name), color=rgb)
    _move_then_save(project, [], tuple(new if c.name == name else c for c in project.classes), None)
    return new


def delete_class(project: Any, name: str) -> Path | None:
    """Remove class `name` from the project; its folders go to "deleted classes/<name> <time>/" (returned), with the
    images marked "no <name> here" listed in no-object-marks.json there; None (and no such folder) when the class had
    no file to keep. Refused for the last class and for a class another class is restricted to."""
    project.class_spec(name)
    if len(project.classes) == 1:
        raise ProjectError(f"'{name}' is the only class; add another class before deleting it.")
    users = [c.name for c in project.classes if c.roi_class == name]
    if users:
        raise ProjectError(f"'{name}' was not deleted: {', '.join(users)} is restricted to its region "
                           "(Train → Restrict current class to a region…); remove that restriction first.")
    first = f"{name} {time.strftime('%Y-%m-%d %H-%M-%S')}"
    backup = untaken(project.root / TRASH_FOLDER / first, lambda n: f"{first} ({n})")
    moves = [(project.root / sub / name, backup / sub) for sub in CLASS_FOLDERS if (project.root / sub / name).is_dir()]
    marked = [e.stem for e in project.images if name in (e.state.get(NONE_KEY) or [])]
    images = tuple(_with_state_classes(e, lambda c: None if c == name else c) for e in project.images)
    _check_writable(project)
    try:
        backup.mkdir(parents=True)
        if marked:
            atomic_write_json(backup / "no-object-marks.json", {"class": name, "no_object_here": marked})
    except OSError as err:
        raise ProjectError(f"'{name}' was not deleted: {backup} cannot be written ({err.strerror or err}).") from None
    try:
        _move_then_save(project, moves, tuple(c for c in project.classes if c.name != name), images)
    except ProjectError:
        if not any((backup / sub).exists() for sub in CLASS_FOLDERS):  # everything went back: no empty backup
            shutil.rmtree(backup, ignore_errors=True)
            _remove_if_empty(backup.parent)
        raise
    if not any(p.is_file() for p in backup.rglob("*")):  # nothing to keep: no empty "deleted classes" folders
        _remove_if_empty(backup)
        _remove_if_empty(backup.parent)
        log.info("deleted class %s of %s; it had no files", name, project.root)
        return None
    log.info("deleted class %s of %s; its files are in %s", name, project.root, backup)
    return backup


def _remove_if_empty(folder: Path) -> None:
    """Remove `folder` and its empty subfolders, bottom up; a folder holding any file stays."""
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            sub.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()


def _check_writable(project: Any) -> None:
    """Before the first folder is touched: ProjectError when the project must not be written (read-only, lock lost)."""
    reason = project.write_refusal()
    if reason is not None:
        raise ProjectError(f"The classes were not changed: {reason}.")


def _move_then_save(project: Any, moves: list[tuple[Path, Path]], classes: tuple[ClassSpec, ...],
                    images: tuple | None) -> None:
    """Move each folder, then save the new class list; undo the moves when anything fails."""
    _check_writable(project)
    done: list[tuple[Path, Path]] = []
    try:
        for src, dest in moves:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
            done.append((src, dest))
        project.replace_classes(classes, images)
    except (OSError, ProjectError) as err:
        for src, dest in reversed(done):
            try:
                os.replace(dest, src)
            except OSError:
                log.exception("could not move %s back to %s", dest, src)
        if isinstance(err, ProjectError):
            raise
        raise ProjectError(f"The classes were not changed: {err.filename or ''} cannot be moved "
                           f"({err.strerror or err}).") from None


def _same_folder(a: Path, b: Path) -> bool:
    """True on a case-insensitive file system when `a` and `b` name one folder (a rename that changes only case)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
