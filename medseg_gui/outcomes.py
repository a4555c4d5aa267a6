"""What the pipeline's runs hand back: `TrainOutcome` (a Retrain or `medseg train`) and `EvalReport` (`medseg
evaluate`), with the notes both the CLI and the window show of them. No Qt, no Keras; `pipeline` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medseg_gui.core.metrics import NOT_SCORED, mean_metrics

TRAIN_CANCELLED = "Training cancelled — previous model kept."  # the one text for a cancelled training


@dataclass(frozen=True)
class TrainOutcome:
    """What one retrain did: the training result and whether its model replaced the current one."""

    result: Any  # ml.train.TrainResult
    decision: Any | None  # ml.store.StoreDecision; None when cancelled
    stems: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # one message per labelled image left out (a file unreadable, its region empty)
    unrestricted: tuple[str, ...] = ()  # of `stems`, those trained on unrestricted: their roi_class region unknown
    outside: tuple[str, ...] = ()  # one warning for the labels lying largely outside their region (note_outside)
    weak_region: tuple[str, ...] = ()  # one note: the region is a weak model's prediction (regions.weak_region_note)

    @property
    def notes(self) -> tuple[str, ...]:
        """What the run says of its labelled images, the same in `medseg train` and the Train panel: those left out,
        labels outside their region, a region a weak model predicted."""
        return (*self.skipped, *self.outside, *self.weak_region)

    @property
    def cancelled(self) -> bool:
        return bool(self.result.cancelled)

    def kept_segmenter(self) -> Any | None:
        """The new model when it became current, as store.load_segmenter would read it back (metadata: what
        current.json holds), to predict with from memory; None when the current model did not change."""
        if self.decision is None or not self.decision.kept_new or self.decision.current is None:
            return None
        return type(self.result.segmenter)(self.result.segmenter.model, dict(self.decision.current))

    def summary(self) -> str:
        """One line for a status bar or terminal."""
        if self.cancelled or self.decision is None:
            return TRAIN_CANCELLED
        return str(self.decision.reason)


@dataclass(frozen=True)
class EvalReport:
    """Per-image metrics (core.lesions.METRIC_KEYS) of the saved predictions against the labels, and the pixel
    metrics pooled (inside the ROI) over the images with a complete label. `strokes`: the images whose label is
    sparse (LabelPixels.sparse), scored on their annotated pixels only (mostly easy ones: an outside trial read
    Dice 0.95–0.97 on strokes averaged with 0.72–0.76 on complete masks), so they are averaged apart."""

    cls: str
    per_image: dict[str, dict[str, float]]
    pooled: dict[str, float] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()  # one message per image left out because a file could not be read
    strokes: frozenset[str] = frozenset()
    unrestricted: tuple[str, ...] = ()  # scored unrestricted: their roi_class region unknown (one warning says so)
    outside: tuple[str, ...] = ()  # one warning for the labels lying largely outside their region (note_outside)
    weak_region: tuple[str, ...] = ()  # one note: the region is a weak model's prediction (regions.weak_region_note)

    @property
    def notes(self) -> tuple[str, ...]:
        """What `medseg evaluate` warns of: images left out (unreadable, or not scored: core.metrics.scorable, the
        reason in their entry), labels outside their region, a region a weak model predicted."""
        unscored = tuple(f"{stem} not scored (left out of MEAN and POOLED): {m[NOT_SCORED]}"
                         for stem, m in self.per_image.items() if NOT_SCORED in m)
        return (*self.skipped, *unscored, *self.outside, *self.weak_region)

    def label_kind(self, stem: str) -> str:
        """'strokes' for a sparse label, 'complete' otherwise."""
        return "strokes" if stem in self.strokes else "complete"

    def _mean_of(self, strokes: bool) -> dict[str, float]:
        return mean_metrics({s: m for s, m in self.per_image.items() if (s in self.strokes) == strokes})

    @property
    def mean(self) -> dict[str, float]:
        """Mean over the images with a complete label of every metric (NaN skipped; {} without such images); the
        lesion metrics are reported this way only."""
        return self._mean_of(strokes=False)

    @property
    def strokes_mean(self) -> dict[str, float]:
        """Mean over the images with a sparse label ({} without), not comparable with `mean`."""
        return self._mean_of(strokes=True)
