"""Model folder of one class: keep-unless-better, one atomic promotion, validated safe loading.

    <id>.keras + <id>.json   every stored model (kept or rejected); ids are unique (UTC time + random)
    current.json             {"id", "model", "previous"} plus a copy of the current model's metadata
    history.json             one entry per stored attempt (id, kept, reason, AUCs, ...), oldest first, and one
                             {"rollback_to", "replaced", "at"} per rollback (list_models / rollback)

A model file is written under a temp name, reloaded with safe_mode=True and checked to predict the same, then
`os.replace`d to <id>.keras; promotion is the single atomic replace of current.json. A crash therefore leaves the old
or the new current model, never a mix. Loading falls back to the previous model when the current one is missing or
damaged (and says so in the metadata). Folders of older versions (current.keras + current.json without "id",
previous.*) still load; the first new save migrates them. Files get the umask's mode like every other file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medseg_gui.core.atomic import atomic_write_json, fsync_dir, make_temp, new_file_mode, sweep_temp_files
from medseg_gui.core.errors import ModelError
from medseg_gui.ml.init import InitWeights, read_init
from medseg_gui.ml.metadata import validate_metadata
from medseg_gui.ml.predict import Segmenter

log = logging.getLogger(__name__)

POINTER = "current.json"
HISTORY = "history.json"
START = ".start.weights.h5"  # <id>.start.weights.h5 + <id>.start.json: training-form weights for warm starts
KEEP_MODELS = 5  # newest stored models kept besides the current and previous one
FALLBACK_KEY = "loaded_instead_of_current"  # metadata note when the previous model had to be used
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_LEGACY_CURRENT, _LEGACY_PREVIOUS = "current", "previous"


@dataclass(frozen=True)
class StoreDecision:
    """kept_new: the new model is now current. new_auc/old_auc: validation AUCs compared (None = unknown)."""

    kept_new: bool
    new_auc: float | None
    old_auc: float | None
    reason: str
    model_id: str | None = None


@dataclass(frozen=True)
class _Candidate:
    """A model file to try, with its metadata (a dict, a JSON file to read, or the error reading it gave)."""

    role: str
    path: Path
    metadata: dict | Path | ModelError


def new_model_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return _num(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _read_pointer(model_dir: Path) -> dict | ModelError | None:
    """current.json as a dict; None when absent; the ModelError to report when it is damaged."""
    path = model_dir / POINTER
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return ModelError(f"The model description {POINTER} in {model_dir} is damaged ({exc}); train the model again.")
    if not isinstance(data, dict):
        return ModelError(f"The model description {POINTER} in {model_dir} is not a JSON object; train again.")
    return data


def _valid_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def _history(model_dir: Path) -> list:
    try:
        data = json.loads((model_dir / HISTORY).read_text("utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        log.warning("%s in %s is unreadable; starting a new one", HISTORY, model_dir)
        return []
    return data if isinstance(data, list) else []


def _candidates(model_dir: Path) -> list[_Candidate]:
    """Models to try, best first: current, previous, then (if current.json is unusable) the newest kept ones."""
    pointer = _read_pointer(model_dir)
    found: list[_Candidate] = []
    if isinstance(pointer, dict) and "id" in pointer:
        model_id, previous = _valid_id(pointer.get("id")), _valid_id(pointer.get("previous"))
        if model_id is None:
            bad = ModelError(f"{POINTER} in {model_dir} names no valid model id ({pointer.get('id')!r}).")
            found.append(_Candidate("current", model_dir / POINTER, bad))
        else:
            found.append(_Candidate("current", model_dir / f"{model_id}.keras", pointer))
        if previous is not None:
            found.append(_Candidate("previous", model_dir / f"{previous}.keras", model_dir / f"{previous}.json"))
    elif isinstance(pointer, dict):  # an older version's current.keras + current.json
        found.append(_Candidate("current", model_dir / f"{_LEGACY_CURRENT}.keras", pointer))
    else:
        if pointer is not None or (model_dir / f"{_LEGACY_CURRENT}.keras").is_file():
            missing = ModelError(f"The model description {POINTER} in {model_dir} is missing; train the model again.")
            found.append(_Candidate("current", model_dir / f"{_LEGACY_CURRENT}.keras", pointer or missing))
        kept = [_valid_id(e.get("id")) for e in reversed(_history(model_dir)) if isinstance(e, dict) and e.get("kept")]
        found += [_Candidate("previous", model_dir / f"{i}.keras", model_dir / f"{i}.json") for i in kept[:3] if i]
    legacy_prev = model_dir / f"{_LEGACY_PREVIOUS}.keras"
    if legacy_prev.is_file():
        found.append(_Candidate("previous", legacy_prev, model_dir / f"{_LEGACY_PREVIOUS}.json"))
    return found


def has_model(model_dir: str | os.PathLike[str]) -> bool:
    """Whether a current (or fallback) model file exists; it may still turn out damaged when loaded."""
    return any(c.path.suffix == ".keras" and c.path.is_file() for c in _candidates(Path(model_dir)))


def current_model_path(model_dir: str | os.PathLike[str]) -> Path | None:
    """The .keras file current.json names (or an older version's current.keras), if it exists."""
    found = _candidates(Path(model_dir))
    if found and found[0].role == "current" and found[0].path.suffix == ".keras" and found[0].path.is_file():
        return found[0].path
    return None


def _write_model_file(model_dir: Path, model_id: str, segmenter: Segmenter) -> Path:
    """Save to a temp .keras, reload with safe_mode=True, check it predicts the same, then rename to <id>.keras."""
    import keras

    fd, tmp = make_temp(model_dir, "candidate", ".keras")
    os.close(fd)
    try:
        segmenter.model.save(tmp)
        os.chmod(tmp, new_file_mode())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        reloaded = keras.saving.load_model(tmp, safe_mode=True, compile=False)
        m = int(segmenter.metadata.get("multiple", 16))
        x = np.random.default_rng(0).standard_normal((1, 2 * m, 2 * m, reloaded.input_shape[-1])).astype(np.float32)
        a = np.asarray(segmenter.model(x, training=False))
        b = np.asarray(reloaded(x, training=False))
        if a.shape != b.shape or not np.allclose(a, b, atol=1e-5):
            raise ModelError("The saved model does not reproduce the trained model's predictions; it was not kept.")
        target = model_dir / f"{model_id}.keras"
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(model_dir)
    return target


def _store_pair(model_dir: Path, model_id: str, segmenter: Segmenter, info: dict) -> None:
    """<id>.keras and <id>.json, both or neither."""
    _write_model_file(model_dir, model_id, segmenter)
    try:
        atomic_write_json(model_dir / f"{model_id}.json", _jsonable({**info, "id": model_id}))
    except BaseException:
        _discard(model_dir, model_id)
        raise


def _store_start(model_dir: Path, model_id: str, result: Any) -> None:
    """<id>.start.weights.h5 + <id>.start.json: the training-form weights a later run can start from (warm start).
    Best effort: without them the next run starts from the shipped start or from scratch."""
    if getattr(result, "model", None) is None or getattr(result, "preset", None) is None:
        return
    from medseg_gui.ml.init import save_start

    fd, tmp = make_temp(model_dir, f"{model_id}.start", ".weights.h5")
    os.close(fd)
    try:
        trained = result.segmenter.metadata.get("trained_at", "")
        save_start(result.model, result.preset, tmp, f"the model of {trained[:16].replace('T', ' ')}".strip(),
                   model_id=model_id)
        os.replace(tmp, model_dir / f"{model_id}{START}")
        os.replace(tmp.with_name(tmp.name.removesuffix(".weights.h5") + ".json"), model_dir / f"{model_id}.start.json")
    except (OSError, ValueError) as exc:
        log.warning("Could not store the warm-start weights of model %s in %s (%s).", model_id, model_dir, exc)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name.removesuffix(".weights.h5") + ".json").unlink(missing_ok=True)


