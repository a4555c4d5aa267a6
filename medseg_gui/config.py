"""Application settings: one frozen AppConfig handed to the main window (tests pass a tiny training config)."""

from __future__ import annotations

from dataclasses import dataclass, field

from medseg_gui.ml.config import TrainConfig


@dataclass(frozen=True)
class AppConfig:
    """`train` is the Retrain config (the train panel overrides preset and minutes); `warm_up_keras` imports Keras in
    the background once the window shows, so the first Retrain starts sooner (off in tests that check imports)."""

    train: TrainConfig = field(default_factory=TrainConfig)
    warm_up_keras: bool = False
    threshold: float = 0.5
    show_loss_curve: bool = True
    close_timeout_s: float = 10.0
