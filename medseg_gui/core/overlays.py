"""RGBA layers for review (contours, FP red / FN blue) and alpha compositing onto an RGB image.

Every layer is uint8 HxWx4 RGBA; pixels a layer does not cover have alpha 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from medseg_gui.core.metrics import fp_fn_maps

FP_COLOR = (255, 0, 0)
FN_COLOR = (0, 0, 255)
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def _rgba(color: Sequence[int], alpha: int) -> np.ndarray:
    """(r, g, b[, a]) → uint8 RGBA; an explicit 4th value overrides `alpha`."""
    values = [int(v) for v in color]
    if len(values) not in (3, 4) or not all(0 <= v <= 255 for v in values) or not 0 <= alpha <= 255:
        raise ValueError(f"colour must be 3 or 4 values in 0..255 (alpha 0..255), got {tuple(color)}, {alpha}")
    return np.array(values if len(values) == 4 else [*values, alpha], dtype=np.uint8)


def _paint(where: np.ndarray, color: Sequence[int], alpha: int) -> np.ndarray:
    layer = np.zeros((*where.shape, 4), dtype=np.uint8)
    layer[where] = _rgba(color, alpha)
    return layer


def _as_mask(mask: np.ndarray) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"a mask must be HxW, got shape {m.shape}")
    return m if m.dtype == np.bool_ else m != 0


def boundary_u8(mask: np.ndarray, thickness: int = 1) -> np.ndarray:
    """uint8 {0, 1} HxW: mask pixels within `thickness` (4-neighbour steps) of the background or the image border.
    One byte per pixel, ready for an 8-bit indexed image layer; a few ms per megapixel however many blobs there are."""
    if thickness < 1:
        raise ValueError("thickness must be at least 1")
    m = np.ascontiguousarray(_as_mask(mask)).view(np.uint8)
    eroded = cv2.erode(m, _CROSS, iterations=thickness, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return cv2.subtract(m, eroded)


def boundary(mask: np.ndarray, thickness: int = 1) -> np.ndarray:
    """bool HxW: mask pixels within `thickness` (4-neighbour steps) of the background or the image border."""
    return boundary_u8(mask, thickness).view(bool)


def any_pool2(mask: np.ndarray) -> np.ndarray:
    """uint8 {0, 1} ceil(H/2) x ceil(W/2): 1 where any pixel of the 2x2 block is non-zero, so a 1-px line drawn from
    the half-size copy never falls between sampled pixels (plain subsampling would drop every other row of it)."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"a mask must be HxW, got shape {m.shape}")
    m = m.view(np.uint8) if m.dtype == np.bool_ else m.astype(np.uint8, copy=False)
    h, w = m.shape
    rows = np.zeros((h - h // 2, w + w % 2), np.uint8)  # even width: byte pairs read as one uint16 below
    rows[:, :w] = m[0::2]
    np.bitwise_or(rows[: h // 2, :w], m[1::2], out=rows[: h // 2, :w])
    return (rows.view(np.uint16) != 0).view(np.uint8)


def contour_layer(mask: np.ndarray, color: Sequence[int], thickness: int = 1) -> np.ndarray:
    """Opaque `color` on the inner boundary of `mask` (never outside it), alpha 0 elsewhere; uint8 HxWx4."""
    return _paint(boundary(mask, thickness), color, 255)


def fp_fn_layer(
    pred: np.ndarray, truth: np.ndarray, roi: np.ndarray | None = None, alpha: int = 170
) -> np.ndarray:
    """False positives pure red, false negatives pure blue (both at `alpha`); TP, TN and outside `roi` alpha 0."""
    fp, fn = fp_fn_maps(pred, truth, roi)
    layer = _paint(fp, FP_COLOR, alpha)
    layer[fn] = _rgba(FN_COLOR, alpha)
    return layer


def composite(image_rgb: np.ndarray, *layers_rgba: np.ndarray) -> np.ndarray:
    """uint8 HxWx3: `layers_rgba` alpha-blended over `image_rgb` in order (alpha 255 replaces, 0 keeps the pixel)."""
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"composite needs a uint8 HxWx3 image, got {image.dtype} {image.shape}")
    out = image.astype(np.uint32)
    for layer in layers_rgba:
        if layer.shape != (*image.shape[:2], 4):
            raise ValueError(f"layer shape {layer.shape} does not match image {image.shape[:2]} + RGBA")
        alpha = layer[:, :, 3:4].astype(np.uint32)
        if not alpha.any():
            continue
        out = (out * (255 - alpha) + layer[:, :, :3].astype(np.uint32) * alpha + 127) // 255
    return out.astype(np.uint8)
