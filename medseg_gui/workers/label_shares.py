"""How much of each sparse label is annotated, read off the GUI thread for the image list's "✓ 12 %"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medseg_gui.core.errors import CancelledError, MedsegError


@dataclass(frozen=True)
class LabelShares:
    """What `read_label_shares` read: the annotated share (0–1) of each sparse label of `cls`, None = complete."""

    project: Any
    cls: str
    shares: dict[str, float | None]


def read_label_shares(project: Any, cls: str, stems: list[str], *,
                      should_stop: Callable[[], bool] = lambda: False) -> LabelShares:
    """Read the `cls` labels of `stems` (run by a FunctionWorker); unreadable ones are left out (the image session
    reports them when shown)."""
    shares: dict[str, float | None] = {}
    for stem in stems:
        if should_stop():
            raise CancelledError("Reading the labels was cancelled.")
        try:
            pixels = project.load_label_pixels(cls, stem)
        except MedsegError:
            continue
        if pixels is not None:
            shares[stem] = None if pixels.annotated is None else float(pixels.annotated.mean())
    return LabelShares(project, cls, shares)
