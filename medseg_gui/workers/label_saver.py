"""Background, coalescing label saver: a stroke never blocks the GUI and is never dropped.

One daemon thread writes labels with `Project.save_label` (atomic). Repeated saves of the same (class, stem) before
the thread gets to them collapse to the latest mask. A save that fails (disk full, read-only, no permission) keeps
its mask in memory and is retried every `retry_s` seconds, on the next `save` and on `flush`, until it succeeds or
the user discards it; `latest(cls, stem)` hands the unsaved mask to whoever shows that image again. A complete
label is copied at `save` into a buffer a finished write gave back (SPARE_BUFFERS of them): a fresh 64 MB array for an
8000² label cost the GUI thread 40–590 ms in page faults on a loaded VM, a reused one a plain copy. The project lock
is checked by the project itself before each write (`ProjectFolder.write_refusal`): a lock another program took over
turns the save into a failed one (kept, reported, retried).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from medseg_gui.core.errors import MedsegError
from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.core.masks import LabelCodes
from medseg_gui.workers.base import unexpected_message

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (class, stem)
Entry = tuple[Any, "np.ndarray | LabelPixels | LabelCodes | None"]  # (project, label; None = delete the file)
RETRY_S = 5.0
SPARE_BUFFERS = 2  # written masks kept for the next save's copy


class LabelSaver(QObject):
    """`save(cls, stem, mask)` queues a write; `mask=None` deletes the label. Signals come from the saver thread.

    `pending_changed(True)` when something is not on disk yet, `(False)` once everything is (failed saves count as
    not on disk); `saved(cls, stem, present)` after each write (`present`: a label file is there now, False after a
    delete), so nobody has to look at the disk; `failed(cls, stem, message)` after each failed attempt; `drained()`
    whenever the queue ran empty."""

    saved = Signal(str, str, bool)
    failed = Signal(str, str, str)
    pending_changed = Signal(bool)
    drained = Signal()

    def __init__(self, project: Any = None, parent: QObject | None = None, retry_s: float = RETRY_S) -> None:
        super().__init__(parent)
        self._project = project
        self.retry_s = retry_s
        self._cond = threading.Condition()
        self._pending: dict[Key, Entry] = {}
        self._inflight: tuple[Key, Entry] | None = None
        self._failed: dict[Key, tuple[Entry, str]] = {}
        self._stopping = False
        self._spare: list[np.ndarray] = []  # written masks nobody else holds, reused by `save`
        self._lent: set[int] = set()  # ids of masks `latest` handed out: never reused
        self._thread = threading.Thread(target=self._loop, name="label-saver", daemon=True)
        self._thread.start()

    def set_project(self, project: Any) -> None:
        """Switch projects after writing everything queued for the old one (unsaved ones stay retried)."""
        self.flush()
        with self._cond:
            self._project = project

    def save(self, cls: str, stem: str, mask: np.ndarray | LabelPixels | LabelCodes | None) -> None:
        """A bool mask (complete label, copied), `LabelPixels` or `LabelCodes` (a sparse label, saved 0/128/255: taken
        over, the caller must not change its arrays) or None (delete the label file)."""
        with self._cond:
            if self._stopping:
                raise RuntimeError("LabelSaver is closed")
            if self._project is None:
                raise RuntimeError("LabelSaver has no project")
            was_clean = self._clean()
            copy = mask if mask is None or isinstance(mask, tuple) else self._copy(mask)
            self._failed.pop((cls, stem), None)  # superseded by the newer mask
            self._requeue_failed()  # a new stroke is a good moment to try the failed ones again
            self._pending[(cls, stem)] = (self._project, copy)
            self._cond.notify_all()
        if was_clean:
            self.pending_changed.emit(True)

    def latest(self, cls: str, stem: str) -> tuple[bool, np.ndarray | LabelPixels | LabelCodes | None]:
        """(True, mask) when the newest mask of (cls, stem) in the current project is not on disk yet (mask None:
        the label file is to be deleted); (False, None) when the file on disk is the newest."""
        key = (cls, stem)
        with self._cond:
            candidates = [self._pending.get(key), self._inflight[1] if self._inflight and self._inflight[0] == key
                          else None, self._failed[key][0] if key in self._failed else None]
            for entry in candidates:
                if entry is not None and entry[0] is self._project:
                    self._lent.add(id(entry[1]))
                    return True, entry[1]
        return False, None

    def unsaved(self) -> dict[Key, str]:
        """(class, stem) → reason for every label of the current project whose last save attempt failed."""
        with self._cond:
            return {key: msg for key, ((project, _m), msg) in self._failed.items() if project is self._project}

    def has_pending(self) -> bool:
        """True while anything is not on disk: queued, being written, or failed and kept for a retry."""
        with self._cond:
            return not self._clean()

    def is_writing(self) -> bool:
        """True while saves are queued or being written (an attempt is still to come)."""
        with self._cond:
            return bool(self._pending) or self._inflight is not None

    def retry(self) -> None:
        """Try every failed save again now."""
        with self._cond:
            self._requeue_failed()
            self._cond.notify_all()

    def discard(self) -> list[Key]:
        """Forget the failed saves (the user chose to); returns what was dropped."""
        with self._cond:
            dropped = list(self._failed)
            self._failed.clear()
            clean = self._clean()
        for cls, stem in dropped:
            log.warning("Unsaved '%s' label of %s discarded by the user", cls, stem)
        if dropped and clean:
            self.pending_changed.emit(False)
        return dropped

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Try every queued and failed save now and block until done; True only when everything is on disk."""
        with self._cond:
            self._requeue_failed()
            self._cond.notify_all()
            done = self._cond.wait_for(lambda: not self._pending and self._inflight is None, timeout)
            return done and not self._failed

    def close(self, timeout: float = 30.0) -> bool:
        """Flush, then stop the thread; False if anything is still not on disk. Safe to call twice."""
        ok = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
        return ok

    def _copy(self, mask: np.ndarray) -> np.ndarray:
        """A bool copy of `mask`, in a spare buffer of its shape when there is one (call with the lock held)."""
        spare = next((i for i, b in enumerate(self._spare) if b.shape == mask.shape), None)
        if spare is None:
            return np.array(mask, dtype=bool, copy=True)
        buffer = self._spare.pop(spare)
        np.copyto(buffer, mask, casting="unsafe")
        return buffer

    def _give_back(self, entry: Entry) -> None:
        """Keep the mask of a written `entry` for a later copy unless someone may still read it (lock held)."""
        mask = entry[1]
        if not isinstance(mask, np.ndarray) or id(mask) in self._lent:
            self._lent.discard(id(mask))
            return
        held = [e for e in self._pending.values()] + [e for e, _msg in self._failed.values()]
        if all(e[1] is not mask for e in held):
            self._spare = [mask, *self._spare][:SPARE_BUFFERS]

    # -- saver thread ---------------------------------------------------------------------------------------------
    def _clean(self) -> bool:
        return not self._pending and self._inflight is None and not self._failed

    def _requeue_failed(self) -> None:
        for key, (entry, _msg) in self._failed.items():
            self._pending.setdefault(key, entry)

    def _next(self) -> tuple[Key, Entry] | None:
        with self._cond:
            while not self._pending and not self._stopping:
                if self._failed:
                    if not self._cond.wait(self.retry_s):
                        self._requeue_failed()
                else:
                    self._cond.wait()
            if not self._pending:
                return None
            key = next(iter(self._pending))
            self._inflight = (key, self._pending.pop(key))
            return self._inflight

    def _loop(self) -> None:
        while (job := self._next()) is not None:
            key, entry = job
            error = self._write(entry[0], key, entry[1])
            with self._cond:
                self._inflight = None
                if error is None:
                    if key in self._failed and self._failed[key][0] is entry:
                        del self._failed[key]
                    self._give_back(entry)
                elif key not in self._pending:  # else a newer mask is queued and supersedes this one
                    self._failed[key] = (entry, error)
                drained, clean = not self._pending, self._clean()
                self._cond.notify_all()
            if error is None:
                self.saved.emit(key[0], key[1], entry[1] is not None)
            else:
                self.failed.emit(key[0], key[1], error)
            if drained:
                self.drained.emit()
            if clean:
                self.pending_changed.emit(False)

    def _write(self, project: Any, key: Key, mask: np.ndarray | LabelPixels | LabelCodes | None) -> str | None:
        """Write one label; the reason when it failed, None when it is on disk."""
        cls, stem = key
        try:
            if mask is None:
                project.delete_label(cls, stem)
            elif isinstance(mask, tuple):  # a sparse label
                pixels = mask.pixels() if isinstance(mask, LabelCodes) else mask
                project.save_label(cls, stem, pixels.mask, pixels.annotated)
            else:
                project.save_label(cls, stem, mask)
        except MedsegError as err:
            log.warning("Saving label %s/%s failed (kept for a retry): %s", cls, stem, err)
            return str(err)
        except Exception as err:  # noqa: BLE001 - the GUI must hear about a failed save
            log.exception("Saving label %s/%s failed (kept for a retry)", cls, stem)
            return f"Could not save the '{cls}' label of {stem}: {unexpected_message(err)}"
        return None
