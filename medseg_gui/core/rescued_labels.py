"""Labels rescued at a close nobody could answer, and bringing them back into their project.

When the window closes without asking (a logout, SIGTERM) while a label cannot be written into the project, the
label is written to a rescue folder in the user data folder instead (workers.label_saver.LabelSaver.rescue:
`<folder>/<class>/<stem>.png`, encoded as label files are), with `rescued.json` beside it: the project's absolute
path (folder names alone are ambiguous: two projects may share a name), the time and the labels written. A
fault-injection trial reopened such a project and saw the old label with a plain ✓: nothing said a stroke had been
kept elsewhere. `find_rescues` lists a project's rescues not yet restored; `restore_rescues` writes their labels into
the project (the label the project holds, from before the failure or saved since, is moved to
labels/<class>/.replaced/, never deleted) and records in
rescued.json what was restored, so a rescue is offered until it is, and its folder is never deleted.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medseg_gui.core.atomic import atomic_write_json
from medseg_gui.core.errors import ImageReadError, LabelSizeError, MedsegError
from medseg_gui.core.images import probe_image, read_label, write_png
from medseg_gui.core.label_encoding import LabelPixels, encode_label
from medseg_gui.core.label_status import ACCEPTED_KEY, CONFIRMED_KEY, NONE_KEY, record_mark
from medseg_gui.core.names import shown_name
from medseg_gui.core.project_format import ASIDE_REPLACED, read_rewritable_json
from medseg_gui.core.rewrite import rewrite_json

log = logging.getLogger(__name__)

RESCUE_FILE = "rescued.json"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

Key = tuple[str, str]  # (class, stem)


def _root_key(root: Path) -> str:
    """The project root as recorded and compared: absolute, symlinks resolved."""
    return str(Path(root).resolve())


def record_rescue(folder: Path, project_root: Path, labels: list[Key]) -> Path:
    """Write `folder`/rescued.json (atomically) for the `labels` (class, stem) just written to `folder`."""
    return atomic_write_json(folder / RESCUE_FILE, {
        "project": _root_key(project_root), "time": time.strftime(TIME_FORMAT),
        "labels": [{"class": cls, "image": stem, "file": f"{cls}/{stem}.png"} for cls, stem in labels],
        "restored": [], "done": None})


def write_rescue(folder: Path, project_root: Path, labels: dict[Key, LabelPixels]) -> list[Path]:
    """Write each label to `folder`/<class>/<stem>.png (encoded as label files are), then `record_rescue` them; returns
    the files written (one that cannot be written is logged and left out: the caller has nowhere else to put it)."""
    written = []
    for (cls, stem), pixels in labels.items():
        path = folder / cls / f"{stem}.png"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_png(path, encode_label(pixels.mask, pixels.annotated))
            written.append(path)
        except (OSError, MedsegError) as err:
            log.error("The unsaved '%s' label of %s could not be written to %s either: %s", cls, stem, path, err)
    if written:
        try:
            record_rescue(folder, project_root, [(p.parent.name, p.stem) for p in written])
        except OSError as err:
            log.error("Could not write %s/%s (the labels are there all the same): %s", folder, RESCUE_FILE, err)
    return written


@dataclass(frozen=True)
class Rescue:
    """One rescue folder of a project: when it was written, the labels in it not restored yet and the size of each
    one's file (W, H; None where it cannot be read)."""

    folder: Path
    time: str  # TIME_FORMAT, local time
    labels: tuple[Key, ...]
    sizes: tuple[tuple[int, int] | None, ...] = ()

    def path(self, cls: str, stem: str) -> Path:
        return self.folder / cls / f"{stem}.png"


def _read_record(folder: Path) -> dict[str, Any] | None:
    """The folder's rescued.json; None when there is none or it cannot be read (logged) or is not a JSON object."""
    record = read_rewritable_json(folder / RESCUE_FILE)
    return record if isinstance(record, dict) else None


def _labels(record: dict[str, Any]) -> list[Key]:
    labels = [(e.get("class"), e.get("image")) for e in record.get("labels") or [] if isinstance(e, dict)]
    return [(c, s) for c, s in labels if isinstance(c, str) and isinstance(s, str) and c and s]


