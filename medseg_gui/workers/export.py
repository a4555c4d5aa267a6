"""Export masks as PNG (0/255, original size) for one or more classes, off the GUI thread (in a FunctionWorker)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medseg_gui.core.errors import CancelledError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    files: dict[str, list[Path]]  # class → written files
    skipped: tuple[str, ...] = ()  # why each image that could not be read was left out ("<stem> not exported: …")
    older: int = 0  # PNGs in the class folders that this export did not write (an earlier export's)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.files.values())


def export_classes(project_root: Path, classes: list[str], out_dir: Path, source: str = "auto",
                   threshold: float = 0.5, *, progress: Callable[[tuple[int, int, str]], None] = lambda _p: None,
                   should_stop: Callable[[], bool] = lambda: False) -> ExportResult:
    """Write `out_dir/<class>/<stem>.png` for every class in `classes` via core.export.export_masks (`auto`: the
    label where one was drawn, otherwise the prediction at `threshold`); run by a FunctionWorker. Reports
    `(done, total, class)` after each class. Every class folder is checked before any is written (a file named
    like the second class stopped the export after the first, with a message that read as if nothing was written).
    """
    from medseg_gui.core.export import check_export_target, export_masks
    from medseg_gui.core.project import Project

    project, out_dir = Project.open(project_root), Path(out_dir)
    for cls in classes:
        check_export_target(project, out_dir / cls)
    files: dict[str, list[Path]] = {}
    skipped: list[str] = []
    for i, cls in enumerate(classes):
        if should_stop():
            raise CancelledError("Export cancelled.")
        files[cls] = list(export_masks(project, cls, out_dir / cls, source=source, threshold=threshold,
                                       skipped=skipped))
        progress((i + 1, len(classes), cls))
    for message in skipped:
        log.warning(message)
    return ExportResult(out_dir, files, tuple(skipped), _older_files(out_dir, files))


def _older_files(out_dir: Path, files: dict[str, list[Path]]) -> int:
    """How many PNGs in the class folders of `out_dir` this export did not write (never deleted: they may be the
    only copy of something)."""
    n = 0
    for cls, written in files.items():
        names = {p.name for p in written}
        folder = out_dir / cls
        if folder.is_dir():
            n += sum(1 for p in folder.iterdir() if p.suffix.lower() == ".png" and p.name not in names)
    return n
