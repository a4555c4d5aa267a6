"""A run from trained weights (the shipped start, given weights or the current model): which weights it loads
(`load_start`), how gently it fine-tunes (`fine_tunes`, `run_learning_rate`), what its sparse labels' unannotated
pixels learn from its start (`teach_priors`), and the weight average with its start it keeps (`weight_mix`,
`mix_weights`, `settle_mix`) unless that validates clearly worse (`keeps_mix`)."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable

import numpy as np

from medseg_gui.core import postprocess
from medseg_gui.core.errors import CancelledError
from medseg_gui.ml.auc import fast_auc
from medseg_gui.ml.config import Preset, TrainConfig
from medseg_gui.ml.data import PreparedImage
from medseg_gui.ml.init import INITS, InitWeights, fits, shipped_init
from medseg_gui.ml.keras_quiet import keras
from medseg_gui.ml.predict import Segmenter, preset_metadata
from medseg_gui.ml.samples import Sample
from medseg_gui.ml.unet import build_unet, inference_model
from medseg_gui.ml.validation import Fill, ValScore, operating_point, per_image_at_point

log = logging.getLogger(__name__)

# A weight average with the start is kept unless it validates at < MIX_KEEP x the trained weights' Dice, or the
# trained weights beat it clearly image by image (`keeps_mix`). Suite c1-20 (4 validation photos, seeds 0-3): the 1/4
# mix validated at 0.64 / 0.67 / 0.97 / 0.95 x the trained weights, never clearly worse, and still scored higher on the
# C1 test photos (0.676 / 0.673 / 0.661 / 0.669 against 0.640 / 0.638 / 0.657 / 0.623): validation photos of one
# clinic favour what fitted them. Suite c1 (46 validation photos, seeds 0-1): the 3/4 mix validated at -0.013 /
# +0.004, not clearly worse, test +0.019 / +0.006. The lesion demo (8 photos, 2 validation) at 0.24 x: a start that
# does not see these lesions (Dice 0.01 there) pulled a 0.66 model to 0.16.
MIX_KEEP = 0.5


def load_start(model: keras.Model, preset: Preset, config: TrainConfig, init: InitWeights | None
               ) -> tuple[str, InitWeights | None]:
    """Load the run's starting weights into `model` (config.init: given `init`, else the shipped start, when they
    fit); returns what the run started from and the weights loaded (None: none). A weights file that cannot be loaded
    (damaged, or of another network) is skipped with a warning naming it, and left where it is."""
    if config.init not in INITS:
        raise ValueError(f"unknown init {config.init!r}; choose one of {', '.join(INITS)}")
    candidates = []
    if config.init in ("auto", "current") and init is not None:
        candidates.append(init)
    if config.init in ("auto", "pretrained"):
        candidates.append(shipped_init(preset.regime))
    reasons = []
    fresh = None  # the model's own initial weights, restored after a load that failed part way
    for cand in (c for c in candidates if c is not None):
        why = fits(cand, preset)
        if not why:
            fresh = fresh if fresh is not None else model.get_weights()
            try:
                model.load_weights(cand.path)
            except Exception as exc:  # noqa: BLE001 - any loader failure means an unusable file
                model.set_weights(fresh)
                log.warning("The starting weights %s could not be read (%s: %s); training goes on without them "
                            "(the file is left as it is).", cand.path, type(exc).__name__, exc)
                reasons.append(f"{cand.source}: its weights file {cand.path.name} could not be read")
                continue
            log.info("training starts from %s", cand.source)
            return cand.source, cand
        reasons.append(f"{cand.source}: {why}")
    if reasons:
        log.info("training starts from scratch (%s)", "; ".join(reasons))
        return f"scratch (not {'; not '.join(reasons)})", None
    return "scratch", None


ANCHOR_AUC = 0.8
"""The least AUC of the shipped vessel start on the validation strokes for its map to stand in for the unpainted
pixels (`anchor_fills`): a start that disagrees with the clinician's strokes (another kind of image) is not used.
A rule of thumb: on CHASE_DB1 it scored 0.875-0.92 on strokes 5 px wider than the vessels (and on corrections)."""


def anchor_fills(preset: Preset, views: list[Sample], should_stop: Callable[[], bool] | None
                 ) -> list[Fill] | None:
    """For a vessel run validated on strokes: per validation view, a truth for every pixel (the strokes where
    painted, the shipped vessel start's mask, its raw map at 0.5, elsewhere) and the pixels to score (the ROI), so
    that the model's threshold is chosen against whole vessels (validation.operating_point). Strokes alone score
    the vessels' centres and background far from them; a brush wider than a vessel paints its edges as vessel, and
    the best threshold on such strokes fell to 0.20-0.35: 12-22 % of the pixels predicted against 9 % true and test
    Dice 0.57-0.73 against 0.74-0.75 (bench/calib.py, CHASE_DB1, strokes 3-5 px wider than the vessels; against
    the strokes so filled 0.74-0.75). Always the shipped start, never the run's: a model trained on strokes is
    miscalibrated itself. None when no view is strokes, no start fits `preset`, or it scores an AUC under
    ANCHOR_AUC on the strokes. Complete labels are their own fill."""
    if preset.regime != "vessels" or all(v.annotated is None for v in views):
        return None
    start = _shipped_start(preset)
    if start is None:
        return None
    fills, aucs = [], []
    for v in views:
        if v.annotated is None:
            fills.append((v.mask, v.roi))
            continue
        prob = start.predict(v.image, v.roi, tta=1, clean=False, should_stop=should_stop)
        aucs.append(fast_auc(prob, v.mask, v.scored))
        fills.append((np.where(v.annotated, v.mask, prob >= 0.5), v.roi))
    agree = float(np.nanmean(aucs)) if not all(math.isnan(a) for a in aucs) else float("nan")
    if not agree >= ANCHOR_AUC:
        log.info("the vessel start scores AUC %.3f on the validation strokes: the strokes alone choose the threshold",
                 agree)
        return None
    log.info("the threshold is chosen against the validation strokes filled in by the vessel start (its AUC on "
             "them %.3f)", agree)
    return fills


@functools.lru_cache(maxsize=1)
def _shipped_start(preset: Preset) -> Segmenter | None:
    """The shipped start of `preset`'s regime as a Segmenter of its raw map, when it fits; built once per process
    (continuous training's rounds reuse it)."""
    init = shipped_init(preset.regime)
    if init is None or fits(init, preset):
        return None
    try:
        network = build_unet(preset.unet)
        network.load_weights(init.path)
    except Exception as exc:  # noqa: BLE001 - any loader failure: no fills, the strokes alone choose
        log.warning("the %s start %s could not be read for the threshold (%s)", preset.regime, init.path, exc)
        return None
    return Segmenter(inference_model(network, preset.unet), preset_metadata(preset))


def teach_priors(start: Segmenter, images: list[PreparedImage], samples: list[Sample], weight: float,
                 should_stop: Callable[[], bool] | None) -> int:
    """Sparse labels in a run from trained weights: each image's unannotated pixels are taught `start`'s own
    probability (its raw map, before calibration and clean-up) at loss `weight` (Preset.prior_weight); returns how
    many images got one. A cancel leaves the rest without."""
    if weight <= 0:
        return 0
    done = 0
    for image, sample in zip(images, samples):
        if image.unannotated is None:  # a complete label
            continue
        try:
            image.set_prior(start.predict(sample.image, sample.roi, tta=1, clean=False, should_stop=should_stop),
                            weight)
        except CancelledError:
            break
        done += 1
    return done


def fine_tunes(preset: Preset, warm: bool, samples: list[Sample]) -> bool:
    """Whether a run fine-tunes gently (Preset.warm_lr_factor, warm_mix): it starts from trained weights (`warm`)
    and `samples` hold fewer than `full_rate_images` complete labels, or fewer complete labels than sparse ones.
    (Until session 39 one sparse label among any number of complete ones made the run gentle: CHASE_DB1 with four
    complete labels and four of strokes, 3 min, test AUC 0.9788 gently against 0.9822 at the full rate, and the
    start's ring along the field's edge stayed: docs/BENCHMARKS.md.)"""
    complete = sum(s.annotated is None for s in samples)
    return warm and not (complete >= preset.full_rate_images and complete >= len(samples) - complete)


def run_learning_rate(preset: Preset, config: TrainConfig, warm: bool, samples: list[Sample]) -> float:
    """The run's (peak) learning rate: TrainConfig's when it gives one, else the preset's, x `warm_lr_factor` when
    the run fine-tunes (`fine_tunes`)."""
    if config.learning_rate or not fine_tunes(preset, warm, samples):
        return preset.learning_rate
    return preset.learning_rate * preset.warm_lr_factor


def weight_mix(preset: Preset, warm: bool, samples: list[Sample]) -> float | None:
    """The share of its trained weights a run keeps, the rest being the weights it started from (`mix_weights`):
    Preset.warm_mix when it `fine_tunes`, full_rate_mix for other runs from trained weights; None for no mix (a run
    from scratch, or a share of 1)."""
    if not warm:
        return None
    share = preset.warm_mix if fine_tunes(preset, warm, samples) else preset.full_rate_mix
    return share if share < 1 else None


def mix_weights(model: keras.Model, start: list[np.ndarray], share: float) -> None:
    """Set `model`'s weights to `share` x its own + (1 - share) x `start`'s (batch-norm statistics included)."""
    model.set_weights([share * w + (1.0 - share) * s if np.issubdtype(w.dtype, np.floating) else w
                       for w, s in zip(model.get_weights(), start)])


def keeps_mix(trained: ValScore, mixed: ValScore, regime: str) -> bool:
    """Whether a run keeps its weight average with the start (`mixed`) rather than its trained weights (`trained`),
    by their validation Dice at the threshold each would predict at (validation.operating_point: for lesions 0.5
    unless another wins clearly): not when the mix scores under MIX_KEEP x the trained weights' (the start pulls the
    model away from lesions it cannot see: two validation photos can show that), nor when the trained weights beat
    it clearly image by image (`postprocess.wins`, three images or more). No Dice to judge by (no lesion in the
    validation images): kept. (A new-user trial's cervix class, a region the lesion start never saw, kept a blend at
    Dice 0.200 against 0.537 trained: compared at each one's best threshold, the blend's 0.27 passed; at 0.5, where
    both predict, it showed 0.200.)"""
    mixed_dice, trained_dice = operating_point(mixed, regime)[1], operating_point(trained, regime)[1]
    if math.isnan(trained_dice) or math.isnan(mixed_dice):
        return True
    return mixed_dice >= MIX_KEEP * trained_dice and not postprocess.wins(per_image_at_point(trained, regime),
                                                                          per_image_at_point(mixed, regime))


def settle_mix(model: keras.Model, start: list[np.ndarray], share: float, trained: ValScore,
               score: Callable[[], ValScore] | None, regime: str) -> tuple[ValScore, dict]:
    """The end of a run that mixes: `model` (holding its trained weights, validated as `trained`) becomes the weight
    average with its `start`, scored by `score` (the validation images on the model's weights; None: there are
    none, the mix is kept unscored), and keeps it unless `keeps_mix` says the trained weights are better (they are
    restored). Returns the model's validation score and what its metadata records: {"weight_mix": share,
    "weight_mix_trained": the trained weights' validation Dice at `operating_point`, when known: not the
    best-threshold Dice the run's progress showed} or
    {"weight_mix_rejected": {...}}. A CancelledError from `score` propagates with the mix in place."""
    trained_weights = model.get_weights()
    mix_weights(model, start, share)
    if score is None:
        return trained, {"weight_mix": share}
    mixed = score()
    mixed_dice, trained_dice = operating_point(mixed, regime)[1], operating_point(trained, regime)[1]
    if keeps_mix(trained, mixed, regime):
        alone = {"weight_mix_trained": round(trained_dice, 4)} if math.isfinite(trained_dice) else {}
        return mixed, {"weight_mix": share, **alone}
    model.set_weights(trained_weights)
    rejected = {"share": share, "mixed": round(mixed_dice, 4), "trained": round(trained_dice, 4)}
    log.info("the weight average with the start validated at Dice %.3f against %.3f trained; the trained weights "
             "are the model", rejected["mixed"], rejected["trained"])
    return trained, {"weight_mix_rejected": rejected}
