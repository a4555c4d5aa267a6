"""Where the files shipped with the program live (demos, the pretrained start): the installed package's
`medseg_gui._resources`, the checkout's top-level resources/ folder (an editable install does not map it), or, in
the PyInstaller one-folder build (packaging/medseg.spec), the `resources/` folder inside the bundle.

They may be read-only (a shared install: `chmod -R a-w /opt/medseg`), so every copy the program makes of them into
the user's folders goes through `copy_resource`, which never carries their modes over (a trial's demo copy got
read-only folders: opened read-only, not even removable with `rm -rf`). The pretrained starts are read in place.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
from importlib import resources
from pathlib import Path

from medseg_gui.core.atomic import new_dir_mode, new_file_mode

log = logging.getLogger(__name__)

USER_DIR_BITS, USER_FILE_BITS = stat.S_IRWXU, stat.S_IRUSR | stat.S_IWUSR  # what the user's copy always allows


def frozen_resources() -> Path | None:
    """The bundle's resources/ folder when running as a PyInstaller build, else None.

    PyInstaller sets `sys.frozen` and `sys._MEIPASS` (the folder holding the bundled files: `_internal/` next to
    the executable in a one-folder build); the executable's own folder is the fallback for other freezers.
    """
    if not getattr(sys, "frozen", False):
        return None
    base = getattr(sys, "_MEIPASS", None)
    return (Path(base) if base else package_folder()) / "resources"


def package_folder() -> Path | None:
    """The folder of the executables (and of LICENSE, THIRD_PARTY_LICENSES.md, licenses/) in a PyInstaller build,
    else None."""
    return Path(sys.executable).resolve().parent if getattr(sys, "frozen", False) else None


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


def copy_resource(src: Path, dest: Path) -> Path:
    """Copy the shipped file or folder `src` to the new path `dest` with the modes a new file or folder gets there,
    and at least u+rw (files) / u+rwx (folders): only the contents are copied, never the (read-only) modes, so a copy
    cut off half-way is writable too. Returns `dest`; OSError when it cannot be made."""
    if not src.is_dir():
        shutil.copyfile(src, dest)
        dest.chmod(new_file_mode() | USER_FILE_BITS)
        return dest
    for folder, _, files in os.walk(src, onerror=_raise, followlinks=True):  # an unlisted folder: not a copy
        out = dest / Path(folder).relative_to(src)
        out.mkdir()
        out.chmod(new_dir_mode() | USER_DIR_BITS)
        for name in files:
            copy_resource(Path(folder) / name, out / name)
    return dest



def _raise(error: OSError) -> None:
    """os.walk's onerror: a folder that cannot be listed is an error, not silently skipped (shutil.copytree raised)."""
    raise error


def make_user_writable(path: Path) -> int:
    """Give `path` and everything under it u+rwx (folders) / u+rw (files) where they lack it: a copy an older
    version made, or a half-made one, with a shared install's read-only modes. Returns how many were changed;
    OSError when one cannot be changed (not the user's own)."""
    changed = _add_bits(path)
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path, onerror=_raise):  # top-down: fixed before it is listed
            changed += sum(_add_bits(Path(folder) / name) for name in dirs + files)
    return changed


def _add_bits(item: Path) -> int:
    st = item.lstat()
    if stat.S_ISLNK(st.st_mode):
        return 0
    bits = USER_DIR_BITS if stat.S_ISDIR(st.st_mode) else USER_FILE_BITS
    if st.st_mode & bits == bits:
        return 0
    item.chmod(stat.S_IMODE(st.st_mode) | bits)
    return 1


def remove_copy(path: Path) -> None:
    """Remove a copy `copy_resource` (or an older version, with read-only folders) made, or a half-made one; nothing
    when there is none."""
    if path.is_dir() and not path.is_symlink():
        if make_user_writable(path):
            log.info("made the read-only copy %s writable to remove it", path)
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
