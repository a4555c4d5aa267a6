"""On-disk formats of a project folder (version 1): project.json records and validation, unique image stems,
metrics.json (NaN as null) and the 16-bit prediction PNG encoding.

No folder logic: `core/project.py` owns the paths, the atomic writes and the locking.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import stat
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from medseg_gui.core.errors import ImageReadError, ModelError, ProjectError, ProjectFileDamagedError
from medseg_gui.core.names import name_problem, shown_name

log = logging.getLogger(__name__)

FORMAT = "medseg-project"
VERSION = 1
PROJECT_FILE = "project.json"
LAYOUTS = ("managed", "folder")
REPLACED_LABELS = "replaced-labels"  # labels an import replaced, kept: <time>/<class>/<stem>.png (mask_import)
# beside a label (labels/<class>/): the versions moved aside, never deleted (core.atomic.move_aside names them)
ASIDE_REPLACED = ".replaced"  # another program's version, or one a restored label took the place of
ASIDE_UNREADABLE = ".unreadable"  # one the app could not read, before its first save over it
REMOVED_FOLDER, REMOVED_RECORD = ".removed", "removed.json"  # images taken out: <stem>-<time>/ (core.remove_images)
REMOVING_RECORD, RESTORING_RECORD = "removing.json", "restoring.json"  # the record while a removal or
# a restore is under way: one found at open was cut short (core.removal_recovery finishes it)
NOT_REMOVED_RECORD = "not-removed.json"  # a removal refused whose files were not all moved back: left to the user
# a project's own folders, in its root: exports never go there, and no subfolder of images is reported there
PROJECT_DATA_DIRS = ("labels", "predictions", "roi", "models", "images", REPLACED_LABELS)
_BAD_NAME_CHARS = set('/\\:*?"<>|')
MODEL_POINTER = "current.json"  # models/<class>/: the current model's id and metadata (ml.store writes it)
MAX_PROJECT_FILE_BYTES = 64 * 2**20  # ~100 bytes per image: 64 MB is far beyond any real project.json/metrics.json


@dataclass(frozen=True)
class ClassSpec:
    """A segmentation class: `name` is also a folder name; `color` is RGB 0–255 for drawing; `roi_class` names the
    class whose region restricts this one (two-stage segmentation, e.g. a lesion inside the cervix), or None."""

    name: str
    color: tuple[int, int, int]
    roi_class: str | None = None


@dataclass(frozen=True)
class ImageEntry:
    """One image: unique `stem`, `path` relative to the project root (POSIX; absolute if outside it), free `state`."""

    stem: str
    path: str
    state: dict[str, Any] = field(default_factory=dict)


DEFAULT_CLASSES: tuple[ClassSpec, ...] = (ClassSpec("lesion", (255, 215, 0)), ClassSpec("vessel", (0, 220, 110)))


@dataclass(frozen=True)
class ProjectData:
    """The validated content of a project.json."""

    classes: tuple[ClassSpec, ...]
    images: tuple[ImageEntry, ...]
    layout: str = "managed"
    excluded: tuple[str, ...] = ()  # image files (entry paths) removed from the project but left in place


def check_class_name(name: str) -> None:
    """ProjectError unless `name` can be a class name and a folder name on every platform."""
    bad = not name or name.strip() != name or name.startswith(".") or bool(set(name) & _BAD_NAME_CHARS)
    if bad or name_problem(name) is not None:
        raise ProjectError(
            f"'{shown_name(name)}' cannot be used as a class name (it must also be a valid folder name)."
        )


def check_color(name: str, color: Any) -> tuple[int, int, int]:
    """`color` as an RGB int triple; ProjectError unless it is three values from 0 to 255."""
    try:
        rgb = tuple(int(v) for v in color)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 in a JSON file is infinity
        rgb = ()
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise ProjectError(f"The colour for class '{name}' must be three values from 0 to 255.")
    return rgb  # type: ignore[return-value]


def unique_stem(name: str, taken: set[str]) -> str:
    """`a.jpg` → 'a'; if 'a' is taken (case-insensitively, for Windows/macOS) → 'a.jpg', then 'a.jpg~2', ...

    `taken` holds casefolded stems and gains the returned one. The numbered names are made only as far as needed:
    making all 10,000 for every image was a millisecond each, 1.4 s of opening a new folder of 1,200 photos.
    """
    candidates = chain((PurePosixPath(name).stem, name), (f"{name}~{i}" for i in range(2, 10_000)))
    for stem in candidates:
        if stem.casefold() not in taken:
            taken.add(stem.casefold())
            return stem
    raise ProjectError(f"Too many images named '{name}'.")


def read_regular_file(file: Path, limit: int) -> bytes:
    """The bytes of `file`; OSError when it is not a regular file (reading a FIFO would block forever) or is larger
    than `limit` bytes (no file of ours is; reading it would only exhaust memory)."""
    st = file.stat()
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "it is not a regular file (a folder, pipe or device)")
    if st.st_size > limit:
        raise OSError(errno.EFBIG, f"it is {st.st_size // 2**20} MB, more than such a file can be")
    return file.read_bytes()


def read_project_file(file: Path) -> ProjectData:
    """Read and validate project.json (`read_json_file`); ProjectError (for a clinician, naming the file) if missing,
    damaged, not ours, not a regular file or larger than MAX_PROJECT_FILE_BYTES. A UTF-8 BOM (Windows Notepad) is
    fine."""
    try:
        data = read_json_file(file)
    except FileNotFoundError:
        if not file.parent.exists():  # a mistyped path is not a folder without its project.json (outside trial)
            raise ProjectError(f"No project found: {shown_name(file.parent)} does not exist.") from None
        raise ProjectError(f"No project found in {shown_name(file.parent)} (project.json is missing).") from None
    except OSError as exc:
        raise ProjectError(f"The project file {shown_name(file)} was not read: {exc.strerror or exc}.") from None
    except ValueError as exc:
        raise ProjectFileDamagedError(
            f"The project file {shown_name(file)} is damaged or unreadable ({exc}).") from None
    return project_from_json(data, file)


def _check_entry_names(images: tuple[ImageEntry, ...], file: str) -> None:
    for n, entry in enumerate(images, start=1):
        if not entry.stem or entry.stem in (".", "..") or set(entry.stem) & {"/", "\\"}:
            raise ProjectFileDamagedError(
                f"{file} is damaged: image {n}'s name is empty or contains a folder separator.")
        for text, what in ((entry.stem, "name"), (entry.path, "path")):
            problem = name_problem(text)
            if problem is not None:
                raise ProjectFileDamagedError(f"{file} is damaged: image {n}'s {what} '{shown_name(text)}' {problem}.")


def project_from_json(data: Any, file: Path) -> ProjectData:
    """Validate parsed project.json content; `file` only names the file in error messages."""
    where = shown_name(file)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectError(f"{where} is not a medseg project file.")
    if data.get("version") != VERSION:
        raise ProjectError(f"{where} has format version {data.get('version')!r}; this program reads version 1.")
    try:
        entries = [(str(c["name"]), c["color"], _roi_class_field(c)) for c in data["classes"]]
        images = tuple(ImageEntry(str(i["stem"]), str(i["path"]), dict(i.get("state") or {})) for i in data["images"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProjectFileDamagedError(f"{where} is damaged: an image or class entry is incomplete ({exc}).") from None
    if not entries:
        raise ProjectFileDamagedError(
            f"{where} lists no classes; a project needs at least one, e.g. "
            f'"classes": [{{"name": "lesion", "color": [255, 215, 0]}}].'
        )
    _check_entry_names(images, where)
    try:
        classes = tuple(_checked_class(name, color, roi) for name, color, roi in entries)
    except ProjectError as err:
        raise ProjectFileDamagedError(f"{where} is damaged: {err}") from None
    for names, what in (([c.name for c in classes], "classes"), ([i.stem for i in images], "images")):
        if len({n.casefold() for n in names}) != len(names):
            raise ProjectFileDamagedError(f"{where} is damaged: two {what} have the same name.")
    try:
        check_roi_classes(classes)
    except ProjectError as err:
        raise ProjectFileDamagedError(f"{where} is damaged: {err}") from None
    layout = data.get("layout", "managed")
    excluded = data.get("excluded", [])
    if not isinstance(excluded, list) or not all(isinstance(x, str) for x in excluded):
        raise ProjectFileDamagedError(f"{where} is damaged: \"excluded\" is not a list of file names.")
    return ProjectData(classes, images, layout if layout in LAYOUTS else "managed", tuple(excluded))


def _checked_class(name: str, color: Any, roi_class: str | None) -> ClassSpec:
    """A class entry's ClassSpec; ProjectError when its name or colour is not valid (any JSON value checked)."""
    check_class_name(name)
    return ClassSpec(name, check_color(name, color), roi_class)


