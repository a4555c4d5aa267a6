"""File → Open folder / Open demo: check the images on a worker thread (progress in the status bar), then hand the
opened project and its unreadable images (stem → reason) to the window. The flow holds the lock of the project it
opened (see core.lock) until another one is opened or `release()` is called."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from medseg_gui.core.identity import GUI_NAME
from medseg_gui.core.lock import ProjectLock, lock_or_reason
from medseg_gui.qt import dialogs
from medseg_gui.workers.base import WorkerHost, error_message
from medseg_gui.workers.scan import ScanProgress, ScanResult, ScanWorker


def opened_text(result: ScanResult) -> tuple[str, bool]:
    """What the status bar says once `result`'s folder is shown: "12 images listed; <notes>" and True when there are
    notes (images in subfolders not listed, masks beside the photos, a removal or restore cut short that opening
    finished, a stale lock taken over: said beside the first image's line), else "Opened <folder> — 12 images" and
    False ('' when unreadable images were said instead)."""
    n = len(result.project.stems)
    images = f"{n} image{'' if n == 1 else 's'}"
    notes = [f"not listed: {result.elsewhere} (only a folder's own images are): open a subfolder on its own to "
             "work on them"] if result.elsewhere else []
    notes += [result.masks_beside] if result.masks_beside else []
    notes += [recovered] if (recovered := getattr(result.project, "recovered", "")) else []
    notes += [result.lock.took_over] if getattr(result.lock, "took_over", "") else []
    if notes:
        return f"{images} listed; " + "; ".join(notes), True
    return ("" if result.errors else f"Opened {result.project.root} — {images}"), False


class OpenFlow(QObject):
    """`ask(start)`, `open_folder(folder)` or `open_demo()`; reports `status`, `errored` and `opened(ScanResult)`.

    `before_open` runs first (the window makes sure every label is saved); when it returns False nothing is opened
    and the open methods return None. `read_only_changed` fires when the project still shown after a failed open
    could not be locked again."""

    opened = Signal(object)
    status = Signal(str)
    errored = Signal(str)
    read_only_changed = Signal()

    def __init__(self, host: WorkerHost, dialog_parent: QWidget, before_open: Callable[[], bool],
                 shown: Callable[[], tuple[Any, dict[str, str]]] = lambda: (None, {})) -> None:
        """`shown()`: the project the window shows and its images listed as unreadable (stem → why); opening that
        project again checks those again (ScanWorker's `known`), so they stay marked while they are unreadable."""
        super().__init__(dialog_parent)
        self._host, self._dialog_parent, self._before_open = host, dialog_parent, before_open
        self._shown = shown
        self.lock: ProjectLock | None = None
        self._project: Any = None  # the project this flow opened last (locked unless it is read-only)

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def try_editing(self) -> str | None:
        """The project shown is read-only: lock it again. Got it: the project is opened again (labels another program
        wrote meanwhile are read) and None returned; else why it stays read-only."""
        project = self._project
        if project is None or self.lock is not None:
            return None
        lock, reason = lock_or_reason(project.root, GUI_NAME)
        if lock is None:
            return reason
        if self.open_folder(project.root, held=lock) is None:  # the scan keeps it: a stale lock taken over is said
            lock.release()
        return None

    def ask(self, start: Path | None = None) -> ScanWorker | None:
        folder = dialogs.choose_directory(self._dialog_parent, "Open a folder of images or a project", start)
        return self.open_folder(folder) if folder is not None else None

    def open_folder(self, folder: Path, on_failed: Callable[[BaseException], object] | None = None,
                    on_opened: Callable[[], object] | None = None, held: ProjectLock | None = None
                    ) -> ScanWorker | None:
        """`on_failed(err)` runs after a failed open was reported (the start then offers a demo instead),
        `on_opened()` after `opened` was handled (the project is shown); `held`: ScanWorker's."""
        shown, unreadable = self._shown()
        known = unreadable if shown is not None and shown.root == Path(folder).resolve() else {}
        return self._start(ScanWorker(Path(folder), known=known, held=held), on_failed, on_opened)

    def open_demo(self, which: str = "vessel") -> ScanWorker | None:
        """Open the user's copy of a bundled demo ("vessel" or "lesion"), made on first use."""
        from medseg_gui.core.demo import ensure_demo_copy

        return self._start(ScanWorker(prepare=partial(ensure_demo_copy, which=which)))

    def _start(self, worker: ScanWorker, on_failed: Callable[[BaseException], object] | None = None,
               on_opened: Callable[[], object] | None = None) -> ScanWorker | None:
        if not self._before_open():
            self.status.emit("Not opened: some labels are not saved yet.")
            return None
        self.release()  # the scan locks the folder it opens; reopening the same project must not see our lock
        self.status.emit("Opening images…")
        self._host.start(worker, on_progress=self._on_progress, on_done=partial(self._on_finished, on_opened),
                         on_error=partial(self._on_errored, on_failed))
        return worker

    @Slot(object)
    def _on_progress(self, p: ScanProgress) -> None:
        self.status.emit(f"Checking images {p.done}/{p.total}: {p.stem}")

    def _on_finished(self, on_opened: Callable[[], object] | None, result: ScanResult) -> None:
        self.release()
        self.lock, self._project = result.lock, result.project
        self.opened.emit(result)
        if on_opened is not None:
            on_opened()

    def _on_errored(self, on_failed: Callable[[BaseException], object] | None, err: BaseException) -> None:
        """The previous project stays shown: lock it again (read-only if another window took it meanwhile)."""
        project = self._project
        if project is not None and self.lock is None and project.read_only is None:
            self.lock, reason = lock_or_reason(project.root, GUI_NAME)
            project.set_lock(self.lock)
            if reason is not None:
                project.set_read_only(reason)
                self.read_only_changed.emit()
        self.errored.emit(error_message(err))
        if on_failed is not None:
            on_failed(err)
