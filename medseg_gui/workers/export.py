"""Export masks as PNG (0/255, original size) for one or more classes, off the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from medseg_gui.core.errors import CancelledError
from medseg_gui.workers.base import Worker


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    files: dict[str, list[Path]]  # class → written files

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.files.values())


class ExportWorker(Worker):
    """Write `out_dir/<class>/<stem>.png` for every class in `classes` via core.export.export_masks (`auto`: the
    label where one was drawn, otherwise the prediction at `threshold`)."""

    def __init__(self, project_root: Path, classes: list[str], out_dir: Path, source: str = "auto",
                 threshold: float = 0.5) -> None:
        super().__init__()
        self.project_root = Path(project_root)
        self.classes = list(classes)
        self.out_dir = Path(out_dir)
        self.source = source
        self.threshold = threshold

    def work(self) -> ExportResult:
        from medseg_gui.core.export import export_masks
        from medseg_gui.core.project import Project

        project = Project.open(self.project_root)
        files: dict[str, list[Path]] = {}
        for i, cls in enumerate(self.classes):
            if self.is_cancelled():
                raise CancelledError("Export cancelled.")
            files[cls] = list(export_masks(project, cls, self.out_dir / cls, source=self.source,
                                           threshold=self.threshold))
            self.progress.emit((i + 1, len(self.classes), cls))
        return ExportResult(self.out_dir, files)
