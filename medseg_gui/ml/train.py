"""`train(samples, config)`: fit a U-Net on labelled images with a time box and cooperative cancel.

Patches are sampled on the fly from the training images and fed to `train_on_batch` under Keras callbacks; whole
validation images (held out from training) are predicted with the same tiled inference used later, so the validation
AUC (and a lesion model's Dice) is the number the user will see. The returned `Segmenter` holds an inference copy of
the best weights (by validation Dice for lesions, AUC otherwise; batch-norm folded, no dropout). `Sample` and the
train/validation split are in ml/samples.py (imported here for callers); a run from trained weights (load, learning
rate, priors, weight average) is ml/fine_tune.py; keep-unless-better's comparison is ml/compare.py.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import logging
import math
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from medseg_gui.ml.keras_quiet import keras
import numpy as np

from medseg_gui.core.errors import CancelledError, MedsegError
from medseg_gui.core.fingerprint import START_SEEN
from medseg_gui.core.model_names import START_MODEL, began_text
from medseg_gui.ml.config import Preset, TrainConfig
from medseg_gui.ml.control import RunControl, RunLimits
from medseg_gui.ml.compare import Comparison, compare_with_current, score_current
from medseg_gui.ml.data import PreparedImage, prepare, sample_batch
from medseg_gui.ml.fine_tune import (
    anchor_fills,
    fine_tunes,
    load_start,
    run_learning_rate,
    teach_priors,
    weight_mix,
)
from medseg_gui.ml.init import FROM_START, InitWeights, start_lineage, start_seen_text
from medseg_gui.ml.losses import MaskedSegLoss
from medseg_gui.ml.precision import choose_precision
from medseg_gui.ml.predict import Segmenter, preset_metadata
from medseg_gui.ml.progress import TrainProgress
from medseg_gui.ml.run_end import Start, plan_after_box, settle, short_box
from medseg_gui.ml.regime import labels_recipe
from medseg_gui.ml.samples import Sample, check_samples, split_samples, val_view
from medseg_gui.ml.unet import build_unet, inference_model
from medseg_gui.ml.validation import (  # noqa: F401 (ValScore, evaluate_views: imported from here by callers)
    ValScore,
    choose_prediction,
    evaluate_views,
    lead_metric,
    operating_point,
    views_as_then,
)

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a run produced. `val_auc`: the new model's validation AUC (nan when the validation images have only one
    class); `previous_val_auc`: the current model's, on the pixels keep-unless-better compares (`comparison`).
    `history` has one dict per validated epoch. `val_annotation`: the validation images' annotated pixels by name
    (None: a complete label), stored with the model for the next run's comparison (views_as_then)."""

    segmenter: Segmenter
    val_auc: float
    previous_val_auc: float | None
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    patches: int = 0  # training patches seen (batch sizes differ between a preset's phases)
    pixels: int = 0
    cancelled: bool = False
    stop_reason: str = ""
    message: str = ""
    model: Any = None  # the training-form keras.Model with the kept weights (to save a start for later runs)
    preset: Preset | None = None  # the recipe as resolved for these labels
    comparison: Comparison | None = None  # None: compare val_auc with previous_val_auc
    val_annotation: dict[str, np.ndarray | None] = field(default_factory=dict)
    joined: tuple[str, ...] = ()  # names of labels that joined (or replaced) training images between epochs
    note: str = ""  # what the user should know of how the run went (run_end.short_box)
    seen: str = ""  # labelled images that its shipped start was trained on (ml.init.start_seen_text)


