"""The stored models of a class as `medseg models` and the Models dialog list them (history.json + files)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from medseg_gui.core.score_text import fmt_pair
from medseg_gui.ml.model_folder import check_folder, num, read_history, read_pointer, valid_id


@dataclass(frozen=True)
class ModelEntry:
    """One stored model of a class as `medseg models` and the Models dialog list it (from history.json + files).

    kept: whether training made it current (None: not in history.json, e.g. an older version's model);
    present: its .keras file is still stored (older ones are pruned, so only present ones can be used again);
    start: the model is the start its run began from, which validated better than the trained weights (ml/train.py
    metadata "start_kept")."""

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
    start: bool = False
    compared: tuple[str, float, float] | None = None  # keep-unless-better's (metric, this model, the one then current)
    compared_then: bool = False  # compared on the labels as they were when the one then current was trained

    @property
    def decision(self) -> str:
        """'kept', 'rejected' or '?' (unknown), with ' (its start)' for a model that is the start it began from, and
        what keep-unless-better compared, saying what each figure is: 'rejected: AUC 0.993 against the then current
        model's 0.994, both on this run's validation images' (a returning-user trial read the list's own-run scores
        as the gain; an outside trial looked for the 0.994 of '(AUC 0.993 vs 0.994)' in the table). Compared on
        only the validation images the two shared, it says so first: that figure is not the row's Val column's (an
        outside trial read 'Val Dice 0.383' beside 'kept: Dice 0.114 …' as two scores of one model)."""
        said = {True: "kept", False: "rejected", None: "?"}[self.kept] + (" (its start)" if self.start else "")
        if self.compared is None or self.start:
            return said
        metric, new, old = self.compared
        new_text, old_text = fmt_pair(new, old)  # 0.9874 against 0.9870, not 0.987 against 0.987 (outside trial)
        if self.compared_then:
            return (f"{said}: {COMPARED_THEN}: {metric} {new_text} against {old_text} (its Val {metric}: on all of "
                    "its own)")
        return f"{said}: {metric} {new_text} against the then current model's {old_text}, {COMPARED_ON}"


COMPARED_ON = "both on this run's validation images"
COMPARED_THEN = ("compared on only the validation images it shared with the then current model, labelled as when that "
                 "one was trained")


def _entry(model_dir: Path, info: dict, current_id: str | None) -> ModelEntry:
    model_id = str(info["id"])

    def count(key: str) -> int | None:
        value = info.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def score(key: str) -> float | None:
        value = info.get(key)
        return num(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    kept, compared = info.get("kept"), info.get("compared")
    figures = (compared.get("metric"), compared.get("new"), compared.get("current")) if isinstance(
        compared, dict) else ()
    both = len(figures) == 3 and isinstance(figures[0], str) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in figures[1:])
    return ModelEntry(model_id, str(info.get("trained_at") or ""), str(info.get("preset") or ""),
                      str(info.get("regime") or ""), count("train_images"), count("val_images"), score("val_auc"),
                      score("val_dice"), kept if isinstance(kept, bool) else None, model_id == current_id,
                      (model_dir / f"{model_id}.keras").is_file(), str(info.get("reason") or ""),
                      isinstance(info.get("start_kept"), dict), figures if both else None,
                      both and bool(compared.get("basis")))


def list_models(model_dir: str | os.PathLike[str]) -> list[ModelEntry]:
    """Every model of history.json (rollbacks are not models) plus stored <id>.json files it lacks, oldest first.
    ModelError when the model folder is a file (`check_folder`): that is not "no models yet"."""
    model_dir = Path(model_dir)
    check_folder(model_dir)
    pointer = read_pointer(model_dir)
    current_id = valid_id(pointer.get("id")) if isinstance(pointer, dict) else None
    infos: dict[str, dict] = {}
    for e in read_history(model_dir):
        if isinstance(e, dict) and valid_id(e.get("id")):
            infos[e["id"]] = e
    for path in sorted(model_dir.glob("*.json")) if model_dir.is_dir() else []:
        model_id = path.name.removesuffix(".json")
        if model_id in infos or not valid_id(model_id) or not (model_dir / f"{model_id}.keras").is_file():
            continue
        try:
            info = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            info = {}
        infos[model_id] = {**(info if isinstance(info, dict) else {}), "id": model_id}
    entries = [_entry(model_dir, info, current_id) for info in infos.values()]
    return sorted(entries, key=lambda e: (e.trained_at, e.id))

