"""Cyclic garbage collection in the GUI thread only.

Python's cycle collector runs in whichever thread happens to allocate when a threshold is crossed: a worker thread
too. Qt objects owned by Python and caught in a reference cycle (a closed window's menus, timers and plot items) are
then destroyed in that thread, which Qt forbids. Recording which wrappers each collection freed showed worker threads
destroying QMenus, QTimers and QWidgets of closed windows; CI once hung silently in a window test (no trace: the
collecting thread held the GIL). While a GUI runs, automatic collection is therefore off and a timer collects in the
GUI thread, generation by generation with the interpreter's own thresholds (calibre does the same). Reference counting
still frees at once everything that is not in a cycle.

A full collection visits every object: 40-70 ms in the GUI process once the window shows (115,000 objects, AMD EPYC
VM), over the 50 ms stall target. `freeze_after_ms` therefore moves what exists by then (the modules, classes and
the window, which live as long as the app) out of the collector's sight (`gc.freeze`, the recipe CPython's
documentation gives); later full collections visit only newer objects (under 1 ms measured). It does not collect
first (that collection was itself a 75 ms stall): the little garbage of the start stays until the app quits.
"""

from __future__ import annotations

import gc
import logging
import time

from PySide6.QtCore import QObject, QTimer, Slot

log = logging.getLogger(__name__)

INTERVAL_MS = 1000
FREEZE_AFTER_MS = 8000  # the app: after the window has shown and its first project or demo has opened
SLOW_MS = 20.0  # a collection at least this long is logged (it stalled the window)


class GuiThreadCollector(QObject):
    """Turns automatic collection off until `stop()` and collects on a timer in the thread it lives in, which must
    be the GUI thread."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS,
                 freeze_after_ms: int | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._stopped = False
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)
        if freeze_after_ms is not None:
            QTimer.singleShot(freeze_after_ms, self, self.freeze)

    @Slot()
    def freeze(self) -> None:
        """Keep every object that exists now out of later collections (see the module's text)."""
        if not self._stopped:
            gc.freeze()

    @Slot()
    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold (as the interpreter would, younger ones
        with it); returns how many unreachable objects were found."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if thresholds[generation] and counts[generation] > thresholds[generation]:
                started = time.perf_counter()
                found = gc.collect(generation)
                ms = 1000 * (time.perf_counter() - started)
                if ms >= SLOW_MS:
                    log.info("collecting generation %d took %.0f ms (%d unreachable objects)", generation, ms, found)
                return found
        return 0

    def stop(self) -> None:
        """Collect everything once, here, and give collection back to the interpreter (if it had it before)."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        gc.unfreeze()
        gc.collect()
        if self._was_enabled:
            gc.enable()