def patch_batches(images: list[PreparedImage], preset: Preset, seed: int,
                  fraction: Callable[[], float] | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless random patch batches; batch k depends only on (seed, k) and on whether the run has reached the
    preset's late phase (`fraction()` of the run done >= `late_start`), so step-capped runs are reproducible."""
    late = preset.late_phase()
    for k in itertools.count():
        p = late if late is not None and fraction is not None and fraction() >= preset.late_start else preset
        yield sample_batch(images, p, np.random.default_rng((seed, k)))


def run_steps(model: keras.Model, batches: Iterator[tuple[np.ndarray, np.ndarray]], epochs: int,
              steps_per_epoch: int, callback: keras.callbacks.Callback,
              between_epochs: Callable[[], None] | None = None) -> tuple[int, int]:
    """`model.fit`'s epoch/batch loop with its callback hooks, on `train_on_batch`; returns the (patches, pixels)
    trained on. `between_epochs` runs after every epoch but the last (continuous training's new labels join there).

    Why not `fit`: on the 2-core CPU VM, the TensorFlow backend's tf.data pipeline around the Python patch sampler
    competed with the training step for the cores: 1.2 s against 0.7 s median per step of the same run
    (bench/train_speed.py prints both on synthetic batches, where the gap is smaller).
    """
    callback.set_model(model)
    model.stop_training = False
    patches = pixels = 0
    callback.on_train_begin()
    for epoch in range(epochs):
        callback.on_epoch_begin(epoch)
        for b in range(steps_per_epoch):
            callback.on_train_batch_begin(b)
            x, y = next(batches)
            logs = model.train_on_batch(x, y, return_dict=True)
            patches += x.shape[0]
            pixels += x.shape[0] * x.shape[1] * x.shape[2]
            callback.on_train_batch_end(b, logs)
            if model.stop_training:
                break
        callback.on_epoch_end(epoch)
        if model.stop_training:
            break
        if between_epochs is not None:
            between_epochs()
    callback.on_train_end()
    return patches, pixels


def _optimizer(preset: Preset, learning_rate: float | None = None) -> keras.optimizers.Optimizer:
    learning_rate = preset.learning_rate if learning_rate is None else learning_rate
    if preset.optimizer == "adamw":
        return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=preset.weight_decay)
    return keras.optimizers.Adam(learning_rate=learning_rate)


def _dtype_policy(precision: str) -> str | None:
    """The Keras dtype policy for `precision` ("auto", "float32" or "bfloat16"): auto = mixed_bfloat16 (no loss
    scaling needed) on a GPU or a CPU with bf16 instructions (ml/precision.py), float32 elsewhere."""
    return "mixed_bfloat16" if choose_precision(precision) == "bfloat16" else None


class _Joiner:
    """Labels saved while a run trains join it between epochs (continuous training): a new image joins the training
    images, a changed label replaces its image's; a validation image's new label waits for the next run (one run
    compares its models on one validation set). The run's lists are changed in place, so the patch sampler and the
    model's record of its training images (`train_stems`) see them."""

    def __init__(self, poll: Callable[[], list[Sample]], samples: list[Sample], train_idx: list[int],
                 val_idx: list[int], images: list[PreparedImage], prepare_one: Callable[[Sample], PreparedImage]):
        self.poll, self.samples, self.train_idx, self.images = poll, samples, train_idx, images
        self.prepare_one = prepare_one
        self.held_out = {samples[i].name for i in set(val_idx) - set(train_idx)}
        self.names: list[str] = []

    def join(self) -> None:
        for s in self.poll():
            if s.name in self.held_out:
                log.info("%s's new label waits for the next run (it validates this one)", s.name)
                continue
            try:
                check_samples([s])
                image = self.prepare_one(s)
            except MedsegError as err:
                log.warning("%s's new label was not joined: %s", s.name, err)
                continue
            at = next((k for k, i in enumerate(self.train_idx) if self.samples[i].name == s.name), None)
            if at is None:
                self.samples.append(s)
                self.train_idx.append(len(self.samples) - 1)
                self.images.append(image)
            else:
                self.samples[self.train_idx[at]] = s
                self.images[at] = image
            if s.name not in self.names:
                self.names.append(s.name)


