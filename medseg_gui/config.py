"""Application settings: one frozen AppConfig handed to the main window (tests pass a tiny training config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from medseg_gui.ml.config import TrainConfig


@dataclass(frozen=True)
class AppConfig:
    """`train` is the Retrain config (the train panel overrides preset and minutes). Keras never loads in the window's
    process (Retrain and the Models dialog's predictions run in child processes), so there is nothing to warm up.
    `threshold` is the initial probability threshold (contours, FP/FN, Dice, export); `settings_file` is the INI
    file where the window remembers its geometry and per-project choices (None: remember nothing, as in tests);
    `close_timeout_s` is how long closing waits for background work before leaving it to the exiting process."""

    train: TrainConfig = field(default_factory=TrainConfig)
    threshold: float = 0.5
    show_loss_curve: bool = True
    close_timeout_s: float = 3.0
    settings_file: Path | None = None
