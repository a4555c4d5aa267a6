"""What the image list's "Labelled (<class>)" cell says about one image: the tick, a sparse label's annotated share,
"none" for an explicit negative, "⚠ label unreadable" for a label file that cannot be read, "✓ ?" for a complete
label that looks incomplete, "✓ …" while it is not known yet whether a label is complete or sparse, "✓ accepted"
for an accepted prediction, and which split of the current model the image was in ("new" once its label was saved
after that model's run read the labels; "seen" for a photo its built-in start saw), in a word or two each, with a
tooltip that explains each mark; `LabelMarks` holds what the list
knows about each image's labels to say it. Plain text, no widgets.

Whether a label is complete or sparse is known only once its file was read (in the background when a project or class
is opened: qt.label_shares; live for the image on screen): until then the list must not show a sparse label as
complete (an ophthalmologist's trial saw stroke labels as plain "✓" with upright scores for 2 s after opening)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from medseg_gui.core.masks import share_text
from medseg_gui.core.project import SEEN, LabelsRead, seen_mark
from medseg_gui.qt.keymap import key_text

UNSAVED = "⚠ not saved"
PENDING = "✓ …"
PENDING_TIP = ("Labelled. Reading the label file to tell a complete label from a sparse one (strokes); its scores show "
               "once it is read")
LABEL_UNREADABLE = "⚠ label unreadable"
ACCEPTED = "✓ accepted"
ACCEPTED_TIP = ("The model's own prediction, accepted: its scores compare the model with its own output (about 1.00), "
                "not with your judgement, until you correct the label. Retrain learns from it but does not validate "
                "on it")
WARNINGS = (UNSAVED, LABEL_UNREADABLE)  # the texts the list shows as warnings (image_columns.UNSAVED_COLOR)
SPLIT_MARKS = {"train": ("train", "Used to train the current model"),
               "val": ("val", "Held out for validation: the current model did not learn from this image, so its "
                              "scores here are an honest check"),
               "new": ("new", "Not used by the current model: labelled or changed since it was trained, left out, "
                              "or used by a later run that was not kept (the Train panel and Models… say why). "
                              "Retrain to use it"),
               "test": ("test", "The dataset's test split (as imported): never trained or validated on, so the "
                                "scores here are an honest check"),
               SEEN: ("seen", "Seen by the built-in start: one of the photos it was trained on, and the current "
                              "model is that start or began from it: its scores here flatter it, they are no honest "
                              "check (label photos the start never saw for one)")}
"""split → (the cell's mark, its tooltip): marks of a word, so the score columns fit beside the Labelled column (an
outside trial's "✓ accepted · seen by the built-in start" made it 350 px wide at 150 %, every score out of view)."""


def labelled_cell(cls: str, labelled: bool, share: float | None, *, negative: bool = False, doubt: str | None = None,
                  split: str | None = None, pending: bool = False,
                  accepted: bool = False) -> tuple[str, str, float]:
    """(text, tooltip, sort key) of the cell. `share`: a sparse label's annotated share (None: complete); `negative`:
    marked "no <cls> here"; `doubt`: why a complete label looks incomplete (core.label_status); `split`: "train",
    "val", "test", "new" or "seen" (core.project.split_marks) for the current model, None when it recorded none;
    `pending`: not known yet whether the label is complete or sparse; `accepted`: the label is an accepted
    prediction, not edited since."""
    if not labelled:
        return "", "", 0
    if pending:
        text, tips = PENDING, [PENDING_TIP]
    else:
        text = "✓" if share is None else f"✓ {share_text(share)}"
        tips = [] if share is None else [f"Sparse label: {share_text(share, 1)} of the image is annotated "
                                         "(the rest is ignored by training and scores)"]
    if negative and share is None and not pending:
        text = "none"
        tips.append(f"You marked: no {cls} on this image (an all-background label; Retrain learns "
                    f"from it as a negative; {key_text('no_object')} again takes it back)")
    if accepted and text == "✓":
        text, tips = ACCEPTED, [ACCEPTED_TIP, *tips]
    if doubt and text == "✓":
        text, tips = "✓ ?", [doubt, *tips]
    if split is not None and text == ACCEPTED:  # its split says nothing of its scores: in the tooltip only
        tips.append(SPLIT_MARKS[split][1])
    elif split is not None:
        mark, tip = SPLIT_MARKS[split]
        text, tips = f"{text} · {mark}", [tip, *tips]
    return text, "\n".join(tips), 1 if share is None else share


@dataclass
class LabelMarks:
    """What the image list knows about the labels: which images have one of the current class (`labelled`), which
    labels are complete or sparse with their annotated shares (class → stem → share, None: complete; a stem not
    there is not known yet), labels not saved yet (stem → why), the current model's split (stem → "train" | "val";
    None: not recorded), the photos its shipped start saw (`start_saw`, start_photos), when the current model's run
    read the labels (`read_at`, core.project.LabelsRead) and when each label file was last saved (class → stem →
    POSIX s), images marked "no <class> here", accepted predictions and complete labels that look incomplete
    (class → stem → why)."""

    labelled: set[str] = field(default_factory=set)
    kinds: dict[str, dict[str, float | None]] = field(default_factory=dict)
    unsaved: dict[str, str] = field(default_factory=dict)
    split: dict[str, str] | None = None
    start_saw: dict[str, set[str]] = field(default_factory=dict)  # model id → photos its shipped start saw
    model: str = ""  # the current model's id
    negatives: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)  # labels that are an accepted prediction, not edited since
    read_at: LabelsRead = field(default_factory=LabelsRead)
    saved_at: dict[str, dict[str, float]] = field(default_factory=dict)
    doubts: dict[str, dict[str, str]] = field(default_factory=dict)
    unreadable: dict[str, dict[str, str]] = field(default_factory=dict)  # class → stem → why its file cannot be read

    def split_of(self, stem: str | None) -> str | None:
        """"train" / "val" / "new" for `stem` by the current model's split, None when not known."""
        return None if self.split is None or stem is None else self.split.get(stem, "new")

    def set_split(self, train: list[str] | None, val: list[str] | None, test: Collection[str] = (),
                  read_at: LabelsRead = LabelsRead(), model: str = "", start_saw: Collection[str] = ()) -> None:
        """The current model's split (None: not recorded), the dataset's test split, when its run read the labels,
        its id and photos its start saw (more may come: `add_start_saw`)."""
        self.model = model
        self.add_start_saw(model, start_saw)
        self.split = None if train is None or val is None else {
            **dict.fromkeys(test, "test"), **dict.fromkeys(train, "train"), **dict.fromkeys(val, "val")}
        self.read_at = read_at

    def add_start_saw(self, model: str, stems: Collection[str]) -> None:
        """Photos the shipped start of the model `model` (its id) was trained on."""
        self.start_saw.setdefault(model, set()).update(stems)

    def set_saved_at(self, cls: str, saved_at: dict[str, float]) -> None:
        """When the `cls` labels of these images were saved (POSIX s); the later time is kept (a file's mtime read in
        the background may predate a save made meanwhile)."""
        times = self.saved_at.setdefault(cls, {})
        for stem, at in saved_at.items():
            times[stem] = max(at, times.get(stem, at))

    def shown_split(self, cls: str, stem: str) -> str | None:
        """`split_of`, but "new" for a training or validation image whose `cls` label was saved after the current
        model's run read the labels: the model never saw that label (a trial's accepted prediction showed
        "· train"); "seen" for any but a training image when its start saw the photo (a trial's kept start)."""
        split = self.split_of(stem)
        saved = self.saved_at.get(cls, {}).get(stem)
        read_at = self.read_at.at(stem)
        changed = read_at is not None and saved is not None and saved > read_at
        split = "new" if changed and split in ("train", "val") else split
        return None if split is None else seen_mark(split, stem in self.start_saw.get(self.model, ()))

    def set_share(self, cls: str, stem: str, share: float | None) -> None:
        """A sparse `cls` label's annotated share (0–1); None: complete (or no label)."""
        self.kinds.setdefault(cls, {})[stem] = None if share is None else float(share)

    def pending(self, cls: str) -> set[str]:
        """The labelled images (`cls` being the current class) whose label is not known yet to be complete or sparse,
        but for the unreadable ones."""
        return self.labelled - self.kinds.get(cls, {}).keys() - self.unreadable.get(cls, {}).keys()

    def set_doubt(self, cls: str, stem: str, why: str | None) -> None:
        doubts = self.doubts.setdefault(cls, {})
        if why is None:
            doubts.pop(stem, None)
        else:
            doubts[stem] = why

    def sparse_share(self, cls: str, stem: str) -> float | None:
        """The annotated share of `stem`'s sparse `cls` label; None when it has a complete label or none."""
        return self.kinds.get(cls, {}).get(stem) if stem in self.labelled else None

    def shares(self, cls: str) -> dict[str, float]:
        """{stem: annotated share} of the labelled images whose label could be read (1.0: a complete label, or one
        not read yet): what Retrain trains on (a trial's panel said "your 5 labelled images" with two unreadable)."""
        known, unreadable = self.kinds.get(cls, {}), self.unreadable.get(cls, {})
        return {stem: 1.0 if (share := known.get(stem)) is None else share
                for stem in self.labelled if stem not in unreadable}

    def cell(self, cls: str, stem: str) -> tuple[str, str, float]:
        """(text, tooltip, sort key) of `stem`'s cell when `cls` is the current class; an unsaved label first."""
        if stem in self.unsaved:
            return UNSAVED, f"This label is NOT saved yet (kept in memory, retried): {self.unsaved[stem]}", -1
        if (why := self.unreadable.get(cls, {}).get(stem)) is not None:
            return LABEL_UNREADABLE, (f"{why}\nRetrain leaves this image out. Drawing on it moves the file aside "
                                      "(kept) and starts a new label."), -1
        labelled = stem in self.labelled
        return labelled_cell(cls, labelled, self.sparse_share(cls, stem),
                             negative=stem in self.negatives, doubt=self.doubts.get(cls, {}).get(stem),
                             split=self.shown_split(cls, stem), accepted=stem in self.accepted,
                             pending=labelled and stem not in self.kinds.get(cls, {}))