def train(samples: list[Sample], config: TrainConfig, *, progress: Callable[[TrainProgress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, previous: Segmenter | None = None,
          init: InitWeights | None = None, previous_annotation: Mapping[str, np.ndarray | None] | None = None,
          joined: Callable[[], list[Sample]] | None = None,
          doubtful: Callable[[str], bool] | None = None, accepted: Collection[str] = ()) -> TrainResult:
    """Train on labelled samples; stops at the time box, step cap, epochs, early stopping or cancel. `init`:
    training-form weights to start from when they fit the resolved recipe (see ml/init.py and config.init).
    `previous`: the current model, which the new one must not validate worse than; `previous_annotation`: what its
    validation images' annotation was when it was trained (ml/store.py validation_labels), the pixels they are
    compared on (validation.views_as_then). `joined`: polled between epochs (continuous training), the labels saved
    since the run began; each joins the training images or replaces the one of its name (see `_Joiner`).
    `doubtful(name)`: whether a sample's label looks incomplete (it then validates last: samples.split_samples);
    `accepted`: names of labels that are a model's prediction accepted unedited (they train, never validate there)."""
    started = time.monotonic()
    check_samples(samples)
    samples = list(samples)  # joined labels are appended to this run's copy
    preset = config.resolved(recipe := labels_recipe(samples, config, init))
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    seen = previous.metadata.get("train_stems") if previous is not None else None  # pipeline: the images' stems
    seen = [name for name in seen if isinstance(name, str)] if isinstance(seen, list) else ()
    train_idx, val_idx, note = split_samples(samples, config.val_fraction, config.seed, preset.scale, seen,
                                             config.val_max_images, doubtful, accepted)
    images = [prepare(samples[i].image, samples[i].mask, samples[i].roi, preset, rng, samples[i].annotated)
              for i in train_idx]
    views = [val_view(samples[i], preset.scale) for i in val_idx]
    then = views_as_then(samples, val_idx, previous_annotation, preset.scale) if previous is not None else None
    total = config.epochs * preset.steps_per_epoch
    total = min(total, config.max_steps) if config.max_steps is not None else total
    deadline = started + 60.0 * config.minutes if config.minutes is not None else None

    began = ""  # what the run starts from, said before its first step once its weights are loaded

    def announce(message: str, note: str = "") -> None:  # before the first step
        if progress is not None:
            progress(TrainProgress(0, total, 0, float("nan"), time.monotonic() - started,
                                   60.0 * config.minutes if config.minutes is not None else 0.0, None, message,
                                   note=note, began=began))

    announce("evaluating the current model" if previous is not None else "starting")
    current = score_current(previous, then or views, preset.regime, config.tta, should_stop)
    previous_auc, previous_dice, cancelled_early = current.auc, current.dice, current.cancelled
    # one validation of `views`: `then` may hold fewer of them
    val_seconds = (0.3 * len(views) if current.pass_s is None else
                   current.pass_s * len(views) / max(1, len(then or views)))

    policy = _dtype_policy(config.precision)
    model = build_unet(preset.unet, dtype_policy=policy)
    started_from, start = load_start(model, preset, config, init)  # before compile: no optimiser state
    loaded = start is not None
    start_model = {"id": start.model[0], "trained_at": start.model[1]} if start is not None and start.model else None
    began = began_text({"init": started_from, "regime": preset.regime, START_MODEL: start_model})
    announce("starting")
    before = previous.metadata if previous is not None else None
    from_start = start_lineage(start, init, before, preset.regime)  # its photos: no held-out check (ml.init)
    # the run's photos its start saw: the note names the validation ones, the metadata keeps all (the image list)
    seen, seen_record = start_seen_text(((s.name, s.image) for s in samples if s.name),
                                        [samples[i].name for i in val_idx], from_start, before)
    learning_rate = run_learning_rate(preset, config, loaded, samples)
    model.compile(optimizer=_optimizer(preset, learning_rate),
                  loss=MaskedSegLoss(dice_weight=1.0 if preset.loss == "bce_dice" else 0.0))
    # Built here, not inside the first traced step (TensorFlow's default): a step that creates variables is traced
    # twice, which doubled the start of every Retrain (same weights either way).
    model.optimizer.build(model.trainable_variables)
    metadata = preset_metadata(preset)
    # what predicting an image without a region of interest needs to know (core.fov: a field of view is estimated)
    # … and so is a model from weights that were (the shipped vessel start: fields of view; ml.init.InitWeights)
    metadata["trained_in_roi"] = any(samples[i].roi is not None for i in train_idx) or bool(start and
                                                                                         start.trained_in_roi)
    live = Segmenter(inference_model(model, preset.unet), metadata)  # refilled before each validation
    priors = teach_priors(live, images, [samples[i] for i in train_idx], preset.prior_weight, should_stop) \
        if loaded else 0
    mix = weight_mix(preset, loaded, samples)
    fills = None  # vessel strokes: the threshold is chosen against them filled in by the shipped start
    if views and not cancelled_early:
        try:
            fills = anchor_fills(preset, views, should_stop)
        except CancelledError:
            cancelled_early = True
    # a first model must beat the start it began from (see validation.start_is_the_model)
    check_start = loaded and previous is None and bool(views) and not cancelled_early
    start_weights = [np.array(w) for w in model.get_weights()] if mix is not None or check_start else None
    start_score = None
    if check_start:
        announce("evaluating the start")
        t0 = time.monotonic()
        try:
            start_score = evaluate_views(live, views, config.tta, should_stop, fills)
            val_seconds = time.monotonic() - t0
        except CancelledError:
            cancelled_early = True
    scores: dict[int, ValScore] = {}  # per validated step

    def validate() -> tuple[float, float]:
        inference_model(model, preset.unet, into=live.model)
        scores[control.step] = score = evaluate_views(live, views, config.tta, should_stop, fills)
        return score.auc, score.dice if preset.regime == "lesions" else float("nan")

    fine = fine_tunes(preset, loaded, samples)
    flips = 1 if fine else preset.full_rate_flips
    box_s = None if deadline is None else deadline - started
    plan = plan_after_box(box_s, val_seconds, config.tta, flips, () if fine else preset.full_rate_scales,
                          preset.regime == "lesions" and bool(views), mix is not None and bool(views),
                          then is not None)
    short = short_box(box_s, time.monotonic() - started, plan.after * val_seconds, len(samples), len(val_idx))
    if short:
        log.warning(short)
    if seen:
        log.info(seen)
    if short or seen:  # in view until the run's result, which says it again (outcome_text)
        announce("starting", " ".join(filter(None, (short, seen))))
    joiner = None if joined is None else _Joiner(joined, samples, train_idx, val_idx, images,
                                                  lambda s: prepare(s.image, s.mask, s.roi, preset, rng, s.annotated))
    control = RunControl(RunLimits(total, deadline, config.patience, learning_rate, preset.schedule, started,
                                   preset.weight_ema, lead_metric(preset.regime), plan.after),
                         validate, note, progress, should_stop, val_seconds)
    log.info("training %s on %d images (%d training, %d validation: %s), up to %d steps, %s, peak learning rate "
             "%.3g%s",
             preset.name, len(set(train_idx) | set(val_idx)), len(train_idx), len(val_idx), note, total,
             f"{config.minutes} min" if config.minutes is not None else "no time box", learning_rate,
             " (gentle fine-tuning of the start: too few complete labels)" if fine else "")
    if cancelled_early or (should_stop is not None and should_stop()):
        control.cancelled, control.stop_reason = True, "cancelled"
        patches = pixels = 0
    else:
        epochs = math.ceil(total / preset.steps_per_epoch)
        batches = patch_batches(images, preset, config.seed, control.fraction)
        patches, pixels = run_steps(model, batches, epochs, preset.steps_per_epoch, control,
                                    between_epochs=None if joiner is None else joiner.join)

    diverged = control.stop_reason == "diverged" and control.best_weights is None  # nothing validated to keep
    if diverged and start_score is None:
        raise MedsegError("Training became numerically unstable (the loss is not a number); "
                          "try a lower learning rate or another preset.")

    def score_weights() -> ValScore:  # the validation images on the model's weights as they are now
        inference_model(model, preset.unet, into=live.model)
        return evaluate_views(live, views, config.tta, should_stop, fills)

    best, val_auc, outcome = settle(model, control, scores, Start(start_weights, start_score, mix),
                                    score_weights if views else None, preset.regime, diverged)
    kept_start = "start_kept" in outcome  # it learnt nothing from these labels: no steps, priors or stems
    point, point_dice = operating_point(best, preset.regime)
    metadata.update(val_auc=None if math.isnan(val_auc) else val_auc, steps=0 if kept_start else control.step,
                    # maps are calibrated so that 0.5 is the chosen threshold (predict.calibrate)
                    threshold=0.5, operating_point=point,
                    val_dice=None if math.isnan(point_dice) else round(point_dice, 4),
                    precision="bfloat16" if policy else "float32", init=started_from,
                    prior_images=0 if kept_start else priors,
                    object_width=None if recipe is None else round(recipe.width, 1),
                    trained_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                    train_images=len(train_idx), val_images=len(val_idx), validation=note,
                    learning_rate=learning_rate, fine_tuned=fine,  # which rate (a verification trial could not tell)
                    backend=keras.backend.backend(), keras_version=keras.__version__, **outcome)
    if all(s.name for s in samples):  # what the image list marks and the next run's split avoids validating on
        metadata.update(train_stems=[samples[i].name for i in train_idx],
                        val_stems=[samples[i].name for i in val_idx if i not in set(train_idx)])
    if kept_start:
        metadata["train_stems"] = []
    if from_start:
        metadata[FROM_START] = from_start
    if seen_record is not None:
        metadata[START_SEEN] = seen_record
    if start_model is not None:  # what the window names as the model this one continued from
        metadata[START_MODEL] = start_model
    if preset.regime == "lesions":  # the sizes it saw its images at (Segmenter.scale_for keeps new photos in them)
        shorts = [min(s.mask.shape) * preset.scale for s in samples]  # labels joined during the run included
        metadata["working_sides"] = [math.floor(10 * min(shorts)) / 10, math.ceil(10 * max(shorts)) / 10]
    segmenter = Segmenter(inference_model(model, preset.unet, into=live.model), metadata)
    if preset.regime == "lesions" and views and not control.cancelled:
        choose_prediction(segmenter, views, config.tta, should_stop, flips, plan.scales, plan.other_flips)
    comparison = None
    if not control.cancelled:
        try:
            comparison = compare_with_current(segmenter, preset.regime, val_auc, previous_auc, previous_dice, then,
                                              config.tta, should_stop)
        except CancelledError:
            control.cancelled, control.stop_reason = True, "cancelled"
    seconds = time.monotonic() - started
    message = (f"{'cancelled' if control.cancelled else 'stopped'} ({control.stop_reason}) after {control.step} "
               f"steps, {seconds:.0f} s; validation AUC {val_auc:.4f} on {note}"
               + ("; the start it began from validated better and is the model"
                  if "start_kept" in segmenter.metadata else "")
               + (f"; {mix:.0%} the trained weights, {1 - mix:.0%} those it started from"
                  if "weight_mix" in segmenter.metadata else "")
               + ("; not averaged with the start it began from (the average validated clearly worse)"
                  if "weight_mix_rejected" in segmenter.metadata else "")
               + (f"; {len(joiner.names)} label{'s' if len(joiner.names) > 1 else ''} saved meanwhile joined it"
                  if joiner is not None and joiner.names else ""))
    log.info(message)
    return TrainResult(segmenter=segmenter, val_auc=val_auc, previous_val_auc=previous_auc, history=control.history,
                       steps=control.step, seconds=seconds, patches=patches, pixels=pixels, cancelled=control.cancelled,
                       stop_reason=control.stop_reason, message=message, model=model, preset=preset,
                       comparison=comparison,
                       val_annotation={samples[i].name: samples[i].annotated for i in val_idx if samples[i].name},
                       joined=tuple(joiner.names) if joiner is not None else (), note=short, seen=seen)
