"""What the canvas tells the user once an edit has ended, once per image and class (through its ``notice``): class
pixels painted outside the region shown, and a complete label started over a prediction. Plain logic over the
``LabelDocument``: it follows the document's ``edited`` events to know what the edit under way changed, and the
canvas calls ``after_edit`` when the edit ends (``Canvas.edit_finished``)."""

from __future__ import annotations

from collections.abc import Callable

from medseg_gui.core.masks import OBJECT, BBox, bbox_slices, bbox_union
from medseg_gui.qt.canvas.document import LabelDocument
from medseg_gui.qt.keymap import key_text


class EditNotes:
    """``after_edit(name)`` says what needs saying about the edit of ``name`` that just ended, through ``notify``."""

    def __init__(self, doc: LabelDocument, notify: Callable[[str], None]) -> None:
        self._doc, self._notify = doc, notify
        self._told_complete: set[tuple[str, str]] = set()  # (image key, class) edited: `_complete_start`
        self._told_outside: set[tuple[str, str]] = set()  # (image key, class): `_outside_region` said it
        self._box: BBox | None = None  # what the edit under way changed
        doc.events.edited.connect(self._edited)

    def _edited(self, _name: str, bbox: BBox) -> None:
        self._box = bbox_union(self._box, bbox)

    def forget_edit(self) -> None:
        """An undo or redo changed the pixels: no edit of the user's to talk about."""
        self._box = None

    def after_edit(self, name: str) -> None:
        self._outside_region(name)
        self._complete_start(name)

    def _outside_region(self, name: str) -> None:
        """Say once per image and class when an edit put class pixels outside the region shown (the image's ROI or
        the region the class is restricted to): kept and exported as drawn, but training and scores ignore them
        there (a trial painted a lesion beyond its cervix without a word)."""
        box, self._box = self._box, None
        doc = self._doc
        roi, key = doc.roi, (doc.key, name)
        if roi is None or box is None or key in self._told_outside or name not in doc.labels:
            return
        rows, cols = bbox_slices(box)
        if ((doc.labels[name][rows, cols] == OBJECT) & ~roi[rows, cols].astype(bool)).any():
            self._told_outside.add(key)
            self._notify(f"Part of this '{name}' label lies outside the region (darkened): it is kept and exported as "
                         "drawn, but training and scores leave it out there.")

    def _complete_start(self, name: str) -> None:
        """Say once per image and class when an edit started a complete label over a prediction: every unpainted
        pixel is then background, so the predicted object turns red (FP) where it was not painted (a new-user
        trial's one stroke beside a correctly predicted polyp made it all "wrong"). Only at the label's first edit:
        a later one (after a Retrain predicted the image) is no new label (a trial's polygon on it was told so)."""
        doc, key = self._doc, (self._doc.key, name)
        first = key not in self._told_complete
        self._told_complete.add(key)
        if (not first or name not in doc.preds or name not in doc.labelled
                or doc.is_sparse(name) or not doc.new_here(name)):
            return
        self._notify(f"New complete '{name}' label: unpainted pixels are background, so the prediction shows red "
                     f"(FP) there. To correct the prediction instead: undo ({key_text('undo')}), then Accept "
                     "prediction, or New label: Correct prediction.")
