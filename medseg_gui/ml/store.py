"""Model folder of one class: keep-unless-better, one atomic promotion, rollback. The folder's layout and its
reading side (validated safe loading with fallback to the previous model) are in `ml.model_folder`, the listing in
`ml.model_list`; both are re-exported here, so `ml.store` stays the one API the pipeline and the GUI use.

A model file is written under a temp name, reloaded with safe_mode=True and checked to predict the same, then
`os.replace`d to <id>.keras; promotion is the single atomic replace of current.json. A crash therefore leaves the old
or the new current model, never a mix. An older version's folder is migrated by the first new save. Files get the
umask's mode like every other file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medseg_gui.core.atomic import atomic_write_json, fsync_dir, make_temp, new_file_mode, sweep_temp_files
from medseg_gui.core.errors import ModelError, write_error
from medseg_gui.core.rewrite import rewrite_json
from medseg_gui.core.score_text import fmt_pair
from medseg_gui.ml.config import BEST_EACH, TIE_MARGIN, as_it_predicts, tie_margin
from medseg_gui.ml.progress import AS_PREDICTED
from medseg_gui.ml.model_folder import (
    FALLBACK_KEY,
    HISTORY,
    LEGACY_CURRENT,
    POINTER,
    START,
    VAL_LABELS,
    current_model_path,
    current_start,
    has_model,
    history_or_error,
    jsonable,
    load_model,
    load_segmenter,
    new_model_id,
    num,
    read_pointer,
    valid_id,
    validation_labels,
)
from medseg_gui.ml.model_list import ModelEntry, list_models
from medseg_gui.ml.predict import Segmenter

__all__ = ["FALLBACK_KEY", "KEEP_MODELS", "TIE_MARGIN", "ModelEntry", "StoreDecision", "current_model_path",
           "current_start", "has_model", "list_models", "load_model", "load_segmenter", "rollback", "save_if_better",
           "validation_labels"]

log = logging.getLogger(__name__)

KEEP_MODELS = 5  # newest stored models kept besides the current and previous one


@dataclass(frozen=True)
class StoreDecision:
    """kept_new: the new model is now current. new_auc/old_auc: validation AUCs (None = unknown); `metric`,
    `new_score`/`old_score`: what was compared (the regime's lead metric, ml.compare.Comparison).
    `current`: what current.json now says about the kept model (its metadata), so nobody reads it back; None when
    the current model did not change."""

    kept_new: bool
    new_auc: float | None
    old_auc: float | None
    reason: str
    model_id: str | None = None
    current: dict | None = None
    metric: str = "AUC"
    new_score: float | None = None
    old_score: float | None = None
    basis: str = ""  # ml.compare.Comparison.basis: on which labels, when not the validation labels as they are


def _write_model_file(model_dir: Path, model_id: str, segmenter: Segmenter) -> Path:
    """Save to a temp .keras, reload with safe_mode=True, check it predicts the same, then rename to <id>.keras."""
    from medseg_gui.ml.keras_quiet import keras

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
        atomic_write_json(model_dir / f"{model_id}.json", jsonable({**info, "id": model_id}))
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
                   model_id=model_id, trained_in_roi=result.segmenter.metadata.get("trained_in_roi") is True)
        os.replace(tmp, model_dir / f"{model_id}{START}")
        os.replace(tmp.with_name(tmp.name.removesuffix(".weights.h5") + ".json"), model_dir / f"{model_id}.start.json")
    except (OSError, ValueError) as exc:
        log.warning("Could not store the warm-start weights of model %s in %s (%s).", model_id, model_dir, exc)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name.removesuffix(".weights.h5") + ".json").unlink(missing_ok=True)


def _store_val_labels(model_dir: Path, model_id: str, result: Any) -> None:
    """<id>.val.npz: which pixels of the run's validation images were annotated (`result.val_annotation`), so that
    the next run compares on them (ml/validation.py views_as_then). Best effort: without it the next run compares on
    the validation labels as they are then."""
    labels = getattr(result, "val_annotation", None)
    if not labels:
        return
    names = list(labels)
    arrays = {f"a{j}": np.asarray(labels[n], bool) for j, n in enumerate(names) if labels[n] is not None}
    fd, tmp = make_temp(model_dir, f"{model_id}.val", ".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, names=np.array(names, dtype=str),
                                complete=np.array([labels[n] is None for n in names], bool), **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, model_dir / f"{model_id}{VAL_LABELS}")
    except (OSError, ValueError) as exc:
        log.warning("Could not store the validation labels of model %s in %s (%s).", model_id, model_dir, exc)
    finally:
        tmp.unlink(missing_ok=True)


def _discard(model_dir: Path, model_id: str) -> None:
    """Remove a stored model (best effort: the folder may have just become unwritable)."""
    for suffix in (".keras", ".json", START, ".start.json", VAL_LABELS):
        try:
            (model_dir / f"{model_id}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Could not remove %s%s in %s: %s", model_id, suffix, model_dir, exc)


def _migrate_legacy(model_dir: Path, pointer: dict) -> str | None:
    """Give an older version's current.keras an id (a copy, so it stays loadable until the pointer moves)."""
    legacy = model_dir / f"{LEGACY_CURRENT}.keras"
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


def _promote(model_dir: Path, model_id: str, info: dict) -> dict:
    """Make `model_id` current with one atomic replace of current.json; the old current becomes `previous`.
    Returns what current.json now holds."""
    pointer = read_pointer(model_dir)
    previous = None
    migrated = False
    if isinstance(pointer, dict):
        previous = valid_id(pointer.get("id")) if "id" in pointer else _migrate_legacy(model_dir, pointer)
        migrated = "id" not in pointer and previous is not None
    current = jsonable({**info, "id": model_id, "model": f"{model_id}.keras", "previous": previous})
    rewrite_json(model_dir / POINTER, current, pointer)  # one `pointer` could not use is kept in .unreadable/
    if migrated:
        (model_dir / f"{LEGACY_CURRENT}.keras").unlink(missing_ok=True)
    return current


def _append_history(model_dir: Path, entry: dict) -> list:
    """history.json with `entry` appended, written from one reading of it (`history_or_error`): one that reading could
    not use is kept in .unreadable/ and a new one begun (core.rewrite). Returns the entries written; OSError."""
    read = history_or_error(model_dir)
    history = (read if isinstance(read, list) else []) + [jsonable(entry)]
    rewrite_json(model_dir / HISTORY, history, read)
    return history


def _tidy(model_dir: Path, entry: dict) -> None:
    """Append to history.json and delete stored models beyond KEEP_MODELS (never current/previous); best effort."""
    try:
        history = _append_history(model_dir, entry)
        pointer = read_pointer(model_dir)
        keep = {valid_id(pointer.get(k)) for k in ("id", "previous")} if isinstance(pointer, dict) else set()
        ids = [i for i in (valid_id(e.get("id")) for e in history if isinstance(e, dict)) if i]
        keep |= set(ids[-KEEP_MODELS:])
        for old in {i for i in ids if i} - keep:
            _discard(model_dir, old)
    except OSError as exc:
        log.warning("Could not update %s in %s (%s); the model itself is saved.", HISTORY, model_dir, exc)


def _start_text(info: dict) -> str:
    """What a first model that is its start (ml/train.py, metadata "start_kept") says; '' for any other model."""
    kept = info.get("start_kept")
    if not isinstance(kept, dict):
        return ""
    if kept.get("diverged"):
        return ("Saved the start it began from as the model: training on these labels became numerically unstable "
                "before any weights were validated.")
    start, trained = _pair(kept.get("start"), kept.get("trained"))
    each = f", {BEST_EACH}" if kept.get("metric") == "Dice" else ""  # not val_dice (trial, session 39)
    if each and isinstance(info.get("val_dice"), (int, float)) and math.isfinite(info["val_dice"]):
        each += as_it_predicts(f"{info['val_dice']:.4f}")
    return (f"Saved the start it began from as the model: it validated better than the weights trained on these "
            f"labels (validation {kept.get('metric')} {start} against {trained}{each}).")


def _pair(new: Any, old: Any) -> tuple[str, str]:
    """Two compared validation figures in a reason: four decimals, more where those show them alike."""
    return tuple("unknown" if text == "–" else text for text in fmt_pair(new, old, 4))  # type: ignore[return-value]


def mix_text(info: dict) -> str:
    """Why a kept model may validate under the figures its run showed: it is a blend with the start it began from
    (ml/train.py, metadata "weight_mix"), its validation Dice beside the trained weights' ("weight_mix_trained": at
    the threshold the model predicts at, not the best one the run's progress showed) where both are known; '' for
    any other model."""
    share = info.get("weight_mix")
    if not isinstance(share, (int, float)) or "start_kept" in info:
        return ""
    blend, alone = info.get("val_dice"), info.get("weight_mix_trained")
    scores = ""
    if all(isinstance(v, (int, float)) and math.isfinite(v) for v in (blend, alone)):
        blend_text, alone_text = _pair(blend, alone)
        scores = (f": validation Dice {blend_text}, against {alone_text} for the trained weights alone, each "
                  "at the threshold it predicts at")
    return (f"The kept model is a blend of {share:.0%} the trained weights and {1 - share:.0%} the weights the run "
            f"started from{scores}. It is kept because such blends did better on held-out photos in our benchmarks "
            "(docs/BENCHMARKS.md).")


def _run_info(result: Any) -> tuple[dict, str, float | None, float | None, str]:
    """(the metadata to store with a finished run's model, keep-unless-better's metric, the new model's figure, the
    current one's, on what they were compared)."""
    new_auc, old_auc = num(result.val_auc), num(result.previous_val_auc)
    compared = getattr(result, "comparison", None)
    metric, new, old = ((compared.metric, num(compared.new), num(compared.current)) if compared is not None
                        else ("AUC", new_auc, old_auc))
    basis = getattr(compared, "basis", "")  # e.g. "on the validation labels as they were when ... trained"
    info = {**result.segmenter.metadata, "val_auc": new_auc, "previous_val_auc": old_auc, "steps": result.steps,
            "seconds": round(float(result.seconds), 1), "stop_reason": getattr(result, "stop_reason", ""),
            "compared": {"metric": metric, "new": new, "current": old, **({"basis": basis} if basis else {})}}
    return {k: v for k, v in info.items() if k != FALLBACK_KEY}, metric, new, old, basis


def _beats(metric: str, new: float | None, old: float | None) -> bool:
    """Whether a new model's validation figure beats the current model's by more than the metric's tie margin."""
    return old is None or (new is not None and new > old + tie_margin(metric))


def save_aside(folder: str | os.PathLike[str], result: Any, current: bool = False) -> str:
    """Store a finished run's model in `folder` (outside the project: its model folder could not be written) as
    files only — no current.json, no history.json — so that copying them into the model folder adds one model that
    Models… or `medseg models --use` can make current and changes nothing else (a fault-injection trial copied a
    whole fallback folder and replaced the history). Returns what the user is told: whether it validated better
    than the current model (`current`: whether the class has one), which files to copy. OSError when `folder` cannot
    be written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    info, metric, new, old, basis = _run_info(result)
    better = _beats(metric, new, old)
    model_id = new_model_id()
    reason = "Saved outside the project: its model folder could not be written."  # "kept": what keep-unless-better
    _store_pair(folder, model_id, result.segmenter, {**info, "kept": better, "reason": reason})  # would have done
    _store_start(folder, model_id, result)
    _store_val_labels(folder, model_id, result)
    files = ", ".join(p.name for p in sorted(folder.glob(f"{model_id}*")))
    return (f"{_aside_verdict(metric, new, old, current)}; to use it, copy {files} into the model folder once it can "
            f"be written, then choose it in Models… (medseg models --use {model_id})")


def _aside_verdict(metric: str, new: float | None, old: float | None, current: bool) -> str:
    """How a model saved aside compared with the current one; `old` None: the run had no figure for that (no current
    model, or one that could not be loaded or scored: pipeline.train_class then trains from scratch)."""
    if old is None:
        return ("the current model could not be compared with it" if current
                else "there was no current model to compare it with")
    new_text, old_text = _pair(new, old)
    if _beats(metric, new, old):
        return (f"it validated better than the current model ({metric} {new_text} against {old_text}) and would have "
                "replaced it")
    return (f"it did not validate better than the current model ({metric} {new_text} against {old_text}), which "
            "would have stayed")


def save_if_better(model_dir: str | os.PathLike[str], result: Any) -> StoreDecision:
    """Store `result` (a TrainResult) and make it current only if it validates better than the current model by more
    than TIE_MARGIN, by the regime's lead metric (`result.comparison`; validation AUC when it has none).

    Raises OSError when the folder cannot be written (nothing changes then) and ModelError when the saved file does
    not reproduce the trained model.
    """
    model_dir = Path(model_dir)
    new_auc, old_auc = num(result.val_auc), num(result.previous_val_auc)
    info, metric, new, old, basis = _run_info(result)
    on = f" {basis}" if basis else ""
    if result.cancelled:
        return StoreDecision(False, new_auc, old_auc, "Training was cancelled; the current model was kept.")
    model_dir.mkdir(parents=True, exist_ok=True)
    sweep_temp_files(model_dir)
    worse = old is not None and has_model(model_dir) and not _beats(metric, new, old)
    model_id = new_model_id()
    _store_pair(model_dir, model_id, result.segmenter, info)
    _store_start(model_dir, model_id, result)
    _store_val_labels(model_dir, model_id, result)
    current = None
    if worse:
        new_text, old_text = _pair(new, old)
        tied = f" by more than {tie_margin(metric):g}" if new is not None and new >= old else ""
        reason = (f"The new model (validation {metric} {new_text}) is not better than the current one ({old_text})"
                  f"{tied}{on}; the current model was kept.")
    else:
        try:
            current = _promote(model_dir, model_id, info)
        except BaseException:
            _discard(model_dir, model_id)
            raise
        reason = (_start_text(info) or "Saved the new model.") if old is None else (
            "Saved the new model (validation {} {} vs {}{}).".format(metric, *_pair(new, old), on) if new is not None
            else f"Saved the new model (validation {metric} unavailable).")
        reason = f"{reason} {mix_text(info)}".strip()
    if metric == "Dice" and "start_kept" not in info:  # a trial's progress read 0.436, then "new Dice 0.225"
        reason = f"{reason} {AS_PREDICTED}"
    _tidy(model_dir, {**info, "id": model_id, "kept": not worse, "reason": reason})
    log.info(reason)
    return StoreDecision(not worse, new_auc, old_auc, reason, model_id, current, metric, new, old, basis)


def rollback(model_dir: str | os.PathLike[str], model_id: str) -> Segmenter:
    """Make the stored model `model_id` current again (validated by loading it first; the old current becomes
    previous) with the one atomic replace of current.json, and note it in history.json; returns the loaded model.
    ModelError when it is missing or damaged, WriteError (one line: a trial's read-only folder showed 'Unexpected
    error (OSError …tmp)') when current.json cannot be written; nothing changes then."""
    model_dir = Path(model_dir)
    sweep_temp_files(model_dir)
    segmenter = load_model(model_dir, model_id)
    pointer = read_pointer(model_dir)
    old = valid_id(pointer.get("id")) if isinstance(pointer, dict) else None
    if old == model_id:
        return segmenter
    info = {k: v for k, v in json.loads((model_dir / f"{model_id}.json").read_text("utf-8")).items()
            if k not in ("kept", "reason", FALLBACK_KEY)}
    try:
        _promote(model_dir, model_id, info)
    except OSError as err:
        raise write_error(f"Model {model_id} could not be made current", err, model_dir / POINTER) from None
    try:
        _append_history(model_dir, {"rollback_to": model_id, "replaced": old,
                                    "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())})
    except OSError as exc:
        log.warning("Could not note the rollback in %s in %s (%s); the model is current.", HISTORY, model_dir, exc)
    log.info("Model %s of %s is current again (was %s).", model_id, model_dir, old)
    return segmenter

