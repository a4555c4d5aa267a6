"""Reference cycles holding Qt objects are collected in the GUI thread, never in a worker thread that allocates."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from medseg_gui.qt.gui_gc import GuiThreadCollector


class _Cycle:
    def __init__(self) -> None:
        self.me = self
        self.qobject = QObject()  # owned by Python: destroyed with this cycle


def _garbage_cycle(where: list[str]) -> None:
    """A cycle nobody references any more; `where` gets the name of the thread that frees it."""
    weakref.finalize(_Cycle(), lambda: where.append(threading.current_thread().name))


def _allocate_in_worker() -> list:
    """Containers enough to pass the youngest generation's threshold many times over, made in another thread and
    returned alive (freed objects would lower the collector's counts again)."""
    kept: list = []

    def allocate() -> None:
        kept.extend([i] for i in range(50 * max(gc.get_threshold()[0], 1)))

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    return kept


def test_a_worker_thread_collects_cycles_when_the_interpreter_does_it():
    """The hazard itself: with automatic collection the allocating worker frees a cycle made in the GUI thread."""
    assert gc.isenabled()  # outside a Qt test: the conftest leaves collection to the interpreter
    gc.collect()
    where: list[str] = []
    _garbage_cycle(where)
    _allocate_in_worker()
    assert where == ["worker"]


def test_the_collector_frees_cycles_in_the_gui_thread_only(qtbot):
    collector = GuiThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        where: list[str] = []
        _garbage_cycle(where)
        kept = _allocate_in_worker()
        assert where == []  # the worker allocated past every threshold without collecting
        qtbot.waitUntil(lambda: where != [], timeout=5_000)
        assert where == [threading.main_thread().name] and kept
    finally:
        collector.stop()
    assert gc.isenabled() is False  # the test fixture's own collector still holds it off until teardown


def test_stop_collects_at_once_and_gives_collection_back(qtbot):
    was = gc.isenabled()
    gc.enable()
    try:
        collector = GuiThreadCollector(interval_ms=60_000)
        where: list[str] = []
        _garbage_cycle(where)
        collector.stop()
        assert where == [threading.main_thread().name] and gc.isenabled()
        collector.stop()  # twice is harmless
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()


def test_freeze_keeps_what_exists_out_of_later_collections(qtbot):
    collector = GuiThreadCollector(interval_ms=60_000, freeze_after_ms=10)
    try:
        before: list[str] = []
        _garbage_cycle(before)
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5_000)
        after: list[str] = []
        _garbage_cycle(after)
        gc.collect()  # a full collection: it sees only what was made after the freeze
        assert after == [threading.main_thread().name] and before == []
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0 and before == [threading.main_thread().name]  # stop gives everything back
