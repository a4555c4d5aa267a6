"""Where a training run's weights start: from scratch, from the shipped pretrained lesion model, or from given
weights (e.g. the project's current model), whichever fits the network the recipe builds.

A start is used only when it was trained for the same network (`UNetConfig`) and the same input (channels,
normalisation, contrast); otherwise training starts from scratch and says why.
The shipped starts live in the package's resources (`medseg_gui._resources/models/<regime>-init.*`): Keras
`.weights.h5` of the training-form network plus a JSON with the recipe they fit and the data they were trained on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medseg_gui.core.fingerprint import SeenPhotos, read_seen, seen_among, seen_note
from medseg_gui.core.resources import resource_path
from medseg_gui.ml.config import Preset, UNetConfig
from medseg_gui.ml.metadata import valid_scale

log = logging.getLogger(__name__)

INITS = ("auto", "current", "scratch", "pretrained")  # see TrainConfig.init
FROM_START = "from_start"
"""Model metadata: the regime of the shipped start its weights descend from (its run began from that start, or from
a model that did), whose photos (`shipped_seen`) a validation on them does not hold out."""


@dataclass(frozen=True)
class InitWeights:
    """Training-form weights (`path`, a Keras .weights.h5) for the network `unet` fed as `inputs` describes."""

    unet: UNetConfig
    inputs: dict[str, Any]
    path: Path
    source: str  # shown to the user: what the weights are
    scale: float | None = None  # the working scale the weights were trained at (None: not recorded)
    # trained inside regions of interest (fields of view): they know nothing outside one, nor does a model trained
    # from them on images without one (core.fov; a vessel model from the shipped start painted the border's edge)
    trained_in_roi: bool = False
    model: tuple[str, str] | None = None  # (id, trained_at) of the stored model these are (ml.store.current_start)


def input_recipe(preset: Preset) -> dict[str, Any]:
    """The preprocessing a network's weights depend on."""
    return {"input_mode": preset.input_mode, "contrast": preset.contrast, "normalise_in_roi": preset.normalise_in_roi}


def describe(preset: Preset, source: str, **extra: Any) -> dict[str, Any]:
    """The JSON written next to a .weights.h5 so that `read_init` can check what it fits."""
    return {"unet": asdict(preset.unet), "inputs": input_recipe(preset), "source": source, "scale": preset.scale,
            **extra}


def save_start(model: Any, preset: Preset, weights: Path, source: str, **extra: Any) -> None:
    """Write a trained training-form `model` as a start for later runs: `<name>.weights.h5` (weights only, no
    optimiser state) and `<name>.json` (see `describe`)."""
    from medseg_gui.ml.unet import build_unet

    plain = build_unet(preset.unet)
    plain.set_weights(model.get_weights())
    plain.save_weights(weights)
    meta = weights.with_name(weights.name.removesuffix(".weights.h5") + ".json")
    meta.write_text(json.dumps(describe(preset, source, **extra), indent=1) + "\n", "utf-8")


def read_init(weights: Path) -> InitWeights | None:
    """The InitWeights of `<name>.weights.h5` described by `<name>.json`; None when either is missing or the
    description is damaged (a warning names it; the files are left as they are). The weights file itself is only
    read when a run loads it (`ml.fine_tune.load_start`, which goes on without it when it cannot)."""
    meta = weights.with_name(weights.name.removesuffix(".weights.h5") + ".json")
    try:
        info = json.loads(meta.read_text("utf-8"))
        if not (isinstance(info, dict) and isinstance(info.get("unet"), dict) and isinstance(info.get("inputs"), dict)):
            raise ValueError("it does not describe a network and its input")
        unet = UNetConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in info["unet"].items()})
        if not weights.is_file():
            return None
        return InitWeights(unet, dict(info["inputs"]), weights, str(info.get("source", weights.name)),
                           valid_scale(info.get("scale")), info.get("trained_in_roi") is True)
    except FileNotFoundError:
        if weights.is_file():  # weights without their description (a model of an older version has neither)
            log.warning("ignoring the starting weights %s: their description %s is missing", weights, meta)
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring the starting weights %s: their description %s cannot be used (%s); both files are "
                    "left as they are", weights, meta, exc)
        return None


def shipped_init(regime: str) -> InitWeights | None:
    """The pretrained start shipped for a regime ("lesions"), or None."""
    path = resource_path("models", f"{regime}-init.weights.h5") if regime else None
    return read_init(path) if path is not None else None


def seen_path(weights: Path) -> Path:
    """`<name>.seen.json` beside `<name>.weights.h5`: the fingerprints of the photos a start was trained on."""
    return weights.with_name(weights.name.removesuffix(".weights.h5") + ".seen.json")


def shipped_seen(regime: str) -> SeenPhotos | None:
    """The photos the shipped start of a regime was trained on (core.fingerprint), or None."""
    init = shipped_init(regime)
    return read_seen(seen_path(init.path)) if init is not None else None


def start_lineage(loaded: InitWeights | None, given: InitWeights | None, previous_meta: dict | None,
                  regime: str) -> str | None:
    """The FROM_START of a run that began from `loaded` (ml.fine_tune.load_start: the `given` weights, the current
    model's of metadata `previous_meta`, or else the shipped start of `regime`); None: not from a shipped start."""
    if loaded is None:
        return None
    if loaded is not given:
        return regime
    before = (previous_meta or {}).get(FROM_START)
    return before if isinstance(before, str) else None


def start_seen_text(images: Iterable[tuple[str, Any]], validation: Sequence[str], from_start: str | None,
                    previous_meta: dict | None) -> tuple[str, dict | None]:
    """(core.fingerprint.seen_note for the run's `validation` images, the model's START_SEEN record) for a run's
    `images` (name, uint8 image) when its weights (`from_start`) or those of the current model it must beat
    (`previous_meta`) descend from a shipped start: ('', None) otherwise, or when that start ships no fingerprints;
    the record only when its own weights do. An image is fingerprinted (~50 ms at 8 Mpx) only then, and only a
    validation image when the record is not kept (review: every image was, for nothing)."""
    before = (previous_meta or {}).get(FROM_START)
    before = before if isinstance(before, str) else None
    regime = from_start or before
    seen = shipped_seen(regime) if regime else None
    if seen is None:
        return "", None
    wanted = None if from_start else set(validation)
    images = [(name, image) for name, image in images if wanted is None or name in wanted]
    names = set(seen_among(images, seen))
    note = seen_note([name for name in validation if name in names], seen,
                     previous_from_start=before is not None)
    record = {"photos": seen.photos, "stems": sorted(names), "checked": sorted(name for name, _ in images)}
    return note, record if from_start else None


def fits(init: InitWeights, preset: Preset) -> str:
    """"" when `init` can start `preset`'s network, else why not (for the log and the model's metadata)."""
    if init.unet != preset.unet:
        return "it was trained for another network shape"
    if init.inputs != input_recipe(preset):
        return "it was trained on differently prepared images"
    return ""
