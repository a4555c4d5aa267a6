"""QObject workers run on QThreads; they emit typed signals and never touch widgets.

Keras is never imported on the GUI thread: only in a worker's `work()`, the function a `FunctionWorker` runs, or
the training child process.
"""

from medseg_gui.workers.base import FunctionWorker, Worker, WorkerHost, error_message
from medseg_gui.workers.label_saver import LabelSaver
from medseg_gui.workers.scan import ScanWorker
from medseg_gui.workers.training import (
    KerasWarmUp,
    PredictProgress,
    TrainRun,
    TrainWorker,
)

__all__ = [
    "FunctionWorker",
    "KerasWarmUp",
    "LabelSaver",
    "PredictProgress",
    "ScanWorker",
    "TrainRun",
    "TrainWorker",
    "Worker",
    "WorkerHost",
    "error_message",
]
