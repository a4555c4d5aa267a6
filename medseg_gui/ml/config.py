"""Model and training configuration: frozen dataclasses and the named presets (no Keras import).

A `Preset` fixes the network and the recipe (input channels, normalisation, patches, loss, optimiser, augmentation);
a `TrainConfig` is what the user chooses per run (preset name, time box, caps, optional overrides).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

InputMode = Literal["rgb", "gray", "green"]
Contrast = Literal["none", "clahe"]


@dataclass(frozen=True)
class UNetConfig:
    """U-Net shape: `filters[i]` convolution filters at level i (the last entry is the bottleneck).

    Depth (number of 2x poolings) is `len(filters) - 1`, so input sides must be multiples of `2 ** depth`.
    `dropout_at`: "block" puts Dropout between the two convolutions of every block, "pool" after every MaxPool and
    after every decoder concatenation, "bottleneck" only in the bottleneck block.
    """

    filters: tuple[int, ...] = (16, 32, 64, 128, 256)
    batchnorm: bool = True
    bn_momentum: float = 0.99  # Keras default; 0.9 lets the moving statistics settle within short runs
    dropout: float = 0.0
    dropout_at: Literal["block", "pool", "bottleneck"] = "block"
    activation: str = "relu"
    kernel_initializer: str = "he_normal"
    upsampling: Literal["transpose", "bilinear"] = "transpose"
    skip: Literal["concat", "add"] = "concat"  # "add" sums the skip into the up-sampled path: a cheaper decoder
    in_channels: int = 3
    out_channels: int = 1

    def __post_init__(self) -> None:
        if self.skip == "add" and self.upsampling != "transpose":
            raise ValueError("skip='add' needs upsampling='transpose' (bilinear up-sampling keeps the deeper level's "
                             "channel count, so the skip cannot be added)")

    @property
    def depth(self) -> int:
        return len(self.filters) - 1

    @property
    def multiple(self) -> int:
        """Input height and width must be multiples of this."""
        return 2**self.depth

    def with_base(self, base: int) -> UNetConfig:
        """Same shape with every level's filters scaled so that level 0 has `base` filters."""
        scale = base / self.filters[0]
        return replace(self, filters=tuple(max(1, round(f * scale)) for f in self.filters))


@dataclass(frozen=True)
class Augment:
    """Random patch augmentation (numpy/OpenCV, on the CPU)."""

    flips: bool = True
    rot90: bool = True
    affine: bool = False  # shear/shift/zoom via cv2.warpAffine
    shear: float = 0.1  # radians
    shift: float = 0.1  # fraction of the patch side
    zoom: float = 0.1  # +- relative scale
    intensity: float = 0.0  # +- relative contrast/brightness jitter on the normalised input
    colour: float = 0.0  # +- per-channel shift of the normalised input (another camera's colour balance)
    gamma: float = 0.0  # gamma drawn log-uniformly in [exp(-gamma), exp(gamma)], applied to the uint8 pixels
    # Other cameras (off at 0): each channel's own gamma in [exp(-g), exp(g)]; saturation scaled by a factor in
    # [1 - s, 1 + s] around the pixel's grey; on a third of the patches a Gaussian blur of sigma up to `blur` px
    # (focus, compression); on a third, Gaussian noise of std up to `noise` (normalised units: sensor noise).
    # Off in every preset: measured on a lesion start in session 33 (docs/BENCHMARKS.md), not a clear win.
    channel_gamma: float = 0.0
    saturation: float = 0.0
    blur: float = 0.0
    noise: float = 0.0