def _roi_class_field(entry: Any) -> str | None:
    """The optional `roi_class` of a class entry (None when absent or null); checked by check_roi_classes."""
    value = entry.get("roi_class") if isinstance(entry, dict) else None
    return None if value is None else str(value)


def check_roi_classes(classes: tuple[ClassSpec, ...]) -> None:
    """ProjectError unless every `roi_class` names another class of `classes` and no class ends up inside itself
    (lesion → cervix → lesion)."""
    by_name = {c.name: c for c in classes}
    for spec in classes:
        if spec.roi_class is None:
            continue
        if spec.roi_class == spec.name:
            raise ProjectError(f"class '{spec.name}' cannot be restricted to its own region (roi_class).")
        if spec.roi_class not in by_name:
            raise ProjectError(f"class '{spec.name}' is restricted to '{shown_name(spec.roi_class)}' (roi_class), "
                               f"which is not a class of this project ({', '.join(by_name)}).")
        chain, step = [spec.name], spec
        while step.roi_class is not None:
            if step.roi_class in chain:
                circle = chain[chain.index(step.roi_class):] + [step.roi_class]
                raise ProjectError(f"the classes restrict each other in a circle ({' → '.join(circle)}; roi_class).")
            chain.append(step.roi_class)
            step = by_name[step.roi_class]


