"""Worker that reads what needs Keras for Help → About and the training status: versions, device, precision."""

from __future__ import annotations

from medseg_gui.workers.base import Worker


class SystemInfoWorker(Worker):
    """Emits `finished(rows)` with `info.keras_rows(precision)`: (label, value) pairs; imports Keras on its thread."""

    def __init__(self, precision: str = "auto") -> None:
        super().__init__()
        self.precision = precision

    def work(self) -> list[tuple[str, str]]:
        from medseg_gui import info

        return info.keras_rows(self.precision)