@dataclass(frozen=True)
class Preset:
    """A complete training recipe; `tile_size`/`tile_overlap` are for tiled inference."""

    name: str
    description: str
    unet: UNetConfig
    line: str = ""  # the description in one line (the Train panel's Preset box), beside it so the two stay in step
    patch_size: int = 64
    batch_size: int = 32
    crops_per_image: int = 1  # patches taken from one image in a batch (cvxtz: 4 crops x 4 images)
    learning_rate: float = 1e-3
    loss: Literal["bce", "bce_dice"] = "bce"
    optimizer: Literal["adam", "adamw"] = "adam"
    weight_decay: float = 1e-4  # adamw only
    schedule: Literal["constant", "cosine"] = "constant"  # cosine: warm-up then cosine decay over the run
    input_mode: InputMode = "rgb"
    contrast: Contrast = "none"
    normalise_in_roi: bool = True  # per-image zero-mean/unit-variance using the pixels inside the ROI
    augment: Augment = field(default_factory=Augment)
    weight_ema: float = 0.0  # per-step momentum of the weight average that is validated and kept (0 = off)
    positive_fraction: float = 0.0  # share of patch centres drawn on labelled pixels (class-balanced sampling)
    steps_per_epoch: int = 50
    tile_size: int = 256
    tile_overlap: int = 64
    # Larger patches late in the run (0 = off): from fraction `late_start` of the run on (time or steps, whichever
    # is further), batches of `late_batch_size` patches of `late_patch_size` px: more context for the deep levels once
    # the small patches have taught the local features. Costs one extra trace.
    late_patch_size: int = 0
    late_batch_size: int = 0
    late_start: float = 0.6
    # Working scale: images (and labels) are resized by `scale` before training and inference, and probabilities
    # resized back. `auto_scale` sets it from the labels' object size (ml/regime.py); `adapt` replaces the whole
    # recipe by the `vessels` or `lesions` preset chosen from the labels' shape. `regime` names what was chosen.
    scale: float = 1.0
    auto_scale: bool = False
    adapt: bool = False
    regime: str = ""
    # Fine-tuning: a run that starts from given or shipped weights (not from scratch) trains at `learning_rate` x
    # `warm_lr_factor` (the recipe's rate, chosen for random weights, undid the start in short runs on a few
    # strokes: bench/annotator.py), unless there are at least `full_rate_images` complete labels and no fewer
    # complete than sparse ones (enough new labels to move the start at the recipe's rate: ml.fine_tune.fine_tunes);
    # a rate TrainConfig gives is used as given.
    warm_lr_factor: float = 1.0
    full_rate_images: int = 1
    # A run that starts from trained weights on sparse labels also teaches the unannotated pixels (inside the ROI)
    # the start model's own probability, at this loss weight (0 = off): fine-tuning on a few strokes otherwise moves
    # the model where nobody painted (bench/annotator.py: C1 warm Dice fell from 0.58 to 0.49-0.54 with more steps).
    prior_weight: float = 0.0
    # In the same runs as warm_lr_factor (trained weights, few labels), the model is `warm_mix` x the weights the run
    # trained to + (1 - warm_mix) x the weights it started from (weight-space ensembling, as WiSE-FT; 1 = off): a
    # few labels pull a good start towards themselves; the average keeps what the start knew of other images.
    warm_mix: float = 1.0
    full_rate_mix: float = 1.0  # the same for the other runs from trained weights (enough complete labels)
    # How many flips (1, 2 or 4) a lesion model of a run that does not fine-tune (from scratch, or enough complete
    # labels for the full rate) averages when it predicts, unless one flip validates clearly better
    # (validation.choose_prediction); fine-tuning runs start from 1 and take 2 only on a clear win.
    full_rate_flips: int = 1
    # Working-scale factors whose predictions such a run's lesion model may average instead (its flips at each),
    # taken only when the average validates clearly better (validation.choose_prediction); () = not tried.
    full_rate_scales: tuple[float, ...] = ()

    def late_phase(self) -> Preset | None:
        """The recipe for the late part of a run, or None when this preset has no late phase."""
        if self.late_patch_size <= 0:
            return None
        return replace(self, patch_size=self.late_patch_size, batch_size=self.late_batch_size or self.batch_size,
                       late_patch_size=0)


