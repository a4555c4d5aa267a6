"""Third-party licence files for the one-folder package: `gather(dest)` copies, for every distribution the program
needs at run time (medseg-gui's Requires-Dist, followed recursively, as installed in the build environment), the
licence, notice, copying and authors files its metadata lists into `dest/licenses/<name>-<version>/` (and Python's
own licence), and writes `dest/THIRD_PARTY_LICENSES.md`, an index naming each one's version, declared licence,
homepage and the files copied, or that it ships none. Called by medseg.spec after COLLECT; needs only the standard
library and `packaging` (a dependency of TensorFlow and PyInstaller) to read requirement markers.

Run by hand: `python packaging/notices.py DEST_FOLDER`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import sysconfig
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

NOTICE_NAME = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)  # the start of a file's name
NOT_A_NOTICE = {".py", ".pyc", ".pyi", ".so", ".pyd", ".dll", ".dylib", ".h", ".hpp", ".c", ".cc", ".html"}
INDEX = "THIRD_PARTY_LICENSES.md"
OWN = "medseg-gui"  # the program: its licence is LICENSE at the top of the folder, not listed here
ROOTS = (OWN,)  # followed through their Requires-Dist (no extras)
# In the package but not a requirement of medseg-gui: PyInstaller's bootloader is each executable's start.
ALSO = ("pyinstaller",)

# Distributions whose wheels carry no licence text, and the texts their declared licence points to. A text is
# copied only from where the build machine has it (Debian's /usr/share/common-licenses); the index says which.
LGPL_TEXTS = ("/usr/share/common-licenses/LGPL-3", "/usr/share/common-licenses/GPL-3")
KNOWN_TEXTS = {"pyside6-essentials": LGPL_TEXTS, "pyside6": LGPL_TEXTS, "shiboken6": LGPL_TEXTS}
QT_NOTE = ("The PySide6 and shiboken6 wheels carry no licence text. They and the Qt libraries they bundle "
           "(`_internal/PySide6/Qt/lib/`) are used under the LGPL-3.0: licence texts at "
           "https://www.gnu.org/licenses/lgpl-3.0.txt and https://www.gnu.org/licenses/gpl-3.0.txt, Qt's notices at "
           "https://doc.qt.io/qt-6/licensing.html, PySide6's at "
           "https://code.qt.io/cgit/pyside/pyside-setup.git/tree/LICENSES and its source at "
           "https://code.qt.io/cgit/pyside/pyside-setup.git/. The Qt libraries are separate files, so they can be "
           "replaced by other builds of the same Qt version.")
NOTES = {"pyside6-essentials": QT_NOTE, "pyside6": QT_NOTE, "shiboken6": QT_NOTE}


@dataclass
class Notice:
    """One distribution's entry in the index."""

    name: str
    version: str
    licence: str
    homepage: str
    files: list[str] = field(default_factory=list)  # paths relative to the licenses/ folder's parent
    note: str = ""
    in_wheel: bool = True  # False: the distribution has no licence file (any copied come from the build machine)


def runtime_distributions(roots: tuple[str, ...] = ROOTS, also: tuple[str, ...] = ALSO
                          ) -> tuple[list[metadata.Distribution], list[str]]:
    """The installed distributions `roots` need at run time (recursively, markers evaluated here, extras followed
    where a requirement names them) plus `also` (not followed); and the required names that are not installed."""
    found: dict[str, metadata.Distribution] = {}
    missing: list[str] = []
    queue: list[tuple[str, frozenset[str], bool]] = [(n, frozenset(), True) for n in roots]
    queue += [(n, frozenset(), False) for n in also]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        name, extras, follow = queue.pop(0)
        key = canonicalize_name(name)
        if (key, extras) in seen:
            continue
        seen.add((key, extras))
        try:
            dist = found.get(key) or metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        found[key] = dist
        if not follow:
            continue
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in (extras or {""})):
                queue.append((req.name, frozenset(req.extras), True))
    return sorted(found.values(), key=lambda d: canonicalize_name(d.metadata["Name"])), sorted(set(missing))


def declared_licence(dist: metadata.Distribution) -> str:
    """License-Expression, else the License field (its first line when it holds a whole text), with the licence
    classifiers; '' when the metadata declares none."""
    meta = dist.metadata
    text = (meta.get("License-Expression") or meta.get("License") or "").strip()
    whole = "\n" in text or len(text) > 100
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    parts = ([] if whole else [text] if text else []) + [f"classifier: {c}" for c in classifiers]
    parts += ["the License field holds a whole licence text"] if whole else []
    return "; ".join(parts)


