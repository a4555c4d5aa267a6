"""The job that loads a large image off the GUI thread (see core.image_view.loads_in_background), run by a
FunctionWorker: `load_prepared(project, stem, prepare=, load=)` returns a `LoadedView`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medseg_gui.core.image_view import ImageView, load_view


@dataclass(frozen=True)
class LoadedView:
    """What `load_prepared` hands the GUI: the view and what `prepare(view)` made of it (e.g. display pyramids)."""

    view: Any  # an ImageView, or what `load` returned
    prepared: Any = None


def load_prepared(project: Any, stem: str, *, prepare: Callable[[ImageView], Any] | None = None,
                  load: Callable[[Any, str], Any] = load_view,
                  should_stop: Callable[[], bool] | None = None) -> LoadedView:
    """`load(project, stem)` (default `load_view`; ImageReadError for an unreadable image), then `prepare(view)`
    on the same thread unless cancelled meanwhile, so only cheap work is left to the GUI."""
    view = load(project, stem)
    wanted = prepare is not None and not (should_stop is not None and should_stop())
    return LoadedView(view, prepare(view) if wanted else None)
