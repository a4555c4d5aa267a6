"""What a label of one class on one image is, and when a "complete" label plainly is not (Qt-free rules).

Statuses, as the image list shows them: not labelled; in progress = sparse (the label file holds 128 = not annotated,
"✓ 12 %"); complete (0/255, "✓"); "no <class> here" (an explicit negative, project.json image state ``NONE_KEY``).
The label file says sparse or complete; project.json's image state also records ``CONFIRMED_KEY``: the classes whose
complete label the clinician confirmed, which silences the doubt below, and ``ACCEPTED_KEY``: the classes whose
label is a model's prediction taken whole by Accept prediction and not edited since (never validated on where other
labels exist: ml.samples.split_samples; its scores would compare a model with its own prediction).

- A new label (the canvas' "auto" label mode, the default) starts sparse for a thin-structure class (vessels: nobody
  traces every one, so an unpainted pixel is "not annotated") and complete for a blob class (an outlined lesion with
  everything else background is a complete label). What a class is comes from its predictions (core/shapes.py);
  a class never predicted yet counts as a blob class.
- A complete label is *doubtful* (`doubt`) when its object pixels are far fewer than the prediction's on the same
  image (under ``DOUBT_RATIO`` of them, the prediction covering at least ``MIN_PREDICTED`` of the image) and the
  prediction shows what is missing (`left_out`): objects the label leaves out, or, of a blob class, a label that is a
  sliver of the predicted object it lies in; not a weak model's prediction drawing the labelled objects fatter. Or, with
  no prediction, when it is thin strokes: of a blob class (not known to be thin structures) at any size (a trial's
  three strokes across a cervix lesion covered 2.4 % of the photo, the lesion 25 %), of a thin-structure class when
  they cover under ``THIN_MIN_SHARE`` of the image (a traced vessel tree covers about 10 % of a fundus photo; a few
  strokes far less). Training would learn every unpainted object as background.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from medseg_gui.core.errors import MedsegError
from medseg_gui.core.left_out import PredictedGrid, left_out, predicted_grid
from medseg_gui.core.shapes import is_thin

LABEL_MODES = ("auto", "complete", "sparse", "correct")  # what a new label is: unpainted = background / not annotated
NONE_KEY = "none"  # project.json image state: classes the clinician marked "no <class> here"
CONFIRMED_KEY = "complete"  # project.json image state: classes whose complete label the clinician confirmed
ACCEPTED_KEY = "accepted"  # project.json image state: classes whose label is an accepted prediction, not edited since
DOUBT_RATIO = 0.3
MIN_PREDICTED = 0.002
THIN_MIN_SHARE = 0.02
ENOUGH_IMAGES = 8  # rule of thumb: models from fewer labelled images are often weak (Train panel, medseg train)
DOT_SHARE = 0.0005  # a complete label this small is one click of the brush, not an outline (new-user trial)
SLIVER_RATIO = 0.125  # a blob label under this share of the predicted objects it touches is a sliver of them; above
# it, the outline a weak model drew fatter (a trial's model, val Dice 0.55, predicted 4x a correct complete label)


def few_images_note(n: int) -> str:
    """What the Train panel and `medseg train` say of a model from `n` (< ENOUGH_IMAGES) labelled images; no count of
    how many more (a trial's project of 5 photos was told to label 4 more)."""
    return (f"{n} labelled image{'' if n == 1 else 's'}: models from fewer than {ENOUGH_IMAGES} are often weak; "
            "labelling more would likely help (add photos when every one is labelled).")


def marked(project: Any, key: str, cls: str) -> set[str]:
    """Stems whose project.json image state `key` (``NONE_KEY``, ``CONFIRMED_KEY``) lists `cls`."""
    return {e.stem for e in project.images if cls in (e.state.get(key) or [])}


def has_mark(project: Any, stem: str, key: str, cls: str) -> bool:
    """Whether `stem`'s project.json image state `key` lists `cls` (e.g. its label is an accepted prediction)."""
    return cls in (project.entry(stem).state.get(key) or [])


def record_mark(project: Any, stem: str, key: str, cls: str, on: bool) -> bool:
    """`set_mark`; False instead of MedsegError when project.json could not be saved (nothing is written, nor read
    from disk, when the mark is as asked already: cheap enough after every stroke)."""
    try:
        set_mark(project, stem, key, cls, on)
    except MedsegError:
        return False
    return True


def set_mark(project: Any, stem: str, key: str, cls: str, on: bool) -> None:
    """Add (or remove) `cls` to the image state `key` of `stem` and save project.json."""
    set_marks(project, [stem], key, cls, on)


def set_marks(project: Any, stems: Iterable[str], key: str, cls: str, on: bool) -> None:
    """`set_mark` of several images, project.json saved once (and not at all when nothing changes)."""
    changed = {}
    for stem in stems:
        classes = set(project.entry(stem).state.get(key) or [])
        if (cls in classes) != on:
            changed[stem] = sorted(classes | {cls} if on else classes - {cls})
    if changed:
        project.set_states(key, changed)


def not_doubted(project: Any, cls: str) -> set[str]:
    """Stems whose complete `cls` label is never doubted: confirmed complete, or marked "no <class> here"."""
    return marked(project, CONFIRMED_KEY, cls) | marked(project, NONE_KEY, cls)


JUDGE_DICE = 0.5  # a model that validated under this Dice does not judge complete labels by its predictions


def judges(model_info: dict | None) -> bool:
    """Whether the predictions of the model `model_info` describes (its metadata) may doubt complete labels: not
    those of one that validated under Dice JUDGE_DICE (a trial's cervix model at 0.12 predicted 35 % of a photo,
    so an accurate complete label was marked "✓ ?" and validated last). Without a validation Dice: yes."""
    dice = (model_info or {}).get("val_dice")
    return not (isinstance(dice, (int, float)) and not isinstance(dice, bool) and dice < JUDGE_DICE)


def saved_doubt(project: Any, cls: str, stem: str, label: np.ndarray, roi: np.ndarray | None,
                threshold: float, judged: bool = True, thin_class: bool | None = None) -> str | None:
    """`doubt` of the complete label `label` of `stem` beside its saved prediction at `threshold` (none saved, or
    not `judged` by its model (`judges`): judged without one), inside `roi` (the class's region); MedsegError when
    the prediction cannot be read."""
    prob = project.load_prediction(cls, stem) if judged else None
    return doubt(cls, label, None if prob is None else prob >= threshold, roi, thin_class)


class NewLabelRule:
    """Whether the first edit of an unlabelled class starts a sparse label, per label mode; remembers per class
    whether its predictions are thin structures (``saw_prediction``), and before any is seen what the project says
    (``reset``: `known_thin`)."""

    def __init__(self) -> None:
        self._thin: dict[str, bool] = {}
        self._assumed: dict[str, bool] = {}
        self._seen: set[tuple[str, str]] = set()  # (image key, class) measured already

    def reset(self, assumed: dict[str, bool]) -> None:
        """Another project: forget what was measured; `assumed` (class → thin) holds until a prediction says."""
        self._thin, self._assumed, self._seen = {}, dict(assumed), set()

    def saw_prediction(self, key: str, cls: str, predicted: np.ndarray | None) -> None:
        """A thresholded prediction (bool/uint8 HxW) of `cls` on image `key`; measured until one says what the class
        is (once per class: tens of ms on the GUI thread)."""
        if predicted is None or cls in self._thin or (key, cls) in self._seen:
            return
        self._seen.add((key, cls))
        thin = is_thin(predicted.astype(bool, copy=False))
        if thin is not None:
            self._thin[cls] = thin

    def is_thin(self, cls: str) -> bool | None:
        return self._thin.get(cls, self._assumed.get(cls))

    def starts_sparse(self, mode: str, cls: str) -> bool:
        if mode not in LABEL_MODES:
            raise ValueError(f"unknown label mode {mode!r}; expected one of {', '.join(LABEL_MODES)}")
        return bool(self.is_thin(cls)) if mode == "auto" else mode != "complete"


THIN_CLASS = "vessel"  # the default thin-structure class (project_format.DEFAULT_CLASSES)


def known_thin(project: Any) -> dict[str, bool]:
    """class → whether it is a thin structure, as far as `project` says before any prediction is shown: its current
    model's regime, else the default class 'vessel' (a trial's first vessel stroke on a new project started a
    complete label: every other vessel taught as background). Classes without either are left out."""
    known = {}
    for cls in project.class_names:
        regime = (project.current_model_info(cls) or {}).get("regime")
        if regime in ("vessels", "lesions"):
            known[cls] = regime == "vessels"
        elif cls == THIN_CLASS:
            known[cls] = True
    return known


def doubt(cls: str, label: np.ndarray, predicted: np.ndarray | None, roi: np.ndarray | None = None,
          thin_class: bool | None = None) -> str | None:
    """Why the complete label `label` (bool HxW object pixels) of `cls` looks incomplete, or None. `predicted`: the
    thresholded prediction (bool HxW) on the same image, None when there is none; `roi`: bool HxW or None;
    `thin_class`: whether `cls` is known to be thin structures (`known_thin`, NewLabelRule.is_thin; None: not known,
    a blob class as for a new label)."""
    inside = (lambda m: m) if roi is None else (lambda m: m & roi)
    pixels = max(int(roi.sum()), 1) if roi is not None else label.size
    shown = None if predicted is None else inside(predicted.astype(bool, copy=False))
    return counted_doubt(cls, label, int(inside(label.astype(bool, copy=False)).sum()),
                         None if shown is None else int(shown.sum()), pixels, thin_class,
                         lambda: predicted_grid(shown))


def counted_doubt(cls: str, label: np.ndarray, painted: int, expected: int | None, pixels: int,
                  thin_class: bool | None = None,
                  predicted: Callable[[], PredictedGrid] | None = None) -> str | None:
    """`doubt` from counts the caller keeps (the canvas counts a label's pixels as it is edited): `painted` object
    pixels of the label and `expected` of the prediction (None: no prediction) among `pixels`; `predicted` gives the
    thresholded prediction (inside the region) on the grid `left_out` judges on (`predicted_grid`: a caller keeps one
    per map and threshold), asked for only when the counts doubt the label (None: the counts decide); `label` is
    looked at only then and for thin strokes."""
    pixels = float(pixels)
    if 0 < painted < DOT_SHARE * pixels:
        return (f"This label is complete but holds only {painted} px of {cls} ({100 * painted / pixels:.3f} % of the "
                f"image): one click of the brush? Every unpainted {cls} pixel is taught as background.")
    if expected is not None:
        if expected < MIN_PREDICTED * pixels or painted >= DOUBT_RATIO * expected:
            return None
        if predicted is not None:
            left, around = left_out(label, predicted(), bool(thin_class), DOT_SHARE * pixels)
            if left < MIN_PREDICTED * pixels and (thin_class or painted >= SLIVER_RATIO * around):
                return None  # the labelled objects drawn fatter (a weak model), nothing predicted left out
        return (f"This label is complete but has only {_pct(painted / pixels)} {cls}; the model predicts "
                f"{_pct(expected / pixels)} on this image. Every unpainted {cls} pixel is taught as background.")
    few = painted < THIN_MIN_SHARE * pixels or not thin_class  # a blob class: strokes at any size
    if 0 < painted and few and is_thin(label.astype(bool, copy=False)):
        return (f"This label is complete but looks like a few traced strokes ({_pct(painted / pixels)} {cls}). "
                f"Every unpainted {cls} pixel is taught as background.")
    return None


def cut_by_hand(agreed: int, painted: int, shape: tuple[int, int]) -> bool:
    """Whether a complete label of `painted` object pixels, down from `agreed` when the prediction last found it
    complete, was cut by the clinician's own edits (erasing what the model wrongly predicted) to more than a dot: a
    correction, said complete by the edit itself."""
    return DOT_SHARE * shape[0] * shape[1] <= painted < agreed


def _pct(share: float) -> str:
    return f"{100 * share:.1f} %" if share < 0.1 else f"{100 * share:.0f} %"