def find_rescues(base: Path, project_root: Path) -> list[Rescue]:
    """The rescue folders in `base` (paths.rescue_base("unsaved-labels")) recorded for the project at `project_root`
    with labels not yet restored (nor left out at a restore), oldest first. Reads small files: fine off the GUI
    thread, quick on it."""
    try:
        folders = sorted(p for p in Path(base).iterdir() if p.is_dir())
    except OSError:
        return []
    root, found = _root_key(project_root), []
    for folder in folders:
        record = _read_record(folder)
        if record is None or record.get("project") != root or record.get("done"):
            continue
        restored = {(c, s) for c, s in (tuple(k.split("/", 1)) for k in record.get("restored") or []
                                        if isinstance(k, str) and "/" in k)}
        left = [key for key in _labels(record) if key not in restored]
        if left:
            sizes = tuple(_file_size(folder / cls / f"{stem}.png") for cls, stem in left)
            found.append(Rescue(folder, str(record.get("time") or folder.name), tuple(left), sizes))
    return sorted(found, key=lambda r: (r.time, r.folder.name))


def _file_size(path: Path) -> tuple[int, int] | None:
    """(W, H) of a rescued label's file, from its header; None when it cannot be read."""
    try:
        h, w = probe_image(path)
    except ImageReadError:
        return None
    return w, h


def _listed(names: Sequence[str]) -> str:
    """"a, b, c, d, …": the first four."""
    return ", ".join(names[:4]) + (", …" if len(names) > 4 else "")


def _keys_text(keys: Sequence[Key]) -> str:
    """"img1 ('lesion'), img2 ('cervix'), …" of the first four labels."""
    return _listed([f"{stem} ('{cls}')" for cls, stem in keys])


def _rescued_names(rescues: list[Rescue]) -> list[str]:
    """"img1 ('lesion')" for each rescued label; one rescued more than once (an image replaced on disk twice) is
    told apart by when it was kept and its size: "img1 ('lesion', kept 2026-12-07 18:24:43, 80×60 pixels)"."""
    entries = [(key, r, size) for r in rescues for key, size in zip(r.labels, r.sizes or (None,) * len(r.labels))]
    twice = {key for key, n in Counter(key for key, _r, _s in entries).items() if n > 1}
    names = []
    for (cls, stem), rescue, size in entries:
        notes = [f"'{cls}'"]
        if (cls, stem) in twice:
            notes += [f"kept {rescue.time}"] + ([f"{size[0]}×{size[1]} pixels"] if size else [])
        names.append((f"{stem} ({', '.join(notes)}", rescue.folder.name))
    same = Counter(name for name, _folder in names)  # kept within one second, the same size: by the folder
    return [f"{name}, in {folder})" if same[name] > 1 else f"{name})" for name, folder in names]


def rescued_text(project_name: str, rescues: list[Rescue]) -> str:
    """"N labels of <project> (…) could not be saved into the project on <date>; they were kept in <folder>." (the
    window's question starts so, `medseg` prints it as a note)."""
    listed = _rescued_names(rescues)
    n, names = len(listed), _listed(listed)
    when = " and ".join(sorted({r.time.replace(" ", " at ", 1).rsplit(":", 1)[0] for r in rescues}))
    where = ", ".join(shown_name(str(r.folder)) for r in rescues)
    return (f"{n} label{'' if n == 1 else 's'} of {shown_name(project_name)} ({names}) could not be saved into the "
            f"project on {when}; {'it was' if n == 1 else 'they were'} kept in {where}.")


@dataclass(frozen=True)
class RescuesRestored:
    """What `restore_rescues` did: labels written into the project, the project's own labels moved aside first
    (key, where to), labels left in their rescue folder (key, why: image or class gone, unreadable, wrong size) and
    labels that could not be written (key, why: they stay offered)."""

    restored: tuple[Key, ...] = ()
    moved_aside: tuple[tuple[Key, Path], ...] = ()
    left: tuple[tuple[Key, str], ...] = ()
    failed: tuple[tuple[Key, str], ...] = ()
    folders: tuple[Path, ...] = ()

    def summary(self) -> str:
        n = len(self.restored)
        parts = [f"Brought back {n} rescued label{'' if n == 1 else 's'}" + (f": {_keys_text(self.restored)}"
                                                                            if n else "")]
        if self.moved_aside:
            held = "the labels the project held" if len(self.moved_aside) > 1 else "the label the project held"
            parts.append(f"{held} (from before the failure, or saved since) moved to "
                         + ", ".join(str(p) for _k, p in self.moved_aside[:3]) + " (not deleted)")
        if self.left:
            parts.append(f"{len(self.left)} left in the rescue folder: " + "; ".join(
                f"{stem} ('{cls}'): {why}" for (cls, stem), why in self.left[:3]) + ("; …" if len(self.left) > 3
                                                                                     else ""))
        if self.failed:
            parts.append(f"{len(self.failed)} could not be written ({self.failed[0][1]}); they are offered again "
                         "at the next open")
        return "; ".join(parts) + "."


