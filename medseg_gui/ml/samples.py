"""The training samples and how a run splits them: `Sample` (an image, its label, region and annotated pixels),
`check_samples`, `split_samples` (which images train and which validate; stable as labels are added, and never the
current model's own training images, nor predictions accepted as labels, where others exist, so keep-unless-better
compares fairly) and `val_view`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np

from medseg_gui.core.errors import LabelSizeError, NoLabelsError

_VAL_MAX_SIDE = 1024  # validation views are cropped to at most this side (around the labelled pixels)
_VAL_MAX_PIXELS = 4_200_000  # total validation pixels per epoch
_DOUBT_SPARE = 8  # split_samples asks `doubtful` of this many candidates beyond those it needs


@dataclass(frozen=True, eq=False)
class Sample:
    """One labelled image: uint8 HxWx3 RGB, bool HxW label, optional bool HxW region of interest, optional bool
    HxW `annotated` pixels of a sparse label (None = a complete label: every pixel inside the ROI is taught), and
    the image's `name` (its stem; "" = unnamed), which keeps its place in the validation split as labels are added."""

    image: np.ndarray
    mask: np.ndarray
    roi: np.ndarray | None = None
    annotated: np.ndarray | None = None
    name: str = ""

    @property
    def scored(self) -> np.ndarray | None:
        """The pixels validation metrics count: inside the ROI and annotated (None = all)."""
        if self.annotated is None:
            return self.roi
        return self.annotated if self.roi is None else self.roi & self.annotated


def check_samples(samples: list[Sample]) -> None:
    if not samples:
        raise NoLabelsError("There are no labelled images for this class yet: draw a label on at least one image.")
    for i, s in enumerate(samples):
        if s.mask.shape != s.image.shape[:2] or any(m is not None and m.shape != s.image.shape[:2]
                                                    for m in (s.roi, s.annotated)):
            raise LabelSizeError(f"Labelled image {i + 1}: the label or region of interest is not the same size as "
                                 f"the image ({s.image.shape[1]}x{s.image.shape[0]} pixels).")


def _split_order(samples: list[Sample], seed: int, seen: Collection[str]) -> list[int]:
    """Sample indices in the order validation takes them: images the current model did not train on (`seen`: their
    names) first, then by a seeded hash of each image's name, so an image keeps its place as others are labelled
    and the current model is compared on images it never learnt from whenever there are such images."""
    def key(i: int) -> tuple[bool, bytes]:
        name = samples[i].name or f"#{i}"
        return name in seen, hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()

    return sorted(range(len(samples)), key=key)


def split_samples(samples: list[Sample], val_fraction: float, seed: int, scale: float = 1.0,
                  seen: Collection[str] = (), max_images: int | None = None,
                  doubtful: Callable[[str], bool] | None = None,
                  accepted: Collection[str] = ()) -> tuple[list[int], list[int], str]:
    """(train indices, validation indices, note). `val_fraction` of the images validate, at most `max_images`
    (None: no cap); they preferably contain labelled pixels and were not trained on by the current model (`seen`:
    the names it trained on, see _split_order); at least one image with labels stays in training; one sample is
    validated on itself. The per-epoch validation budget counts pixels at the working `scale`. `doubtful(name)`:
    whether a label looks incomplete (core.label_status.doubt); such labels validate last (a new-user trial's one
    validation image was a sliver where the model saw a whole lesion: "val Dice 0.11" judged every model by it). It
    is asked only of the first few candidates in order, so its cost stays bounded on big projects.
    `accepted`: the names of labels that are a model's prediction accepted unedited; they train but never validate
    (their scores would compare a model with its own prediction, about 1.00, and favour it in keep-unless-better),
    unless every label is one; the other images keep their places, and `val_fraction` counts only them."""
    n = len(samples)
    if n == 1:
        return [0], [0], "training image (only one labelled image)"
    seen, accepted = set(seen), set(accepted)
    order = _split_order(samples, seed, seen)
    fit = [i for i in order if samples[i].name not in accepted] if accepted else order
    only_accepted = not fit
    fit = fit or order
    has_pos = {i: bool(samples[i].mask.any()) for i in order}
    pos = [i for i in fit if has_pos[i]]
    neg = [i for i in fit if not has_pos[i]]
    n_val = min(n - 1, max(1, round(val_fraction * len(fit))), max_images or n)
    if doubtful is not None:  # the candidates validation would take, plus a few: the doubtful ones go last
        head = pos[:n_val + _DOUBT_SPARE]
        bad = {i for i in head if doubtful(samples[i].name or "")}
        pos = [i for i in head if i not in bad] + pos[len(head):] + [i for i in head if i in bad]
    val = pos[: min(n_val, max(0, sum(has_pos.values()) - 1))]  # an image with labelled pixels stays in training
    val += neg[: n_val - len(val)]
    budget, kept = _VAL_MAX_PIXELS, []
    for i in val:  # bound per-epoch validation cost; at least one image
        px = min(samples[i].mask.size * scale * scale, _VAL_MAX_SIDE**2)  # as val_view crops it
        if kept and px > budget:
            break
        kept.append(i)
        budget -= px
    held_out = set(kept)
    train = [i for i in range(n) if i not in held_out]
    if only_accepted:
        return train, kept, "held-out images (every label is an accepted prediction: the scores compare a model " \
                            "with a model's own prediction)"
    if seen and all(samples[i].name in seen for i in kept):
        return train, kept, "held-out images (the current model trained on them)"
    return train, kept, "held-out images"


def val_view(s: Sample, scale: float = 1.0) -> Sample:
    """Crop a validation image that is huge at the working `scale` to a window of _VAL_MAX_SIDE px there, around its
    labelled pixels. Lesion photos (worked at a quarter of their size or less) are validated whole, as the window
    predicts them: a trial's 1350 px photo cropped to 1024 px validated at Dice 0.11 while the list showed 0.00."""
    H, W = s.mask.shape
    side = max(1, round(_VAL_MAX_SIDE / min(1.0, max(scale, 1e-6))))
    if H <= side and W <= side:
        return s
    ys, xs = np.nonzero(s.mask) if s.mask.any() else (np.array([H // 2]), np.array([W // 2]))
    h, w = min(H, side), min(W, side)
    y0 = int(np.clip(np.median(ys) - h // 2, 0, H - h))
    x0 = int(np.clip(np.median(xs) - w // 2, 0, W - w))
    sl = (slice(y0, y0 + h), slice(x0, x0 + w))
    return Sample(s.image[sl], s.mask[sl], None if s.roi is None else s.roi[sl],
                  None if s.annotated is None else s.annotated[sl], s.name)
