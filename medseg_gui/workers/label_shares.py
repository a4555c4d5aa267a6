"""How much of each sparse label is annotated, read off the GUI thread for the image list's "✓ 12 %", which label
files cannot be read ("⚠ label unreadable"), and which complete labels look incomplete beside their prediction
("✓ ?", core.label_status.doubt)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medseg_gui.core.errors import CancelledError, MedsegError, RegionUnknownError
from medseg_gui.core.label_status import judges, known_thin, saved_doubt


@dataclass(frozen=True)
class LabelShares:
    """What `read_label_shares` read: the annotated share (0–1) of each sparse label of `cls`, None = complete;
    `unreadable`: why each label file that could not be read cannot (damaged, mis-sized, a label map); `doubts`:
    why each complete label looks incomplete (read only when a threshold was given); `saved_at`: when each label file
    was last saved (its mtime, POSIX s: the list's "· new" after the current model's run); `model`: the current
    model's metadata as read (which photos its shipped start saw is a job of its own: start_photos)."""

    project: Any
    cls: str
    shares: dict[str, float | None]
    unreadable: dict[str, str]
    doubts: dict[str, str] = field(default_factory=dict)
    judged: bool = True  # the current model's predictions may doubt labels (core.label_status.judges)
    saved_at: dict[str, float] = field(default_factory=dict)
    model: dict | None = None


def read_label_shares(project: Any, cls: str, stems: list[str], threshold: float | None = None,
                      exempt: frozenset[str] = frozenset(), *,
                      should_stop: Callable[[], bool] = lambda: False) -> LabelShares:
    """Read the `cls` labels of `stems` (run by a FunctionWorker); unreadable ones are listed with the reason (the
    image session says it again when one is shown). With a `threshold`, each complete label not in `exempt`
    (confirmed complete, or marked "no <class> here") is compared with its saved prediction (a new-user trial:
    the one validation image was such a label, flagged only once opened)."""
    shares: dict[str, float | None] = {}
    unreadable: dict[str, str] = {}
    doubts: dict[str, str] = {}
    saved_at: dict[str, float] = {}
    info = project.current_model_info(cls)
    judged, thin = judges(info), known_thin(project).get(cls)
    for stem in stems:
        if should_stop():
            raise CancelledError("Reading the labels was cancelled.")
        try:
            pixels = project.load_label_pixels(cls, stem)
        except MedsegError as err:
            unreadable[stem] = str(err)
            continue
        if pixels is None:
            continue
        try:
            saved_at[stem] = project.label_path(cls, stem).stat().st_mtime
        except OSError:
            pass  # gone since it was read: the next read tells
        shares[stem] = None if pixels.annotated is None else float(pixels.annotated.mean())
        if threshold is not None and pixels.annotated is None and stem not in exempt:
            if (why := _doubt(project, cls, stem, pixels.mask, threshold, judged, thin)) is not None:
                doubts[stem] = why
    return LabelShares(project, cls, shares, unreadable, doubts, judged, saved_at, info)


def _doubt(project: Any, cls: str, stem: str, mask: Any, threshold: float, judged: bool,
           thin: bool | None) -> str | None:
    """core.label_status.doubt of a complete label beside its saved prediction in the class's region; None when a
    file cannot be read (the image session reports it when the image is shown)."""
    try:
        try:
            roi = project.class_roi(cls, stem, threshold)
        except RegionUnknownError:
            roi = project.load_roi(stem)
        return saved_doubt(project, cls, stem, mask, roi, threshold, judged, thin)
    except MedsegError:
        return None
