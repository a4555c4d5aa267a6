"""The worker that loads a large image off the GUI thread (see core.image_view.loads_in_background)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medseg_gui.core.image_view import ImageView, load_view
from medseg_gui.workers.base import Worker


@dataclass(frozen=True)
class LoadedView:
    """What a `ViewLoader` hands the GUI: the view and what `prepare(view)` made of it (e.g. display pyramids)."""

    view: ImageView
    prepared: Any = None


class ViewLoader(Worker):
    """Loads `stem` with `load` (default `load_view`) on its thread, then runs `prepare(view)` there too, so only
    cheap work is left to the GUI; emits `finished(LoadedView)`, or `errored(err)` for an unreadable image."""

    def __init__(self, project: Any, stem: str, *, prepare: Callable[[ImageView], Any] | None = None,
                 load: Callable[[Any, str], ImageView] = load_view) -> None:
        super().__init__()
        self.project, self.stem, self._prepare, self._load = project, stem, prepare, load

    def work(self) -> LoadedView:
        view = self._load(self.project, self.stem)
        return LoadedView(view, self._prepare(view) if self._prepare is not None and not self.is_cancelled() else None)
