"""Take images out of a project (Edit → Remove image from project…, `medseg remove`) without losing a file: a photo
added by mistake (a duplicate, the wrong patient, a mask listed as a photo) or a patient who withdrew consent.

Everything the project holds of an image is moved (os.replace within the project; nothing is copied or deleted) into
`.removed/<stem>-<YYYYmmdd-HHMMSS>/`, laid out like the project (labels/<class>/<stem>.png of every class,
roi/<stem>.png, predictions/<class>/<stem>.png, and images/<file> for a photo the project keeps in images/), beside
removed.json: the image's entry (its marks), its place in the list (the images listed just before and after it), the
files and its metrics, uncertainty and provenance entries, which are then dropped from those files (a file that
cannot be read is left as it is). A photo anywhere else (a folder project's: the user's own folder) stays where it
is; project.json lists it as excluded, so opening the folder does not list it again until it is brought back
(core.restore_images) or added again (File → Add images…).

Order, one image after another: its record (as removing.json) and files first, then project.json, then the score
files, then the record is renamed removed.json: a removal cut short (the program killed) leaves removing.json, which
the next opening finishes (core.removal_recovery), and Bring back never offers a half-removed image. A failed move
puts back the files moved so far and a failed project.json save puts back all of them, so project.json never lists an
image whose files were moved away, and never unlists one whose labels are still in labels/ (a new image of that name
would take them over); the removal stops there and says which images were removed and which not (files that could
not be moved back are left to the user, the record renamed not-removed.json: no opening finishes that removal).
Score entries are dropped last because they are re-made by the next prediction: one left behind (logged) belongs to
no listed image.
"""

from __future__ import annotations

import glob
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from medseg_gui.core.atomic import atomic_write_json, untaken
from medseg_gui.core.errors import ProjectError
from medseg_gui.core.interchange.manifest import provenance_path
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import (ASIDE_REPLACED, ASIDE_UNREADABLE, NOT_REMOVED_RECORD, REMOVED_FOLDER,
                                            REMOVED_RECORD, REMOVING_RECORD, REPLACED_LABELS, read_rewritable_json,
                                            removed_records)
from medseg_gui.core.rewrite import rewrite_json
from medseg_gui.core.uncertainty import THRESHOLDS_KEY

log = logging.getLogger(__name__)

RECORD = REMOVED_RECORD
RESTORE = ("To bring an image back: Edit → Bring back a removed image… in the window, or `medseg remove PROJECT "
           "--restore IMAGE`. By hand, if need be: move the files of its folder back to the "
           "same places in the project (the folder is laid out like the project; removed.json lists them), then add "
           "the photo again (File → Add images…).")


@dataclass(frozen=True)
class RemovedImage:
    """One image taken out: its files (their paths before, relative to the project) now lie in `folder` under the
    same relative paths; `photo_kept`: its photo, left where it is and excluded (None: moved with the rest)."""

    stem: str
    folder: Path
    files: tuple[str, ...]
    labels: int
    photo_kept: str | None


@dataclass(frozen=True)
class Removed:
    """What `remove_images` did: the images removed, in order, and why it stopped before the others (None: it did
    not)."""

    images: tuple[RemovedImage, ...]
    problem: str | None = None

    def summary(self) -> str:
        """What was moved where, how to bring it back, and what was not removed."""
        return "\n".join(filter(None, (self.moved_text(), self.problem)))

    def moved_text(self) -> str:
        """What was moved where and how to bring it back ('' when nothing was)."""
        lines = []
        for image in self.images:
            kept = (f"; its photo {image.photo_kept} stays in the folder, no longer listed" if image.photo_kept
                    else "")
            lines.append(f"Removed '{image.stem}' from the project: {len(image.files)} file(s) ({image.labels} "
                         f"label(s)) moved to {image.folder}{kept}.")
        if self.images:
            lines.append(f"Nothing was deleted. {RESTORE}")
        return "\n".join(lines)


def removed_before(root: Path, stem: str) -> Path | None:
    """The newest `.removed/` folder of an image `stem` removed from the project at `root` earlier (its removed.json
    names it), or None: `medseg remove` run again in a script says so instead of failing."""
    return next((folder for folder, record in reversed(removed_records(root)) if record.get("stem") == stem), None)