def project_to_json(project: ProjectData) -> dict[str, Any]:
    """The project.json content (format version 1, plus `layout`). An image state listing nothing (`"accepted": []`
    once its last class was unmarked) is left out: a missing key reads as empty, as such a list always did."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "layout": project.layout,
        "classes": [_class_to_json(c) for c in project.classes],
        "images": [{"stem": e.stem, "path": e.path, "state": _state_to_json(e.state)} for e in project.images],
        **({"excluded": list(project.excluded)} if project.excluded else {}),  # only when set: older files unchanged
    }


def _state_to_json(state: dict[str, Any]) -> dict[str, Any]:
    """An image's state without the lists of nothing."""
    return {key: value for key, value in state.items() if not (isinstance(value, list) and not value)}


def _class_to_json(spec: ClassSpec) -> dict[str, Any]:
    """A class entry; `roi_class` only when set, so projects without two-stage classes are written as before."""
    entry: dict[str, Any] = {"name": spec.name, "color": list(spec.color)}
    if spec.roi_class is not None:
        entry["roi_class"] = spec.roi_class
    return entry


def metrics_to_json(obj: Any) -> Any:
    """JSON-ready copy of a metrics dict: numpy scalars → Python numbers, NaN → None (null)."""
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: metrics_to_json(v) for k, v in obj.items()}
    return obj