def current_start(model_dir: str | os.PathLike[str]) -> InitWeights | None:
    """The warm-start weights of the current model, if stored (models saved before warm start have none)."""
    pointer = _read_pointer(Path(model_dir))
    model_id = _valid_id(pointer.get("id")) if isinstance(pointer, dict) else None
    return read_init(Path(model_dir) / f"{model_id}{START}") if model_id else None


def _discard(model_dir: Path, model_id: str) -> None:
    """Remove a stored model (best effort: the folder may have just become unwritable)."""
    for suffix in (".keras", ".json", START, ".start.json"):
        try:
            (model_dir / f"{model_id}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Could not remove %s%s in %s: %s", model_id, suffix, model_dir, exc)


def _migrate_legacy(model_dir: Path, pointer: dict) -> str | None:
    """Give an older version's current.keras an id (a copy, so it stays loadable until the pointer moves)."""
    legacy = model_dir / f"{_LEGACY_CURRENT}.keras"
    if not legacy.is_file():
        return None
    legacy_id = new_model_id()
    fd, tmp = make_temp(model_dir, f"{legacy_id}.keras")
    os.close(fd)
    try:
        shutil.copyfile(legacy, tmp)
        os.replace(tmp, model_dir / f"{legacy_id}.keras")
        atomic_write_json(model_dir / f"{legacy_id}.json", {**pointer, "id": legacy_id})
    except BaseException:
        tmp.unlink(missing_ok=True)
        (model_dir / f"{legacy_id}.keras").unlink(missing_ok=True)
        raise
    return legacy_id


