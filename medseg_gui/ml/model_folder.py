"""A class's model folder as it is on disk, and how to read and load it (ml.store writes it).

    <id>.keras + <id>.json   every stored model (kept or rejected); ids are unique (UTC time + random)
    <id>.start.weights.h5    (+ <id>.start.json) its training-form weights, the next run's warm start
    <id>.val.npz             which pixels of its validation images were annotated when it was trained (the next
                             run's keep-unless-better compares on those: ml/validation.py views_as_then)
    current.json             {"id", "model", "previous"} plus a copy of the current model's metadata
    history.json             one entry per stored attempt (id, kept, reason, AUCs, ...), oldest first, and one
                             {"rollback_to", "replaced", "at"} per rollback (list_models / rollback)
    .unreadable/             a current.json or history.json that could not be read, moved there (never replaced)
                             before a new one was written (core.rewrite)

Loading falls back to the previous model when the current one is missing or damaged (and says so in the metadata).
Folders of older versions (current.keras + current.json without "id", previous.*) still load.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from medseg_gui.core.atomic import sweep_temp_files
from medseg_gui.core.errors import ModelError
from medseg_gui.core.project_format import MODEL_POINTER as POINTER
from medseg_gui.core.project_format import read_json_file
from medseg_gui.core.project_format import read_model_pointer as read_pointer
from medseg_gui.ml.init import InitWeights, read_init
from medseg_gui.ml.metadata import validate_metadata
from medseg_gui.ml.predict import Segmenter

log = logging.getLogger(__name__)

HISTORY = "history.json"
START = ".start.weights.h5"  # <id>.start.weights.h5 + <id>.start.json: training-form weights for warm starts
VAL_LABELS = ".val.npz"  # <id>.val.npz: the annotated pixels of its validation images when it was trained
FALLBACK_KEY = "loaded_instead_of_current"  # metadata note when the previous model had to be used
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
LEGACY_CURRENT, LEGACY_PREVIOUS = "current", "previous"
_MODE_CHANNELS = {"rgb": 3, "green": 1, "gray": 1}  # input_mode -> the channels ml.data.enhance gives


@dataclass(frozen=True)
class Candidate:
    """A model file to try, with its metadata (a dict, a JSON file to read, or the error reading it gave)."""

    role: str
    path: Path
    metadata: dict | Path | ModelError


def new_model_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return num(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def valid_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def check_folder(model_dir: Path) -> None:
    """ModelError when `model_dir` is there but is not a folder (a file in its place: nothing can be read from or
    stored in it, and it is not touched)."""
    if model_dir.exists() and not model_dir.is_dir():
        raise ModelError(f"The model folder {model_dir} is a file, not a folder; move that file away (or rename it) "
                         f"so that the models of class '{model_dir.name}' can be stored there.")


def history_or_error(model_dir: Path) -> list | Exception:
    """history.json's entries; [] when there is none; the error when it cannot be read or is not a list (one reading:
    ml.store hands it to core.rewrite.rewrite_json, which then keeps that file in .unreadable/)."""
    try:
        data = read_json_file(model_dir / HISTORY)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        return exc
    return data if isinstance(data, list) else ValueError("it is not a list of models")


def read_history(model_dir: Path) -> list:
    """history.json's entries for reading ([] when it is absent or unreadable: the file is left as it is until the
    next save moves it aside)."""
    data = history_or_error(model_dir)
    if isinstance(data, Exception):
        log.warning("%s in %s cannot be read (%s); it is ignored and left as it is until the next training moves "
                    "it aside.", HISTORY, model_dir, data)
        return []
    return data


def _candidates(model_dir: Path) -> list[Candidate]:
    """Models to try, best first: current, previous, then (if current.json is unusable) the newest kept ones."""
    check_folder(model_dir)
    pointer = read_pointer(model_dir)
    found: list[Candidate] = []
    if isinstance(pointer, dict) and "id" not in pointer and not (model_dir / f"{LEGACY_CURRENT}.keras").is_file():
        # neither an id nor an older version's current.keras beside it: a damaged current.json (e.g. "{}")
        pointer = ModelError(f"The model description {POINTER} in {model_dir} names no model (it has no 'id'); "
                             "train the model again.")
    if isinstance(pointer, dict) and "id" in pointer:
        model_id, previous = valid_id(pointer.get("id")), valid_id(pointer.get("previous"))
        if model_id is None:
            bad = ModelError(f"{POINTER} in {model_dir} names no valid model id ({pointer.get('id')!r}).")
            found.append(Candidate("current", model_dir / POINTER, bad))
        else:
            found.append(Candidate("current", model_dir / f"{model_id}.keras", pointer))
        if previous is not None:
            found.append(Candidate("previous", model_dir / f"{previous}.keras", model_dir / f"{previous}.json"))
    elif isinstance(pointer, dict):  # an older version's current.keras + current.json
        found.append(Candidate("current", model_dir / f"{LEGACY_CURRENT}.keras", pointer))
    else:
        if pointer is not None or (model_dir / f"{LEGACY_CURRENT}.keras").is_file():
            missing = ModelError(f"The model description {POINTER} in {model_dir} is missing; train the model again.")
            found.append(Candidate("current", model_dir / f"{LEGACY_CURRENT}.keras", pointer or missing))
        kept = [valid_id(e.get("id")) for e in reversed(read_history(model_dir))
                if isinstance(e, dict) and e.get("kept")]
        found += [Candidate("previous", model_dir / f"{i}.keras", model_dir / f"{i}.json") for i in kept[:3] if i]
    legacy_prev = model_dir / f"{LEGACY_PREVIOUS}.keras"
    if legacy_prev.is_file():
        found.append(Candidate("previous", legacy_prev, model_dir / f"{LEGACY_PREVIOUS}.json"))
    return found


def has_model(model_dir: str | os.PathLike[str]) -> bool:
    """Whether a current (or fallback) model file exists; it may still turn out damaged when loaded. ModelError when
    the model folder is a file (`check_folder`)."""
    return any(c.path.suffix == ".keras" and c.path.is_file() for c in _candidates(Path(model_dir)))


def current_model_path(model_dir: str | os.PathLike[str]) -> Path | None:
    """The .keras file current.json names (or an older version's current.keras), if it exists."""
    found = _candidates(Path(model_dir))
    if found and found[0].role == "current" and found[0].path.suffix == ".keras" and found[0].path.is_file():
        return found[0].path
    return None


def current_start(model_dir: str | os.PathLike[str]) -> InitWeights | None:
    """The warm-start weights of the current model, if stored (models saved before warm start have none), naming
    that model (`InitWeights.model`: what the run says it continues from)."""
    pointer = read_pointer(Path(model_dir))
    model_id = valid_id(pointer.get("id")) if isinstance(pointer, dict) else None
    init = read_init(Path(model_dir) / f"{model_id}{START}") if model_id else None
    return None if init is None else replace(init, model=(model_id, str(pointer.get("trained_at") or "")))


def validation_labels(model_dir: str | os.PathLike[str], model_id: Any) -> dict[str, np.ndarray | None] | None:
    """The annotated pixels of model `model_id`'s validation images when it was trained, by image name (None: a
    complete label); None when not stored (models of older versions) or unreadable."""
    model_id = valid_id(model_id)
    path = Path(model_dir) / f"{model_id}{VAL_LABELS}"
    if model_id is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            names, complete = [str(n) for n in z["names"]], [bool(c) for c in z["complete"]]
            return {n: None if c else z[f"a{j}"].astype(bool) for j, (n, c) in enumerate(zip(names, complete))}
    except (OSError, ValueError, KeyError) as exc:
        log.warning("Could not read %s (%s); the next run compares on the validation labels as they are.", path, exc)
        return None


def load_model(model_dir: str | os.PathLike[str], model_id: str) -> Segmenter:
    """A stored model by id (safe_mode, metadata validated); ModelError when it is missing or damaged."""
    model_dir = Path(model_dir)
    check_folder(model_dir)
    if valid_id(model_id) is None:
        raise ModelError(f"'{model_id}' is not a model id; `medseg models` lists them.")
    if not (model_dir / f"{model_id}.keras").is_file():
        raise ModelError(f"Model {model_id} is not stored in {model_dir} (never saved, or removed as one of the "
                         f"oldest); `medseg models` lists the stored ones.")
    return load_candidate(Candidate("stored", model_dir / f"{model_id}.keras", model_dir / f"{model_id}.json"))


def load_candidate(candidate: Candidate) -> Segmenter:
    from medseg_gui.ml.keras_quiet import keras

    path, meta = candidate.path, candidate.metadata
    if isinstance(meta, ModelError):
        raise meta
    if not path.is_file():
        raise ModelError(f"The model file {path.name} in {path.parent} is missing; train the model again.")
    where = POINTER if isinstance(meta, dict) else meta.name
    if isinstance(meta, Path):
        try:
            meta = json.loads(meta.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"The model description {where} in {path.parent} is missing or damaged ({exc}); "
                             "train the model again.") from exc
    metadata = validate_metadata(meta, f"{where} in {path.parent}")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
        takes = model.input_shape[-1]
    except Exception as exc:  # noqa: BLE001 - any loader failure means an unusable file
        detail = ("it is not a complete .keras archive" if isinstance(exc, ValueError)
                  and str(exc).startswith("File not found") else f"{type(exc).__name__}: {exc}")
        raise ModelError(f"The model file {path.name} in {path.parent} could not be read as a Keras model: it is "
                         f"damaged or was written by an incompatible version ({detail}); train the model again."
                         ) from exc
    channels = metadata.get("in_channels")
    if channels is not None and takes != channels:
        raise ModelError(f"The model file {path.name} in {path.parent} takes {takes} channels but "
                         f"its description says {channels}; train the model again.")
    mode = metadata.get("input_mode", "rgb")
    if takes != _MODE_CHANNELS[mode]:  # what Segmenter feeds it (ml.data.enhance)
        raise ModelError(f"The model file {path.name} in {path.parent} takes {takes} channels but its description "
                         f"{where} says its input is {mode} ({_MODE_CHANNELS[mode]} channels); train the model again.")
    return Segmenter(model, metadata)


def load_segmenter(model_dir: str | os.PathLike[str]) -> Segmenter:
    """The current model of a class, or the previous one when the current is missing/damaged (noted under
    metadata[FALLBACK_KEY]); ModelError if there is none or none can be read."""
    model_dir = Path(model_dir)
    sweep_temp_files(model_dir)
    candidates = _candidates(model_dir)
    if not any(c.path.is_file() for c in candidates):
        if candidates and isinstance(candidates[0].metadata, ModelError):
            raise candidates[0].metadata
        if candidates:
            raise ModelError(f"The model file {candidates[0].path.name} in {model_dir} is missing; train the model "
                             "again.")
        raise ModelError(f"No trained model exists for class '{model_dir.name}' yet; train one first (Retrain, or "
                         f"`medseg train PROJECT --class {model_dir.name}`).")
    errors: list[ModelError] = []
    for candidate in candidates:
        try:
            segmenter = load_candidate(candidate)
        except ModelError as err:
            errors.append(err)
            continue
        if errors:
            note = f"The current model could not be used ({errors[0]}); the previous model was used instead."
            log.warning(note)
            segmenter.metadata[FALLBACK_KEY] = note
        return segmenter
    raise errors[0]

