"""Background, coalescing label saver: a stroke never blocks the GUI and is never lost.

One daemon thread writes labels with `Project.save_label` (atomic). Repeated saves of the same (class, stem) before
the thread gets to them collapse to the latest mask. `flush()` blocks until everything queued is on disk; the GUI
calls it on image switch, before Retrain and on close.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from medseg_gui.core.errors import MedsegError
from medseg_gui.workers.base import unexpected_message

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (class, stem)


class LabelSaver(QObject):
    """`save(cls, stem, mask)` queues a write; `mask=None` deletes the label. Signals come from the saver thread."""

    saved = Signal(str, str)
    errored = Signal(str)
    pending_changed = Signal(bool)

    def __init__(self, project: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project = project
        self._cond = threading.Condition()
        self._pending: dict[Key, tuple[Any, np.ndarray | None]] = {}
        self._busy = False
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="label-saver", daemon=True)
        self._thread.start()

    def set_project(self, project: Any) -> None:
        """Switch projects after writing everything queued for the old one."""
        self.flush()
        with self._cond:
            self._project = project

    def save(self, cls: str, stem: str, mask: np.ndarray | None) -> None:
        with self._cond:
            if self._stopping:
                raise RuntimeError("LabelSaver is closed")
            if self._project is None:
                raise RuntimeError("LabelSaver has no project")
            was_idle = not self._pending and not self._busy
            copy = None if mask is None else np.array(mask, dtype=bool, copy=True)
            self._pending[(cls, stem)] = (self._project, copy)
            self._cond.notify_all()
        if was_idle:
            self.pending_changed.emit(True)

    def has_pending(self) -> bool:
        with self._cond:
            return bool(self._pending) or self._busy

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Block until all queued saves are written; False if `timeout` seconds passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float = 30.0) -> bool:
        """Flush, then stop the thread. Safe to call twice."""
        ok = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
        return ok

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping)
                if not self._pending:
                    return
                key = next(iter(self._pending))
                project, mask = self._pending.pop(key)
                self._busy = True
            self._write(project, key, mask)
            with self._cond:
                self._busy = False
                idle = not self._pending
                self._cond.notify_all()
            if idle:
                self.pending_changed.emit(False)

    def _write(self, project: Any, key: Key, mask: np.ndarray | None) -> None:
        cls, stem = key
        try:
            if mask is None:
                project.delete_label(cls, stem)
            else:
                project.save_label(cls, stem, mask)
        except MedsegError as err:
            log.warning("Saving label %s/%s failed: %s", cls, stem, err)
            self.errored.emit(str(err))
        except Exception as err:  # noqa: BLE001 - the GUI must hear about a failed save
            log.exception("Saving label %s/%s failed", cls, stem)
            self.errored.emit(f"Could not save the '{cls}' label of {stem}: {unexpected_message(err)}")
        else:
            self.saved.emit(cls, stem)
