"""Stand-ins for the training child (train_process._child_main) that do not train, for tests of how a job is ended.
Module-level functions without Qt, so a spawned child imports them quickly."""

from __future__ import annotations

import signal
import time
from types import SimpleNamespace
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


def stores_then_fails(job: Any, results: Connection, control: Connection) -> None:
    """A child whose run stored its model (current.json) and then failed to save a prediction, as on a full disk."""
    import json
    from pathlib import Path

    from medseg_gui.core.errors import WriteError

    folder = Path(job.project_root) / "models" / job.cls
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "current.json").write_text(json.dumps({"id": "m-stored", "val_auc": 0.9, "preset": "default",
                                                     "trained_at": "2026-12-06T23:00:00"}))
    sender = Sender(results)
    sender.send("progress", "started")
    sender.send("error", WriteError(f"Could not save {folder.parent.parent}/predictions/{job.cls}/a.png: No space "
                                    "left on device."))


def stores_then_dies(job: Any, results: Connection, control: Connection) -> None:
    """A child killed (SIGKILL, as by the out-of-memory killer) just after it made its new model current, before it
    said so (a crash-recovery trial)."""
    import json
    import os
    from pathlib import Path

    folder = Path(job.project_root) / "models" / job.cls
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "current.json").write_text(json.dumps({"id": "m-stored", "val_auc": 0.9, "preset": "default",
                                                     "trained_at": "2026-12-08T00:30:00"}))
    Sender(results).send("progress", "started")
    os.kill(os.getpid(), signal.SIGKILL)


def decides_then_dies(job: Any, results: Connection, control: Connection) -> None:
    """A child whose run kept its new model (current.json written, the decision handed over) and was killed
    (SIGKILL) as it began predicting the images (a verification trial)."""
    import json
    import os
    from pathlib import Path

    from medseg_gui.ml.store import StoreDecision
    from medseg_gui.pipeline import TrainOutcome

    current = {"id": "m-kept", "val_auc": 0.551, "val_dice": 0.0022, "regime": "lesions", "preset": "default",
               "trained_at": "2026-12-08T01:32:00"}
    folder = Path(job.project_root) / "models" / job.cls
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "current.json").write_text(json.dumps(current))
    reason = ("Saved the start it began from as the model: it validated better than the weights trained on these "
              "labels (validation Dice 0.1252 against 0.1078, each at its best threshold; as it predicts (its "
              "threshold, flips and clean-up) it validates at 0.0022).")
    sender = Sender(results)
    sender.send("progress", "started")
    decision = StoreDecision(True, 0.551, None, reason, "m-kept", current, "Dice", 0.0022)
    sender.send("trained", TrainOutcome(SimpleNamespace(cancelled=False), decision))
    time.sleep(0.3)  # the window hears of the decision first, as when it predicted for a while
    os.kill(os.getpid(), signal.SIGKILL)


def decides_then_waits(job: Any, results: Connection, control: Connection) -> None:
    """A child whose run kept its new model (the decision handed over, as run_job's `trained`) and then predicts for
    as long as it is not stopped, a first image reported."""
    from medseg_gui.ml.store import StoreDecision
    from medseg_gui.pipeline import TrainOutcome
    from medseg_gui.train_process import PredictProgress

    current = {"id": "m-kept", "val_auc": 0.91, "preset": "default", "trained_at": "2026-12-07T09:00:00"}
    sender = Sender(results)
    sender.send("progress", "started")
    sender.send("trained", TrainOutcome(None, StoreDecision(True, 0.91, None, "first model", "m-kept", current)))
    sender.send("progress", PredictProgress(1, 3, "a"))
    while not control.poll(0.05):
        pass
