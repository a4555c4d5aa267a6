"""The bundled demo projects (vessel: six CHASE_DB1 fundus images; lesion: ten PolypGen colonoscopy photographs):
locate one and copy it somewhere writable.

Folders the demo makes carry a marker file, so the demo replaces only its own copies, never a user's project.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from medseg_gui.core.atomic import atomic_write_bytes, untaken
from medseg_gui.core.errors import ProjectError
from medseg_gui.core.identity import APP_NAME
from medseg_gui.core.resources import USER_DIR_BITS, copy_resource, make_user_writable, remove_copy, resource_path

log = logging.getLogger(__name__)

DEMO_MARKER = ".medseg-demo"  # written by `medseg demo` into its --out folder and its project copy


@dataclass(frozen=True)
class Demo:
    """A bundled demo: its folder under resources/ (also the name of its user copy), the class it trains, what it
    is, and `short`: the same in a few words (the first start's button)."""

    folder: str
    cls: str
    title: str
    short: str


DEMOS = {
    "vessel": Demo("demo", "vessel", "Vessel demo: six retinal photographs (CHASE_DB1)",
                   "Vessel demo (6 retinal photos)"),
    "lesion": Demo("demo_lesion", "lesion", "Lesion demo: ten colonoscopy photographs with polyps (PolypGen)",
                   "Lesion demo (10 polyp photos)"),
}


def _demo(which: str) -> Demo:
    if which not in DEMOS:
        raise ProjectError(f"There is no '{which}' demo; choose one of {', '.join(DEMOS)}.")
    return DEMOS[which]


def demo_source(which: str = "vessel") -> Path:
    """Path of a read-only demo project shipped with the program (installed wheel or source checkout)."""
    folder = _demo(which).folder
    path = resource_path(folder, "project.json")
    if path is not None:
        return path.parent
    raise ProjectError(f"The bundled {which} demo project is missing from this installation (resources/{folder}).")


def user_data_dir() -> Path:
    """Per-user writable folder for medseg_gui (platform-specific, via platformdirs)."""
    from platformdirs import user_data_path

    return Path(user_data_path(APP_NAME, appauthor=False))


def demo_title(path: Path, data_dir: Path | None = None) -> str | None:
    """The demo's short name when `path` is a demo copy in `data_dir` (default: the user data folder), else None:
    the copies' folder names ("demo", "demo_lesion") say little in a list of recent projects."""
    data_dir = user_data_dir() if data_dir is None else Path(data_dir)
    for demo in DEMOS.values():
        if Path(path) == data_dir / demo.folder:
            return demo.short
    return None


def ensure_demo_copy(dest: Path | None = None, which: str = "vessel") -> Path:
    """Copy a demo project to `dest` (default: <user data>/demo, or demo_lesion) once and return its path.

    An existing copy is reused, so the user's edits survive restarts (an older version's copy of a read-only install
    is made writable first); the installed package is never written. A folder there without a project.json (its
    damaged one moved aside, or a copy cut off) is never deleted: it is moved aside to "demo (kept <date>)" (logged).
    """
    dest = Path(dest) if dest is not None else user_data_dir() / _demo(which).folder
    if (dest / "project.json").is_file():
        try:  # walked only when its own folder has an older version's read-only modes (not at every open)
            if dest.stat().st_mode & USER_DIR_BITS != USER_DIR_BITS and make_user_writable(dest):
                log.info("made the demo copy %s writable (an older version kept the install's read-only modes)", dest)
        except OSError as exc:  # not the user's own: it opens read-only, saying why
            log.warning("could not make the demo copy %s writable: %s", dest, exc)
        return dest
    src = demo_source(which)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".copying")
    remove_copy(tmp)  # one left by an interrupted copy
    copy_resource(src, tmp)
    if dest.exists() or dest.is_symlink():  # it may hold the user's labels
        kept_name = f"{dest.name} (kept {date.today():%Y-%m-%d}"
        kept = untaken(dest.with_name(f"{kept_name})"), lambda n: f"{kept_name}, {n})")
        os.replace(dest, kept)
        log.warning("the demo folder %s had no project.json: it was moved to %s (your files in it are there) and "
                    "a fresh copy of the demo made", dest, kept)
    tmp.replace(dest)
    log.info("Copied the demo project to %s", dest)
    return dest


def _mark(folder: Path) -> None:
    atomic_write_bytes(folder / DEMO_MARKER, b"made by medseg demo; the demo may replace this folder\n")


def prepare_demo_output(out: Path, which: str = "vessel") -> Path:
    """Make `out` ready for `medseg demo` and put a fresh copy of a demo project in out/project (returned).

    `out` must be new, empty, or made by an earlier demo run (its marker file); out/project is replaced only when it
    is the demo's own copy. Anything else is refused with a ProjectError before a file is touched, so a user's
    project or files are never deleted or overwritten.
    """
    out = Path(out)
    demo_source(which)  # an unknown or missing demo is refused before anything is touched
    project = out / "project"
    if out.exists() and not out.is_dir():
        raise ProjectError(f"{out} is a file, not a folder; choose a new or empty folder for --out.")
    if out.is_dir() and any(out.iterdir()) and not (out / DEMO_MARKER).is_file():
        raise ProjectError(f"The folder {out} already contains files that `medseg demo` did not make; choose a new "
                           "or empty folder for --out (nothing was changed).")
    if project.exists() and not (project / DEMO_MARKER).is_file():
        raise ProjectError(f"{project} is not a demo project made by `medseg demo` and could hold your labels; "
                           "choose another folder for --out (nothing was changed).")
    out.mkdir(parents=True, exist_ok=True)
    _mark(out)
    tmp = out / ".project.copying"
    remove_copy(tmp)  # one left by an interrupted demo run in a folder the demo made
    copy_resource(demo_source(which), tmp)
    _mark(tmp)
    remove_copy(project)
    tmp.replace(project)
    return project
