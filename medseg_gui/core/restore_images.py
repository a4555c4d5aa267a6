"""Bring back an image taken out of a project (Edit → Bring back a removed image…, `medseg remove --restore`): the
reverse of core.remove_images, from its `.removed/<stem>-<time>/` folder and removed.json.

Nothing is moved until every check passes: the project may be written, no image of that name (or that photo) is
listed again, no file would be overwritten, the photo will be there. Then the files move back (os.replace within the
project, the reverse order of removal; a failed move puts back what it moved), project.json lists the image again
with its marks where it stood (after the image it followed, else before the one that followed it; last when both are
gone or the record is older than that), a folder project's photo left in place no longer excluded, its score entries
go back into metrics.json, uncertainty.json and provenance.json (a score file that cannot be read or written now, or
that the class rename or deletion took away, is left to the next prediction or re-scoring, which re-makes them), and
the emptied folder is removed, its record last. Where score entries did not go back, the record is kept instead,
renamed restored.json and holding only those (their only copy). While the files move the record is restoring.json
(renamed back when they were all put back after a failure): a restore cut short (the program killed) is finished at
the next opening (`finish_restore`, core.removal_recovery), not offered again with refusals."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.project import Project
from medseg_gui.core.remove_images import move_failure, remove_empty_folders
from medseg_gui.core.project_format import (REMOVED_FOLDER, REMOVED_RECORD, RESTORING_RECORD, ImageEntry,
                                            read_rewritable_json, removed_records)
from medseg_gui.core.rewrite import rewrite_json
from medseg_gui.core.uncertainty import THRESHOLDS_KEY

log = logging.getLogger(__name__)

RESTORED_RECORD = "restored.json"  # a record folder that kept other files after its image came back


@dataclass(frozen=True)
class RemovedRecord:
    """One image taken out, as its removed.json says: its stem, when, the files (paths in the project, lying under
    the same paths in `folder`), its project.json entry and score entries, and the images listed just before and
    after it (None: none, or a record older than that)."""

    folder: Path
    stem: str
    removed_at: str
    files: tuple[str, ...]
    entry: ImageEntry
    photo_left_in_place: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)
    listed_after: str | None = None
    listed_before: str | None = None

    @property
    def labels(self) -> int:
        """How many of its files are labels (as core.remove_images counted them when it was removed)."""
        return sum(1 for f in self.files if f.startswith("labels/"))


@dataclass(frozen=True)
class Restored:
    """What `restore_removed` brought back; `scores_due`: score files its entries could not go back into (the next
    prediction or re-scoring re-makes them); `missing`: files removed.json lists that were no longer in its folder."""

    stem: str
    folder: Path
    files: tuple[str, ...]
    labels: int
    scores_due: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    already: tuple[str, ...] = ()  # not in its folder but at their place in the project (a restore cut short)
    scores_kept: Path | None = None  # the record file still holding the `scores_due` entries

    def summary(self) -> str:
        """One or two lines on what came back (and what did not)."""
        text = (f"Brought '{self.stem}' back into the project: {len(self.files)} file(s) ({self.labels} label(s)) "
                f"moved back from {self.folder}.")
        if self.already:
            text += f" Already back in the project before (a restore cut short): {', '.join(self.already)}."
        if self.missing:
            text += f" Not in that folder any more, so not brought back: {', '.join(self.missing)}."
        if self.scores_due:
            text += " Its scores come back with the next prediction"
            text += f" (those not put back are kept in {self.scores_kept})." if self.scores_kept else "."
        return text


def removed_images(root: Path) -> list[RemovedRecord]:
    """The images removed from the project at `root` that can be brought back, oldest first by folder name; a record
    that is not one (damaged, edited by hand) is logged and left out."""
    found = []
    for folder, data in removed_records(root):
        try:
            found.append(read_record(folder, data))
        except (KeyError, TypeError, ValueError) as err:
            log.warning("%s/%s cannot be read as a removed image (%s); left out", folder, REMOVED_RECORD, err)
    return found


def read_record(folder: Path, data: dict[str, Any]) -> RemovedRecord:
    """The record `data` of `folder` (its removed.json, or the removing.json or restoring.json of a removal or
    restore cut short); ValueError, KeyError or TypeError for one that is not a record."""
    stem, path, files = data["stem"], data["path"], data.get("files", [])
    kept, scores, state = data.get("photo_left_in_place"), data.get("scores") or {}, data.get("state") or {}
    if not (isinstance(stem, str) and stem and isinstance(path, str) and isinstance(files, list)
            and isinstance(state, dict) and isinstance(scores, dict) and (kept is None or isinstance(kept, str))):
        raise ValueError("a value has the wrong type")
    for rel in [path, *files, *scores]:
        if not isinstance(rel, str) or not _inside(rel):
            raise ValueError(f"{rel!r} is not a path inside the project")
    after, before = (name if isinstance(name := data.get(key), str) else None
                     for key in ("listed_after", "listed_before"))
    return RemovedRecord(folder, stem, str(data.get("removed_at", "")), tuple(files), ImageEntry(stem, path, state),
                         kept, scores, after, before)


def _inside(rel: str) -> bool:
    """Whether `rel` names a file inside the project (not absolute, no '..', not into .removed/ itself)."""
    parts = PurePosixPath(rel).parts
    return (bool(parts) and not PurePosixPath(rel).is_absolute() and ".." not in parts and "\\" not in rel
            and ":" not in parts[0] and parts[0] != REMOVED_FOLDER)


def find_removed(root: Path, which: str | Path) -> RemovedRecord:
    """The removed image `which` names: its folder (name or path), else its stem (the newest removal of it);
    ProjectError naming the removed images when there is none."""
    records = removed_images(root)
    path = Path(which)
    by_folder = [r for r in records if path in (Path(r.folder.name), r.folder) or path.resolve() == r.folder]
    found = by_folder or [r for r in records if r.stem == str(which)]
    if found:
        return found[-1]
    listed = ", ".join(f"{r.stem} ({r.folder.name})" for r in records) or "none"
    raise ProjectError(f"No image '{which}' was removed from {root} (or its removed.json cannot be read); removed "
                       f"images: {listed}.")


def restore_removed(project: Project, which: RemovedRecord | str | Path) -> Restored:
    """Bring the removed image `which` (a record, its folder or stem: `find_removed`) back into `project` (module
    doc). ProjectError, with nothing moved, when a check fails or a move does (what was moved is put back)."""
    reason = project.write_refusal()
    if reason is not None:
        raise ProjectError(f"Nothing was brought back: {reason}.")
    record = which if isinstance(which, RemovedRecord) else find_removed(project.root, which)
    root, stem = project.root, record.stem
    present = [rel for rel in record.files if (record.folder / rel).is_file() or (record.folder / rel).is_symlink()]
    _check(project, record, present)
    try:
        (record.folder / REMOVED_RECORD).replace(record.folder / RESTORING_RECORD)
    except OSError as err:
        raise ProjectError(f"'{stem}' was not brought back (nothing was moved): {move_failure(err)}") from None
    moved: list[str] = []
    try:
        for rel in reversed(present):
            project.move_file(record.folder / rel, root / PurePosixPath(rel))
            moved.append(rel)
        project.list_again(record.entry, _place(project.stems, record))
    except (OSError, ProjectError) as err:
        why = f"{move_failure(err)} {_put_back(project, record, moved)}"
        raise ProjectError(f"'{stem}' was not brought back: {why}") from None
    due = _restore_scores(project, record)
    kept = _tidy(record.folder, due)
    missing = tuple(rel for rel in record.files if rel not in present and not (root / PurePosixPath(rel)).exists())
    already = tuple(rel for rel in record.files if rel not in present and rel not in missing)  # a killed restore's
    log.info("brought %s back into %s from %s: %d file(s)", stem, root, record.folder, len(present))
    labels = sum(1 for rel in present if rel.startswith("labels/"))  # not those missing from the folder (review)
    return Restored(stem, record.folder, tuple(present), labels, due, missing, already, kept)


def _check(project: Project, record: RemovedRecord, present: list[str]) -> None:
    """ProjectError when bringing `record` back would overwrite anything or list an image whose photo is not there."""
    refused = f"'{record.stem}' was not brought back (nothing was moved):"
    taken = next((e for e in project.images if e.stem.casefold() == record.stem.casefold()
                  or e.path == record.entry.path), None)
    if taken is not None:
        raise ProjectError(f"{refused} the project lists an image '{taken.stem}' ({taken.path}) again. Remove that "
                           "one first, or move the files back by hand under other names.")
    there = next((rel for rel in present if (project.root / PurePosixPath(rel)).exists()
                  or (project.root / PurePosixPath(rel)).is_symlink()), None)
    if there is not None:
        raise ProjectError(f"{refused} {project.root / PurePosixPath(there)} is there already. Move that file away "
                           "first if it is not needed.")
    gone = next((rel for rel in present if _class_of(rel) not in (None, *project.class_names)), None)
    if gone is not None:
        raise ProjectError(f"{refused} the project has no class '{_class_of(gone)}' any more (renamed or deleted "
                           f"since), so {gone} has no place to go back to.")
    if record.entry.path not in present and not (project.root / PurePosixPath(record.entry.path)).is_file():
        raise ProjectError(f"{refused} its photo {project.root / PurePosixPath(record.entry.path)} is neither there "
                           f"nor in {record.folder}. Put the photo back there first.")


def _place(stems: list[str], record: RemovedRecord) -> int:
    """Where `record`'s image goes back in the list `stems`: after the image it followed, else before the one that
    followed it, while listed; else last."""
    if record.listed_after in stems:
        return stems.index(record.listed_after) + 1
    return stems.index(record.listed_before) if record.listed_before in stems else len(stems)


def _class_of(rel: str) -> str | None:
    """The class whose folder `rel` lies in (labels/<class>/…, predictions/<class>/…, replaced-labels/<time>/<class>/
    …), or None."""
    parts = PurePosixPath(rel).parts
    if parts[0] in ("labels", "predictions") and len(parts) > 2:
        return parts[1]
    return parts[2] if parts[0] == "replaced-labels" and len(parts) > 3 else None


def _put_back(project: Project, record: RemovedRecord, moved: list[str]) -> str:
    """Move `moved` back into the record folder (last first); what the user reads about it."""
    stuck = []
    for rel in reversed(moved):
        try:
            project.move_file(project.root / PurePosixPath(rel), record.folder / rel)
        except (OSError, ProjectError) as err:
            log.error("could not move %s back into %s: %s", rel, record.folder, err)
            stuck.append(rel)
    if stuck:  # restoring.json stays: the next opening finishes the restore (core.removal_recovery)
        return (f"These files are back in the project but it does not list the image yet: {', '.join(stuck)}; "
                "opening the project again brings the image back.")
    try:
        (record.folder / RESTORING_RECORD).replace(record.folder / REMOVED_RECORD)
    except OSError as err:
        log.warning("%s was not renamed back (%s); the next opening brings the image back", record.folder, err)
    return f"Every file is still in {record.folder}; nothing was moved."


def _restore_scores(project: Project, record: RemovedRecord) -> tuple[str, ...]:
    """Put `record`'s score entries back; the score files they could not go back into."""
    due = []
    for rel, entries in record.scores.items():
        path = project.root / PurePosixPath(rel)
        data = read_rewritable_json(path) if path.parent.is_dir() else None
        if not isinstance(data, dict) or not isinstance(entries, dict):
            due.append(rel)
            continue
        for key, value in entries.items():
            if key == THRESHOLDS_KEY and isinstance(value, dict) and isinstance(data.get(THRESHOLDS_KEY), dict):
                data[THRESHOLDS_KEY].update(value)
            elif key != THRESHOLDS_KEY:
                data[key] = value
        try:
            project.check_writable(path.name)
            rewrite_json(path, data, data)  # read above as an object
        except (OSError, ProjectError) as err:
            log.warning("%s: the scores of %s were not put back (%s); the next prediction re-makes them", path,
                        record.stem, err)
            due.append(rel)
    return tuple(due)