PRESETS: dict[str, Preset] = {
    "vessels": Preset(
        name="vessels",
        description="Thin structures (vessels) at full resolution. Fast U-Net 16-24-32-48-64 with batch-norm (folded "
        "away for inference) and additive skips; RGB with CLAHE, normalised inside the ROI; BCE, AdamW 1e-2 (3.3e-4 "
        "when continuing from trained weights on sparse labels) with warm-up + cosine decay over the run; 48 patches "
        "of 48 px per step, then 5 patches of 160 px per step from 30 % of the run on (more context); half of the "
        "patches centred on labelled pixels; flips, 90-degree rotations, intensity jitter. Continuing on sparse "
        "labels, the unannotated pixels keep the start model's own probability as their target.",
        line="Thin structures at full resolution: fast U-Net, CLAHE, AdamW + cosine, 48 then 160 px patches",
        unet=UNetConfig(filters=(16, 24, 32, 48, 64), batchnorm=True, bn_momentum=0.9, dropout=0.0,
                        upsampling="transpose", skip="add", in_channels=3),
        patch_size=48,
        batch_size=48,
        learning_rate=1e-2,
        loss="bce",
        optimizer="adamw",
        schedule="cosine",
        input_mode="rgb",
        contrast="clahe",
        augment=Augment(flips=True, rot90=True, intensity=0.1),
        positive_fraction=0.5,
        tile_size=1024,  # images up to ~1 Mpx in one pass: fewer pixels computed than overlapping tiles
        tile_overlap=64,
        late_patch_size=160,  # chosen by 10-min CHASE runs: 48 px throughout 0.982; 96 px from 60 % 0.984;
        late_batch_size=5,  # 128 px from 40 % 0.985; 160 px from 30 % 0.985; 192 px from 20 % 0.985
        late_start=0.3,
        regime="vessels",
        warm_lr_factor=1 / 30,  # CHASE strokes from the start, test AUC at 40/100 steps: 1/30 0.960/0.959, 1/10
        #                         0.958/0.944, 1 0.906 at 40 (the start alone: 0.941)
        full_rate_images=1,  # suite chase (20 complete labels), 3 min from the start, paired: full rate AUC 0.9808,
        #                      1/30 0.9680
        prior_weight=3.0,  # bench/annotator.py CHASE seed 0, warm arm, test AUC of rounds 0-3: prior 0: 0.9722
        #                  0.9692 0.9638 0.9401; 1.0: 0.9716 0.9704 0.9704 0.9654 (both at the same time, 140-220
        #                  steps per 45-s box); alone on the VM (260-400 steps): 1.0: 0.9736 0.9712 0.9649 0.9649 (the
        #                  full protocol), 3.0: 0.9734 0.9722 0.9726 0.9707 (C1 at 3.0: no gain over 1.0, see lesions)
    ),
    "lesions": Preset(
        name="lesions",
        description="Blobs (lesions): images resized so that a typical lesion is about 32 px across (never below "
        "a 320 px long side), U-Net 16-32-64-128-256 with batch-norm and additive skips, BCE + soft Dice, AdamW "
        "3e-3 (1e-4 when continuing from trained weights on sparse labels or fewer than 50 images) with warm-up + "
        "cosine decay; 4 patches of 160 px per step, half centred on the lesion; flips, 90-degree rotations, +-25 % "
        "zoom, colour, gamma and contrast jitter (other cameras and light). Continuing on sparse labels, the "
        "unannotated pixels keep the start model's own probability as their target. With few labels the model kept is "
        "a quarter the trained weights, three quarters the weights the run started from; with many, three quarters "
        "the trained weights, and the model averages its prediction over the four flips of the image (and over 0.8, "
        "1 and 1.25 times its working scale when that validates clearly better).",
        line="Blobs, resized so a lesion is ~32 px: U-Net, BCE + Dice, AdamW + cosine, zoom/colour jitter",
        unet=UNetConfig(filters=(16, 32, 64, 128, 256), batchnorm=True, bn_momentum=0.9, dropout=0.0,
                        upsampling="transpose", skip="add", in_channels=3),
        patch_size=160,  # 4 x 160 px beat 8 x 192 px in equal 10-min C1 runs (Dice 0.351 vs 0.341, 2.7x the steps)
        batch_size=4,
        learning_rate=3e-3,
        loss="bce_dice",
        optimizer="adamw",
        schedule="cosine",
        input_mode="rgb",
        contrast="none",
        augment=Augment(flips=True, rot90=True, affine=True, shear=0.05, shift=0.0, zoom=0.25, intensity=0.15,
                        colour=0.15, gamma=0.3),
        positive_fraction=0.5,
        tile_size=1024,
        tile_overlap=64,
        auto_scale=True,
        regime="lesions",
        warm_lr_factor=1 / 30,  # suite c1-20 (20 photos, 3 min) from the start, paired runs, seeds 0-4 (AVX2 VM,
        #                      two at once, 2026-12-03): Dice at 1/10 0.607 0.653 0.618 0.612 0.615 (mean 0.621), 1/30
        #                      0.617 0.681 0.656 0.623 0.619 (0.639), 1/100 (seeds 0-3) 0.626 0.634 0.627 0.646; with
        #                      batch-norm frozen at 1/30 (seeds 0-1) 0.578 0.620. Earlier, C1 strokes, test Dice at 40
        #                      steps: 1/10 0.48, 1/3 0.44, 1 0.36 (at 100: 1/10 0.47, 1/30 0.49; the start alone 0.46)
        full_rate_images=50,  # paired suite runs from the start: c1-20 (20 photos, 3 min) Dice 0.528/0.551 at 1/10,
        #                       0.483/0.498 at the full rate; c1 (231 photos, 10 min) 0.588 (AUC 0.945) at 1/10,
        #                       0.597 (0.962) at the full rate; 50 lies between the two, unmeasured
        prior_weight=1.0,  # bench/annotator.py C1 seed 0, warm arm alone on the VM (240-370 steps per 45-s box), test
        #                  Dice of round 0 and of each round's new model (rounds 1-3): prior 0: 0.577, 0.488 0.455
        #                  0.429; 0.1: 0.579, 0.564 0.461 0.399; 0.3: 0.607, 0.589 0.561 0.542; 1.0: 0.616, 0.598
        #                  0.569 0.570; 3.0: 0.612, 0.594 0.546 0.585 (no gain)
        warm_mix=0.25,  # suite c1-20 at 1/30, the trained weights mixed with the start's after the run, C1 test Dice
        #               of the raw map at 0.5, seeds 0-4 (AMD avx512_bf16 VM, two at once, 2026-12-04), by share of
        #               the trained weights: 0 (the start) 0.644; 0.25: 0.671 0.671 0.661 0.673 0.669 (mean 0.669);
        #               0.5: 0.655 0.652 0.683 0.641 0.653 (0.657); 0.75: 0.660 0.649 0.689 0.641 0.658 (0.659);
        #               1: 0.655 0.641 0.657 0.632 0.647 (0.646)
        full_rate_mix=0.75,  # suite c1 (231 photos, 10 min, 1,560-1,880 steps, two at once, 2026-12-04), the same
        #                    way, seeds 0-3, shares 0.25 / 0.5 / 0.75 / 1: mean 0.691 / 0.706 / 0.711 / 0.680 (0.75
        #                    beat 1 in all four, +0.011 to +0.065; AUC -0.001 to -0.003); CHASE lost AUC with any mix
        full_rate_flips=4,  # each run's model scored on the C1 test photos with 1 / 2 / 4 flips (AMD avx512_bf16 VM,
        #                   two at once, 2026-12-04), seeds 0-3: suite c1 (231 photos, 10 min) 0.683 / 0.724 / 0.734,
        #                   0.699 / 0.726 / 0.725, 0.714 / 0.716 / 0.713, 0.685 / 0.677 / 0.721 (means 0.695 / 0.711 /
        #                   0.723; AUC up with flips in all four); suite c1-20 (fine-tuning) 0.672 / 0.668 / 0.663,
        #                   0.671 / 0.665 / 0.660, 0.661 / 0.664 / 0.656, 0.677 / 0.668 / 0.662: flips cost it a little,
        #                   so those runs keep one unless two win clearly
        full_rate_scales=(0.8, 1.0, 1.25),  # kept models of suite c1 (10 min) seeds 0 / 1, validation / test Dice
        #                                    at x1 alone 0.729 / 0.740, 0.681 / 0.729; the three averaged 0.735 /
        #                                    0.753, 0.692 / 0.740; the product, paired, seed 0 chose them: 0.720 ->
        #                                    0.737; seed 1 did not (docs/BENCHMARKS.md, session 25)
    ),
    "cvxtz": Preset(
        name="cvxtz",
        description="For comparison: a reproduction of a published implementation. U-Net 32-64-128-256-512, ReLU, "
        "Dropout 0.1, no batch-norm, BCE, Adam 1e-3, random 64x64 crops (4 crops x 4 images), flips/shear/shift/zoom.",
        # plain words first in the Preset box's tooltip (a colposcopist could not tell what a "reference U-Net" was for)
        line="For comparison only: a published U-Net, reproduced (32-512, Dropout 0.1, no batch-norm, BCE, Adam 1e-3, "
        "64 px crops)",
        unet=UNetConfig(filters=(32, 64, 128, 256, 512), batchnorm=False, dropout=0.1, dropout_at="block",
                        kernel_initializer="glorot_uniform", upsampling="bilinear", in_channels=3),
        patch_size=64,
        batch_size=16,
        crops_per_image=4,
        learning_rate=1e-3,
        loss="bce",
        optimizer="adam",
        input_mode="rgb",
        augment=Augment(flips=True, rot90=False, affine=True, shear=0.1, shift=0.1, zoom=0.1),
        tile_size=256,
        tile_overlap=64,
    ),
    "fxfviolet": Preset(
        name="fxfviolet",
        description="For comparison: a reproduction of a published implementation. U-Net 16-32-64-128-256, "
        "he_normal, batch-norm, MaxPool+Dropout, Conv2DTranspose, gray input; large 256 px patches instead of the "
        "original 512x512 resized whole images.",
        line="For comparison only: a published U-Net, reproduced (16-256, gray, batch-norm, BCE; 256 px patches, not "
        "512x512 images)",
        unet=UNetConfig(filters=(16, 32, 64, 128, 256), batchnorm=True, dropout=0.05, dropout_at="pool",
                        kernel_initializer="he_normal", upsampling="transpose", in_channels=1),
        patch_size=256,
        batch_size=2,
        learning_rate=1e-3,
        loss="bce",
        optimizer="adam",
        input_mode="gray",
        augment=Augment(flips=True, rot90=False),
        tile_size=512,
        tile_overlap=64,
    ),
}