def restore_rescues(project: Any, rescues: list[Rescue]) -> RescuesRestored:
    """Write each rescued label into `project` as its image's label of its class, oldest rescue first (a newer one
    of the same label wins; the older is moved aside like any label saved since). A label the project holds already
    (and that differs) is first moved to labels/<class>/.replaced/. Labels whose image or class is gone, or that
    cannot be read or do not fit the image, stay where they are. Each rescue's rescued.json records what was restored
    and, once nothing failed, that the folder is done (never offered again; never deleted)."""
    restored, aside, left, failed = [], [], [], []
    for rescue in rescues:
        done, not_written = [], False
        for key in rescue.labels:
            try:
                why = _restore_one(project, rescue.path(*key), key, aside)
            except MedsegError as err:  # the project cannot be written (yet): offered again at the next open
                failed.append((key, str(err).rstrip(".")))
                not_written = True
                continue
            if why is None:
                done.append(key)
            else:
                left.append((key, why))
                log.warning("rescued label %s left in %s: %s", rescue.path(*key), rescue.folder, why)
        restored += done
        _mark(rescue, done, complete=not not_written)
    return RescuesRestored(tuple(restored), tuple(aside), tuple(left), tuple(failed),
                           tuple(r.folder for r in rescues))


def _restore_one(project: Any, path: Path, key: Key, aside: list[tuple[Key, Path]]) -> str | None:
    """Restore one label: None when the project holds it now, else why it is left in the rescue folder;
    MedsegError when it could not be written (the project's own label is then where it was)."""
    cls, stem = key
    if cls not in project.class_names:
        return f"the class '{cls}' is no longer in the project"
    if stem not in project.stems:
        return "the image is no longer in the project"
    try:
        pixels = read_label(path, f"{cls} label")
        h, w = project.image_size(stem)
        if pixels.mask.shape != (h, w):
            raise LabelSizeError(f"it is {pixels.mask.shape[1]}×{pixels.mask.shape[0]} pixels, the image {w}×{h}")
    except (ImageReadError, LabelSizeError) as err:
        return str(err).rstrip(".")
    moved = None
    if project.has_label(cls, stem):
        if _same_as_project(project, key, pixels):
            return None
        moved = project.move_label_aside(cls, stem, ASIDE_REPLACED)
    try:
        project.save_label(cls, stem, *pixels)
    except MedsegError:
        if moved is not None:
            _put_back(moved, project.label_path(cls, stem))
        raise
    if moved is not None:
        aside.append((key, moved))
        for mark in (NONE_KEY, CONFIRMED_KEY, ACCEPTED_KEY):  # said of the label moved aside, not of this one
            if not record_mark(project, stem, mark, cls, False):
                log.warning("could not clear the '%s' mark of %s (%s) after restoring its label", mark, stem, cls)
    return None


def _same_as_project(project: Any, key: Key, pixels: LabelPixels) -> bool:
    """Whether the project's label of `key` holds these very pixels (nothing to move aside or write)."""
    try:
        own = project.load_label_pixels(*key)
    except (ImageReadError, LabelSizeError):
        return False
    if own is None or (own.annotated is None) != (pixels.annotated is None):
        return False
    return bool(np.array_equal(own.mask, pixels.mask) and (own.annotated is None
                                                           or np.array_equal(own.annotated, pixels.annotated)))


def _put_back(moved: Path, dest: Path) -> None:
    """The rescued label could not be written after the project's was moved aside: move that one back."""
    try:
        if dest.exists():  # written after all (by whom?): both are kept
            raise FileExistsError(f"{dest} exists")
        os.replace(moved, dest)
    except OSError as err:
        log.error("could not move %s back to %s: %s", moved, dest, err)


def _mark(rescue: Rescue, restored: list[Key], complete: bool) -> None:
    """Record in the rescue's rescued.json the labels restored, and the time when nothing is left to offer."""
    record = _read_record(rescue.folder)
    if record is None:
        return
    record["restored"] = sorted(set(record.get("restored") or []) | {f"{c}/{s}" for c, s in restored})
    if complete:
        record["done"] = time.strftime(TIME_FORMAT)
    try:
        rewrite_json(rescue.folder / RESCUE_FILE, record, record)  # only a record read as an object is rewritten
    except OSError as err:
        log.error("could not record the restore in %s: %s", rescue.folder / RESCUE_FILE, err)
