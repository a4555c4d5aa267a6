"""QObject workers run on QThreads; they emit typed signals and never touch widgets.

Keras is never imported in the window's process: only in the child processes of Retrain (medseg_gui.train_process)
and of the Models dialog's predictions (medseg_gui.model_jobs), both started through medseg_gui.child_process.
"""

from medseg_gui.workers.base import FunctionWorker, Worker, WorkerHost, error_message
from medseg_gui.workers.label_saver import LabelSaver
from medseg_gui.workers.scan import ScanWorker
from medseg_gui.workers.training import (
    PredictProgress,
    TrainRun,
    TrainWorker,
)

__all__ = [
    "FunctionWorker",
    "LabelSaver",
    "PredictProgress",
    "ScanWorker",
    "TrainRun",
    "TrainWorker",
    "Worker",
    "WorkerHost",
    "error_message",
]