def files_of(project: Project, stem: str) -> list[Path]:
    """The files `remove_images` would move for `stem`: its labels, ROI and predictions, the earlier labels kept
    aside (labels/<class>/.replaced/ and .unreadable/, replaced-labels/<time>/<class>/: a withdrawn patient's
    outlines must not stay behind), and its photo when the project keeps it in images/."""
    paths = [project.label_path(c, stem) for c in project.class_names] + [project.roi_path(stem)]
    paths += [project.prediction_path(c, stem) for c in project.class_names]
    paths += _kept_aside(project, stem)
    if project.image_path(stem).parent == project.root / "images":
        paths.append(project.image_path(stem))
    return [p for p in paths if p.is_file() or p.is_symlink()]


def _kept_aside(project: Project, stem: str) -> list[Path]:
    """Earlier versions of `stem`'s labels kept aside (core.atomic.move_aside names them <stem>.png, <stem>_2.png,
    …; one whose name is another image's own, `img1_2` beside `img1`, is left to that image)."""
    others = set(project.stems) - {stem}
    aside = [project.label_path(c, stem).parent / folder for c in project.class_names
             for folder in (ASIDE_REPLACED, ASIDE_UNREADABLE)]
    found = [p for folder in aside if folder.is_dir() for p in folder.glob(f"{glob.escape(stem)}*.png")
             if p.stem == stem or (re.fullmatch(rf"{re.escape(stem)}_\d+", p.stem) and p.stem not in others)]
    return found + sorted((project.root / REPLACED_LABELS).glob(f"*/*/{glob.escape(stem)}.png"))


def remove_images(project: Project, stems: list[str]) -> Removed:
    """Move everything `project` holds of `stems` into .removed/ and unlist them (module doc). ProjectError before
    anything is moved when the project must not be written or a stem is not one of its images; a failure after that
    is `Removed.problem`."""
    reason = project.write_refusal()
    if reason is not None:
        raise ProjectError(f"Nothing was removed: {reason}.")
    for stem in stems:
        project.entry(stem)
    done: list[RemovedImage] = []
    for stem in dict.fromkeys(stems):
        try:
            done.append(_remove_one(project, stem))
        except (OSError, ProjectError) as err:
            rest = [s for s in stems if s != stem and s not in {d.stem for d in done}]
            left = f" {', '.join(rest)} {'was' if len(rest) == 1 else 'were'} not removed either." if rest else ""
            return Removed(tuple(done), f"'{stem}' was not removed: {move_failure(err)}{left}")
    return Removed(tuple(done))


def _remove_one(project: Project, stem: str) -> RemovedImage:
    root, entry = project.root, project.entry(stem)
    files = files_of(project, stem)
    photo = project.image_path(stem)
    kept = None if photo in files or not photo.exists() else entry.path
    folder = _new_folder(root / REMOVED_FOLDER, stem)
    scores = _score_entries(project, stem)
    rel = [p.relative_to(root).as_posix() for p in files]
    stems = project.stems
    at = stems.index(stem)  # its place in the list, kept as its neighbours' names (core.restore_images)
    moved: list[Path] = []
    try:
        atomic_write_json(folder / REMOVING_RECORD, {
            "stem": stem, "path": entry.path, "state": entry.state, "removed_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "listed_after": stems[at - 1] if at else None, "listed_before": next(iter(stems[at + 1:]), None),
            "files": rel, "photo_left_in_place": kept, "scores": scores, "restore": RESTORE})
        for src in files:
            project.move_file(src, folder / src.relative_to(root))
            moved.append(src)
        project.unlist_images({stem}, [kept] if kept is not None else [])
    except (OSError, ProjectError) as err:
        raise ProjectError(f"{move_failure(err)} {_put_back(project, folder, moved)}") from None
    finish_removal(project, stem, folder, scores)
    labels = sum(1 for p in rel if p.startswith("labels/"))
    log.info("removed %s from %s: %d file(s) moved to %s", stem, root, len(files), folder)
    return RemovedImage(stem, folder, tuple(rel), labels, kept)


