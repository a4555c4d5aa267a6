"""Model folder: current.keras + current.json, previous.*, history.json; keep-unless-better; safe loading.

A new model replaces the current one only if it is at least as good on the same validation images
(`result.val_auc >= result.previous_val_auc`). A rejected candidate is kept as rejected.keras/.json (so it can be
inspected or promoted by hand) and the attempt is logged in history.json. Cancelled runs are never written.
Every file is written to a temp name in the folder, validated, then `os.replace`d, so a crash leaves either the old
or the new model, never a half-written one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medseg_gui.core.atomic import atomic_write_json
from medseg_gui.core.errors import ModelError
from medseg_gui.ml.predict import Segmenter

log = logging.getLogger(__name__)

CURRENT, PREVIOUS, REJECTED = "current", "previous", "rejected"


@dataclass(frozen=True)
class StoreDecision:
    """kept_new: the new model is now current. new_auc/old_auc: validation AUCs compared (None = unknown)."""

    kept_new: bool
    new_auc: float | None
    old_auc: float | None
    reason: str


def has_model(model_dir: str | os.PathLike[str]) -> bool:
    return (Path(model_dir) / f"{CURRENT}.keras").is_file()


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


def _write_validated(model_dir: Path, segmenter: Segmenter) -> Path:
    """Save to a temp .keras in model_dir, reload with safe_mode=True and check it predicts the same."""
    import keras

    fd, name = tempfile.mkstemp(prefix=".candidate-", suffix=".keras", dir=model_dir)
    os.close(fd)
    tmp = Path(name)
    try:
        segmenter.model.save(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        reloaded = keras.saving.load_model(tmp, safe_mode=True, compile=False)
        m = int(segmenter.metadata.get("multiple", 16))
        x = np.random.default_rng(0).standard_normal((1, 2 * m, 2 * m, reloaded.input_shape[-1])).astype(np.float32)
        a = np.asarray(segmenter.model(x, training=False))
        b = np.asarray(reloaded(x, training=False))
        if a.shape != b.shape or not np.allclose(a, b, atol=1e-5):
            raise ModelError("The saved model does not reproduce the trained model's predictions; it was not kept.")
        return tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _append_history(model_dir: Path, entry: dict) -> None:
    path = model_dir / "history.json"
    history: list = []
    if path.is_file():
        try:
            history = json.loads(path.read_text("utf-8"))
            history = history if isinstance(history, list) else []
        except (OSError, ValueError):
            log.warning("history.json in %s was unreadable; starting a new one", model_dir)
    history.append(_jsonable(entry))
    atomic_write_json(path, history)


def save_if_better(model_dir: str | os.PathLike[str], result: Any) -> StoreDecision:
    """Store `result` (a TrainResult) as the current model unless it is worse than the previous one."""
    model_dir = Path(model_dir)
    new_auc, old_auc = _num(result.val_auc), _num(result.previous_val_auc)
    if result.cancelled:
        return StoreDecision(False, new_auc, old_auc, "Training was cancelled; the current model was kept.")
    model_dir.mkdir(parents=True, exist_ok=True)
    worse = old_auc is not None and has_model(model_dir) and (new_auc is None or new_auc < old_auc)
    tmp = _write_validated(model_dir, result.segmenter)
    info = {**result.segmenter.metadata, "val_auc": new_auc, "previous_val_auc": old_auc, "steps": result.steps,
            "seconds": round(float(result.seconds), 1), "stop_reason": getattr(result, "stop_reason", "")}
    if worse:
        os.replace(tmp, model_dir / f"{REJECTED}.keras")
        atomic_write_json(model_dir / f"{REJECTED}.json", _jsonable(info))
        reason = (f"The new model (validation AUC {new_auc if new_auc is None else f'{new_auc:.4f}'}) is not better "
                  f"than the current one ({old_auc:.4f}); the current model was kept.")
    else:
        cur_model, cur_json = model_dir / f"{CURRENT}.keras", model_dir / f"{CURRENT}.json"
        if cur_model.is_file():
            os.replace(cur_model, model_dir / f"{PREVIOUS}.keras")
            if cur_json.is_file():
                os.replace(cur_json, model_dir / f"{PREVIOUS}.json")
        os.replace(tmp, cur_model)
        atomic_write_json(cur_json, _jsonable(info))
        reason = "Saved the new model." if old_auc is None else (
            f"Saved the new model (validation AUC {new_auc:.4f} vs {old_auc:.4f})." if new_auc is not None
            else "Saved the new model (validation AUC unavailable).")
    _append_history(model_dir, {**info, "kept": not worse, "reason": reason})
    log.info(reason)
    return StoreDecision(not worse, new_auc, old_auc, reason)


def load_segmenter(model_dir: str | os.PathLike[str]) -> Segmenter:
    """The current model of a class; ModelError if there is none or it cannot be read."""
    import keras

    model_dir = Path(model_dir)
    path = model_dir / f"{CURRENT}.keras"
    if not path.is_file():
        raise ModelError("No trained model exists for this class yet; train one first.")
    try:
        metadata = json.loads((model_dir / f"{CURRENT}.json").read_text("utf-8"))
        if not isinstance(metadata, dict):
            raise ValueError("metadata is not a JSON object")
    except (OSError, ValueError) as exc:
        raise ModelError(f"The model description {CURRENT}.json in {model_dir} is missing or damaged ({exc}); "
                         "train the model again.") from exc
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 - any loader failure means an unusable file
        raise ModelError(f"The model file {path.name} in {model_dir} is damaged or was written by an incompatible "
                         f"version ({type(exc).__name__}: {exc}); train the model again.") from exc
    return Segmenter(model, metadata)
