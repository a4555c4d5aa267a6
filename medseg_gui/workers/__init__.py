"""QObject workers run on QThreads; they emit typed signals and never touch widgets.

Keras is imported only inside `TrainWorker`/`PredictWorker`/`KerasWarmUp.work()`, on the worker thread.
"""

from medseg_gui.workers.base import FunctionWorker, Worker, WorkerHost, error_message
from medseg_gui.workers.label_saver import LabelSaver
from medseg_gui.workers.scan import ScanWorker
from medseg_gui.workers.training import (
    KerasWarmUp,
    MetricsWorker,
    PredictProgress,
    PredictWorker,
    TrainRun,
    TrainWorker,
)

__all__ = [
    "FunctionWorker",
    "KerasWarmUp",
    "LabelSaver",
    "MetricsWorker",
    "PredictProgress",
    "PredictWorker",
    "ScanWorker",
    "TrainRun",
    "TrainWorker",
    "Worker",
    "WorkerHost",
    "error_message",
]
