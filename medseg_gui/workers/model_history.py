"""Model history jobs, each run by a `FunctionWorker`: list a class's stored models, put an earlier one back (then
predict every image with it, as a finished Retrain does), and score two models on one image side by side.

Listing reads JSON only; the two jobs that need Keras run in a child process (medseg_gui.model_jobs through
medseg_gui.child_process), so TensorFlow never loads in the window's process and never holds its GIL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from medseg_gui import model_jobs
from medseg_gui.child_process import call_in_child
from medseg_gui.core.project import Project
from medseg_gui.model_jobs import ModelScores, RollbackRun
from medseg_gui.train_process import PredictProgress

__all__ = ["ModelScores", "RollbackRun", "compare_models", "list_models", "rollback_and_predict"]


def list_models(project_root: Path, cls: str) -> list:
    """The class's `list[ml.store.ModelEntry]`, oldest first (run by a FunctionWorker)."""
    from medseg_gui.ml import store

    return store.list_models(Project.open(project_root).model_dir(cls))


def rollback_and_predict(project_root: Path, cls: str, model_id: str, threshold: float = 0.5, *,
                         progress: Callable[[PredictProgress], None] = lambda _p: None,
                         should_stop: Callable[[], bool] = lambda: False) -> RollbackRun:
    """`model_jobs.rollback_and_predict` in a child process (run by a FunctionWorker); cancelling stops the
    predictions (the rollback stands)."""
    return call_in_child(model_jobs.rollback_and_predict, Path(project_root), cls, model_id, threshold,
                         progress=progress, should_stop=should_stop, what="Predicting with the model")


def compare_models(project_root: Path, cls: str, stem: str, model_ids: list[str], threshold: float, *,
                   should_stop: Callable[[], bool] = lambda: False) -> ModelScores:
    """`model_jobs.compare_models` in a child process (run by a FunctionWorker); cancelling ends the child (it saves
    nothing)."""
    return call_in_child(model_jobs.compare_models, Path(project_root), cls, stem, list(model_ids), threshold,
                         should_stop=should_stop, what="Comparing the models")
