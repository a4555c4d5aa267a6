"""What a training run reads from a project folder: the labelled images of a class as training Samples (inside the
class's region), which of their labels look incomplete (validated last) or are accepted predictions (never
validated), and the labels saved while a run trains (continuous training). No Qt, no Keras import at load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from medseg_gui.core.errors import MedsegError, NoLabelsError, RegionUnknownError, skip
from medseg_gui.core.label_status import ACCEPTED_KEY, marked
from medseg_gui.core.project import Project, dataset_test_stems, read_time
from medseg_gui.core.regions import MOSTLY_OUTSIDE, outside_share, region_source

if TYPE_CHECKING:
    from medseg_gui.ml.train import Sample

log = logging.getLogger(__name__)


def require_labels(project: Project, cls: str) -> list[str]:
    """The labelled stems of `cls` that may be trained on (not the test split); NoLabelsError (before any slow
    import) when there are none."""
    labelled = project.labelled_stems(cls)
    held = dataset_test_stems(project)
    stems = [s for s in labelled if s not in held]
    if not stems and labelled:
        raise NoLabelsError(f"The {len(labelled)} labelled images of class '{cls}' are all in the dataset's test "
                            "split, which is never trained on; label a training image first.")
    if not stems:
        raise NoLabelsError(
            f"No labelled images for class '{cls}' yet — draw a label on at least one image, then retrain."
        )
    return stems


def class_region(project: Project, cls: str, stem: str, threshold: float = 0.5,
                 unrestricted: dict[str, str] | None = None) -> np.ndarray | None:
    """Where `cls` is trained, predicted and scored on `stem` (Project.class_roi; None = whole image). Where its
    roi_class has no label or prediction on that image, the image's own ROI: noted in `unrestricted` (stem → the
    roi_class lacking, for one `note_unrestricted` over many images), else logged."""
    try:
        return project.class_roi(cls, stem, threshold)
    except RegionUnknownError as err:
        if unrestricted is None:
            log.warning("%s: %s; %s is not restricted there (label or predict '%s' first)", stem, err, cls,
                        err.roi_class)
        else:
            unrestricted[stem] = err.roi_class
        return project.load_roi(stem)


def note_unrestricted(cls: str, unrestricted: dict[str, str], among: Sequence[str],
                      notes: list[str] | None = None) -> tuple[str, ...]:
    """Those of the images `among` on which `cls` was not restricted (in `unrestricted`: `class_region`), noted once
    for them all (in `notes`, else the log): an unconfigured region class gave one warning per image."""
    gaps = tuple(stem for stem in among if stem in unrestricted)
    if gaps:
        names = ", ".join(gaps[:3]) + (", …" if len(gaps) > 3 else "")
        lacking = " or ".join(f"'{c}'" for c in sorted({unrestricted[stem] for stem in gaps}))
        skip(notes, f"{cls} is not restricted on {len(gaps)} of {len(among)} image{'' if len(among) == 1 else 's'} "
                    f"({names}): {lacking} has no label or prediction there yet (label or predict {lacking} first)")
    return gaps


def record_outside(project: Project, cls: str, stem: str, mask: np.ndarray, roi: np.ndarray | None,
                   outside: dict[str, float] | None, unrestricted: dict[str, str] | None = None) -> None:
    """Note in `outside` (stem → share) a label `mask` of a two-stage `cls` lying largely outside its region `roi`
    (over core.regions.MOSTLY_OUTSIDE of its pixels), for one `note_outside`; not for an image in `unrestricted`,
    whose `roi` is only its own ROI (its region is unknown)."""
    if unrestricted is not None and stem in unrestricted:
        return
    if outside is not None and roi is not None and project.class_spec(cls).roi_class is not None:
        if (share := outside_share(mask, roi)) > MOSTLY_OUTSIDE:
            outside[stem] = share


def note_outside(project: Project, cls: str, outside: dict[str, float]) -> tuple[str, ...]:
    """One warning for the images in `outside` (`record_outside`), naming each with its share outside and whether
    its region was labelled or predicted (a trial's lesion lost 64 % of its label to a weak cervix model's region
    and nothing said so); () when there are none."""
    if not outside:
        return ()
    parent = project.class_spec(cls).roi_class
    n, items = len(outside), list(outside.items())
    named = ", ".join(f"{stem}: {round(100 * share)} % outside, region {region_source(project, cls, stem)}"
                      for stem, share in items[:3])
    return (f"{cls} labels lie largely outside their {parent} region on {n} image{'' if n == 1 else 's'} "
            f"({named}{', …' if n > 3 else ''}): training and scores use only the part inside; label the {parent} "
            f"there or check the {parent} model",)


def load_sample(project: Project, cls: str, stem: str, threshold: float = 0.5,
                unrestricted: dict[str, str] | None = None, outside: dict[str, float] | None = None) -> Sample:
    """The training Sample of one labelled image of `cls` (its roi: `class_region`, which notes an unknown region in
    `unrestricted`; a label largely outside it goes to `outside`: `record_outside`); MedsegError, with the reason,
    when it cannot be read or its roi_class region is empty."""
    from medseg_gui.ml.train import Sample

    image, label = project.load_image(stem), project.load_label_pixels(cls, stem)
    roi = class_region(project, cls, stem, threshold, unrestricted)
    if label is None:
        raise MedsegError("its label file was removed meanwhile")
    if roi is not None and not roi.any():
        raise MedsegError(f"its '{project.class_spec(cls).roi_class}' region, which '{cls}' is restricted to, "
                          f"is empty")
    record_outside(project, cls, stem, label.mask, roi, outside, unrestricted)
    return Sample(image=image, mask=label.mask, roi=roi, annotated=label.annotated, name=stem)


def load_samples(
    project: Project, cls: str, skipped: list[str] | None = None, threshold: float = 0.5,
    unrestricted: dict[str, str] | None = None, outside: dict[str, float] | None = None,
) -> tuple[list[Sample], list[str]]:
    """The labelled images of `cls` as training samples (`load_sample`), and their stems.

    An image whose image, label or ROI cannot be read (or has the wrong size), or whose roi_class region is empty, is
    left out with a message; NoLabelsError when there are no labels, or when none of them can be read. Images whose
    roi_class region is unknown go to `unrestricted` (`class_region`), those whose label lies largely outside it to
    `outside` (`record_outside`).
    """
    stems = require_labels(project, cls)
    held = [s for s in project.labelled_stems(cls) if s in dataset_test_stems(project)]
    if held:
        log.info("%d labelled image(s) of the dataset's test split are not trained on: %s", len(held),
                 ", ".join(held[:5]) + (", …" if len(held) > 5 else ""))
    samples, used, problems = [], [], []
    for stem in stems:
        try:
            samples.append(load_sample(project, cls, stem, threshold, unrestricted, outside))
        except MedsegError as err:
            problems.append(f"{stem} left out of training: {err}")
            continue
        used.append(stem)
    if not samples:
        raise NoLabelsError(f"None of the {len(stems)} labelled images of class '{cls}' could be read; "
                            f"first problem: {problems[0]}")
    for message in problems:
        skip(skipped, message)
    return samples, used


def doubtful_labels(project: Project, cls: str, samples: Sequence[Sample], threshold: float
                    ) -> Callable[[str], bool]:
    """`name` → whether that sample's label is complete but looks incomplete (core.label_status.doubt: beside the
    image's saved prediction at `threshold`, or a dot or a few thin strokes), unless the clinician confirmed it or
    marked the image "no <class> here". Read on demand: split_samples asks only about validation candidates."""
    from medseg_gui.core.label_status import doubt, judges, known_thin, not_doubted, saved_doubt

    by_name = {s.name: s for s in samples}
    exempt = not_doubted(project, cls)
    judged = judges(project.current_model_info(cls))  # a weak model's predictions doubt nothing
    thin = known_thin(project).get(cls)

    def check(name: str) -> bool:
        sample = by_name.get(name)
        if sample is None or sample.annotated is not None or name in exempt:
            return False
        try:
            why = saved_doubt(project, cls, name, sample.mask, sample.roi, threshold, judged, thin)
        except MedsegError:  # an unreadable prediction: judged without one
            why = doubt(cls, sample.mask, None, sample.roi, thin)
        if why is not None:
            log.info("%s validates last: %s", name, why)
        return why is not None

    return check


def accepted_labels(project: Project, cls: str) -> set[str]:
    """Stems whose `cls` label is a model's prediction accepted whole and not edited since (core.label_status
    ``ACCEPTED_KEY``): never validated on while other labels exist (ml.samples.split_samples). They still train:
    the clinician looked at the prediction and took it as the label, as Accept prediction is for (more labelled
    images for little work); what validation needs, truth independent of the models it compares, they are not."""
    return marked(project, ACCEPTED_KEY, cls)


class SavedLabels:
    """The labels of `cls` saved since the last call (first: since construction), as training Samples: what
    continuous training polls between epochs (ml.train's `joined`). A label counts as saved when its file's
    modification time or size changed; the project is re-read each call, so new images and labels are seen.
    `read_at`: stem → when the call that read its label began (UTC, ISO): a file saved later was not read."""

    def __init__(self, project: Project, cls: str, threshold: float = 0.5):
        self.root, self.cls, self.threshold = project.root, cls, threshold
        self.seen = {stem: self._stamp(project, stem) for stem in project.labelled_stems(cls)}
        self.read_at: dict[str, str] = {}

    def _stamp(self, project: Project, stem: str) -> tuple[int, int] | None:
        try:
            st = project.label_path(self.cls, stem).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def __call__(self) -> list[Sample]:
        began = read_time()
        try:
            project = Project.open(self.root)
            stems = project.labelled_stems(self.cls)
        except (MedsegError, OSError) as err:
            log.info("Labels saved meanwhile not read: %s", err)
            return []
        found = []
        for stem in stems:
            stamp = self._stamp(project, stem)
            if stamp is None or self.seen.get(stem) == stamp:
                continue
            self.seen[stem] = stamp
            try:
                found.append(load_sample(project, self.cls, stem, self.threshold))
                self.read_at[stem] = began
            except MedsegError as err:
                log.warning("%s's new label was not joined: %s", stem, err)
        return found
