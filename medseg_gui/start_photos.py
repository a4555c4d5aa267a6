"""Which labelled images the current model's shipped start was trained on (core.fingerprint): the scores of a model
whose weights are or began from that start (ml.init.FROM_START) are no honest check on them, whatever its own split
says (an outside trial's kept start showed its own training photos as "✓ · new" with their AUC). What the model's run
fingerprinted is in its metadata (START_SEEN); images labelled since are fingerprinted here, off the GUI thread
(workers.label_shares) or by `medseg evaluate`. Imports no Keras."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from medseg_gui.core.errors import CancelledError, MedsegError
from medseg_gui.core.fingerprint import fingerprint, recorded_seen
from medseg_gui.ml import init

log = logging.getLogger(__name__)


def from_shipped_start(info: dict | None) -> bool:
    """Whether the model `info` (its metadata) is or began from a shipped start: only then can a photo be one its
    start saw."""
    return isinstance((info or {}).get(init.FROM_START), str)


def photos_start_saw(project: Any, info: dict | None, stems: Iterable[str], *,
                     should_stop: Callable[[], bool] = lambda: False) -> set[str]:
    """Those of `stems` that are photos the shipped start of the model `info` (its metadata) descends from was
    trained on: as its run recorded them, the others fingerprinted (an image that cannot be read is left out).
    Empty for a model not from a shipped start, or a start that ships no fingerprints."""
    if not from_shipped_start(info):
        return set()
    regime = info[init.FROM_START]
    stems = list(stems)
    saw, checked = recorded_seen(info)
    rest = [stem for stem in stems if stem not in checked]
    seen = init.shipped_seen(regime) if rest else None
    found = set()
    for stem in rest if seen is not None else ():
        if should_stop():
            raise CancelledError("Checking the photos against the built-in start was cancelled.")
        try:
            image = project.load_image(stem)
        except MedsegError as err:
            log.info("%s not checked against the built-in start's photos: %s", stem, err)
            continue
        if seen.seen(fingerprint(image)):
            found.add(stem)
    return (saw & set(stems)) | found
