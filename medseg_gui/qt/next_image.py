"""'Next image to label' (N, and the image list's button): opens the image whose label would teach the current class
most, by `core.uncertainty.rank_next` over what the image list shows (uncertainty scores, labelled shares), and
says why in one line for the status bar (`NextImageLine`: kept beside the image's own line once it has loaded)."""

from __future__ import annotations

from collections.abc import Callable

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
    unlabelled = sum(s not in labelled for s in order)
    shown_unlabelled = current is not None and current not in labelled  # the others are "other" images then
    why = next_reason(stem, scores, labelled, unlabelled, shown_unlabelled)
    return f"Next to label: {stem} — {why}."


def beside(image_line: str, stem: str, message: str) -> str:
    """The image's own line with why it was opened, its name said once: 'x — 640×512 · next to label: why'."""
    return f"{image_line} · next to label: {message.removeprefix(f'Next to label: {stem} — ')}"


class NextImageLine:
    """The status bar's image line (`session_line`, the image session's status) and "Next image to label"
    (`open_next`): the reason an image was opened is said again beside its own line once it has loaded (a big
    image's line arrives after the reason, which it used to replace at once). `show(text, ms)` writes the status bar,
    `shown()` reads what it shows."""

    def __init__(self, show: Callable[[str, int], None], shown: Callable[[], str] = lambda: "") -> None:
        self.show, self.shown = show, shown
        self.reason: tuple[str, str] | None = None  # (stem, why) of the image "Next image to label" opened
        self.image_line = ""  # the image session's last line
        self.left: str | None = None  # what became of the image left behind (Canvas.shape_closed)
        self.why_said = ""  # the line that said why the image shown was opened

    def edited(self, *_args: object) -> None:
        """A stroke on the image shown: why it was opened ("it is not labelled …") is no longer true, so the line
        saying it goes back to the image's own (a trial read it well after labelling the image)."""
        if self.why_said and self.shown() == self.why_said:
            self.show(self.image_line, 15000)
        self.why_said = ""

    def _say_why(self, text: str) -> None:
        self.why_said = text
        self.show(text, 15000)

    def on_leaving(self, text: str) -> None:
        """Say `text` (e.g. a polygon left open was closed and saved) now and again after the next image's line,
        which would replace it at once (a trial never saw it)."""
        self.left = text
        self.show(text, 15000)

    def beside_image(self, text: str, stem: str | None) -> None:
        """Say `text` beside the line of the image `stem` just opened: at once when that line is shown, else after it
        once it comes (a large image's line arrives later and replaced a trial's note about subfolders)."""
        if stem is not None and self.image_line.startswith(f"{stem} — "):
            self.show(f"{self.image_line} · {text}", 20000)
        else:
            self.on_leaving(text)

    def open_next(self, images: ImageListPanel, cls: str | None) -> None:
        message = open_next_to_label(images, cls)
        stem, self.reason = images.current_stem(), None
        if message.startswith("Next to label") and stem is not None:
            if self.image_line.startswith(f"{stem} — "):  # it loaded at once (a small image)
                self._say_why(beside(self.image_line, stem, message))
                return
            self.reason = (stem, message)
        self.show(message, 15000)

    def session_line(self, text: str) -> None:
        self.image_line = text
        if self.left is not None and " — " in text and not text.startswith("Loading "):
            text, self.left = f"{text} · {self.left}", None
        reason = self.reason
        if reason is not None and text.startswith(f"{reason[0]} — "):
            self.reason = None
            self._say_why(beside(text, reason[0], reason[1]))
            return
        if reason is not None and not text.startswith(f"Loading {reason[0]}"):
            self.reason = None  # another image or message came first
        self.show(text, 8000)
