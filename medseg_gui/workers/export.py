"""Export masks as PNG (0/255, original size) for one or more classes, off the GUI thread (in a FunctionWorker)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medseg_gui.core.errors import CancelledError


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    files: dict[str, list[Path]]  # class → written files

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.files.values())


def export_classes(project_root: Path, classes: list[str], out_dir: Path, source: str = "auto",
                   threshold: float = 0.5, *, progress: Callable[[tuple[int, int, str]], None] = lambda _p: None,
                   should_stop: Callable[[], bool] = lambda: False) -> ExportResult:
    """Write `out_dir/<class>/<stem>.png` for every class in `classes` via core.export.export_masks (`auto`: the
    label where one was drawn, otherwise the prediction at `threshold`); run by a FunctionWorker. Reports
    `(done, total, class)` after each class."""
    from medseg_gui.core.export import export_masks
    from medseg_gui.core.project import Project

    project, out_dir = Project.open(project_root), Path(out_dir)
    files: dict[str, list[Path]] = {}
    for i, cls in enumerate(classes):
        if should_stop():
            raise CancelledError("Export cancelled.")
        files[cls] = list(export_masks(project, cls, out_dir / cls, source=source, threshold=threshold))
        progress((i + 1, len(classes), cls))
    return ExportResult(out_dir, files)
