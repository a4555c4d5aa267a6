"""What a prediction shows that a complete label leaves out (`left_out`), judged on a grid of at most GRID_SIDE cells
across. The prediction's grid and components (`PredictedGrid`) are made once per map and threshold; after each stroke
only the label is pooled onto the grid (an 8000² label: one read, about 10–30 ms, no full-size temporary)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

NEAR_PX = 5  # thin structures: predicted pixels this close to a painted one are that vessel drawn wider
GRID_SIDE = 1024  # masks are judged on a grid of at most this many cells across


@dataclass(frozen=True, eq=False)
class PredictedGrid:
    """A thresholded prediction on the grid: `counts` (predicted pixels per cell, int32 gh x gw), `step` (cell side
    in pixels), `shape` (the full size), `comps` (8-connected components of the cells holding any, int32 gh x gw, 0:
    none) and `areas` (predicted pixels per component, float64, `areas[0]` = 0)."""

    counts: np.ndarray
    step: int
    shape: tuple[int, int]
    comps: np.ndarray
    areas: np.ndarray

    @property
    def pixels(self) -> int:
        """Predicted pixels of the whole image."""
        return int(self.areas.sum())


def predicted_grid(predicted: np.ndarray) -> PredictedGrid:
    """`PredictedGrid` of the thresholded prediction `predicted` (bool or uint8 {0,1} HxW)."""
    shape = (int(predicted.shape[0]), int(predicted.shape[1]))
    step = grid_step(shape)
    counts = pooled(np.asarray(predicted).astype(bool, copy=False).view(np.uint8), step, np.add)
    n, comps = cv2.connectedComponents((counts > 0).view(np.uint8), connectivity=8)
    areas = np.bincount(comps.ravel(), weights=counts.ravel(), minlength=n)
    areas[0] = 0.0
    return PredictedGrid(counts, step, shape, comps, areas)


def grid_step(shape: tuple[int, int]) -> int:
    """The cell side that puts an image of `shape` on at most GRID_SIDE cells across."""
    return max(1, -(-max(shape) // GRID_SIDE))


def pooled(u8: np.ndarray, step: int, ufunc: np.ufunc) -> np.ndarray:
    """`ufunc` (np.add: pixels, np.maximum: any) over each `step` x `step` cell of uint8 HxW `u8` (edge cells hold
    fewer pixels); ceil(H/step) x ceil(W/step), int32 (np.add) or uint8. Row blocks first: numpy reduces whole rows
    at a time."""
    out = np.int32 if ufunc is np.add else np.uint8
    if step == 1:
        return u8.astype(out)
    h, w = u8.shape
    whole = h // step * step
    dtype = np.uint16 if ufunc is np.add else np.uint8  # a row block's sum: at most `step`
    rows = ufunc.reduce(u8[:whole].reshape(h // step, step, w), axis=1, dtype=dtype)
    if whole < h:
        rows = np.vstack([rows, ufunc.reduce(u8[whole:], axis=0, dtype=dtype)[None]])
    cols = -(-w // step) * step
    if cols > w:
        rows = np.hstack([rows, np.zeros((rows.shape[0], cols - w), dtype)])
    cells = rows[:, ::step].astype(out)
    for i in range(1, step):  # strided slices: numpy's reduce over a short inner axis is several times slower
        ufunc(cells, rows[:, i::step], out=cells)
    return cells


def left_out(label: np.ndarray, grid: PredictedGrid, thin_class: bool, speck: float) -> tuple[float, float]:
    """(left out, around): predicted pixels of the objects the label (bool HxW, the size of `grid`'s prediction) leaves
    out, and of those it lies in. Components of the whole prediction under `speck` pixels (a weak model's specks) are
    neither. Blobs: a component touching no label pixel is left out, the others lie around it (drawn fatter, or the
    label is a sliver of them); thin structures (a missed branch touches the tree): the predicted pixels of the other
    components farther than NEAR_PX from any label pixel are left out, however many pieces they fall into."""
    step = grid.step
    painted = pooled(np.asarray(label).astype(bool, copy=False).view(np.uint8), step, np.maximum) > 0
    kept = grid.areas >= speck
    kept[0] = False
    if thin_class:
        r = -(-NEAR_PX // step)
        near = cv2.dilate(painted.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
        far = (near == 0) & kept[grid.comps]
        left = float(grid.counts[far].sum(dtype=np.int64))
        return left, grid.pixels - left
    touched = np.zeros(len(grid.areas), bool)
    touched[np.unique(grid.comps[painted])] = True
    touched[0] = False
    return float(grid.areas[~touched & kept].sum()), float(grid.areas[touched].sum())
