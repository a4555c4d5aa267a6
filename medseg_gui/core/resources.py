"""Where the files shipped with the program live (demos, the pretrained start): the installed package's
`medseg_gui._resources`, or the checkout's top-level resources/ folder (an editable install does not map it)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resource_path(*parts: str) -> Path | None:
    """The first existing `resources/<parts...>` (installed wheel first, then the source checkout), or None."""
    candidates = []
    try:
        node = resources.files("medseg_gui._resources")  # a namespace package: join before str()
        for part in parts:
            node = node / part
        candidates.append(Path(str(node)))
    except (ModuleNotFoundError, TypeError):
        pass
    candidates.append(Path(__file__).resolve().parents[2].joinpath("resources", *parts))
    return next((p for p in candidates if p.exists()), None)
