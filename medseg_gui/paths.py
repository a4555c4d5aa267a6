"""The per-user folders and files of medseg_gui: data (the demo copy), logs, and the window's settings file.

Qt-free, so the CLI (`medseg info`) reports the same paths the GUI uses.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from medseg_gui.core.demo import user_data_dir
from medseg_gui.core.identity import APP_NAME, GUI_NAME

UNSAVED_LABELS = "unsaved-labels"  # the rescue_dir kind of labels left unsaved at a close (core.rescued_labels)


def data_dir() -> Path:
    """Per-user writable data folder (the demo copies live here)."""
    return user_data_dir()


def rescue_dir(kind: str, project_root: Path, *parts: str) -> Path:
    """A new folder name in the user data folder for what could not be saved in a project: `kind` "unsaved-models"
    (a finished model) or "unsaved-labels" (labels left unsaved at a close nobody could answer), named after the
    project (and `parts`, e.g. the class) and the time; '-2', '-3' … after it when that folder exists already (a
    second rescue within the same second gets its own folder and record)."""
    import re
    import time

    name = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(project_root).name)[:40] or "project"
    folder = first = rescue_base(kind) / "-".join((name, *parts, time.strftime("%Y%m%d-%H%M%S")))
    n = 1
    while folder.exists():
        n += 1
        folder = first.with_name(f"{first.name}-{n}")
    return folder


def rescue_base(kind: str) -> Path:
    """The folder of every `rescue_dir` of `kind` (core.rescued_labels.find_rescues looks there)."""
    return user_data_dir() / kind


def log_dir() -> Path:
    """Per-user log folder (Linux: ~/.local/state/medseg_gui/log; macOS: ~/Library/Logs/medseg_gui)."""
    from platformdirs import user_log_path

    return Path(user_log_path(APP_NAME, appauthor=False))


def settings_file() -> Path:
    """The INI file where the window remembers its state: Qt's rule for QSettings(IniFormat, UserScope, org, app)
    with org = APP_NAME and app = GUI_NAME (app.py sets them on the QApplication), i.e. %APPDATA%\\<org>\\<app>.ini
    on Windows, $XDG_CONFIG_HOME (default ~/.config)/<org>/<app>.ini elsewhere."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / APP_NAME / f"{GUI_NAME}.ini"
