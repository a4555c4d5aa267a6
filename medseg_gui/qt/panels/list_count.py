"""The status bar's count of the project's images: '254/300 labelled' (short: the status bar's messages share its
width), its tooltip in words, kept up to date as labels are saved, imported or removed (a trial preparing a
300-photo study found no total anywhere)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from medseg_gui.qt.message_bar import StatusField
from medseg_gui.qt.panels.image_list import ImageListPanel


def count_text(labelled: int, images: int, cls: str) -> tuple[str, str]:
    """('254/300 labelled', "Images with a 'lesion' label …: 254 of 300"); ('', '') without images or class."""
    if not images or not cls:
        return "", ""
    return f"{labelled}/{images} labelled", f"Images with a '{cls}' label (complete or strokes): {labelled} of {images}"


class ListCount(StatusField):
    """Follows `images` (ImageListPanel.labels_changed): how many of its images have a label of the current class."""

    MIN_CHARS = 20  # short: kept whole ("8/10 label…" beside a long training line)

    def __init__(self, images: ImageListPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setContentsMargins(12, 0, 0, 0)
        self._images = images
        images.labels_changed.connect(self._update)

    def _update(self, cls: str, shares: dict[str, float]) -> None:
        stems = set(self._images.stems())
        text, tip = count_text(len(stems & set(shares)), len(stems), cls)
        self.setText(text)
        self.setToolTip(tip)
