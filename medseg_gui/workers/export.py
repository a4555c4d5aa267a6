"""The window's PNG export, off the GUI thread (in a FunctionWorker): core.export.export_pngs with one subfolder per
class, on the project as saved (opened afresh in the worker, not the window's Project object)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from medseg_gui.core.export import PngExport


def export_classes(project_root: Path, classes: list[str], out_dir: Path, threshold: float = 0.5, *,
                   source: str = "auto", progress: Callable[[tuple[int, int, str]], None] = lambda _p: None,
                   should_stop: Callable[[], bool] = lambda: False) -> PngExport:
    """`out_dir/<class>/<stem>.png` for every class: the label where one was drawn, otherwise the prediction at
    `threshold` (`source` "auto"; "labels": the labels alone). Images left out are in the result (and the log)."""
    from medseg_gui.core.export import export_pngs
    from medseg_gui.core.project import Project

    return export_pngs(Project.open(project_root), classes, out_dir, source, threshold, subfolders=True,
                       progress=progress, should_stop=should_stop)
