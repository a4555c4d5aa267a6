"""The project folder and its index (format version 1, see docs/ARCHITECTURE.md): project.json's image list,
classes and per-image state, where every file of an image lives, and safe writing. `core.project.Project` adds the
labels, ROIs, predictions and metrics stored in those files.

All writes are atomic and check the project lock first (`write_refusal`): nothing is written while another program
holds the lock, so a window whose lock was taken over, and its workers and training child, stop writing. A project
may be used from a worker thread: entry/class lists are replaced (never mutated) under a lock, project.json writes and
the image-size cache are locked, and distinct files can be written in parallel."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from medseg_gui.core.atomic import (FileVersions, atomic_write_bytes, atomic_write_json, move_aside,
                                   sweep_temp_files, untaken, write_problem)
from medseg_gui.core.errors import ImageReadError, ProjectError
from medseg_gui.core.images import IMAGE_SUFFIXES, IMAGE_TYPES_TEXT
from medseg_gui.core.lock import LockWatch, ProjectLock
from medseg_gui.core.image_listing import list_image_folder
from medseg_gui.core.names import file_name_problem, name_problem, shown_name
from medseg_gui.core.project_format import (
    ASIDE_REPLACED,
    DEFAULT_CLASSES,
    PROJECT_FILE,
    REMOVED_FOLDER,
    ClassSpec,
    ImageEntry,
    ProjectData,
    check_class_name,
    check_color,
    check_roi_classes,
    project_to_json,
    read_project_file,
    removed_in_place,
    unique_stem,
)

if TYPE_CHECKING:  # typing.Self is Python 3.11+; the annotations are strings (requires-python >= 3.10)
    from typing import Self

log = logging.getLogger(__name__)


class ProjectFolder:
    """A project folder's index and paths; use `Project` (built with `create`, `open` or
    `open_or_create_for_folder`), which adds the data files."""

    def __init__(self, root: Path, classes: tuple[ClassSpec, ...], images: tuple[ImageEntry, ...], layout: str,
                 excluded: tuple[str, ...] = ()):
        self._root = Path(root).resolve()
        self._classes = classes
        self._images = images
        self._index = {e.stem: e for e in images}
        self._layout = layout  # "managed": images live in images/; "folder": images live in the root itself
        self._excluded = excluded  # image files removed from the project but left where they are: never listed again
        self._lock = threading.RLock()
        self._sizes: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
        self._read_only: str | None = None  # why nothing may be written (another window edits it, read-only media)
        self._project_lock: ProjectLock | LockWatch = LockWatch(self._root)  # writes stop once another program holds it
        self._versions = FileVersions()  # project.json and label files as this object read or last wrote them
        self.unlisted_masks: dict[Path, str] = {}  # the last refresh_images left out: masks_beside's {mask: why}
        self.unlisted_copies: dict[Path, Path] = {}  # and as copies of their photos: {copy: photo}
        self.recovered = ""  # what opening finished of a removal or restore cut short (core.removal_recovery)

    @classmethod
    def create(cls, root: str | os.PathLike[str], classes: tuple[ClassSpec, ...] = DEFAULT_CLASSES) -> Self:
        """Make a new empty project in `root` (created if needed); ProjectError if it already holds one."""
        root_path = Path(root)
        if (root_path / PROJECT_FILE).exists():
            raise ProjectError(f"The folder {root_path} already contains a project; open it instead.")
        if not classes:
            raise ProjectError("A project needs at least one class.")
        for spec in classes:
            check_class_name(spec.name)
        if len({c.name.casefold() for c in classes}) != len(classes):
            names = ", ".join(c.name for c in classes)
            raise ProjectError(f"Two of the classes {names} have the same name (upper/lower case does not count).")
        check_roi_classes(tuple(classes))
        project = cls(root_path, tuple(classes), (), "managed")
        project.save()
        return project

    @classmethod
    def open(cls, root: str | os.PathLike[str]) -> Self:
        """Read `root`/project.json (or a path to project.json); ProjectError if missing, damaged or not ours."""
        root_path = Path(root)
        if root_path.name == PROJECT_FILE and root_path.is_file():
            root_path = root_path.parent
        versions = FileVersions()
        versions.seen(root_path.resolve() / PROJECT_FILE)  # the path save() writes
        data = read_project_file(root_path / PROJECT_FILE)
        project = cls(root_path, data.classes, data.images, data.layout, data.excluded)
        project._versions = versions
        project.sweep_temp_files()
        return project

    @classmethod
    def open_or_create_for_folder(cls, folder: str | os.PathLike[str], read_only: str | None = None) -> Self:
        """Open `folder`/project.json (picking up images added since), or create one listing the folder's images.

        Images stay in place; every non-hidden file with an image suffix is listed, sorted, non-recursively, but
        masks lying beside their photos and copies of those photos (`refresh_images`).
        With `read_only` (the reason) nothing is written: a plain folder is listed in memory only.
        """
        folder_path = Path(folder)
        if not folder_path.is_dir():
            raise ProjectError(f"The folder {folder_path} does not exist.")
        if (folder_path / PROJECT_FILE).exists():
            project = cls.open(folder_path)
            if read_only is None:  # before refresh_images: a photo half brought back is not a new image
                from medseg_gui.core.removal_recovery import finish_interrupted  # it needs core.project

                project.recovered = finish_interrupted(project)  # type: ignore[arg-type]
        else:
            project = cls(folder_path, DEFAULT_CLASSES, (), "folder", removed_in_place(folder_path))
        project.set_read_only(read_only)
        added = project.refresh_images()
        if not added and not (folder_path / PROJECT_FILE).exists() and read_only is None:
            project.save()
        return project

    def sweep_temp_files(self) -> int:
        """Remove temp files a killed writer left in the project's folders and its removed images' record folders
        (core.atomic rules); how many."""
        folders = [self._root, self._root / "images", self._root / "roi", *(self._root / REMOVED_FOLDER).glob("*/"),
                   *(self._root / sub / c.name for sub in ("labels", "predictions", "models") for c in self._classes)]
        return sum(len(sweep_temp_files(folder)) for folder in folders)

    def to_json(self) -> dict[str, Any]:
        """The project.json content (format version 1, plus `layout`)."""
        with self._lock:
            return project_to_json(ProjectData(self._classes, self._images, self._layout, self._excluded))

    def save(self) -> None:
        """Write project.json atomically (mutating methods call this themselves). A project.json that another
        program changed since this object read or wrote it is first moved to .replaced/ in the project folder
        (a fault-injection trial replaced it while the window had the project open: the next save wrote over it)."""
        path = self._root / PROJECT_FILE
        with self._lock:
            if self._versions.changed(path):
                def keep(p: Path) -> None:
                    log.warning("%s was changed by another program since it was read here; that version was moved "
                                "to %s before this program's was written", p, move_aside(p, ASIDE_REPLACED))

                self._write(path, keep)
            self._write(path, lambda p: atomic_write_json(p, self.to_json()))
            self._versions.written(path)

    @property
    def read_only(self) -> str | None:
        """Why this project must not be written (every write then raises ProjectError), or None."""
        return self._read_only

    def set_read_only(self, reason: str | None) -> None:
        self._read_only = reason

    def set_lock(self, lock: ProjectLock | None) -> None:
        """The lock this object's owner (the window) holds on the project; None: only watch it (core.lock LockWatch)."""
        self._project_lock = lock if lock is not None else LockWatch(self._root)

    def write_refusal(self) -> str | None:
        """Why nothing may be written into the project now (read-only, or another program holds or took over its
        lock: core.lock), or None. Every write of the project checks it first."""
        if self._read_only is not None:
            return f"this project is open read-only ({self._read_only})"
        return self._project_lock.check()

    def write_probe(self) -> str | None:
        """`write_refusal`, else why a file cannot be created in the project folder now (a folder made read-only
        or full while open: core.atomic.write_problem), or None. For the start of long work whose result must be
        saved (Retrain), not per write."""
        return self.write_refusal() or write_problem(self._root)

    def check_writable(self, what: str) -> None:
        """ProjectError "<what> was not saved: <why>" when `write_refusal` forbids writing (for writes done outside
        `_write`: class folders moved, models promoted)."""
        reason = self.write_refusal()
        if reason is not None:
            raise ProjectError(f"{what} was not saved: {reason}.")

    def _write(self, path: Path, writer: Any) -> None:
        self.check_writable(path.name)
        try:
            writer(path)
        except OSError as exc:
            raise ProjectError(f"Could not save {path}: {exc.strerror or exc}.") from None

    def _set_images(self, images: tuple[ImageEntry, ...]) -> None:
        """Replace (never mutate) the entry list so readers on other threads always see a consistent snapshot."""
        self._index = {e.stem: e for e in images}
        self._images = images

    @property
    def root(self) -> Path:
        return self._root

    @property
    def classes(self) -> tuple[ClassSpec, ...]:
        return self._classes

    @property
    def images(self) -> tuple[ImageEntry, ...]:
        return self._images

    @property
    def excluded(self) -> tuple[str, ...]:
        """Files removed from the project but left in place (core.remove_images), as entry paths: not listed again
        until added again (`add_image`)."""
        return self._excluded

    @property
    def stems(self) -> list[str]:
        return [e.stem for e in self._images]

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self._classes]

    def entry(self, stem: str) -> ImageEntry:
        """The ImageEntry for `stem`; ProjectError if the project has no such image."""
        found = self._index.get(stem)
        if found is None:
            raise ProjectError(f"There is no image called '{stem}' in this project.")
        return found

    def class_spec(self, cls: str) -> ClassSpec:
        """The ClassSpec called `cls`; ProjectError for an unknown class."""
        for c in self._classes:
            if c.name == cls:
                return c
        raise ProjectError(f"Unknown class '{cls}'; this project has: {', '.join(self.class_names) or 'none'}.")

    def add_image(self, src: str | os.PathLike[str], copy: bool = True) -> ImageEntry:
        """Add an image file (copied into images/ unless `copy` is False or it is already inside the project)."""
        src_path = Path(src).absolute().parent.resolve() / Path(src).name  # resolve folders, not file symlinks
        if not src_path.is_file():
            raise ImageReadError(f"Image file '{src_path.name}' was not found (looked in {src_path.parent}).")
        if src_path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ImageReadError(f"'{src_path.name}' is not a supported image type ({IMAGE_TYPES_TEXT}).")
        problem = file_name_problem(src_path.name) or (None if copy else name_problem(str(src_path)))
        if problem is not None:
            raise ImageReadError(f"Image file '{shown_name(src_path)}' was not added: its name {problem}.")
        with self._lock:
            if not src_path.is_relative_to(self._root) and copy:
                dest = untaken(self._root / "images" / src_path.name, lambda n: f"{src_path.stem}_{n}{src_path.suffix}")
                self._write(dest, lambda p: atomic_write_bytes(p, src_path.read_bytes()))
                src_path = dest
            rel = src_path.relative_to(self._root).as_posix() if src_path.is_relative_to(self._root) else None
            self._excluded = tuple(x for x in self._excluded if x != rel)  # added again: listed again
            entry = self._add_entries([src_path])[0]
            self.save()
        return entry

    def _add_entries(self, paths: list[Path]) -> list[ImageEntry]:
        """Append entries for `paths` (skipping ones already listed), with unique stems; caller saves."""
        known = {e.path: e for e in self._images}
        taken = {e.stem.casefold() for e in self._images}
        result, new = [], []
        for path in paths:
            rel = path.relative_to(self._root).as_posix() if path.is_relative_to(self._root) else path.as_posix()
            if rel in known:
                result.append(known[rel])
                continue
            entry = ImageEntry(unique_stem(path.name, taken), rel, {"reviewed": False})
            known[rel] = entry
            new.append(entry)
            result.append(entry)
        self._set_images(self._images + tuple(new))
        return result

    def refresh_images(self) -> list[str]:
        """List image files added to the image folder since (root for folder projects, images/ otherwise); new stems.
        A folder project lists no new file that is a mask beside its photo or a copy of it (image_listing, which
        reads them: call off the GUI thread); `unlisted_masks` and `unlisted_copies` say which it left out."""
        folder = self._root if self._layout == "folder" else self._root / "images"
        if not folder.is_dir():
            return []
        known = {e.path for e in self._images}
        listing = list_image_folder(folder, self._root, self._excluded, known, self._layout == "folder")
        self.unlisted_masks, self.unlisted_copies = listing.masks, listing.copies
        with self._lock:
            before = len(self._images)
            self._add_entries(listing.files)  # `folder` derives from the resolved root, so these need no resolving
            new = [e.stem for e in self._images[before:]]
            if new:
                log.info("found %d new image(s) in %s", len(new), folder)
                if self._read_only is None:
                    self.save()
        return new

    def add_class(self, name: str, color: tuple[int, int, int]) -> ClassSpec:
        """Add a class (its name doubles as a folder name); ProjectError if invalid or already present."""
        check_class_name(name)
        rgb = check_color(name, color)
        with self._lock:
            if name.casefold() in {c.name.casefold() for c in self._classes}:
                raise ProjectError(f"The project already has a class called '{name}'.")
            spec = ClassSpec(name, rgb)
            self.replace_classes(self._classes + (spec,))  # not saved: not added
        return spec

    def replace_classes(self, classes: tuple[ClassSpec, ...], images: tuple[ImageEntry, ...] | None = None) -> None:
        """Replace the class list (and the image entries, when given) in one project.json save; on a failed save
        nothing changes. Renaming or deleting a class, with its folders, is core.classes."""
        check_roi_classes(classes)
        with self._lock:
            before = self._classes, self._images
            self._classes = tuple(classes)
            self._set_images(self._images if images is None else tuple(images))
            try:
                self.save()
            except ProjectError:
                self._classes = before[0]
                self._set_images(before[1])
                raise

    def set_roi_class(self, cls: str, roi_class: str | None) -> ClassSpec:
        """Restrict `cls` to the region of `roi_class` (None: no restriction) and save project.json; ProjectError for
        an unknown class, the class itself or a circle (lesion → cervix → lesion)."""
        with self._lock:
            spec = self.class_spec(cls)
            if roi_class is not None:
                self.class_spec(roi_class)
            new = replace(spec, roi_class=roi_class)
            self.replace_classes(tuple(new if c.name == cls else c for c in self._classes))  # not saved: unchanged
        return new

    def unlist_images(self, stems: Collection[str], excluded: Collection[str] = ()) -> None:
        """Take `stems` off the image list and never list the files `excluded` (entry paths) again, in one
        project.json save; nothing changes when it fails. Their files are core.remove_images's business."""
        with self._lock:
            self._save_list(tuple(e for e in self._images if e.stem not in stems),
                            (*self._excluded, *(x for x in excluded if x not in self._excluded)))

    def list_again(self, entry: ImageEntry, at: int) -> None:
        """List a removed image's `entry` (its marks) again at index `at` of the list, its file no longer excluded, in
        one project.json save; nothing changes when it fails (core.restore_images checks the stem is free)."""
        with self._lock:
            images = (*self._images[:at], entry, *self._images[at:])
            self._save_list(images, tuple(x for x in self._excluded if x != entry.path))

    def _save_list(self, images: tuple[ImageEntry, ...], excluded: tuple[str, ...]) -> None:
        before = self._images, self._excluded
        self._set_images(images)
        self._excluded = excluded
        try:
            self.save()
        except ProjectError:
            self._set_images(before[0])
            self._excluded = before[1]
            raise

    def set_state(self, stem: str, key: str, value: Any) -> None:
        """Set a JSON-serialisable per-image state value (e.g. 'reviewed') and save project.json."""
        self.set_states(key, {stem: value})

    def set_states(self, key: str, values: dict[str, Any]) -> None:
        """`set_state` of several images at once ({stem: value}): project.json is saved once."""
        with self._lock:
            before = self._images
            for stem in values:
                self.entry(stem)  # ProjectError for an unknown image before anything changes
            self._set_images(tuple(replace(e, state={**e.state, key: values[e.stem]}) if e.stem in values else e
                                   for e in before))
            try:
                self.save()
            except ProjectError:
                self._set_images(before)  # not saved: the project keeps saying what is on disk
                raise

    def image_path(self, stem: str) -> Path:
        return self._root / PurePosixPath(self.entry(stem).path)

    def label_path(self, cls: str, stem: str) -> Path:
        return self._root / "labels" / self.class_spec(cls).name / f"{self.entry(stem).stem}.png"

    def roi_path(self, stem: str) -> Path:
        return self._root / "roi" / f"{self.entry(stem).stem}.png"

    def prediction_path(self, cls: str, stem: str) -> Path:
        return self._root / "predictions" / self.class_spec(cls).name / f"{self.entry(stem).stem}.png"

    def metrics_path(self, cls: str) -> Path:
        return self._root / "predictions" / self.class_spec(cls).name / "metrics.json"

    def uncertainty_path(self, cls: str) -> Path:
        return self._root / "predictions" / self.class_spec(cls).name / "uncertainty.json"

    def model_dir(self, cls: str) -> Path:
        return self._root / "models" / self.class_spec(cls).name
