"""Finish, at the next opening, a removal or a restore of an image (core.remove_images, core.restore_images) that was
cut short: the program killed while the files moved left them in `.removed/<stem>-<time>/` while project.json still
listed the image ("image unreadable"), or back in the project while it did not (listed again as a new image, without
its marks), and Bring back offered it ever after with refusals (a crash-recovery trial).

From what is on disk, nothing deleted: a folder whose record is removing.json was being removed: its files still in
the project follow the others into the folder and the image is unlisted (undone instead where no file was moved yet);
one whose record is restoring.json was being brought back: its files still in the folder move back and it is listed
again with its recorded marks. Where the project lists another image of that name or at that place (added since,
by `medseg import`, which finishes nothing), neither is done: the record becomes removed.json, its files and marks
stay in the folder and Bring back says what is in the way. A removal refused whose files could not all be moved back
(not-removed.json: the user moves them back) is left alone. Records
written before those names existed (a removed.json) are finished only where the disk leaves no doubt: a listed image
whose photo lies in the folder, or every file of a record back in its place. A record folder left empty (a removal
killed while its record was written: opening swept its temp file, ProjectFolder.sweep_temp_files) is removed."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import (REMOVED_FOLDER, REMOVED_RECORD, REMOVING_RECORD, RESTORING_RECORD,
                                            read_rewritable_json)
from medseg_gui.core.remove_images import finish_removal, move_failure, remove_empty_folders
from medseg_gui.core.restore_images import RemovedRecord, file_there, finish_restore, read_record

log = logging.getLogger(__name__)


def finish_interrupted(project: Project) -> str:
    """Finish every removal and restore of `project` cut short (module doc); one status line saying what was
    finished (and what could not be), '' when there was none. Nothing is done where the project must not be
    written."""
    base = project.root / REMOVED_FOLDER
    if project.write_refusal() is not None or not base.is_dir():
        return ""
    done, failed = [], []
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.is_symlink()):
        try:
            text = _finish(project, folder)
        except (OSError, ProjectError) as err:
            log.error("the removal or restore in %s was not finished: %s", folder, err)
            failed.append(f"{folder} could not be finished ({move_failure(err).rstrip('.')})")
            continue
        if text:
            log.info("%s: %s", folder, text)
            done.append(text)
    if not (done or failed):
        return ""
    return "; ".join([*done, *failed]) + " (nothing was deleted)"  # a note among others, joined by "; "


def _finish(project: Project, folder: Path) -> str:
    if (folder / REMOVING_RECORD).is_file():
        return _finish_removal(project, _read(folder, REMOVING_RECORD))
    if (folder / RESTORING_RECORD).is_file():
        return finish_restore(project, _read(folder, RESTORING_RECORD))
    if (folder / REMOVED_RECORD).is_file():
        return _finish_older(project, _read(folder, REMOVED_RECORD))
    if not any(folder.iterdir()):
        folder.rmdir()  # nothing in it to lose
    return ""


def _read(folder: Path, name: str) -> RemovedRecord:
    data = read_rewritable_json(folder / name)
    try:
        if not isinstance(data, dict):
            raise ValueError("it cannot be read as a record")
        return read_record(folder, data)
    except (KeyError, TypeError, ValueError) as err:
        raise ProjectError(f"{folder / name} is not a record of a removed image ({err})") from None


def _finish_removal(project: Project, record: RemovedRecord) -> str:
    """A removing.json record (core.remove_images: the record, the moves, project.json, the scores, the rename): the
    removal is finished where project.json no longer lists the image, or lists it as the record has it while its
    photo's place holds no other file (killed while the files moved); undone where no file was moved yet (the record
    goes, the image stays listed); left as removed.json, nothing more done, where the project lists another image in
    its name or place (added since: its files and scores must stay)."""
    stem, photo, folder = record.stem, record.entry.path, record.folder
    listed = next((e for e in project.images if e.stem.casefold() == stem.casefold() or e.path == photo), None)
    if listed is None:
        return _complete_removal(project, record)
    if (listed.stem, listed.path, listed.state) != (stem, photo, record.entry.state) or (
            file_there(folder / photo) and file_there(project.root / PurePosixPath(photo))):
        (folder / REMOVING_RECORD).replace(folder / REMOVED_RECORD)
        return (f"the removal of '{stem}' that was cut short was not finished: the project lists an image "
                f"'{listed.stem}' ({listed.path}) that may not be that one; what was moved stays in {folder} (Edit → "
                "Bring back a removed image… says what is in the way)")
    if not any(file_there(folder / rel) for rel in record.files):
        (folder / REMOVING_RECORD).unlink()
        remove_empty_folders(folder)
        try:
            folder.rmdir()
        except OSError as err:  # something else in it: it stays
            log.warning("%s was not removed (%s)", folder, err)
        return f"the removal of '{stem}' that was cut short before any file was moved was undone: it is still listed"
    return _complete_removal(project, record)


def _complete_removal(project: Project, record: RemovedRecord) -> str:
    """Move `record`'s files still in the project into its folder, unlist the image, drop its scores (as
    core.remove_images does after its moves)."""
    root, stem = project.root, record.stem
    for rel in record.files:
        src, dest = root / PurePosixPath(rel), record.folder / rel
        if file_there(src) and not (dest.exists() or dest.is_symlink()):
            project.move_file(src, dest)
    if _listed_as_removed(project, record):
        kept = record.photo_left_in_place
        project.unlist_images({stem}, [kept] if kept is not None else [])
    finish_removal(project, stem, record.folder, record.scores)
    return f"the removal of '{stem}' that was cut short was finished (its files are in {record.folder})"


def _finish_older(project: Project, record: RemovedRecord) -> str:
    """A removed.json record: finished where the disk leaves no doubt (module doc), else '' (a completed removal)."""
    root = project.root
    in_folder = [rel for rel in record.files if (record.folder / rel).exists()]
    in_place = [rel for rel in record.files if (root / PurePosixPath(rel)).exists()]
    photo = record.entry.path
    if _listed_as_removed(project, record) and photo in in_folder and photo not in in_place:
        return _complete_removal(project, record)
    if record.files and not in_folder and len(in_place) == len(record.files):
        (record.folder / REMOVED_RECORD).replace(record.folder / RESTORING_RECORD)
        return finish_restore(project, record)
    return ""


def _listed_as_removed(project: Project, record: RemovedRecord) -> bool:
    """Whether `project` lists `record`'s image under its name and path (as it was when it was removed)."""
    return any(e.stem == record.stem and e.path == record.entry.path for e in project.images)
