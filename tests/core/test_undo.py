"""Undo history: exact restores, per-image stacks, byte budget, stroke recording."""

import numpy as np

from medseg_gui.core import masks
from medseg_gui.core.undo import DEFAULT_BUDGET_BYTES, StrokeRecorder, UndoHistory


def stroke(label, hist, key, cls, p0, p1, size=5, value=1):
    rec = StrokeRecorder(label, tile=16)
    region = masks.capsule_region(label.shape, p0, p1, size)
    rec.touch(region.bbox)
    masks.apply_region(label, region, value)
    hist.push(key, cls, rec.bbox, label.shape, rec.before(), label[masks.bbox_slices(rec.bbox)])


def test_undo_redo_restore_exact_bytes():
    rng = np.random.default_rng(0)
    label = (rng.random((50, 60)) > 0.7).astype(np.uint8)
    states = [label.copy()]
    hist = UndoHistory()
    for i in range(5):
        stroke(label, hist, "a", "lesion", (5 + 9 * i, 3), (40, 45 - 5 * i), size=3 + i, value=i % 2)
        states.append(label.copy())
    for expected in reversed(states[:-1]):
        step = hist.undo("a")
        label[masks.bbox_slices(step.bbox)] = step.before()
        assert np.array_equal(label, expected)
    assert not hist.can_undo("a") and hist.can_redo("a")
    for expected in states[1:]:
        step = hist.redo("a")
        label[masks.bbox_slices(step.bbox)] = step.after()
        assert np.array_equal(label, expected)


def test_push_clears_redo_of_that_image_only():
    label = np.zeros((20, 20), np.uint8)
    hist = UndoHistory()
    changed: list[str | None] = []
    hist.events.changed.connect(changed.append)  # Edit → Undo / Redo follow these
    stroke(label, hist, "a", "c", (3, 3), (9, 9))
    stroke(label, hist, "b", "c", (3, 3), (9, 9))
    hist.undo("a"), hist.undo("b")
    assert hist.undo("a") is None and changed == ["a", "b", "a", "b"]  # nothing left to undo: no event
    stroke(label, hist, "a", "c", (1, 1), (2, 2))
    assert not hist.can_redo("a") and hist.can_redo("b")
    hist.clear("b")
    assert changed[-2:] == ["a", "b"] and not hist.can_redo("b")


def test_history_is_kept_per_image_key_and_remembers_the_class():
    label = np.zeros((20, 20), np.uint8)
    hist = UndoHistory()
    stroke(label, hist, "a", "lesion", (3, 3), (9, 9))
    stroke(label, hist, "b", "vessel", (3, 3), (9, 9))
    stroke(label, hist, "a", "vessel", (3, 3), (4, 9))
    assert hist.classes("a") == {"lesion", "vessel"} and hist.classes("b") == {"vessel"}
    assert [hist.undo("a").cls, hist.undo("a").cls] == ["vessel", "lesion"]
    assert hist.steps("b") == 1 and hist.classes("a") == {"lesion", "vessel"}  # redo steps count too
    assert hist.classes("c") == set()


def test_byte_budget_evicts_the_oldest_steps_globally():
    rng = np.random.default_rng(0)
    label = np.zeros((64, 64), np.uint8)
    noise = lambda: (rng.random((64, 64)) > 0.5).astype(np.uint8)  # incompressible patches
    hist = UndoHistory(budget_bytes=4000)
    hist.push("old", "c", (0, 0, 64, 64), label.shape, noise(), noise())
    first = hist.memory_bytes
    assert 1000 < first < 2000
    for _ in range(4):
        hist.push("new", "c", (0, 0, 64, 64), label.shape, noise(), noise())
    assert hist.memory_bytes <= 4000
    assert not hist.can_undo("old")  # the globally oldest step went first
    assert 1 <= hist.steps("new") <= 3


def test_max_steps_and_clear_release_memory():
    label = np.zeros((8, 8), np.uint8)
    hist = UndoHistory(max_steps=3)
    for i in range(5):
        hist.push("a", "c", (0, 0, 8, 8), label.shape, label, label)
    assert hist.steps("a") == 3
    hist.clear()
    assert hist.memory_bytes == 0 and not hist.can_undo("a")


def test_two_hundred_normal_strokes_fit_the_default_budget():
    label = np.zeros((2000, 2000), np.uint8)
    hist = UndoHistory()
    for i in range(250):
        stroke(label, hist, "a", "c", (10 + 7 * i, 100 + (i % 50) * 30), (300 + 5 * i, 900), size=25)
    assert hist.steps("a") == 250
    assert hist.memory_bytes < DEFAULT_BUDGET_BYTES / 100


def test_stroke_recorder_rebuilds_before_across_tiles():
    rng = np.random.default_rng(3)
    label = (rng.random((100, 90)) > 0.5).astype(np.uint8)
    original = label.copy()
    rec = StrokeRecorder(label, tile=16)
    for _ in range(30):
        p0, p1 = tuple(rng.uniform(-5, 95, 2)), tuple(rng.uniform(-5, 95, 2))
        region = masks.capsule_region(label.shape, p0, p1, int(rng.integers(1, 9)))
        if region is not None:
            rec.touch(region.bbox)
            masks.apply_region(label, region, int(rng.integers(0, 2)))
    assert np.array_equal(rec.before(), original[masks.bbox_slices(rec.bbox)])
    outside = np.ones(label.shape, bool)
    outside[masks.bbox_slices(rec.bbox)] = False
    assert np.array_equal(label[outside], original[outside])
