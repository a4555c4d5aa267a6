"""The bundled demo project (six CHASE_DB1 fundus images): locate it and copy it somewhere writable.

Folders the demo makes carry a marker file, so the demo replaces only its own copies, never a user's project.
"""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path

from medseg_gui.core.atomic import atomic_write_bytes, new_file_mode
from medseg_gui.core.errors import ProjectError

log = logging.getLogger(__name__)

APP_NAME = "medseg_gui"
DEMO_MARKER = ".medseg-demo"  # written by `medseg demo` into its --out folder and its project copy


def demo_source() -> Path:
    """Path of the read-only demo project shipped with the program (installed wheel or source checkout)."""
    candidates = []
    try:
        candidates.append(Path(str(resources.files("medseg_gui._resources") / "demo")))
    except ModuleNotFoundError:
        pass
    candidates.append(Path(__file__).resolve().parents[2] / "resources" / "demo")
    for path in candidates:
        if (path / "project.json").is_file():
            return path
    raise ProjectError("The bundled demo project is missing from this installation (resources/demo).")


def user_data_dir() -> Path:
    """Per-user writable folder for medseg_gui (platform-specific, via platformdirs)."""
    from platformdirs import user_data_path

    return Path(user_data_path(APP_NAME, appauthor=False))


def ensure_demo_copy(dest: Path | None = None) -> Path:
    """Copy the demo project to `dest` (default: <user data>/demo) once and return its path.

    An existing copy is reused as it is, so the user's edits survive restarts; the installed package is never written.
    """
    dest = Path(dest) if dest is not None else user_data_dir() / "demo"
    if (dest / "project.json").is_file():
        return dest
    src = demo_source()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".copying")
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(src, tmp)
    for path in tmp.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    if dest.exists():
        shutil.rmtree(dest)
    tmp.replace(dest)
    log.info("Copied the demo project to %s", dest)
    return dest


def _mark(folder: Path) -> None:
    atomic_write_bytes(folder / DEMO_MARKER, b"made by medseg demo; the demo may replace this folder\n")


def prepare_demo_output(out: Path) -> Path:
    """Make `out` ready for `medseg demo` and put a fresh copy of the demo project in out/project (returned).

    `out` must be new, empty, or made by an earlier demo run (its marker file); out/project is replaced only when it
    is the demo's own copy. Anything else is refused with a ProjectError before a file is touched, so a user's
    project or files are never deleted or overwritten.
    """
    out = Path(out)
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
    if tmp.exists():
        shutil.rmtree(tmp)  # left by an interrupted demo run in a folder the demo made
    shutil.copytree(demo_source(), tmp)
    for path in tmp.rglob("*"):
        if path.is_file():
            path.chmod(new_file_mode())  # the installed copy may be read-only
    _mark(tmp)
    if project.exists():
        shutil.rmtree(project)
    tmp.replace(project)
    return project
