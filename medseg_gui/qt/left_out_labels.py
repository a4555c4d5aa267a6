"""Label files of the image shown that exist but were left out of the view: unreadable ones, and ones not the size of
the image shown (`ImageView.misfit`). The first stroke of such a class moves the file to labels/<class>/.unreadable/
(never deleted or overwritten) before its new label is saved, and the user is told so before and after, with the
true reason. The image session first makes sure the image shown is still the one on disk (a trial moved a label that
fitted the photo put back on disk, because the window still showed the photo that had replaced it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medseg_gui.core.errors import MedsegError


@dataclass(frozen=True)
class LeftOut:
    """A label file not shown: where it is and whether it reads but does not fit the image (else it is unreadable)."""

    path: Path
    misfit: bool

    def why(self) -> str:
        return "does not fit the image" if self.misfit else "could not be read"


class LeftOutLabels:
    """The left-out label files of the image shown, by class (`remember` after each load)."""

    def __init__(self) -> None:
        self._files: dict[str, LeftOut] = {}

    def __contains__(self, cls: str) -> bool:
        return cls in self._files

    def remember(self, project: Any, stem: str, absent: Iterable[str], misfit: frozenset[str]) -> None:
        """The classes `absent` from the view (not loaded, no unsaved mask either) whose label file exists."""
        self._files = {cls: LeftOut(project.label_path(cls, stem), cls in misfit) for cls in absent
                       if project.has_label(cls, stem)}

    def warnings(self, stem: str) -> list[str]:
        """What a new label of each left-out class will do to its file, said before anyone draws."""
        return [f"If you draw a new '{cls}' label on {stem}, the file {f.path.name}, which "
                f"{'does not fit the image' if f.misfit else 'cannot be read'}, is first moved to "
                f"{f.path.parent / '.unreadable'} (it is never deleted or overwritten)."
                for cls, f in self._files.items()]

    def move_aside(self, project: Any, cls: str, stem: str) -> tuple[bool, str]:
        """Move the left-out label file of `cls` aside (core.project.Project.move_label_aside): (moved, message)."""
        left = self._files[cls]
        try:
            moved = project.move_label_aside(cls, stem)
        except MedsegError as err:
            return False, (f"The '{cls}' label file {left.path} {left.why()}, and it could not be moved aside either "
                           f"({err}); your new stroke was not saved and is undone.")
        del self._files[cls]
        return True, (f"The '{cls}' label file {left.path.name} of {stem} {left.why()}, so it was moved to {moved} "
                      "(not deleted). Your new label takes its place.")
