"""Tiny synthetic data and shared trained models for the ml tests (2 CPU cores: keep everything small); the tiny
preset itself (`tiny_preset`) is in tests/conftest.py."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from medseg_gui.ml.config import TrainConfig


def blob_sample(rng: np.random.Generator, h: int = 64, w: int = 64, n: int = 3, with_roi: bool = False):
    """Dark noisy image with bright discs (the label) and optionally a circular ROI."""
    from medseg_gui.ml.train import Sample

    img = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
    yy, xx = np.mgrid[:h, :w]
    mask = np.zeros((h, w), bool)
    for _ in range(n):
        cy, cx, r = rng.integers(6, h - 6), rng.integers(6, w - 6), rng.integers(3, 7)
        mask |= (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
    img[mask] += 120
    roi = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (0.48 * min(h, w)) ** 2) if with_roi else None
    return Sample(img, mask, roi)


@pytest.fixture(scope="session")
def samples():
    rng = np.random.default_rng(0)
    return [blob_sample(rng, with_roi=i == 0) for i in range(3)]


@pytest.fixture(scope="session")
def trained(samples):
    """The default preset (base 8, 32 px patches) trained for 24 steps: shared by predict/store tests."""
    from medseg_gui.ml.train import train

    reports = []
    cfg = TrainConfig(minutes=None, max_steps=24, steps_per_epoch=8, batch_size=4, patch_size=32, base_filters=8,
                      learning_rate=3e-3)
    result = train(samples, cfg, progress=reports.append)
    return result, reports


def tiny_config(preset: str, **kw) -> TrainConfig:
    return dataclasses.replace(TrainConfig(preset=preset, minutes=None, max_steps=10), **kw)
