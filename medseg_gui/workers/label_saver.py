"""Background, coalescing label saver: a stroke never blocks the GUI and is never dropped.

One daemon thread writes labels with `Project.save_label` (atomic). Repeated saves of the same (class, stem) before
the thread gets to them collapse to the latest mask. A save that fails (disk full, read-only, no permission) keeps
its mask in memory and is retried every `retry_s` seconds, on the next `save` and on `flush`, until it succeeds or
the user discards it; `latest(cls, stem)` hands the unsaved mask to whoever shows that image again.

Every save is a copy the saver owns (label codes, uint8), taken at once on the caller's thread. The label on screen is
saved with `save_live`: the saver keeps its copies of it current through `touch(cls, stem, bbox)` (every edit's
bbox), so a save copies only what changed since that copy was last written, not the whole label (a 64 MB copy per
stroke cost the GUI thread 10–400 ms on a loaded VM). The first copy comes with the image (`follow`: made by the
loading thread, or zeros for a new label), and a label set to one value everywhere (a sparse start, its undo) is
filled in the copy by the saver thread (`filled`). Copies nobody needs are kept for reuse (SPARE_BUFFERS). The
project lock is checked by the project itself before each write (`ProjectFolder.write_refusal`): a lock another
program took over turns the save into a failed one (kept, reported, retried).

A label that is not the size of its image file on disk (the file was replaced by another photo after the label was
drawn on it) can never be saved there: retrying it would not help, so it is written to a rescue folder at once
(core.rescued_labels, as at a close nobody answered) and reported by `set_aside`; the project's label stays.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from medseg_gui.core.errors import LabelSizeError, MedsegError
from medseg_gui.core.label_encoding import LabelPixels
from medseg_gui.core.masks import BBox, LabelCodes, bbox_union
from medseg_gui.core.rescued_labels import write_rescue
from medseg_gui.paths import UNSAVED_LABELS, rescue_dir
from medseg_gui.workers.base import unexpected_message
from medseg_gui.workers.label_copies import FilledSave, Key, LabelCopy, follows_nothing

log = logging.getLogger(__name__)

Entry = tuple[Any, "np.ndarray | LabelPixels | LabelCodes | None"]  # (project, label; None = delete the file)
RETRY_S = 5.0
SPARE_BUFFERS = 2  # copies nobody needs, kept for the next saves


class LabelSaver(QObject):
    """`save(cls, stem, mask)` queues a write; `mask=None` deletes the label. Signals come from the saver thread.

    `pending_changed(True)` when something is not on disk yet, `(False)` once everything is (failed saves count as
    not on disk); the value may be stale when a queued slot runs (a False from the saver thread arriving after the
    next stroke's True), so listeners read `has_pending()`; `saved(cls, stem, present)` after each write
    (`present`: a label file is there now, False after a delete), so nobody has to look at the disk;
    `failed(cls, stem, message)` after each failed attempt; `drained()` whenever the queue ran empty;
    `kept_aside(cls, stem, path)` when a save found a version of the file written by another program and moved it
    to `path` first (core.project.Project); `set_aside(cls, stem, reason, folder)` when a label that is not its
    image's size on disk was written to a rescue `folder` instead (module doc)."""

    saved = Signal(str, str, bool)
    kept_aside = Signal(str, str, str)
    set_aside = Signal(str, str, str, str)
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
        self._copies: list[LabelCopy] = []  # the saver's copies, most recently used last (`latest` takes them out)
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
        key = (cls, stem)
        if mask is None or isinstance(mask, tuple):
            self._queue(key, lambda: mask)
        else:
            self._queue(key, lambda: self._take(key, np.shape(mask), None).fill(mask))

    def save_live(self, cls: str, stem: str, codes: np.ndarray, sparse: bool) -> None:
        """Save the label on screen: its live codes (uint8 HxW, 0/1/2; `sparse`: some are 2). Copied at once, but
        only where `touch` said it changed since the saver's copy of it was last brought up to date."""
        key = (cls, stem)
        self._queue(key, lambda: self._take(key, codes.shape, codes).update(codes, sparse))

    def follow(self, cls: str, stem: str, live: np.ndarray, copy: np.ndarray | None = None) -> None:
        """Take `copy` (uint8, equal to the live codes `live` of (cls, stem) now; made on a loading thread, handed
        over) as the saver's copy of that label, so its first `save_live` copies only what changed; `copy` None: `live`
        is all zeros (a fresh label), and so is the copy (allocated, never touched here)."""
        with self._cond:
            held = self._held_ids()
            mine = [c for c in self._copies if c.key == (cls, stem) and id(c.data) not in held]
            self._copies = [c for c in self._copies if c not in mine]
            self._copies.append(LabelCopy(np.zeros(live.shape, np.uint8) if copy is None else copy, (cls, stem),
                                      weakref.ref(live)))
            self._drop_spares(self._free(held))

    def filled(self, cls: str, stem: str, value: int, bbox: BBox | None) -> None:
        """The live label of (cls, stem) is `value` everywhere outside `bbox` now (call after the edit's `touch`):
        its copies are filled when next written, on the saver thread, not copied from the label now."""
        with self._cond:
            for copy in self._copies:
                if copy.key == (cls, stem):
                    copy.pending_fill, copy.dirty = value, bbox
                    copy.fill_count += 1

    def touch(self, cls: str, stem: str, bbox: BBox) -> None:
        """The live label of (cls, stem) changed inside `bbox` (call at every edit, before the next `save_live`)."""
        with self._cond:
            for copy in self._copies:
                if copy.key == (cls, stem):
                    copy.dirty = bbox_union(copy.dirty, bbox)

    def _queue(self, key: Key, make: Callable[[], Any]) -> None:
        """Queue the mask `make()` returns (called with the lock held, once a failed save of `key` is dropped)."""
        with self._cond:
            if self._stopping:
                raise RuntimeError("LabelSaver is closed")
            if self._project is None:
                raise RuntimeError("LabelSaver has no project")
            was_clean = self._clean()
            self._failed.pop(key, None)  # superseded by the newer mask
            data = make()
            self._requeue_failed()  # a new stroke is a good moment to try the failed ones again
            self._pending[key] = (self._project, data)
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
                    self._copies = [c for c in self._copies if c.data is not entry[1]]  # lent: never reused
                    lent = entry[1]
                    break
            else:
                return False, None
        return True, lent.label(self._cond) if isinstance(lent, FilledSave) else lent

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
        """Flush, then stop the thread (no signal comes after this, even from a write still finishing); False if
        anything is still not on disk. Safe to call twice."""
        ok = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
        if self._thread.is_alive():
            log.warning("The label saver is still writing after close; it ends once that write does")
        return ok

    def rescue(self, folder: Path) -> list[Path]:
        """After `close`: write the current project's labels that are still not on disk (failed, or queued when the
        close timed out) to `folder/<class>/<stem>.png`, encoded as label files are, so a close nobody could answer
        (a logout or SIGTERM while the label folder is unwritable) loses no stroke; returns the files written. A
        failed deletion writes nothing; a file that cannot be written either is logged (nowhere else to say it).
        `folder`/rescued.json names the project and the labels, so its next opening offers them back
        (core.rescued_labels)."""
        with self._cond:  # the newest version of each label wins: queued, then being written, then failed
            entries = {key: entry for key, (entry, _msg) in self._failed.items()}
            if self._inflight is not None:
                entries[self._inflight[0]] = self._inflight[1]
            entries.update(self._pending)
        labels = {}
        for key, (project, mask) in entries.items():
            try:
                pixels = self._pixels(mask) if project is self._project else None
            except MedsegError as err:
                log.error("The unsaved '%s' label of %s could not be rescued either: %s", *key, err)
                continue
            if pixels is not None:
                labels[key] = pixels
        return write_rescue(folder, self._project.root, labels) if labels else []

    def _take(self, key: Key, shape: tuple[int, ...], live: np.ndarray | None) -> LabelCopy:
        """A copy for a save of `key` nobody reads now (lock held): the one following `live` (its `dirty` part is
        stale), else a spare one (following no live label) or a new one: all stale, or, while a copy following `live`
        is held (being written), filled from that one by the saver thread (its `dirty` part from `live`). Spare
        copies beyond SPARE_BUFFERS are dropped."""
        free = self._free(self._held_ids(except_key=key))
        following = [c for c in self._copies if live is not None and c.key == key and c.source is not None
                     and c.source() is live]
        mine = [c for c in following if c in free]
        spare = (c for c in reversed(free) if c.codes.shape == tuple(shape) and follows_nothing(c))
        copy = mine[-1] if mine else next(spare, None)
        if copy is None:
            copy = LabelCopy(np.empty(shape, np.uint8))
        else:
            self._copies.remove(copy)
        if not mine and following:  # each is held: the newest is filled in before this copy is (one saver thread)
            base = following[-1]  # outside its `dirty`, the live label is its codes, or a value it is still to get
            copy.pending_fill = base.pending_fill if isinstance(base.pending_fill, int) else base
            copy.dirty = base.dirty
        elif not mine:
            copy.dirty, copy.pending_fill = (0, 0, *shape[:2]), None
        copy.key, copy.source = key, None if live is None else weakref.ref(live)
        self._copies.append(copy)
        self._drop_spares([c for c in free if c is not copy])
        return copy

    def _held_ids(self, except_key: Key | None = None) -> set[int]:
        """ids of the masks queued, being written or failed (lock held), and of the last masks of the copies they
        are still to be filled from; a pending save of `except_key` does not count (the next save of that key
        replaces it), but its base copy does."""
        pending = [(k != except_key, e[1]) for k, e in self._pending.items()]
        others = [e[1] for e, _msg in self._failed.values()] + ([self._inflight[1][1]] if self._inflight else [])
        entries = pending + [(True, data) for data in others]
        held = {id(data) for counts, data in entries if counts and data is not None}
        return held | {id(data.base.data) for _c, data in entries if isinstance(data, FilledSave) and data.base}

    def _free(self, held_ids: set[int]) -> list[LabelCopy]:
        return [c for c in self._copies if id(c.data) not in held_ids]

    def _drop_spares(self, free: list[LabelCopy]) -> None:
        """Keep at most SPARE_BUFFERS of the `free` copies (oldest dropped first) that follow no live label."""
        spare = [c for c in free if follows_nothing(c)]
        drop = spare[:max(0, len(spare) - SPARE_BUFFERS)]
        self._copies = [c for c in self._copies if c not in drop]

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
            error, kept, rescued = self._write(entry[0], key, entry[1])
            with self._cond:
                self._inflight = None
                if error is None or rescued is not None:
                    if key in self._failed and self._failed[key][0] is entry:
                        del self._failed[key]
                elif key not in self._pending:  # else a newer mask is queued and supersedes this one
                    self._failed[key] = (entry, error)
                drained, clean = not self._pending, self._clean()
                closed = self._stopping
                self._cond.notify_all()
            if closed:  # a write that outlived `close` (slow storage): whoever listened has gone (a closed window)
                continue
            if kept is not None:
                self.kept_aside.emit(key[0], key[1], str(kept))
            if rescued is not None:
                self.set_aside.emit(key[0], key[1], error, str(rescued))
            elif error is None:
                self.saved.emit(key[0], key[1], entry[1] is not None)
            else:
                self.failed.emit(key[0], key[1], error)
            if drained:
                self.drained.emit()
            if clean:
                self.pending_changed.emit(False)

    def _pixels(self, mask: Any) -> LabelPixels | None:
        """What a save holds (what `save` takes, or a FilledSave, filled now) as LabelPixels; None: delete the file."""
        mask = mask.label(self._cond) if isinstance(mask, FilledSave) else mask
        if mask is None or isinstance(mask, LabelPixels):
            return mask
        return mask.pixels() if isinstance(mask, LabelCodes) else LabelPixels(mask, None)

    def _write(self, project: Any, key: Key, mask: Any) -> tuple[str | None, Any, Path | None]:
        """Write one label (`mask`: what `save` takes, or a `FilledSave`); (the reason when it failed, None when it
        is on disk; where another program's version of the file was moved first, or None; the rescue folder a label
        not the size of its image went to instead, or None)."""
        cls, stem = key
        pixels = None
        try:
            pixels = self._pixels(mask)  # a FilledSave filled here, where a failure is a failed save like any other
            if pixels is None:
                kept = project.delete_label(cls, stem)
            elif pixels.annotated is None:
                kept = project.save_label(cls, stem, pixels.mask)
            else:  # a sparse label
                kept = project.save_label(cls, stem, pixels.mask, pixels.annotated)
        except LabelSizeError as err:  # the image file was replaced by one of another size: no retry saves it
            rescued = self._rescue_misfit(project, key, pixels)
            log.warning("Saving label %s/%s refused (%s); %s", cls, stem, err,
                        f"kept in {rescued}" if rescued else "kept for a retry")
            return str(err), None, rescued
        except MedsegError as err:
            log.warning("Saving label %s/%s failed (kept for a retry): %s", cls, stem, err)
            return str(err), None, None
        except Exception as err:  # noqa: BLE001 - the GUI must hear about a failed save
            log.exception("Saving label %s/%s failed (kept for a retry)", cls, stem)
            return f"Could not save the '{cls}' label of {stem}: {unexpected_message(err)}", None, None
        return None, kept, None

    @staticmethod
    def _rescue_misfit(project: Any, key: Key, pixels: LabelPixels | None) -> Path | None:
        """Write a label its project refused for its size to a new rescue folder; that folder, or None when it could
        not be written there either (the save is then kept and retried like any failed one)."""
        if pixels is None:
            return None
        folder = rescue_dir(UNSAVED_LABELS, project.root)  # a new one: a second refusal within the second too
        return folder if write_rescue(folder, project.root, {key: pixels}) else None
