"""What the canvas tells the user once an edit has ended, once per image and class (through its ``notice``): class
pixels painted outside the region shown, and a complete label started over a prediction. Plain logic over the
``LabelDocument``: it follows the document's ``edited`` events to know what the edit under way changed, and the
canvas calls ``after_edit`` when the edit ends (``Canvas.edit_finished``), ``restored`` after an undo or redo and
``recheck`` when the region changes."""

from __future__ import annotations

from collections.abc import Callable

from medseg_gui.core.masks import OBJECT, BBox, bbox_slices, bbox_union
from medseg_gui.core.regions import MOSTLY_OUTSIDE, outside_share
from medseg_gui.qt.canvas.document import LabelDocument
from medseg_gui.qt.keymap import key_text


class EditNotes:
    """``after_edit(name)`` says what needs saying about the edit of ``name`` that just ended, through ``notify``."""

    def __init__(self, doc: LabelDocument, notify: Callable[[str], None]) -> None:
        self._doc, self._notify = doc, notify
        self._told_complete: set[tuple[str, str]] = set()  # (image key, class) edited: `_complete_start`
        self._told_outside: set[tuple[str, str]] = set()  # (image key, class): `_outside_region` said it
        self._told_largely: set[tuple[str, str]] = set()  # (image key, class): `region_set` said it
        self._box: BBox | None = None  # what the edit under way changed
        doc.events.edited.connect(self._edited)

    def _edited(self, _name: str, bbox: BBox) -> None:
        self._box = bbox_union(self._box, bbox)


    def after_edit(self, name: str) -> None:
        """Both notes in one message when both apply (the second replaced the first: a trial's first wand click
        beyond the cervix showed only "New complete 'lesion' label")."""
        said = " ".join(note for note in (self._outside_region(name), self._complete_start(name)) if note)
        if said:
            self._notify(said)

    def restored(self, name: str | None) -> None:
        """An undo or redo changed the label of ``name`` (None: nothing was undone): no edit of the user's to talk
        about, but the outside-region note may no longer hold (``recheck``)."""
        self._box = None
        if name is not None:
            self.recheck(name)

    def region_set(self, name: str) -> None:
        """A region was given (an image shown, a class chosen, a predicted region moved): `recheck`, and once per
        image and class say so when over core.regions.MOSTLY_OUTSIDE of the label lies outside it (a weak cervix
        model's region took 64 % of a trial's polyp label, and opening the image said nothing)."""
        self.recheck(name)
        doc, key = self._doc, (self._doc.key, name)
        if doc.roi is None or name not in doc.labels or key in self._told_largely:
            return
        share = outside_share(doc.labels[name] == OBJECT, doc.roi.astype(bool))
        if share > MOSTLY_OUTSIDE:
            self._told_largely.add(key)
            self._notify(f"{share:.0%} of this '{name}' label lies outside the region (darkened): training and scores "
                         "use only the part inside it.")

    def recheck(self, name: str) -> None:
        """After an undo, a redo or a new region: once the outside-region note was said, say when no pixel of the
        label lies outside the region any more, and say the note again at the next edit that puts some there (a
        trial's note stayed on screen after Ctrl+Z, and after the cervix was extended around the lesion)."""
        key = (self._doc.key, name)
        if key in self._told_outside and not self._outside(name, None):
            self._told_outside.discard(key)
            if self._doc.roi is not None:
                self._notify(f"No part of this '{name}' label lies outside the region now.")

    def _outside(self, name: str, box: BBox | None) -> bool:
        """Whether a class pixel of the label of ``name`` lies outside the region shown, inside ``box`` (None: the
        whole image)."""
        doc = self._doc
        if doc.roi is None or name not in doc.labels:
            return False
        rows, cols = bbox_slices(box) if box is not None else (slice(None), slice(None))
        return bool(((doc.labels[name][rows, cols] == OBJECT) & ~doc.roi[rows, cols].astype(bool)).any())

    def _outside_region(self, name: str) -> str | None:
        """Once per image and class when an edit put class pixels outside the region shown (the image's ROI or the
        region the class is restricted to): kept and exported as drawn, but training and scores ignore them there
        (a trial painted a lesion beyond its cervix without a word)."""
        box, self._box = self._box, None
        key = (self._doc.key, name)
        if box is None or key in self._told_outside or not self._outside(name, box):
            return None
        self._told_outside.add(key)
        return (f"Part of this '{name}' label lies outside the region (darkened): it is kept and exported as drawn, "
                "but training and scores leave it out there.")

    def _complete_start(self, name: str) -> str | None:
        """Once per image and class when an edit started a complete label over a prediction: every unpainted
        pixel is then background, so the predicted object turns red (FP) where it was not painted (a new-user
        trial's one stroke beside a correctly predicted polyp made it all "wrong"). Only at the label's first edit:
        a later one (after a Retrain predicted the image) is no new label (a trial's polygon on it was told so)."""
        doc, key = self._doc, (self._doc.key, name)
        first = key not in self._told_complete
        self._told_complete.add(key)
        if (not first or name not in doc.preds or name not in doc.labelled
                or doc.is_sparse(name) or not doc.new_here(name)):
            return None
        return (f"New complete '{name}' label: unpainted pixels are background, so the prediction shows red (FP) "
                f"there. To correct the prediction instead: undo ({key_text('undo')}), then Accept prediction, or New "
                "label: Correct prediction.")
