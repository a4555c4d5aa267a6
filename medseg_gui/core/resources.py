"""Where the files shipped with the program live (demos, the pretrained start): the installed package's
`medseg_gui._resources`, the checkout's top-level resources/ folder (an editable install does not map it), or, in
the PyInstaller one-folder build (packaging/medseg.spec), the `resources/` folder inside the bundle."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path


def frozen_resources() -> Path | None:
    """The bundle's resources/ folder when running as a PyInstaller build, else None.

    PyInstaller sets `sys.frozen` and `sys._MEIPASS` (the folder holding the bundled files: `_internal/` next to
    the executable in a one-folder build); the executable's own folder is the fallback for other freezers.
    """
    if not getattr(sys, "frozen", False):
        return None
    base = getattr(sys, "_MEIPASS", None)
    return Path(base if base else Path(sys.executable).resolve().parent) / "resources"


def resource_path(*parts: str) -> Path | None:
    """The first existing `resources/<parts...>` (frozen bundle, installed wheel, then the source checkout), or None."""
    candidates = []
    bundled = frozen_resources()
    if bundled is not None:
        candidates.append(bundled.joinpath(*parts))
    try:
        node = resources.files("medseg_gui._resources")  # a namespace package: join before str()
        for part in parts:
            node = node / part
        candidates.append(Path(str(node)))
    except (ModuleNotFoundError, TypeError):
        pass
    candidates.append(Path(__file__).resolve().parents[2].joinpath("resources", *parts))
    return next((p for p in candidates if p.exists()), None)
