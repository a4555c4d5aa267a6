"""'Next image to label' (N, and the image list's button): opens the image whose label would teach the current class
most, by `core.uncertainty.rank_next` over what the image list shows (uncertainty scores, labelled shares), and
says why in one line for the status bar."""

from __future__ import annotations

from medseg_gui.core.uncertainty import next_reason, rank_next
from medseg_gui.qt.panels.image_list import ImageListPanel


def open_next_to_label(images: ImageListPanel, cls: str | None) -> str:
    """Select the most informative image other than the current one (readable images only, in the list's order on
    ties); the message saying which and why, or that there is nothing left to label."""
    current = images.current_stem()
    stems = [s for s in images.stems() if s != current and images.error(s) is None]
    scores, labelled = images.uncertainty(), images.labelled_shares()
    order = rank_next(stems, scores, labelled)
    if not stems or not cls:
        return "There is no other image to open."
    if not order:
        return f"Every other image already has a complete '{cls}' label — nothing left to label."
    stem = order[0]
    images.select(stem)
    return f"Next to label: {stem} — {next_reason(stem, scores, labelled)}."
