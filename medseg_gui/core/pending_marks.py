"""Image marks the window set (project.json image state: accepted prediction, confirmed complete, "no <class> here",
reviewed) that project.json could not take (a folder remounted read-only, a full disk, the lock taken over): kept
with the value wanted, per (project, stem, key, class), a later mark of the same replacing an earlier one, until
`retry` writes them or the user discards them, as the label saver keeps labels (a fault-injection trial's accepted
prediction lost its mark silently, so Retrain validated on the model's own output).

The project object and project.json keep saying what is on disk; what decides from a mark (a toggle, an edit of an
accepted label) asks `wanted`, which sees the kept ones."""

from __future__ import annotations

import logging
from typing import Any

from medseg_gui.core.errors import MedsegError
from medseg_gui.core.label_status import ACCEPTED_KEY, CONFIRMED_KEY, NONE_KEY, has_mark, marked, set_mark

log = logging.getLogger(__name__)

REVIEWED_KEY = "reviewed"  # project.json image state: the image was marked reviewed (R); its value is the mark
Mark = tuple[str, str, "str | None"]  # (stem, state key, class; None for a key whose value is the mark: reviewed)


def write_mark(project: Any, stem: str, key: str, cls: str | None, on: bool) -> None:
    """Save the mark in project.json (nothing written when it is as asked already); MedsegError when not saved."""
    if cls is not None:
        set_mark(project, stem, key, cls, on)
    elif bool(project.entry(stem).state.get(key)) != on:
        project.set_state(stem, key, on)


def mark_text(mark: Mark, on: bool) -> str:
    """What setting `mark` to `on` does, for "<stem> was not … in project.json"."""
    stem, key, cls = mark
    done = "marked" if on else "unmarked"
    if key == ACCEPTED_KEY:
        return f"{done} as the accepted {cls} prediction"
    if key == CONFIRMED_KEY:
        return f"{done} as having a confirmed complete {cls} label"
    if key == NONE_KEY:
        return f"{done} “no {cls} here”"
    if key == REVIEWED_KEY:
        return "marked reviewed" if on else "marked not reviewed"
    return f"given '{key}' = {on}" + ("" if cls is None else f" for {cls}")


class PendingMarks:
    """`set` writes a mark or keeps it; `retry` writes the kept ones; `wanted` / `marked` read through them."""

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, str, str, str | None], tuple[bool, str]] = {}  # → (value wanted, why not saved)

    def set(self, project: Any, stem: str, key: str, cls: str | None, on: bool) -> str | None:
        """Write the mark; None when project.json has it now, else why not. Not written, it is kept for `retry`
        (replacing one kept for the same image, key and class), except in a project open read-only, which never
        writes: nothing is kept there."""
        self._kept.pop((project, stem, key, cls), None)  # superseded, whether this one is written or not
        try:
            write_mark(project, stem, key, cls, on)
        except MedsegError as err:
            if project.read_only is None:
                self._kept[(project, stem, key, cls)] = (on, str(err))
                log.warning("%s was not %s in project.json (kept, written again later): %s", stem,
                            mark_text((stem, key, cls), on), err)
            return str(err)
        return None

    def retry(self) -> list[Mark]:
        """Write every kept mark again, oldest first; the marks written now (the others stay kept)."""
        written = []
        for (project, stem, key, cls), (on, _why) in list(self._kept.items()):
            try:
                write_mark(project, stem, key, cls, on)
            except MedsegError as err:
                self._kept[(project, stem, key, cls)] = (on, str(err))
                continue
            del self._kept[(project, stem, key, cls)]
            log.info("%s is %s in project.json now (retried)", stem, mark_text((stem, key, cls), on))
            written.append((stem, key, cls))
        return written

    def pending(self, project: Any = None) -> dict[Mark, tuple[bool, str]]:
        """The marks of `project` (None: of any) not in project.json: mark → (value wanted, why not saved)."""
        return {(stem, key, cls): kept for (p, stem, key, cls), kept in self._kept.items()
                if project is None or p is project}

    def discard(self) -> list[Mark]:
        """Forget every kept mark (the user chose to); what was dropped."""
        dropped = [((stem, key, cls), on) for (_p, stem, key, cls), (on, _why) in self._kept.items()]
        self._kept.clear()
        for mark, on in dropped:
            log.warning("%s was not %s in project.json: discarded by the user", mark[0], mark_text(mark, on))
        return [mark for mark, _on in dropped]

    def __bool__(self) -> bool:
        return bool(self._kept)

    def wanted(self, project: Any, stem: str, key: str, cls: str | None) -> bool:
        """The mark as last set: a kept one, else project.json's."""
        kept = self._kept.get((project, stem, key, cls))
        if kept is not None:
            return kept[0]
        return bool(project.entry(stem).state.get(key)) if cls is None else has_mark(project, stem, key, cls)

    def marked(self, project: Any, key: str, cls: str) -> set[str]:
        """Stems whose `key` mark lists `cls` as last set (label_status.marked with the kept marks on top)."""
        stems = marked(project, key, cls)
        for (p, stem, k, c), (on, _why) in self._kept.items():
            if p is project and (k, c) == (key, cls):
                (stems.add if on else stems.discard)(stem)
        return stems

    def follow_accepted(self, project: Any, stem: str, cls: str, accepted: bool) -> str:
        """Set after an edit, undo or redo whether the `cls` label of `stem` is an accepted prediction
        (``ACCEPTED_KEY``); what to tell the user when that changed, '' otherwise (a trial's status bar still said
        "Prediction accepted …" after Ctrl+Z had undone it). A mark not saved says so itself (kept, retried)."""
        if self.wanted(project, stem, ACCEPTED_KEY, cls) == accepted:
            return ""
        if self.set(project, stem, ACCEPTED_KEY, cls, accepted) is not None and project.read_only is not None:
            return ""  # not kept either: the refusal says why
        return (f"The {cls} label of {stem} is the model's accepted prediction: Retrain learns from it but does not "
                "validate on it." if accepted else f"The {cls} label of {stem} is no longer the accepted prediction: "
                "Retrain may validate on it again.")
