"""How much of each sparse label is annotated, read off the GUI thread for the image list's "✓ 12 %"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medseg_gui.core.errors import CancelledError, MedsegError
from medseg_gui.workers.base import Worker


@dataclass(frozen=True)
class LabelShares:
    """What a `LabelShareWorker` read: the annotated share (0–1) of each sparse label of `cls`, None = complete."""

    project: Any
    cls: str
    shares: dict[str, float | None]


class LabelShareWorker(Worker):
    """Reads the `cls` labels of `stems` (unreadable ones are left out: the image session reports them when shown)."""

    def __init__(self, project: Any, cls: str, stems: list[str]) -> None:
        super().__init__()
        self.project, self.cls, self.stems = project, cls, list(stems)

    def work(self) -> LabelShares:
        shares: dict[str, float | None] = {}
        for stem in self.stems:
            if self.is_cancelled():
                raise CancelledError("Reading the labels was cancelled.")
            try:
                pixels = self.project.load_label_pixels(self.cls, stem)
            except MedsegError:
                continue
            if pixels is not None:
                shares[stem] = None if pixels.annotated is None else float(pixels.annotated.mean())
        return LabelShares(self.project, self.cls, shares)
