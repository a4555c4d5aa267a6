"""How much of each sparse label is annotated, read off the GUI thread for the image list's "✓ 12 %", and which
label files cannot be read ("⚠ label unreadable")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medseg_gui.core.errors import CancelledError, MedsegError


@dataclass(frozen=True)
class LabelShares:
    """What `read_label_shares` read: the annotated share (0–1) of each sparse label of `cls`, None = complete;
    `unreadable`: why each label file that could not be read cannot (damaged, mis-sized, a label map)."""

    project: Any
    cls: str
    shares: dict[str, float | None]
    unreadable: dict[str, str]


def read_label_shares(project: Any, cls: str, stems: list[str], *,
                      should_stop: Callable[[], bool] = lambda: False) -> LabelShares:
    """Read the `cls` labels of `stems` (run by a FunctionWorker); unreadable ones are listed with the reason (the
    image session says it again when one is shown)."""
    shares: dict[str, float | None] = {}
    unreadable: dict[str, str] = {}
    for stem in stems:
        if should_stop():
            raise CancelledError("Reading the labels was cancelled.")
        try:
            pixels = project.load_label_pixels(cls, stem)
        except MedsegError as err:
            unreadable[stem] = str(err)
            continue
        if pixels is not None:
            shares[stem] = None if pixels.annotated is None else float(pixels.annotated.mean())
    return LabelShares(project, cls, shares, unreadable)