def _promote(model_dir: Path, model_id: str, info: dict) -> None:
    """Make `model_id` current with one atomic replace of current.json; the old current becomes `previous`."""
    pointer = _read_pointer(model_dir)
    previous = None
    migrated = False
    if isinstance(pointer, dict):
        previous = _valid_id(pointer.get("id")) if "id" in pointer else _migrate_legacy(model_dir, pointer)
        migrated = "id" not in pointer and previous is not None
    atomic_write_json(model_dir / POINTER,
                      _jsonable({**info, "id": model_id, "model": f"{model_id}.keras", "previous": previous}))
    if migrated:
        (model_dir / f"{_LEGACY_CURRENT}.keras").unlink(missing_ok=True)


def _tidy(model_dir: Path, entry: dict) -> None:
    """Append to history.json and delete stored models beyond KEEP_MODELS (never current/previous); best effort."""
    try:
        history = _history(model_dir) + [_jsonable(entry)]
        atomic_write_json(model_dir / HISTORY, history)
        pointer = _read_pointer(model_dir)
        keep = {_valid_id(pointer.get(k)) for k in ("id", "previous")} if isinstance(pointer, dict) else set()
        ids = [i for i in (_valid_id(e.get("id")) for e in history if isinstance(e, dict)) if i]
        keep |= set(ids[-KEEP_MODELS:])
        for old in {i for i in ids if i} - keep:
            _discard(model_dir, old)
    except OSError as exc:
        log.warning("Could not update %s in %s (%s); the model itself is saved.", HISTORY, model_dir, exc)


def save_if_better(model_dir: str | os.PathLike[str], result: Any) -> StoreDecision:
    """Store `result` (a TrainResult) and make it current unless it is worse than the current model.

    Raises OSError when the folder cannot be written (nothing changes then) and ModelError when the saved file does
    not reproduce the trained model.
    """
    model_dir = Path(model_dir)
    new_auc, old_auc = _num(result.val_auc), _num(result.previous_val_auc)
    if result.cancelled:
        return StoreDecision(False, new_auc, old_auc, "Training was cancelled; the current model was kept.")
    model_dir.mkdir(parents=True, exist_ok=True)
    sweep_temp_files(model_dir)
    worse = old_auc is not None and has_model(model_dir) and (new_auc is None or new_auc < old_auc)
    info = {**result.segmenter.metadata, "val_auc": new_auc, "previous_val_auc": old_auc, "steps": result.steps,
            "seconds": round(float(result.seconds), 1), "stop_reason": getattr(result, "stop_reason", "")}
    info = {k: v for k, v in info.items() if k != FALLBACK_KEY}
    model_id = new_model_id()
    _store_pair(model_dir, model_id, result.segmenter, info)
    _store_start(model_dir, model_id, result)
    if worse:
        reason = (f"The new model (validation AUC {new_auc if new_auc is None else f'{new_auc:.4f}'}) is not better "
                  f"than the current one ({old_auc:.4f}); the current model was kept.")
    else:
        try:
            _promote(model_dir, model_id, info)
        except BaseException:
            _discard(model_dir, model_id)
            raise
        reason = "Saved the new model." if old_auc is None else (
            f"Saved the new model (validation AUC {new_auc:.4f} vs {old_auc:.4f})." if new_auc is not None
            else "Saved the new model (validation AUC unavailable).")
    _tidy(model_dir, {**info, "id": model_id, "kept": not worse, "reason": reason})
    log.info(reason)
    return StoreDecision(not worse, new_auc, old_auc, reason, model_id)


@dataclass(frozen=True)
class ModelEntry:
    """One stored model of a class as `medseg models` and the Models dialog list it (from history.json + files).

    kept: whether training made it current (None: not in history.json, e.g. an older version's model);
    present: its .keras file is still stored (older ones are pruned, so only present ones can be used again)."""

    id: str
    trained_at: str
    preset: str
    regime: str
    train_images: int | None
    val_images: int | None
    val_auc: float | None
    val_dice: float | None
    kept: bool | None
    current: bool
    present: bool
    reason: str = ""


