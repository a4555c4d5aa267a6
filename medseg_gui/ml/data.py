"""Preprocessing shared by training and inference, and the ROI-aware random patch sampler (numpy/OpenCV only).

Images are kept as uint8 "enhanced" arrays (channel selection + optional CLAHE) plus per-image normalisation
statistics, so training on many large photos costs about as much memory as the photos themselves; patches and
tiles are normalised to float32 on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from medseg_gui.ml.config import Augment, Preset

_MAX_CENTRES = 200_000  # candidate patch centres kept per image (bounded memory on huge images)


def enhance(image: np.ndarray, input_mode: str, contrast: str = "none") -> np.ndarray:
    """uint8 HxWx3 RGB -> uint8 HxWxC (C=3 for "rgb", 1 for "gray"/"green"), optional CLAHE per channel."""
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if input_mode == "rgb":
        out = np.ascontiguousarray(image[..., :3])
    elif input_mode == "green":
        out = np.ascontiguousarray(image[..., 1:2])
    elif input_mode == "gray":
        out = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)[..., None]
    else:
        raise ValueError(f"unknown input_mode {input_mode!r}")
    if contrast == "clahe":
        tile = max(2, min(16, max(out.shape[:2]) // 64))
        clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(tile, tile))
        out = np.stack([clahe.apply(np.ascontiguousarray(out[..., c])) for c in range(out.shape[2])], axis=2)
    return out


def roi_stats(enhanced: np.ndarray, roi: np.ndarray | None, use_roi: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mean, std) float32 over the ROI pixels (the whole image when roi is None or not use_roi)."""
    pixels = enhanced[roi] if (use_roi and roi is not None and roi.any()) else enhanced.reshape(-1, enhanced.shape[2])
    if pixels.shape[0] > 2_000_000:  # subsample huge images; statistics converge long before
        pixels = pixels[:: pixels.shape[0] // 1_000_000]
    pixels = pixels.astype(np.float32)
    return pixels.mean(axis=0), np.maximum(pixels.std(axis=0), 1.0)


def normalise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """uint8 (..., C) -> float32 zero-mean unit-variance with the given statistics."""
    return (x.astype(np.float32) - mean) / std


def preprocess(image: np.ndarray, roi: np.ndarray | None, input_mode: str, contrast: str = "none",
               normalise_in_roi: bool = True) -> np.ndarray:
    """uint8 HxWx3 -> float32 HxWxC network input; the same function (piecewise) is used for tiles at inference."""
    enh = enhance(image, input_mode, contrast)
    mean, std = roi_stats(enh, roi, normalise_in_roi)
    return normalise(enh, mean, std)


def reflect_index(idx: np.ndarray, n: int) -> np.ndarray:
    """Mirror indices into [0, n) like numpy's 'reflect' padding, for any distance outside."""
    if n == 1:
        return np.zeros_like(idx)
    period = 2 * n - 2
    idx = np.abs(idx) % period
    return np.where(idx >= n, period - idx, idx)


def crop_reflect(array: np.ndarray, y0: int, x0: int, h: int, w: int) -> np.ndarray:
    """array[y0:y0+h, x0:x0+w] with mirror padding wherever the window leaves the array."""
    H, W = array.shape[:2]
    if y0 >= 0 and x0 >= 0 and y0 + h <= H and x0 + w <= W:
        return array[y0:y0 + h, x0:x0 + w]
    return array[np.ix_(reflect_index(np.arange(y0, y0 + h), H), reflect_index(np.arange(x0, x0 + w), W))]


def crop_zero(array: np.ndarray, y0: int, x0: int, h: int, w: int) -> np.ndarray:
    """array[y0:y0+h, x0:x0+w] with zeros outside the array (for labels and loss weights)."""
    H, W = array.shape[:2]
    out = np.zeros((h, w) + array.shape[2:], array.dtype)
    ys, xs = max(0, y0), max(0, x0)
    ye, xe = min(H, y0 + h), min(W, x0 + w)
    if ye > ys and xe > xs:
        out[ys - y0:ye - y0, xs - x0:xe - x0] = array[ys:ye, xs:xe]
    return out


@dataclass
class PreparedImage:
    """One labelled training image: enhanced uint8 pixels, label, ROI and patch-centre candidates."""

    enhanced: np.ndarray  # uint8 HxWxC
    mean: np.ndarray
    std: np.ndarray
    mask: np.ndarray  # bool HxW
    roi: np.ndarray  # bool HxW (all True when no ROI was given)
    roi_centres: np.ndarray  # flat indices inside the ROI
    positive_centres: np.ndarray  # flat indices of labelled pixels inside the ROI (may be empty)
    # A sparse label's unannotated pixels inside the ROI (bool HxW) and what they are taught there: a start model's
    # probability (float16 HxW) at loss weight `prior_weight` (set_prior; None: they teach nothing).
    unannotated: np.ndarray | None = None
    prior: np.ndarray | None = None
    prior_weight: float = 0.0

    def set_prior(self, prior: np.ndarray, weight: float) -> None:
        """Teach the unannotated pixels `prior` (float HxW in [0, 1], any resolution: resized to this image's)."""
        if self.unannotated is None or weight <= 0:
            return
        H, W = self.mask.shape
        if prior.shape != (H, W):
            prior = cv2.resize(prior.astype(np.float32), (W, H), interpolation=cv2.INTER_AREA)
        self.prior, self.prior_weight = np.clip(prior, 0.0, 1.0).astype(np.float16), float(weight)

    def label_window(self, y0: int, x0: int, h: int, w: int) -> np.ndarray:
        """float32 hxwx2 (label, loss weight) of the window at (y0, x0); zero outside the image."""
        lab = np.stack([crop_zero(self.mask, y0, x0, h, w), crop_zero(self.roi, y0, x0, h, w)], -1).astype(np.float32)
        if self.prior is not None:
            free = crop_zero(self.unannotated, y0, x0, h, w)
            lab[..., 0][free] = crop_zero(self.prior, y0, x0, h, w)[free]
            lab[..., 1][free] = self.prior_weight
        return lab


def _shrink_annotated(annotated: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The annotated pixels at the working resolution: only output pixels wholly inside annotated input pixels."""
    if annotated.shape == shape[:2]:
        return annotated.astype(bool)
    small = cv2.resize(annotated.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return small > 0.999


def resize_to_scale(image: np.ndarray, mask: np.ndarray | None, roi: np.ndarray | None, scale: float
                    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Image (area-averaged), label (area share >= 0.5) and ROI (any overlap) at the working `scale` (<= 1)."""
    if scale >= 1.0:
        return image, mask, roi
    H, W = image.shape[:2]
    size = (max(1, round(W * scale)), max(1, round(H * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if image.ndim == 3 and small.ndim == 2:
        small = small[..., None]

    def shrink(m: np.ndarray | None, cut: float) -> np.ndarray | None:
        if m is None:
            return None
        return cv2.resize(m.astype(np.float32), size, interpolation=cv2.INTER_AREA) > cut

    return small, shrink(mask, 0.4999), shrink(roi, 0.0)


def prepare(image: np.ndarray, mask: np.ndarray, roi: np.ndarray | None, preset: Preset,
            rng: np.random.Generator, annotated: np.ndarray | None = None) -> PreparedImage:
    """Resize to the working scale, enhance once, compute ROI statistics and a bounded set of patch centres.

    `annotated` (bool HxW, None = every pixel) marks the pixels a sparse label says something about: only they
    teach the network (loss weight 0 elsewhere) and only they are patch centres. Normalisation still uses the ROI."""
    image, mask, roi = resize_to_scale(image, mask, roi, preset.scale)
    if annotated is not None:
        annotated = _shrink_annotated(annotated, mask.shape)
    enh = enhance(image, preset.input_mode, preset.contrast)
    mean, std = roi_stats(enh, roi, preset.normalise_in_roi)
    roi_b = np.ones(mask.shape, bool) if roi is None or not roi.any() else roi.astype(bool)
    unannotated = None
    if annotated is not None:
        unannotated = roi_b & ~annotated
        roi_b = roi_b & annotated
    where = roi_b if roi_b.any() else np.ones(mask.shape, bool)  # nothing annotated: weight 0 everywhere

    def centres(m: np.ndarray) -> np.ndarray:
        idx = np.flatnonzero(m)
        return rng.choice(idx, _MAX_CENTRES, replace=False) if idx.size > _MAX_CENTRES else idx

    return PreparedImage(enh, mean, std, mask.astype(bool), roi_b, centres(where), centres(mask & roi_b),
                         unannotated if unannotated is not None and unannotated.any() else None)


def _affine_matrix(rng: np.random.Generator, aug: Augment, size: int, window: int) -> np.ndarray:
    """2x3 matrix mapping output patch pixels to source-window pixels (for cv2.WARP_INVERSE_MAP)."""
    zoom = 1.0 + rng.uniform(-aug.zoom, aug.zoom)
    shear = rng.uniform(-aug.shear, aug.shear)
    shift = rng.uniform(-aug.shift, aug.shift, size=2) * size
    m = np.array([[zoom, zoom * np.tan(shear)], [0.0, zoom]])
    c_out = np.full(2, size // 2, np.float64)
    c_src = np.full(2, window // 2, np.float64)
    return np.hstack([m, (c_src - m @ c_out + shift)[:, None]])


def _pixels(img: PreparedImage, aug: Augment, rng: np.random.Generator, y0: int, x0: int, S: int) -> np.ndarray:
    """The normalised float32 SxSxC window at (y0, x0), mirrored outside the image, with random gamma (global and
    per channel), saturation, blur and noise as `aug` asks."""
    window = crop_reflect(img.enhanced, y0, x0, S, S)
    channels = window.shape[-1]
    if aug.gamma > 0 or aug.channel_gamma > 0:
        g = float(np.exp(rng.uniform(-aug.gamma, aug.gamma))) if aug.gamma > 0 else 1.0
        levels = np.arange(256) / 255.0
        if aug.channel_gamma > 0:
            gs = g * np.exp(rng.uniform(-aug.channel_gamma, aug.channel_gamma, size=channels))
            window = np.stack([np.take((255.0 * levels ** gc).astype(np.float32), window[..., c])
                               for c, gc in enumerate(gs)], axis=-1)
        else:  # one table for all channels
            window = np.take((255.0 * levels ** g).astype(np.float32), window)
    if aug.saturation > 0 and channels == 3:
        grey = window.astype(np.float32).mean(axis=-1, keepdims=True)
        window = grey + (window - grey) * np.float32(1.0 + rng.uniform(-aug.saturation, aug.saturation))
    if aug.blur > 0 and rng.random() < 1 / 3:
        sigma = float(rng.uniform(0.3, aug.blur))
        window = cv2.GaussianBlur(window.astype(np.float32), (0, 0), sigma).reshape(window.shape)
    x = normalise(window, img.mean, img.std)
    if aug.noise > 0 and rng.random() < 1 / 3:
        x = x + rng.normal(0.0, rng.uniform(0.0, aug.noise), size=x.shape).astype(np.float32)
    return x


def sample_patch(img: PreparedImage, preset: Preset, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One augmented patch: x float32 PxPxC, y float32 PxPx2 (label, loss weight = inside ROI and image)."""
    P, aug = preset.patch_size, preset.augment
    pool = img.positive_centres if (img.positive_centres.size and rng.random() < preset.positive_fraction) \
        else img.roi_centres
    cy, cx = np.unravel_index(pool[rng.integers(pool.size)], img.mask.shape)
    if aug.affine:
        S = 2 * P  # a larger source window so shear/zoom/shift never sample outside it
        y0, x0 = cy - S // 2, cx - S // 2
        x = _pixels(img, aug, rng, y0, x0, S)
        lab = img.label_window(y0, x0, S, S)
        mat = _affine_matrix(rng, aug, P, S)
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        x = cv2.warpAffine(x, mat, (P, P), flags=flags, borderMode=cv2.BORDER_REFLECT)
        lab = cv2.warpAffine(lab, mat, (P, P), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
        x = x.reshape(P, P, -1)
    else:
        y0, x0 = cy - P // 2, cx - P // 2
        x = _pixels(img, aug, rng, y0, x0, P)
        lab = img.label_window(y0, x0, P, P)
    if aug.flips:
        if rng.random() < 0.5:
            x, lab = x[::-1], lab[::-1]
        if rng.random() < 0.5:
            x, lab = x[:, ::-1], lab[:, ::-1]
    if aug.rot90:
        k = int(rng.integers(4))
        x, lab = np.rot90(x, k), np.rot90(lab, k)
    if aug.intensity > 0:
        x = x * (1.0 + rng.uniform(-aug.intensity, aug.intensity)) + rng.uniform(-aug.intensity, aug.intensity)
    if aug.colour > 0:
        x = x + rng.uniform(-aug.colour, aug.colour, size=x.shape[-1]).astype(np.float32)
    return x, lab


def sample_batch(images: list[PreparedImage], preset: Preset, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A batch (x: B,P,P,C float32; y: B,P,P,2 float32) with `crops_per_image` patches from each drawn image."""
    B, k = preset.batch_size, max(1, preset.crops_per_image)
    xs, ys = [], []
    while len(xs) < B:
        img = images[int(rng.integers(len(images)))]
        for _ in range(min(k, B - len(xs))):
            x, y = sample_patch(img, preset, rng)
            xs.append(x)
            ys.append(y)
    return np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32)
