"""Tiled inference: `Segmenter` wraps a trained U-Net and the preprocessing recipe it was trained with.

Any image size, no resizing: the image is covered by overlapping tiles (multiples of 2**depth), blended with a
separable raised-cosine window (a partition of unity across each overlap), mirror-padded only where a tile leaves the
image. Memory stays bounded: the enhanced uint8 image, the float32 output and one chunk of tiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from medseg_gui.core import postprocess
from medseg_gui.core.errors import CancelledError, LabelSizeError
from medseg_gui.core.masks import bbox_slices, clip_bbox, mask_bbox
from medseg_gui.core.postprocess import PostProcess
from medseg_gui.ml.config import Preset
from medseg_gui.ml.data import crop_reflect, enhance, normalise, resize_to_scale, roi_stats
from medseg_gui.ml.metadata import recipe_json, valid_sides

_CHUNK_PIXELS = 1 << 20  # pixels per forward pass (about four 512x512 tiles)
_ROI_MARGIN = 32  # pixels of real image kept around the ROI's bounding box (beyond it, mirrored)


def preset_metadata(preset: Preset) -> dict[str, Any]:
    """The preprocessing/tiling recipe a Segmenter needs, and the whole training recipe ("recipe", for the record);
    stored next to the model as JSON."""
    return {
        "preset": preset.name,
        "input_mode": preset.input_mode,
        "contrast": preset.contrast,
        "normalise_in_roi": preset.normalise_in_roi,
        "patch_size": preset.patch_size,
        "late_patch_size": preset.late_patch_size,
        "tile_size": preset.tile_size,
        "tile_overlap": preset.tile_overlap,
        "filters": list(preset.unet.filters),
        "multiple": preset.unet.multiple,
        "in_channels": preset.unet.in_channels,
        "scale": preset.scale,
        "regime": preset.regime,
        "recipe": recipe_json(preset),
    }


def axis_layout(n: int, tile_max: int, overlap: int, multiple: int) -> tuple[int, list[int]]:
    """(tile length, tile starts) covering [0, n) with tiles <= tile_max overlapping by >= overlap.

    Starts and lengths are multiples of `multiple` so every tile's pooling grid is aligned with the whole image's
    (otherwise a U-Net is not shift-equivariant and tiles would disagree); the last tile may end past n (mirror).
    """
    padded = -(-n // multiple)
    t_max = max(1, tile_max // multiple)
    ov = min(-(-overlap // multiple), t_max // 2)
    if padded <= t_max:
        return padded * multiple, [0]
    k = math.ceil((padded - ov) / (t_max - ov))
    t = math.ceil((padded + (k - 1) * ov) / k)
    return t * multiple, [int(round(s)) * multiple for s in np.linspace(0, padded - t, k)]


def axis_windows(n: int, t: int, starts: list[int]) -> list[np.ndarray]:
    """Per-tile 1-D weights: 1 inside, raised-cosine ramps across each overlap with a neighbour, 1 at image edges."""
    windows = []
    for i, s in enumerate(starts):
        w = np.ones(t, np.float32)
        if i > 0:
            ov = starts[i - 1] + t - s
            w[:ov] = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ov) + 0.5) / ov)
        if i < len(starts) - 1:
            ov = s + t - starts[i + 1]
            w[t - ov:] = np.minimum(w[t - ov:], 0.5 + 0.5 * np.cos(np.pi * (np.arange(ov) + 0.5) / ov))
        windows.append(w[: max(0, min(t, n - s))])
    return windows


def calibrate(prob: np.ndarray, point: float | None) -> np.ndarray:
    """Rescale raw probabilities piecewise linearly, in place, so that `point` becomes 0.5 (0 and 1 stay): the map's
    0.5 is then the model's operating point. Monotone, so AUC and every pixel's rank are unchanged, and
    `calibrate(p, t) >= 0.5` exactly where `p >= t`. None or 0.5: unchanged."""
    if point is None or point == 0.5:
        return prob
    low = prob < point  # the only temporaries are this mask and its inverse: maps of 8000² pixels stay in place
    np.multiply(prob, np.float32(0.5 / point), out=prob, where=low)
    np.minimum(prob, np.nextafter(np.float32(0.5), np.float32(0)), out=prob, where=low)
    high = ~low
    np.subtract(prob, np.float32(point), out=prob, where=high)
    np.multiply(prob, np.float32(0.5 / (1.0 - point)), out=prob, where=high)
    np.add(prob, np.float32(0.5), out=prob, where=high)
    np.minimum(prob, np.float32(1.0), out=prob, where=high)
    return prob


class Segmenter:
    """A trained model plus its metadata (preset, input mode, normalisation, tiling, filters, val AUC, date)."""

    def __init__(self, model: Any, metadata: dict[str, Any]):
        self.model = model
        self.metadata = dict(metadata)

    def _prepare(self, image: np.ndarray, roi: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if roi is not None and roi.shape != image.shape[:2]:
            raise LabelSizeError(f"The region of interest is {roi.shape[1]}x{roi.shape[0]} pixels but the image is "
                                 f"{image.shape[1]}x{image.shape[0]}.")
        md = self.metadata
        enh = enhance(image, md.get("input_mode", "rgb"), md.get("contrast", "none"))
        mean, std = roi_stats(enh, roi, md.get("normalise_in_roi", True))
        return enh, mean, std

    def _forward(self, batch: np.ndarray, tta: int) -> np.ndarray:
        """(B,h,w,C) float32 -> (B,h,w) probabilities; flip TTA averages `tta` flips (2: left-right, 4: all)."""
        variants = [(False, False), (False, True), (True, False), (True, True)][:max(1, min(4, int(tta)))]
        acc = None
        for fy, fx in variants:
            x = batch[:, ::-1] if fy else batch
            x = x[:, :, ::-1] if fx else x
            p = np.asarray(self.model.predict_on_batch(np.ascontiguousarray(x)))[..., 0]
            p = p[:, ::-1] if fy else p
            p = p[:, :, ::-1] if fx else p
            acc = p if acc is None else acc + p
        return acc / len(variants)

    @property
    def scale(self) -> float:
        """The working scale the model was trained at (images are resized by it, probabilities resized back)."""
        s = float(self.metadata.get("scale", 1.0) or 1.0)
        return s if 0.0 < s < 1.0 else 1.0

    def scale_for(self, shape: tuple[int, ...]) -> float:
        """The working scale for an image of `shape` (H, W, ...): `scale`, unless that would show the image at a size
        the model never trained at, measured by the short side (the extent a round field of view fills): then the
        nearest size it did (metadata "working_sides": the shortest and longest short side of its training images
        at the working scale; a lesion run records it), never enlarged past the full image. A photo from another
        camera at twice the resolution shows its lesions as large as the training photos did (a trial: the same
        photo at 1350 px found 8 % lesion, at 3000 px 25 %; PolypGen C1 test photos enlarged 2.2×: Dice 0.58 at
        the fixed scale, 0.72 so, 0.74 at their own size)."""
        sides, scale = valid_sides(self.metadata.get("working_sides")), self.scale
        if sides is None:
            return scale
        short = float(min(shape[:2]))
        at = short * scale
        return scale if sides[0] <= at <= sides[1] else min(1.0, (sides[1] if at > sides[1] else sides[0]) / short)

    @property
    def operating_point(self) -> float | None:
        """The raw network output that the model's maps show as 0.5 (metadata "operating_point": the threshold with
        the best validation Dice, see ml.train), None for models without one (their maps are the raw output)."""
        value = self.metadata.get("operating_point")
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 < value < 1.0
        return float(value) if ok else None

    @property
    def tta(self) -> int:
        """The flips a prediction averages unless told otherwise: the model's choice on its validation images
        (metadata "tta": 2 = the image and its mirror), else 1 (no flips)."""
        value = self.metadata.get("tta", 1)
        return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4 else 1

    def variant(self, **metadata: Any) -> Segmenter:
        """The same network predicting with these metadata entries changed (e.g. another choice of flips or scales)."""
        return Segmenter(self.model, {**self.metadata, **metadata})

    @property
    def scales(self) -> tuple[float, ...]:
        """Factors of the working scale whose predictions are averaged (metadata "scales", a lesion model's choice
        on its validation images, see validation.choose_prediction), else (1,): the working scale alone."""
        value = self.metadata.get("scales")
        return tuple(float(f) for f in value) if isinstance(value, list) and value else (1.0,)

    def predict(self, image: np.ndarray, roi: np.ndarray | None = None, *, tta: bool | int | None = None,
                clean: bool = True,
                should_stop: Callable[[], bool] | None = None, tile_size: int | None = None) -> np.ndarray:
        """uint8 HxWx3 -> float32 HxW probabilities in [0, 1], calibrated to the model's operating point
        (`calibrate`); 0 outside roi. Raises CancelledError on stop.
        `tta`: True averages all 4 flips, an int that many, None the model's own choice (`self.tta`); `clean`: apply
        the model's chosen clean-up (False: the network's raw map, e.g. to compare models on equal terms)."""
        tta = self.tta if tta is None else (4 if tta is True else int(tta))
        if roi is not None and roi.shape != image.shape[:2]:
            raise LabelSizeError(f"The region of interest is {roi.shape[1]}x{roi.shape[0]} pixels but the image is "
                                 f"{image.shape[1]}x{image.shape[0]}.")
        out, scale = None, self.scale_for(image.shape)
        for factor in self.scales:  # the mean of the calibrated maps, accumulated in place
            prob = self._predict_at(image, roi, min(1.0, scale * factor), tta, should_stop, tile_size)
            out = prob if out is None else np.add(out, prob, out=out)
        if len(self.scales) > 1:
            out /= len(self.scales)
        return self._clean(out) if clean else out

    def _predict_at(self, image: np.ndarray, roi: np.ndarray | None, scale: float, tta: int,
                    should_stop: Callable[[], bool] | None, tile_size: int | None) -> np.ndarray:
        """Calibrated probabilities of the image resized by `scale` (at most 1), resized back to the image."""
        if scale >= 1.0:
            return calibrate(self._predict_native(image, roi, tta, should_stop, tile_size), self.operating_point)
        H, W = image.shape[:2]
        small, _, small_roi = resize_to_scale(image, None, roi, scale)
        prob = calibrate(self._predict_native(small, small_roi, tta, should_stop, tile_size), self.operating_point)
        out = cv2.resize(prob, (W, H), interpolation=cv2.INTER_LINEAR)
        if roi is not None:
            out[~roi.astype(bool)] = 0.0
        return np.clip(out, 0.0, 1.0, out=out)

    def _clean(self, prob: np.ndarray) -> np.ndarray:
        """The model's chosen clean-up (core/postprocess.py), applied at its threshold."""
        spec = self.metadata.get("postprocess")
        if not spec:
            return prob
        return postprocess.apply(prob, float(self.metadata.get("threshold") or 0.5), PostProcess.from_json(spec))

    def _predict_native(self, image: np.ndarray, roi: np.ndarray | None, tta: int,
                        should_stop: Callable[[], bool] | None, tile_size: int | None) -> np.ndarray:
        enh, mean, std = self._prepare(image, roi)
        if roi is None:
            return self._predict_tiles(enh, mean, std, tta, should_stop, tile_size)
        out = np.zeros(enh.shape[:2], np.float32)
        box = mask_bbox(roi)
        if box is None:
            return out
        # only the ROI's bounding box plus a margin of real context is computed
        y0, x0, y1, x1 = box
        s = bbox_slices(clip_bbox((y0 - _ROI_MARGIN, x0 - _ROI_MARGIN, y1 + _ROI_MARGIN, x1 + _ROI_MARGIN), out.shape))
        out[s] = self._predict_tiles(enh[s], mean, std, tta, should_stop, tile_size)
        out[~roi.astype(bool)] = 0.0
        return out

    def _predict_tiles(self, enh: np.ndarray, mean: np.ndarray, std: np.ndarray, tta: int,
                       should_stop: Callable[[], bool] | None, tile_size: int | None) -> np.ndarray:
        H, W = enh.shape[:2]
        md = self.metadata
        m = int(md.get("multiple", 16))
        tile = tile_size or int(md.get("tile_size", 256))
        overlap = int(md.get("tile_overlap", 64))
        th, ys = axis_layout(H, tile, overlap, m)
        tw, xs = axis_layout(W, tile, overlap, m)
        wy, wx = axis_windows(H, th, ys), axis_windows(W, tw, xs)
        out = np.zeros((H, W), np.float32)
        jobs = [(i, j) for i in range(len(ys)) for j in range(len(xs))]
        n_chunks = math.ceil(len(jobs) / max(1, _CHUNK_PIXELS // (th * tw)))
        per_chunk = math.ceil(len(jobs) / n_chunks)  # equal chunks: one traced shape per image size
        for c in range(0, len(jobs), per_chunk):
            if should_stop is not None and should_stop():
                raise CancelledError("Prediction was cancelled.")
            chunk = jobs[c:c + per_chunk]
            batch = np.stack([normalise(crop_reflect(enh, ys[i], xs[j], th, tw), mean, std) for i, j in chunk])
            probs = self._forward(batch, tta)
            for (i, j), p in zip(chunk, probs):
                h, w = wy[i].size, wx[j].size
                out[ys[i]:ys[i] + h, xs[j]:xs[j] + w] += p[:h, :w] * wy[i][:, None] * wx[j][None, :]
        out /= _axis_sum(H, ys, wy)[:, None]
        out /= _axis_sum(W, xs, wx)[None, :]
        np.nan_to_num(out, copy=False, nan=0.0)
        np.clip(out, 0.0, 1.0, out=out)
        return out

    def predict_whole(self, image: np.ndarray, roi: np.ndarray | None = None) -> np.ndarray:
        """One forward pass over the whole (mirror-padded) image: the reference tiled inference must match."""
        enh, mean, std = self._prepare(image, roi)
        H, W = enh.shape[:2]
        m = int(self.metadata.get("multiple", 16))
        x = normalise(crop_reflect(enh, 0, 0, -(-H // m) * m, -(-W // m) * m), mean, std)
        out = np.clip(self._forward(x[None], False)[0, :H, :W], 0.0, 1.0).astype(np.float32)
        out = calibrate(out, self.operating_point)
        if roi is not None:
            out[~roi.astype(bool)] = 0.0
        return out


def _axis_sum(n: int, starts: list[int], windows: list[np.ndarray]) -> np.ndarray:
    total = np.zeros(n, np.float32)
    for s, w in zip(starts, windows):
        total[s:s + w.size] += w
    return np.maximum(total, 1e-6)
