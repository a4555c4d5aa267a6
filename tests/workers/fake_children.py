"""Stand-ins for the training child (train_process._child_main) that do not train, for tests of how a job is ended.
Module-level functions without Qt, so a spawned child imports them quickly."""

from __future__ import annotations

import signal
import time
from multiprocessing.connection import Connection
from typing import Any

from medseg_gui.child_side import Sender


def never_answers(job: Any, results: Connection, control: Connection) -> None:
    """A child that says it started, then neither answers "stop" nor dies by SIGTERM nor by the end of its control
    pipe: as slow to end as a child can be (only SIGKILL ends it)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Sender(results).send("progress", "started")
    while True:
        time.sleep(0.05)
