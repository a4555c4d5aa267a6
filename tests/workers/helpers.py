"""Tiny synthetic projects and a tiny training config shared by the worker and main-window tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medseg_gui.core.images import write_png
from medseg_gui.core.project import Project
from medseg_gui.ml.config import TrainConfig

H, W = 48, 64

TINY_TRAIN = TrainConfig(
    minutes=None, epochs=1, steps_per_epoch=2, max_steps=2, patch_size=32, batch_size=4, base_filters=8
)


def saved_scores(project: Project, cls: str, stems: list[str]) -> tuple[dict[str, float], float]:
    """(per-image AUC, pooled AUC) recomputed here from the saved predictions and labels, inside each image's scored
    region, so tests can check the numbers a command or the GUI shows instead of a bare 0 <= auc <= 1."""
    from medseg_gui.core.masks import scored_region
    from medseg_gui.core.metrics import roc_auc

    per_image, probs, truths = {}, [], []
    for stem in stems:
        prob, label = project.load_prediction(cls, stem), project.load_label_pixels(cls, stem)
        roi = scored_region(project.class_roi(cls, stem), label.annotated)
        inside = np.ones(label.mask.shape, bool) if roi is None else roi
        per_image[stem] = roc_auc(prob, label.mask, roi)
        probs.append(prob[inside])
        truths.append(label.mask[inside])
    return per_image, roc_auc(np.concatenate(probs), np.concatenate(truths))


def disc(h: int = H, w: int = W, cy: int = 24, cx: int = 30, r: int = 9) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def synthetic_image(seed: int, mask: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rgb = rng.integers(20, 70, size=mask.shape + (3,), dtype=np.uint8)
    rgb[mask] = (200, 180, 60)
    return rgb


def make_images(folder: Path, n: int = 3) -> list[Path]:
    """`n` 64×48 PNGs with a bright disc each, in `folder` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        paths.append(write_png(folder / f"img{i}.png", synthetic_image(i, disc(cx=20 + 10 * i))))
    return paths


def folder_with_damaged_mask(folder: Path, n: int) -> Project:
    """A folder project (fault injection's projF) of `n` images, img0_mask.png beside img0.png, and a truncated
    img<n-1>_mask.png beside img<n-1>.png that an earlier opening listed as an image (before masks were told apart)."""
    folder.mkdir()
    damaged = folder / f"img{n - 1}_mask.png"
    write_png(damaged, disc().astype(np.uint8) * 255)
    damaged.write_bytes(damaged.read_bytes()[:60])
    Project.open_or_create_for_folder(folder)  # alone it names no image: listed
    make_images(folder, n=n)
    write_png(folder / "img0_mask.png", disc().astype(np.uint8) * 255)
    return Project.open_or_create_for_folder(folder)

def make_project(root: Path, n: int = 3, labelled: int = 0, cls: str = "lesion") -> Project:
    """A managed project of `n` images; the first `labelled` get a `cls` label (the disc)."""
    sources = make_images(root.parent / f"{root.name}_src", n)
    project = Project.create(root)
    for path in sources:
        project.add_image(path)
    for i, stem in enumerate(project.stems[:labelled]):
        project.save_label(cls, stem, disc(cx=20 + 10 * i))
    return project


# -- GUI helpers (used by tests/qt/test_main_window*.py) ------------------------------------------------------------
def drag(qtbot, canvas, points: list[tuple[float, float]]) -> None:
    """A real left-button drag through image coordinates `points`: press, moves with the button held, release."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    widget_points = [canvas.image_to_widget(x, y) for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=widget_points[0].toPoint())
    for p in widget_points[1:]:
        pos = QPointF(p)
        event = QMouseEvent(QEvent.Type.MouseMove, pos, QPointF(canvas.mapToGlobal(pos)),
                            Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(canvas, event)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=widget_points[-1].toPoint())


def open_window(qtbot, project=None, train: TrainConfig = TINY_TRAIN, **config):
    """A shown MainWindow on `project` with a tiny training config; closed (and its threads stopped) at teardown."""
    from medseg_gui.config import AppConfig
    from medseg_gui.qt.main_window import MainWindow

    window = MainWindow(project, AppConfig(train=train, **config))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)  # window shortcuts (1–9, PgDn, …) need an active window
    return window


def hold_rescoring_save(qtbot, window, monkeypatch):
    """Start a threshold re-scoring of the lesion class in `window` and hold it just before it saves the scores it
    computed with the project as it was; the returned threading.Event lets it save when set."""
    import threading

    entered, gate = threading.Event(), threading.Event()
    real = Project.save_metrics

    def slow(self, cls, metrics):
        if threading.current_thread() is not threading.main_thread():
            entered.set()
            gate.wait(10)
        return real(self, cls, metrics)

    monkeypatch.setattr(Project, "save_metrics", slow)
    window.metrics_refresher.schedule(window.project, "lesion", 0.3)
    qtbot.waitUntil(entered.is_set, timeout=10_000)
    return gate
