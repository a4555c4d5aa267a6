"""Shared by the fault tests on FIFOs: run a call that must not block on one, and fail (after unblocking it) if it
does."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def without_hanging(call: Callable[[], Any], fifo: Path, seconds: float = 10.0) -> dict[str, Any]:
    """{"value": call()} or {"err": the exception it raised}; fails the test if it is still running after `seconds`
    (writing to `fifo` first, so that a reader hung on it returns)."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except Exception as err:  # noqa: BLE001 (reported to the test)
            result["err"] = err

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        with open(fifo, "wb"):  # unblock the hung reader
            pass
        pytest.fail(f"reading the FIFO {fifo.name} hung")
    return result
