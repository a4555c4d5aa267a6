"""Open a project or a plain folder of images off the GUI thread (a new folder project reads the files beside its
photos that may be their masks: ProjectFolder.refresh_images), and check every image can be read."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from medseg_gui.core.errors import CancelledError, ImageReadError, MedsegError, ProjectFileDamagedError
from medseg_gui.core.identity import GUI_NAME
from medseg_gui.core.images import IMAGE_SUFFIXES, IMAGE_TYPES_TEXT, subfolder_images, subfolders_text
from medseg_gui.core.mask_files import reasons_text
from medseg_gui.core.names import shown_name
from medseg_gui.workers.base import Worker

log = logging.getLogger(__name__)

PROJECT_FILE = "project.json"


@dataclass(frozen=True)
class ScanResult:
    """The opened `Project` and its per-image read errors (stem → message)."""

    project: Any
    errors: dict[str, str] = field(default_factory=dict)
    lock: Any = None  # the ProjectLock this window now holds (None: the project is read-only, see project.read_only)
    elsewhere: str = ""  # images in subfolders, not listed (subfolders_text), or ""
    suggested_class: str | None = None  # the class to show first when nothing tells (suggested_class)
    masks_beside: str = ""  # a new folder project's files left out as masks beside their photos (masks_text), or ""


@dataclass(frozen=True)
class ScanProgress:
    done: int
    total: int
    stem: str


def open_project_or_folder(folder: Path, read_only: str | None = None) -> Any:
    """Open a project folder (picking up newly added images) or turn a plain folder of images into one in place.

    A folder with neither project.json nor image files is refused before anything is written into it; with
    `read_only` (the reason) nothing is written at all.
    """
    from medseg_gui.core.project import Project

    folder = Path(folder)
    if not folder.is_dir():  # a mistyped path "does not exist", as the CLI says (core.project_format)
        raise MedsegError(f"Cannot open '{folder}': it {'is not a folder' if folder.exists() else 'does not exist'}.")
    if (folder / PROJECT_FILE).exists() and not (folder / PROJECT_FILE).is_file():
        raise MedsegError(f"Cannot open '{folder}': its {PROJECT_FILE} is a folder, not a file. Move it out of the "
                          "way (the project's labels stay in labels/) and open the folder again.")
    has_images = any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())
    if not (folder / PROJECT_FILE).is_file() and not has_images:
        below = subfolder_images(folder)
        raise MedsegError(
            f"No images found in '{folder}'. Choose a folder with {IMAGE_TYPES_TEXT} images." +
            (f" It holds {subfolders_text(below)}: open one of those folders (a folder's subfolders are not "
             "listed)." if below else ""))
    try:
        return Project.open_or_create_for_folder(folder, read_only)
    except ProjectFileDamagedError as err:
        raise ProjectFileDamagedError(f"{err}\n\n{damaged_advice(folder, has_images)}") from None


def damaged_advice(folder: Path, has_images: bool) -> str:
    """What a clinician can do about a damaged project.json in `folder` (a trial's dialog said only that it was
    damaged). Moving it aside helps only where the images lie in the folder itself: a project made by an import keeps
    them in images/, which a new project of the folder would not list (nor is it advised beside a folder of that
    name)."""
    from medseg_gui.core.project_format import DEFAULT_CLASSES

    text = (f"Nothing was changed: your labels and images in {folder} are untouched, and so is {PROJECT_FILE}. It can "
            "be fixed by hand in a text editor")
    if not has_images or (folder / "images").is_dir():
        return text + "."
    defaults = " and ".join(f"'{c.name}'" for c in DEFAULT_CLASSES)
    return (f"{text}, or moved out of the folder: opening the folder then makes a new project of the images found "
            f"there (but those removed from the project: their .removed/ records keep them out), with their {defaults} "
            f"labels; the labels of another class come back once a class of that name is added again. The rest of "
            f"what {PROJECT_FILE} held (the classes' colours, which class lies inside which, the images' reviewed "
            "and other marks) is not recovered.")


class ScanWorker(Worker):
    """Open `folder` (or, with `prepare`, the folder that callable returns, e.g. the demo copy) and probe each image.

    `known`: images of that folder found unreadable when shown (stem → why): their header and end read fine, so they
    are decoded whole here and stay listed as unreadable while they still are (an outside trial's import reopened the
    project and forgot two of three). `held`: the lock of `folder` already taken (Try editing again), kept instead
    of locking it here (released with the rest if the opening fails), so a stale lock it took over is said too."""

    def __init__(self, folder: Path | None = None, *, prepare: Callable[[], Path] | None = None,
                 known: dict[str, str] | None = None, held: Any = None) -> None:
        super().__init__()
        if folder is None and prepare is None:
            raise ValueError("ScanWorker needs a folder or a prepare callable")
        self.folder = folder
        self.prepare = prepare
        self.known = dict(known or {})
        self.held = held
        self.throttle()  # a folder of thousands of photos: ten counts a second, not one queued signal per photo

    def work(self) -> ScanResult:
        from medseg_gui.core.lock import lock_or_reason

        folder = self.prepare() if self.prepare is not None else Path(self.folder)
        if self.held is not None:
            lock, read_only = self.held, None
        else:
            lock, read_only = lock_or_reason(folder, GUI_NAME) if folder.is_dir() else (None, None)
        try:
            new = not (folder / PROJECT_FILE).is_file()
            project = open_project_or_folder(folder, read_only)
            project.set_lock(lock)  # every write checks it (deleted lock file: created again)
            result = self._scan(project, lock)
            if not new:
                return result
            return replace(result, masks_beside=masks_text(project.unlisted_masks, project.unlisted_copies))
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    def _scan(self, project: Any, lock: Any) -> ScanResult:
        from medseg_gui.core.images import probe_image, read_image

        errors: dict[str, str] = {}
        stems = list(project.stems)
        for i, stem in enumerate(stems):
            if self.is_cancelled():
                raise CancelledError("Opening the folder was cancelled.")
            try:
                probe_image(project.image_path(stem))  # header and end: a cut-off file is found now, not when shown
                if stem in self.known:
                    read_image(project.image_path(stem))
            except MemoryError:
                errors[stem] = self.known[stem]  # too large to decode here either
            except ImageReadError as err:
                errors[stem] = str(err)
            except OSError as err:
                errors[stem] = f"cannot read: {err.strerror or err}"
            self.report(ScanProgress(i + 1, len(stems), stem))
        if errors:
            log.warning("%d of %d images in %s cannot be read", len(errors), len(stems), project.root)
        below = subfolder_images(project.root)
        if below:
            log.info("not listed: %s", subfolders_text(below))
        return ScanResult(project, errors, lock, subfolders_text(below) if below else "",
                          suggested_class(project, errors))


def masks_text(masks: dict[Path, str], copies: dict[Path, Path] | None = None) -> str:
    """What a new folder project left out as masks beside their photos (ProjectFolder.unlisted_masks: {mask: "" or
    why it cannot be read}), for the window: "2 files beside their photos look like masks (a_mask.jpg,
    b_lesion_mask.png); they are not listed as images: File → Import masks… imports them", then the unreadable ones
    with why, then the byte copies of their photos (unlisted_copies: {copy: photo}); "" for none."""
    good = [p for p, why in masks.items() if not why]
    bad = [why for why in masks.values() if why]
    names = ", ".join(shown_name(p.name) for p in good[:3]) + (", …" if len(good) > 3 else "")
    text = ""
    if len(good) == 1:
        text = (f"1 file beside its photo looks like a mask ({names}); it is not listed as an image: File → Import "
                "masks… imports it")
    elif good:
        text = (f"{len(good)} files beside their photos look like masks ({names}); they are not listed as images: "
                "File → Import masks… imports them")
    if bad:  # named as masks, but damaged: neither an image nor a label (a trial's truncated s3_mask.png)
        text += (f"{'; ' if text else ''}{len(bad)} file{' is' if len(bad) == 1 else 's are'} named like a photo's "
                 f"mask but cannot be read, so not listed as {'an image' if len(bad) == 1 else 'images'} either: "
                 + reasons_text(bad))
    if copies:  # a photo copied to start a mask (a fault-injection trial): the photo again, not one to label
        named = ", ".join(f"{shown_name(c.name)}, of {shown_name(p.name)}" for c, p in list(copies.items())[:3])
        named += ", …" if len(copies) > 3 else ""
        text += ("; " if text else "") + (
            f"1 file holds the bytes of the photo it is named after, so it is a copy of the photo, not a mask "
            f"({named}); it is not listed as an image" if len(copies) == 1 else
            f"{len(copies)} files hold the bytes of the photos they are named after, so they are copies of the "
            f"photos, not masks ({named}); they are not listed as images")
    return text


def suggested_class(project: Any, errors: dict[str, str]) -> str | None:
    """For a project without labels: its first thin-structure class (core.lesions.class_regime) when its first
    readable images are fundus photos (core.fov finds a field of view in each of the first three: it finds one in
    about one colonoscopy frame of twenty), else its first other class (a new-user trial's folder of fundus photos
    opened on 'lesion'; a folder of polyp photos opened after it, on 'vessel'). None when labels tell (the window
    shows a labelled class) or the project has no such class."""
    from medseg_gui.core.fov import estimate_fov
    from medseg_gui.core.lesions import class_regime

    if any(project.labelled_stems(cls) for cls in project.class_names):
        return None
    first = [stem for stem in project.stems if stem not in errors][:3]
    try:
        fundus = bool(first) and all(estimate_fov(project.load_image(stem)) is not None for stem in first)
    except MedsegError:
        fundus = False
    picked = [c for c in project.class_names if class_regime(c) == ("vessels" if fundus else "lesions")]
    named = [c for c in picked if ("vessel" if fundus else "lesion") in c.lower()]  # 'vessel' before 'exudate'
    return (named or picked or [None])[0]