def _tidy(folder: Path, due: tuple[str, ...]) -> Path | None:
    """Remove the emptied record folder, its removed.json last; a folder still holding other files keeps them and
    the record, renamed restored.json (no longer listed as removed), logged. With score entries `due` (not put
    back) the record is kept too: the file that holds them (`_keep_scores`)."""
    remove_empty_folders(folder)
    if due:
        return _keep_scores(folder, due)
    record = folder / RESTORING_RECORD
    try:
        if any(p != record for p in folder.iterdir()):
            record.replace(folder / RESTORED_RECORD)
            log.warning("%s holds files that were not the image's; they stay there", folder)
            return None
        record.unlink(missing_ok=True)
        folder.rmdir()
    except OSError as err:
        log.warning("%s was not removed (%s); the image is back in the project", folder, err)
    return None


def _keep_scores(folder: Path, due: tuple[str, ...]) -> Path:
    """Keep the record, the only copy of the score entries `due`: renamed restored.json (a rename needs no disk
    space), then rewritten to hold only those where it can be; the file that holds them."""
    record, kept = folder / RESTORING_RECORD, folder / RESTORED_RECORD
    try:
        record.replace(kept)
    except OSError as err:
        log.warning("%s was not renamed %s (%s)", record, RESTORED_RECORD, err)
        return record
    data = read_rewritable_json(kept)
    if isinstance(data, dict) and isinstance(data.get("scores"), dict):
        try:
            rewrite_json(kept, data | {"scores": {rel: data["scores"][rel] for rel in due
                                                  if rel in data["scores"]}}, data)
        except OSError as err:
            log.warning("%s keeps every score entry, those put back too (%s)", kept, err)
    log.warning("%s keeps the score entries that were not put back: %s", kept, ", ".join(due))
    return kept


