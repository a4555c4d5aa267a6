"""The priority of child processes (child_process): POSIX nice, CHILD_NICE above the window's.

On a 2-core machine a training child's threads kept the window's GUI thread waiting for a CPU (ui_stall, training: up
to 37 ms of a 92 ms event-loop gap). A child alone on the CPU runs as fast as before; only when the window wants a
core does it get it first. Linux keeps nice per thread and a child inherits its parent thread's, so `spawn` starts a
child from a short-lived thread at the child's priority and its interpreter's start-up (imports, a second or more of
CPU) already runs there (ui_stall on the 2-core AVX2 VM: the Retrain click's event-loop gap had waited 19–30 ms for
a CPU while a child started at the window's priority). Elsewhere nice is per process, and the child lowers its own
once its first call runs (`lower_priority_to` in child_side.child_entry). No Qt here.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

CHILD_NICE = 10
_NICE_PER_THREAD = sys.platform.startswith("linux") and hasattr(os, "nice")


def child_nice() -> int | None:
    """The nice value a child runs at: the calling thread's plus CHILD_NICE (None where there is no nice)."""
    return min(os.nice(0) + CHILD_NICE, 19) if hasattr(os, "nice") else None


def lower_priority_to(nice: int | None) -> None:
    """Raise the calling thread's nice value to `nice` (never lower it); without nice, or not allowed: nothing."""
    try:
        if nice is not None and os.nice(0) < nice:
            os.nice(nice - os.nice(0))
    except OSError:
        pass


def spawn(proc: Any, nice: int | None) -> None:
    """`proc.start()` for a multiprocessing Process; on Linux from a short-lived thread at `nice`, so the new
    interpreter is born at it and the calling thread keeps its own priority."""
    if not _NICE_PER_THREAD:
        proc.start()
        return
    failed: list[BaseException] = []

    def start_niced() -> None:
        lower_priority_to(nice)  # not allowed: the child tries again in its first call
        try:
            proc.start()
        except BaseException as err:  # noqa: BLE001 - re-raised on the caller's thread
            failed.append(err)

    thread = threading.Thread(target=start_niced, name="medseg-spawn", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
