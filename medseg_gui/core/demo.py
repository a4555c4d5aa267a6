"""The bundled demo project (six CHASE_DB1 fundus images): locate it and copy it somewhere writable."""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path

from medseg_gui.core.errors import ProjectError

log = logging.getLogger(__name__)

APP_NAME = "medseg_gui"


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