def read_json_file(path: Path) -> Any:
    """The JSON in `path` (a UTF-8 BOM is fine): the one reading of the JSON files the app reads (project.json, and
    those it rewrites: core.rewrite). OSError when it cannot be read (`read_regular_file`), ValueError when it is not
    JSON (not UTF-8, nested too deeply, a number of more than 4300 digits)."""
    try:
        return json.loads(read_regular_file(path, MAX_PROJECT_FILE_BYTES).decode("utf-8-sig"))
    except RecursionError:
        raise ValueError("it is nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise
    except ValueError as exc:  # a number of more than 4300 digits: the part before the advice to raise the limit
        raise ValueError(str(exc).split(":")[0]) from None


def read_rewritable_json(path: Path) -> Any:
    """The JSON of a file the app reads back and rewrites (metrics, uncertainty, removal and rescue records); None
    when absent; the OSError / ValueError when it cannot be read (logged). Hand it to core.rewrite.rewrite_json with
    what is written from it: a damaged file is then kept in .unreadable/, without being read again."""
    try:
        return read_json_file(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring damaged %s: %s", path, exc)
        return exc


def read_model_pointer(model_dir: Path) -> dict | ModelError | None:
    """The model folder's current.json as a dict; None when absent; the ModelError to report when it is damaged."""
    path = model_dir / MODEL_POINTER
    try:
        data = read_json_file(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return ModelError(f"The model description {MODEL_POINTER} in {model_dir} is damaged ({exc}); "
                          "train the model again.")
    if not isinstance(data, dict):
        return ModelError(f"The model description {MODEL_POINTER} in {model_dir} is not a JSON object; train again.")
    return data


def metrics_from_json(data: Any) -> dict[str, dict]:
    """{stem: {"auc", "dice", ...}} of a reading of metrics.json (`read_rewritable_json`) with null → NaN; {} when
    there was none or it could not be read (the next prediction rewrites it)."""
    if not isinstance(data, dict):
        return {}
    return {
        str(k): {m: (math.nan if v is None else v) for m, v in d.items()}
        for k, d in data.items()
        if isinstance(d, dict)
    }


def encode_probability(prob: np.ndarray) -> np.ndarray:
    """float HxW → uint16 round(p * 65535), clipped to [0, 1] with NaN → 0 (how predictions are stored)."""
    arr = np.nan_to_num(np.asarray(prob, dtype=np.float32), nan=0.0)
    return np.round(np.clip(arr, 0.0, 1.0) * 65535.0).astype(np.uint16)


def decode_probability(path: Path, what: str) -> np.ndarray:
    """float32 HxW in [0, 1] from a 16-bit (or 8-bit) gray PNG; ImageReadError "`what` is damaged" otherwise."""
    try:
        raw = cv2.imdecode(np.frombuffer(read_regular_file(path, 2**31), np.uint8), cv2.IMREAD_UNCHANGED)
    except (OSError, cv2.error):
        raw = None
    if raw is None or raw.ndim != 2:
        raise ImageReadError(f"{what} is damaged; predict again.")
    return stored_probability(raw)


def stored_probability(raw: np.ndarray) -> np.ndarray:
    """float32 HxW in [0, 1] from a map as a prediction file holds it (uint16, or uint8 from older versions)."""
    scale = 65535.0 if raw.dtype == np.uint16 else 255.0
    return (raw.astype(np.float32) / np.float32(scale)).astype(np.float32)


def removed_records(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, its removed.json) of each image removed from the project at `root` (core.remove_images), oldest
    first by folder name (<stem>-<time>); a record that cannot be read is logged and left out."""
    found = []
    for path in sorted((Path(root) / REMOVED_FOLDER).glob(f"*/{REMOVED_RECORD}")):
        record = read_rewritable_json(path)
        if isinstance(record, dict):
            found.append((path.parent, record))
    return found


def removed_in_place(root: Path) -> tuple[str, ...]:
    """The photos of a folder project that were removed from it but left where they are (their `.removed/*/`
    records' "photo_left_in_place"): a project.json rebuilt after damage keeps them out of the list too (a trial's
    rebuilt project listed a photo removed for withdrawn consent again)."""
    kept = (record.get("photo_left_in_place") for _folder, record in removed_records(root))
    return tuple(dict.fromkeys(photo for photo in kept if isinstance(photo, str)))