def _entry(model_dir: Path, info: dict, current_id: str | None) -> ModelEntry:
    model_id = str(info["id"])

    def count(key: str) -> int | None:
        value = info.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def score(key: str) -> float | None:
        value = info.get(key)
        return _num(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    kept = info.get("kept")
    return ModelEntry(model_id, str(info.get("trained_at") or ""), str(info.get("preset") or ""),
                      str(info.get("regime") or ""), count("train_images"), count("val_images"), score("val_auc"),
                      score("val_dice"), kept if isinstance(kept, bool) else None, model_id == current_id,
                      (model_dir / f"{model_id}.keras").is_file(), str(info.get("reason") or ""))


def list_models(model_dir: str | os.PathLike[str]) -> list[ModelEntry]:
    """Every model of history.json (rollbacks are not models) plus stored <id>.json files it lacks, oldest first."""
    model_dir = Path(model_dir)
    pointer = _read_pointer(model_dir)
    current_id = _valid_id(pointer.get("id")) if isinstance(pointer, dict) else None
    infos: dict[str, dict] = {}
    for e in _history(model_dir):
        if isinstance(e, dict) and _valid_id(e.get("id")):
            infos[e["id"]] = e
    for path in sorted(model_dir.glob("*.json")) if model_dir.is_dir() else []:
        model_id = path.name.removesuffix(".json")
        if model_id in infos or not _valid_id(model_id) or not (model_dir / f"{model_id}.keras").is_file():
            continue
        try:
            info = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            info = {}
        infos[model_id] = {**(info if isinstance(info, dict) else {}), "id": model_id}
    entries = [_entry(model_dir, info, current_id) for info in infos.values()]
    return sorted(entries, key=lambda e: (e.trained_at, e.id))


def load_model(model_dir: str | os.PathLike[str], model_id: str) -> Segmenter:
    """A stored model by id (safe_mode, metadata validated); ModelError when it is missing or damaged."""
    model_dir = Path(model_dir)
    if _valid_id(model_id) is None:
        raise ModelError(f"'{model_id}' is not a model id; `medseg models` lists them.")
    if not (model_dir / f"{model_id}.keras").is_file():
        raise ModelError(f"Model {model_id} is not stored in {model_dir} (never saved, or removed as one of the "
                         f"oldest); `medseg models` lists the stored ones.")
    return _load_one(_Candidate("stored", model_dir / f"{model_id}.keras", model_dir / f"{model_id}.json"))


def rollback(model_dir: str | os.PathLike[str], model_id: str) -> Segmenter:
    """Make the stored model `model_id` current again (validated by loading it first; the old current becomes
    previous) with the one atomic replace of current.json, and note it in history.json; returns the loaded model.
    ModelError when it is missing or damaged (nothing changes then)."""
    model_dir = Path(model_dir)
    sweep_temp_files(model_dir)
    segmenter = load_model(model_dir, model_id)
    pointer = _read_pointer(model_dir)
    old = _valid_id(pointer.get("id")) if isinstance(pointer, dict) else None
    if old == model_id:
        return segmenter
    info = {k: v for k, v in json.loads((model_dir / f"{model_id}.json").read_text("utf-8")).items()
            if k not in ("kept", "reason", FALLBACK_KEY)}
    _promote(model_dir, model_id, info)
    try:
        atomic_write_json(model_dir / HISTORY, _history(model_dir) + [
            {"rollback_to": model_id, "replaced": old, "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}])
    except OSError as exc:
        log.warning("Could not note the rollback in %s in %s (%s); the model is current.", HISTORY, model_dir, exc)
    log.info("Model %s of %s is current again (was %s).", model_id, model_dir, old)
    return segmenter


def _load_one(candidate: _Candidate) -> Segmenter:
    import keras

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
    except Exception as exc:  # noqa: BLE001 - any loader failure means an unusable file
        raise ModelError(f"The model file {path.name} in {path.parent} is damaged or was written by an incompatible "
                         f"version ({type(exc).__name__}: {exc}); train the model again.") from exc
    channels = metadata.get("in_channels")
    if channels is not None and model.input_shape[-1] != channels:
        raise ModelError(f"The model file {path.name} in {path.parent} takes {model.input_shape[-1]} channels but "
                         f"its description says {channels}; train the model again.")
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
        raise ModelError("No trained model exists for this class yet; train one first.")
    errors: list[ModelError] = []
    for candidate in candidates:
        try:
            segmenter = _load_one(candidate)
        except ModelError as err:
            errors.append(err)
            continue
        if errors:
            note = f"The current model could not be used ({errors[0]}); the previous model was used instead."
            log.warning(note)
            segmenter.metadata[FALLBACK_KEY] = note
        return segmenter
    raise errors[0]
