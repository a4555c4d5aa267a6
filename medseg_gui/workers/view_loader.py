"""The job that loads a large image off the GUI thread (see core.image_view.loads_in_background), run by a
FunctionWorker: `load_prepared(project, stem, prepare=, load=)` returns a `LoadedView`; `prepare_view` is what the
image session has it make of a view besides decoding it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from medseg_gui.core.image_view import ImageView, load_view
from medseg_gui.core.masks import ReadyLabel, blank_label, ready_label


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


@dataclass(frozen=True)
class Prepared:
    """What a loading thread makes of a view besides decoding it: the display pyramid, each label ready for the canvas
    (codes and counts; a blank one for a class without a label) and the saver's copy of each label read, so showing
    it copies, counts and first writes no label on the GUI thread."""

    pyramid: Any
    labels: dict[str, ReadyLabel]
    copies: dict[str, np.ndarray]


def prepare_view(view: ImageView, pyramid: Callable[[np.ndarray], Any]) -> Prepared:
    """The `Prepared` of a freshly read `view` (its label arrays are spent: use the `Prepared`'s); thread-safe."""
    ready = {cls: ready_label(label) for cls, label in view.labels.items() if label is not None}
    copies = {cls: label.codes.copy() for cls, label in ready.items()}
    blank = {cls: blank_label(view.shape) for cls, label in view.labels.items() if label is None}
    return Prepared(pyramid(view.rgb), {**ready, **blank}, copies)
