"""Check a stored model's description (<id>.json / current.json) before it is used: types and value ranges.

A hand-edited or damaged file must give one clear ModelError, not a ZeroDivisionError deep inside tiling. Only what
inference uses (and the AUCs and texts shown) is checked; absent keys keep the defaults Segmenter uses.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from medseg_gui.core.errors import ModelError
from medseg_gui.core.postprocess import PostProcess
from medseg_gui.ml.config import Preset

_CHOICES = {"input_mode": ("rgb", "green", "gray"), "contrast": ("none", "clahe")}
# key: (smallest, largest) for the integers inference uses; training details (patch sizes, ...) are only shown
_INT_RANGES = {"multiple": (1, 1024), "tile_size": (1, 16384), "tile_overlap": (0, 16383), "in_channels": (1, 4)}
_AUCS = ("val_auc", "previous_val_auc")


def _as_json(value: Any) -> Any:
    """`value` with tuples as lists, as JSON stores and reads it back."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    return value


def recipe_json(preset: Preset) -> dict[str, Any]:
    """The whole recipe a model trained with (metadata "recipe"): every field of the resolved `preset` (network as
    "unet", loss, optimiser, learning rate and schedule, patches, batch, augmentation, input, working scale...),
    without its name (metadata "preset") and descriptions. Its learning rate is the recipe's; the metadata's top-level
    "learning_rate" is the one the run used (lower when it fine-tuned)."""
    recipe = asdict(preset)
    del recipe["name"], recipe["description"], recipe["line"]
    return _as_json(recipe)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _at_most_one(value: Any, low: float) -> bool:
    """True for a finite number above `low` and at most 1 (not a bool)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and low < value <= 1.0)


def valid_scale(value: Any) -> float | None:
    """`value` as a working scale (a number above 0 and at most 1); None when it is absent or not one."""
    return float(value) if _at_most_one(value, 0.0) else None


def valid_sides(value: Any) -> tuple[float, float] | None:
    """`value` as a lesion model's working sides (two finite sizes in pixels above 0, the shorter first, metadata
    "working_sides"); None when it is absent or not that."""
    if not (isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0 for v in value)
            and value[0] <= value[1]):
        return None
    return float(value[0]), float(value[1])


def _check(md: dict[str, Any]) -> str | None:
    """The first problem found in `md`, or None."""
    for key, (low, high) in _INT_RANGES.items():
        if key in md and (not _is_int(md[key]) or not low <= md[key] <= high):
            return f"'{key}' must be a whole number from {low} to {high}, not {md[key]!r}"
    if _is_int(md.get("tile_size")) and _is_int(md.get("tile_overlap")) and md["tile_overlap"] >= md["tile_size"]:
        return f"'tile_overlap' ({md['tile_overlap']}) must be smaller than 'tile_size' ({md['tile_size']})"
    for key, allowed in _CHOICES.items():
        if key in md and md[key] not in allowed:
            return f"'{key}' must be one of {', '.join(allowed)}, not {md[key]!r}"
    if "normalise_in_roi" in md and not isinstance(md["normalise_in_roi"], bool):
        return f"'normalise_in_roi' must be true or false, not {md['normalise_in_roi']!r}"
    for key, low in (("scale", 0.0), ("threshold", -1e-9), ("operating_point", -1e-9)):
        value = md.get(key)
        if value is not None and not _at_most_one(value, low):
            return f"'{key}' must be a number above {max(low, 0):g} and at most 1, not {value!r}"
    for key in _AUCS:
        value = md.get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                  or not (math.isfinite(value) and 0.0 <= value <= 1.0)):
            return f"'{key}' must be empty or a number from 0 to 1, not {value!r}"
    if "tta" in md and (not _is_int(md["tta"]) or not 1 <= md["tta"] <= 4):
        return f"'tta' must be a whole number from 1 to 4, not {md['tta']!r}"
    scales = md.get("scales")
    if scales is not None and (not isinstance(scales, list) or not 1 <= len(scales) <= 4 or not all(
            isinstance(f, (int, float)) and not isinstance(f, bool) and 0.25 <= f <= 4.0 for f in scales)):
        return f"'scales' must be a list of one to four factors from 0.25 to 4, not {scales!r}"
    sides = md.get("working_sides")
    if sides is not None and valid_sides(sides) is None:
        return f"'working_sides' must be two sizes in pixels, the shorter first, not {sides!r}"
    if md.get("postprocess") is not None:
        try:
            PostProcess.from_json(md["postprocess"])
        except ValueError as exc:
            return f"'postprocess' is invalid ({exc})"
    for key in ("preset", "trained_at", "stop_reason"):
        if md.get(key) is not None and not isinstance(md[key], str):
            return f"'{key}' must be text, not {md[key]!r}"
    return None


def validate_metadata(md: Any, where: str) -> dict[str, Any]:
    """`md` as a dict when every known key has a usable type and value; ModelError naming `where` otherwise."""
    if not isinstance(md, dict):
        raise ModelError(f"The model description {where} is not a JSON object; train the model again.")
    problem = _check(md)
    if problem is not None:
        raise ModelError(f"The model description {where} is invalid: {problem}. Train the model again.")
    return md