def finish_removal(project: Project, stem: str, folder: Path, scores: dict[str, Any]) -> None:
    """The end of a removal once project.json no longer lists `stem`: its `scores` entries dropped, then its record
    renamed removed.json (a rename needs no disk space; one that fails is done at the next opening)."""
    _drop_scores(project, stem, scores)
    if (folder / REMOVING_RECORD).exists():
        try:
            (folder / REMOVING_RECORD).replace(folder / RECORD)
        except OSError as err:
            log.warning("%s was not renamed %s (%s); the next opening does it", folder / REMOVING_RECORD, RECORD, err)


def _new_folder(base: Path, stem: str) -> Path:
    """A new folder `base`/<stem>-<time> (-2, -3, … when taken)."""
    name = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder = untaken(base / name, lambda n: f"{name}-{n}")
    folder.mkdir(parents=True)
    return folder


def _put_back(project: Project, folder: Path, moved: list[Path]) -> str:
    """Move `moved` back from `folder` (last first); what the user reads about it."""
    stuck = []
    for src in reversed(moved):
        try:
            project.move_file(folder / src.relative_to(project.root), src)
        except (OSError, ProjectError) as err:
            log.error("could not move %s back to %s: %s", folder / src.relative_to(project.root), src, err)
            stuck.append(src.relative_to(project.root).as_posix())
    if stuck:  # the user moves them back: no opening may finish this removal (core.removal_recovery) or offer it
        try:
            (folder / REMOVING_RECORD).replace(folder / NOT_REMOVED_RECORD)
        except OSError as err:
            log.error("%s was not renamed %s (%s): the next opening finishes the removal", folder, NOT_REMOVED_RECORD,
                      err)
        return (f"These files could not be moved back and lie in {folder} (same names): {', '.join(stuck)}; move "
                "them back by hand.")
    (folder / REMOVING_RECORD).unlink(missing_ok=True)  # the record of a removal that did not happen; folder empty
    remove_empty_folders(folder)
    try:
        folder.rmdir()
    except OSError:
        pass
    return "Every file is back in its place; nothing was moved."


def remove_empty_folders(folder: Path) -> None:
    """Remove the empty folders below `folder`, deepest first (not `folder` itself); the others stay."""
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        try:
            sub.rmdir()
        except OSError:
            pass


def move_failure(err: BaseException) -> str:
    """What the user reads of a failed move (an OSError names its file) or another refusal."""
    if isinstance(err, OSError):
        return f"{err.filename or 'a file'} could not be moved ({err.strerror or err})."
    return str(err)


def _score_files(project: Project) -> list[Path]:
    return [p for c in project.class_names
            for p in (project.metrics_path(c), project.uncertainty_path(c), provenance_path(project, c))]


def _score_entries(project: Project, stem: str) -> dict[str, Any]:
    """{score file (relative path): its entries of `stem`} of every file that can be read and has some."""
    found = {}
    for path in _score_files(project):
        data = read_rewritable_json(path)
        if not isinstance(data, dict):
            continue
        entry = {k: v for k, v in data.items() if k == stem}
        if isinstance(data.get(THRESHOLDS_KEY), dict) and stem in data[THRESHOLDS_KEY]:
            entry[THRESHOLDS_KEY] = {stem: data[THRESHOLDS_KEY][stem]}
        if entry:
            found[path.relative_to(project.root).as_posix()] = entry
    return found


def _drop_scores(project: Project, stem: str, scores: dict[str, Any]) -> None:
    """Rewrite each score file in `scores` without `stem` (read again: a file that cannot be read now stays)."""
    for rel in scores:
        path = project.root / PurePosixPath(rel)
        data = read_rewritable_json(path)
        if not isinstance(data, dict):
            continue
        data.pop(stem, None)
        if isinstance(data.get(THRESHOLDS_KEY), dict):
            data[THRESHOLDS_KEY].pop(stem, None)
        try:
            project.check_writable(path.name)
            rewrite_json(path, data, data)  # read above as an object
        except (OSError, ProjectError) as err:
            log.warning("%s still holds the removed image %s (%s); the next prediction rewrites it", path, stem, err)