def homepage(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    urls = {}
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    for label in ("homepage", "home", "source", "repository", "source code"):
        if urls.get(label):
            return urls[label]
    return meta.get("Home-page") or next(iter(urls.values()), "")


def notice_files(dist: metadata.Distribution) -> list[tuple[PurePosixPath, Path]]:
    """(path to copy to, source) for each licence-like file of `dist`: the RECORD's files named LICEN[CS]E*,
    COPYING*, NOTICE* or AUTHORS* and the License-File entries. The destination drops the .dist-info folder (and its
    licenses/ folder); other files keep their path in site-packages. Files with the same bytes are copied once."""
    listed = [PurePosixPath(str(f)) for f in dist.files or []]
    licence_files = set(dist.metadata.get_all("License-File") or [])
    chosen: list[tuple[PurePosixPath, Path]] = []
    digests: set[str] = set()
    for rel in listed:
        in_info = rel.parts[0].endswith(".dist-info")
        inner = PurePosixPath(*rel.parts[1:]) if in_info and len(rel.parts) > 1 else rel
        if in_info and inner.parts[0] == "licenses" and len(inner.parts) > 1:
            inner = PurePosixPath(*inner.parts[1:])
        named = NOTICE_NAME.match(rel.name) and rel.suffix.lower() not in NOT_A_NOTICE
        if not (named or (in_info and inner.as_posix() in licence_files)):
            continue
        source = Path(dist.locate_file(str(rel)))
        if not source.is_file():
            continue
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        if digest not in digests:
            digests.add(digest)
            chosen.append((inner, source))
    return chosen


def folder_name(dist: metadata.Distribution) -> str:
    return f"{canonicalize_name(dist.metadata['Name'])}-{dist.version}"


def copy_notices(dist: metadata.Distribution, licenses: Path) -> Notice:
    """Copy `dist`'s licence files (or, when it has none, the texts KNOWN_TEXTS names that this machine has) into
    `licenses/<name>-<version>/`; returns its index entry."""
    key = canonicalize_name(dist.metadata["Name"])
    notice = Notice(dist.metadata["Name"], dist.version, declared_licence(dist), homepage(dist),
                    note=NOTES.get(key, ""))
    target = licenses / folder_name(dist)
    files = notice_files(dist)
    notice.in_wheel = bool(files)
    if not files:
        files = [(PurePosixPath(Path(p).name), Path(p)) for p in KNOWN_TEXTS.get(key, ()) if Path(p).is_file()]
        if files:
            notice.note += (" Copied here from the build machine (" + ", ".join(str(s) for _, s in files) + "): "
                            "the licence texts, not files of the wheel.")
    for inner, source in files:
        dest = target / inner
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        notice.files.append(f"{licenses.name}/{target.name}/{inner.as_posix()}")
    return notice


def python_notice(licenses: Path) -> Notice:
    """The Python interpreter and standard library the package carries (the PSF licence, from the build's Python)."""
    version = ".".join(map(str, sys.version_info[:3]))
    notice = Notice("Python", version, "PSF-2.0 (Python Software Foundation License)", "https://www.python.org/")
    source = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    notice.in_wheel = source.is_file()
    if source.is_file():
        target = licenses / f"python-{version}"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / source.name)
        notice.files.append(f"{licenses.name}/{target.name}/{source.name}")
    else:
        notice.note = "The build's Python has no LICENSE.txt: https://docs.python.org/3/license.html"
    return notice


def index_text(notices: list[Notice], missing: list[str]) -> str:
    lines = ["# Third-party licences", "",
             "medseg_gui itself is under the MIT licence (`LICENSE`). This folder also carries the Python "
             "distributions below (in `_internal/`) and Python itself. For each: its version, the licence its "
             "metadata declares, and its licence files as copied into `licenses/`. Where a distribution ships no "
             "licence file, its declared licence and homepage say where to find the text.", "",
             "Listed: every distribution medseg-gui requires at run time (followed recursively) as installed where "
             "the package was built, and PyInstaller (its bootloader starts each executable); a few may not be in "
             "`_internal/` when PyInstaller found them unused. System libraries that PyInstaller copied from the "
             "build machine (e.g. libstdc++, libgcc_s, libexpat, libxcb-*) are not listed: their licences are in "
             "that system's /usr/share/doc/<package>/copyright.", ""]
    without = [n for n in notices if not n.in_wheel]
    if without:
        lines += ["**No licence file in the distribution:** " + ", ".join(f"{n.name} {n.version}" for n in without)
                  + " (see each entry for its declared licence and homepage).", ""]
    for n in notices:
        lines += [f"## {n.name} {n.version}", "", f"- Licence (declared): {n.licence or 'none declared'}"]
        if n.files:
            lines += ["- Files: " + ", ".join(f"`{f}`" for f in n.files)]
        else:
            lines += ["- Files: none in the distribution"]
        if n.homepage:
            lines += [f"- Homepage: {n.homepage}"]
        if n.note:
            lines += [f"- Note: {n.note.strip()}"]
        lines += [""]
    if missing:
        lines += ["Not installed where the package was built, so not in it: " + ", ".join(missing), ""]
    return "\n".join(lines)


def gather(dest: Path, roots: tuple[str, ...] = ROOTS, also: tuple[str, ...] = ALSO) -> list[Notice]:
    """Write `dest/licenses/` and `dest/THIRD_PARTY_LICENSES.md` (replacing earlier ones); returns the entries."""
    dest = Path(dest)
    licenses = dest / "licenses"
    shutil.rmtree(licenses, ignore_errors=True)
    licenses.mkdir(parents=True)
    dists, missing = runtime_distributions(roots, also)
    if set(roots) & set(missing):
        raise RuntimeError(f"not installed here: {', '.join(sorted(set(roots) & set(missing)))} (pip install -e .)")
    notices = [copy_notices(d, licenses) for d in dists if canonicalize_name(d.metadata["Name"]) != OWN]
    notices.append(python_notice(licenses))
    (dest / INDEX).write_text(index_text(notices, missing), encoding="utf-8")
    return notices


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python packaging/notices.py DEST_FOLDER")
    done = gather(Path(sys.argv[1]))
    print(f"{len(done)} distributions, {sum(len(n.files) for n in done)} files: {Path(sys.argv[1]) / INDEX}")
