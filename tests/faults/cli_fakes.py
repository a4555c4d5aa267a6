"""Shared by the CLI fault tests: a tiny project, a stand-in trained model (a 1x1 conv, no training) and a CLI runner
that returns the exit status and the stderr lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medseg_gui import cli
from medseg_gui.core.images import write_png
from medseg_gui.core.project import Project

CLS = "vessel"
H, W = 24, 32
META = {"preset": "test", "input_mode": "green", "contrast": "none", "normalise_in_roi": False, "tile_size": 64,
        "tile_overlap": 16, "multiple": 1, "in_channels": 1}


@dataclass(frozen=True)
class FakeResult:
    """The TrainResult fields the pipeline and the store read."""

    segmenter: object
    val_auc: float | None = 0.8
    previous_val_auc: float | None = None
    steps: int = 1
    seconds: float = 0.1
    cancelled: bool = False
    stop_reason: str = "test"
    seen: str = ""


def tiny_segmenter(bias: float = 0.0):
    import keras

    from medseg_gui.ml.predict import Segmenter

    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 1, activation="sigmoid")])
    model.layers[-1].set_weights([np.full((1, 1, 1, 1), 0.05, np.float32), np.full((1,), bias, np.float32)])
    return Segmenter(model, META)


def make_project(root: Path, n: int = 3) -> Project:
    """`n` images, all labelled for CLS (a bright square), with predictions."""
    src = root.parent / f"{root.name}_src"
    src.mkdir(parents=True)
    project = Project.create(root)
    for i in range(n):
        image = np.full((H, W, 3), 30 + i, np.uint8)
        image[4:12, 6 + i:16 + i] = 220
        project.add_image(write_png(src / f"img{i}.png", image))
    for i, stem in enumerate(project.stems):
        label = np.zeros((H, W), bool)
        label[4:12, 6 + i:16 + i] = True
        project.save_label(CLS, stem, label)
        project.save_prediction(CLS, stem, label * np.float32(0.9))
    return project


def run_cli(capsys, *args: str) -> tuple[int, str, list[str]]:
    """(exit status, stdout, stderr lines) of `medseg ARGS`; SystemExit from argument errors counts as a status."""
    capsys.readouterr()
    try:
        rc = cli.main([str(a) for a in args])
    except SystemExit as exc:
        rc = int(exc.code)
    captured = capsys.readouterr()
    return rc, captured.out, [line for line in captured.err.splitlines() if line.strip()]
