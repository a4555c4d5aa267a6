"""What the pipeline's runs hand back: `TrainOutcome` (a Retrain or `medseg train`) and `EvalReport` (`medseg
evaluate`), with the notes both the CLI and the window show of them. No Qt, no Keras; `pipeline` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medseg_gui.core.metrics import NOT_SCORED, mean_metrics
from medseg_gui.core.model_names import start_name
from medseg_gui.core.score_text import model_figure

TRAIN_CANCELLED = "Training cancelled — previous model kept."  # the one text for a cancelled training
PREDICT_ALL_TEXT = "Train → Predict all images"  # the command that predicts with the current model, no training
PREDICT_ALL_KEY = "Ctrl+P"  # its shortcut (qt.keymap reads it from here)


def stored_current(cls: str) -> str:
    """What a run that stored its model and then failed or died says first (TrainingView, `prediction_died_text`)."""
    return f"The new '{cls}' model was stored and is the current one"


def prediction_died_text(cls: str, how: str, kept: bool, info: dict | None, left: int, old: int, total: int) -> str:
    """What the user reads when a Retrain's process died while it predicted the images (`how`: child_process.
    ended_how), its model decided: first what stands (the class's current model, `info` from current.json, `kept`:
    the run's new one, with its headline figure), then what stopped, and which images lack a prediction of that
    model (`left` of `total`; `old` of them keep an older model's). A trial read the decision's reasons, three Dice
    figures, between "Prediction stopped unexpectedly" and "Some images keep their old prediction", in a project that
    had no prediction before."""
    figure = f", {model_figure(info)}" if info else ""
    if info and isinstance(info.get("start_kept"), dict):  # ml/train.py: its start validated better, kept unchanged
        figure = f": {start_name(info) or 'the start its run began from'} kept unchanged{figure}"
    if kept:
        text = f"{stored_current(cls)}{figure}. Predicting the images with it then stopped unexpectedly: {how}."
    else:
        text = (f"The new '{cls}' model was not kept: the previous one stays current{figure}. Predicting the images "
                f"it had not predicted yet then stopped unexpectedly: {how}.")
    if not left:
        return text
    images = f"{left} of {total} image{'' if total == 1 else 's'}"
    has = "has" if left == 1 else "have"
    if old and old == left:
        older = " (it keeps an older model's prediction)" if left == 1 else " (each keeps an older model's prediction)"
    elif old:
        older = f" ({old} of them {'keeps' if old == 1 else 'keep'} an older model's prediction, the others have none)"
    else:
        older = ""
    return (f"{text} {images} {has} no prediction from the current model yet{older}: {PREDICT_ALL_TEXT} "
            f"({PREDICT_ALL_KEY}) predicts them.")


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