def finish_restore(project: Project, record: RemovedRecord) -> str:
    """Finish bringing `record`'s image back after the program was killed doing it (its record is restoring.json,
    core.removal_recovery): the files still in its folder move back where their place is free, the image is listed
    again with its recorded marks (listed meanwhile at its path, with its photo back in its place: it gets the
    recorded marks it lacks), its scores go back and the folder is tidied as a restore does; the status text. Where
    the project lists another image in its name or place, or one at its path while its photo still lies in the
    folder (a new photo added since), nothing is moved or merged: the record goes back to removed.json and Bring
    back says what is in the way."""
    root, stem, photo = project.root, record.stem, record.entry.path
    listed = next((e for e in project.images if e.stem.casefold() == stem.casefold() or e.path == photo), None)
    if listed is not None and ((listed.stem, listed.path) != (stem, photo) or file_there(record.folder / photo)
                               or not file_there(root / PurePosixPath(photo))):
        (record.folder / RESTORING_RECORD).replace(record.folder / REMOVED_RECORD)
        return (f"bringing '{stem}' back, which was cut short, was not finished: the project lists an image "
                f"'{listed.stem}' ({listed.path}) that may not be that one; its files stay in {record.folder} (Edit → "
                "Bring back a removed image… says what is in the way)")
    for rel in reversed(record.files):
        src, dest = record.folder / rel, root / PurePosixPath(rel)
        if file_there(src) and not (dest.exists() or dest.is_symlink()):
            project.move_file(src, dest)
    if listed is None:
        project.list_again(record.entry, _place(project.stems, record))
    elif any(key not in listed.state for key in record.entry.state):
        marks = {**record.entry.state, **listed.state}  # a mark set since it was listed again is the newer one
        project.replace_classes(project.classes, tuple(replace(e, state=marks) if e.stem == stem else e
                                                       for e in project.images))
    due = _restore_scores(project, record)
    _tidy(record.folder, due)
    return f"bringing '{stem}' back, which was cut short, was finished: it is listed again with its marks"


def file_there(path: Path) -> bool:
    """Whether a file (or a link) lies at `path`."""
    return path.is_file() or path.is_symlink()