# `default` is the vessel recipe that reads the labels first: blobs switch it to `lesions` (TrainConfig.resolved).
PRESETS = {
    "default": replace(PRESETS["vessels"], name="default", adapt=True,
                       description="Reads the labels (ml/regime.py): thin structures (vessels) get the `vessels` "
                       "recipe, blobs (lesions) the `lesions` recipe at a working scale where a lesion is ~32 px "
                       "across.",
                       line="Reads the labels: the vessels recipe for thin structures, the lesions recipe for blobs"),
    **PRESETS,
}


PRESET_LINES: dict[str, str] = {name: p.line for name, p in PRESETS.items()}
"""Each preset's description in one line (the Train panel's Preset box)."""


def preset_names() -> list[str]:
    """Preset names in display order (default first)."""
    return list(PRESETS)


@dataclass(frozen=True)
class Recipe:
    """What the labels say about the objects: `regime` "vessels" (thin lines) or "lesions" (blobs), the typical
    object `width` in pixels and the working `scale` the lesion recipe would use (ml/regime.py measures it)."""

    regime: Literal["vessels", "lesions"]
    width: float
    elongation: float
    scale: float


@dataclass(frozen=True)
class TrainConfig:
    """One training run. `None` for batch_size/patch_size/learning_rate/base_filters/steps_per_epoch means the
    preset's value. Training stops at the first of: `minutes` elapsed, `max_steps` steps, `epochs` epochs,
    early stopping (`patience` epochs without validation-AUC gain; only for runs without a time box: a time box is
    used whole, keeping the best validated weights), or cancel."""

    preset: str = "default"
    minutes: float | None = 3.0
    epochs: int = 100
    steps_per_epoch: int | None = None
    max_steps: int | None = None
    batch_size: int | None = None
    patch_size: int | None = None
    learning_rate: float | None = None
    base_filters: int | None = None
    seed: int = 0
    val_fraction: float = 0.2
    val_max_images: int | None = 30  # a large labelled set validates on this many and trains on the rest
    patience: int = 8
    tta: bool = False  # flip test-time augmentation for validation and the saved model's default
    precision: str = "auto"  # "auto" (bfloat16 where the CPU/GPU computes it natively), "float32" or "bfloat16"
    init: str = "auto"  # start: "auto" (the given weights - e.g. the current model - else the shipped pretrained
    #                     start, whichever fits first), "current" (given weights only), "pretrained", "scratch"
    prior_weight: float | None = None  # None: the preset's (see Preset.prior_weight)
    warm_mix: float | None = None  # None: the preset's (see Preset.warm_mix)
    full_rate_mix: float | None = None  # None: the preset's

    def resolved(self, recipe: Recipe | None = None) -> Preset:
        """The preset with this run's overrides applied; raises KeyError for an unknown preset name.

        `recipe` (what ml/regime.py read from the labels) picks the `vessels`/`lesions` recipe for an adaptive
        preset and the working scale for an auto-scaled one; without it the preset is used as written."""
        if self.preset not in PRESETS:
            raise KeyError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        p = PRESETS[self.preset]
        if recipe is not None:
            if p.adapt:
                p = replace(PRESETS[recipe.regime], name=p.name)
            if p.auto_scale:
                p = replace(p, scale=recipe.scale)
        unet = p.unet.with_base(self.base_filters) if self.base_filters else p.unet
        patch = self.patch_size or p.patch_size
        patch = max(unet.multiple, -(-patch // unet.multiple) * unet.multiple)
        return replace(
            p,
            unet=unet,
            patch_size=patch,
            batch_size=self.batch_size or p.batch_size,
            learning_rate=self.learning_rate or p.learning_rate,
            prior_weight=p.prior_weight if self.prior_weight is None else self.prior_weight,
            warm_mix=p.warm_mix if self.warm_mix is None else self.warm_mix,
            full_rate_mix=p.full_rate_mix if self.full_rate_mix is None else self.full_rate_mix,
            steps_per_epoch=self.steps_per_epoch or p.steps_per_epoch,
            crops_per_image=min(p.crops_per_image, self.batch_size or p.batch_size),
            # an explicit patch or batch size means exactly that size for the whole run
            late_patch_size=0 if (self.patch_size or self.batch_size) else p.late_patch_size,
        )


BEST_EACH = "each at its best threshold"
"""How a run compares the start it began from with its trained weights (validation Dice at the threshold best for
each, not at the one the model predicts with); said where that comparison is reported (ml.store, the Train panel)."""


def as_it_predicts(score: str) -> str:
    """Beside BEST_EACH: the kept start's validation Dice as it predicts (the model's val_dice, its Current model
    line), which its threshold, flips and clean-up can put above both compared figures (a trial read 'val Dice 0.801'
    above 'Start kept … 0.787 vs 0.757' with nothing saying why)."""
    return f"; as it predicts (its threshold, flips and clean-up) it validates at {score}"

TIE_MARGIN = {"Dice": 0.002, "AUC": 0.0005}
"""How much better than the current model a new one must validate (by the metric compared) to replace it
(ml.store.save_if_better): within that the two are tied, and the current one stays. An outside trial's 1-minute
Retrain, warm-started from the current model, trained one step and replaced it on a Dice of 0.9303 against 0.9295."""


def tie_margin(metric: str) -> float:
    """TIE_MARGIN for `metric` ("Dice" or "AUC"; AUC's for any other)."""
    return TIE_MARGIN.get(metric, TIE_MARGIN["AUC"])
