"""What the image list's "Labelled (<class>)" cell says about one image: the tick, a sparse label's annotated share,
"none" for an explicit negative, "✓ ?" for a complete label that looks incomplete, and which split of the current
model the image was in, with a tooltip that explains each mark. Plain text, no widgets."""

from __future__ import annotations

from medseg_gui.core.masks import share_text
from medseg_gui.qt.keymap import key_text

UNSAVED = "⚠ not saved"
SPLIT_MARKS = {"train": ("train", "Used to train the current model"),
               "val": ("val", "Held out for validation: the current model did not learn from this image, so its "
                              "scores here are an honest check"),
               "new": ("new", "Not used by the current model (labelled since it was trained, or left out): "
                              "Retrain to use it")}


def labelled_cell(cls: str, labelled: bool, share: float | None, *, negative: bool = False, doubt: str | None = None,
                  split: str | None = None) -> tuple[str, str, float]:
    """(text, tooltip, sort key) of the cell. `share`: a sparse label's annotated share (None: complete); `negative`:
    marked "no <cls> here"; `doubt`: why a complete label looks incomplete (core.label_status); `split`: "train",
    "val" or "new" for the current model, None when it recorded none."""
    if not labelled:
        return "", "", 0
    text = "✓" if share is None else f"✓ {share_text(share)}"
    tips = [] if share is None else [f"Sparse label: {share_text(share, 1)} of the image is annotated "
                                     "(the rest is ignored by training and scores)"]
    if negative and share is None:
        text = "none"
        tips.append(f"You marked: no {cls} on this image (an all-background label; Retrain learns "
                    f"from it as a negative; {key_text('no_object')} again takes it back)")
    if doubt and text == "✓":
        text, tips = "✓ ?", [doubt, *tips]
    if split is not None:
        mark, tip = SPLIT_MARKS[split]
        text, tips = f"{text} · {mark}", [tip, *tips]
    return text, "\n".join(tips), 1 if share is None else share
