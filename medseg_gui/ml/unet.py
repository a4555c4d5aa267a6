"""U-Net builder: a pure function from `UNetConfig` to an uncompiled `keras.Model` with sigmoid outputs."""

from __future__ import annotations

from dataclasses import replace

from medseg_gui.ml.keras_quiet import keras
import numpy as np
from keras import layers

from medseg_gui.ml.config import PRESETS, UNetConfig

__all__ = ["build_unet", "inference_model", "PRESETS"]


def _conv_block(x, filters: int, cfg: UNetConfig, name: str, dropout: bool, dt: dict):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not cfg.batchnorm,
                          kernel_initializer=cfg.kernel_initializer, name=f"{name}_conv{i}", **dt)(x)
        if cfg.batchnorm:
            x = layers.BatchNormalization(momentum=cfg.bn_momentum, name=f"{name}_bn{i}", **dt)(x)
        x = layers.Activation(cfg.activation, name=f"{name}_act{i}", **dt)(x)
        if i == 1 and dropout and cfg.dropout > 0:
            x = layers.Dropout(cfg.dropout, name=f"{name}_drop", **dt)(x)
    return x


def build_unet(cfg: UNetConfig, dtype_policy: str | None = None) -> keras.Model:
    """Input (None, None, None, in_channels) float32, output (..., out_channels) sigmoid float32 probabilities.

    Spatial sides must be multiples of `cfg.multiple`; one model predicts any such tile size. `dtype_policy`
    (e.g. "mixed_bfloat16" on a GPU) is set per layer, never globally.
    """
    dt = {"dtype": dtype_policy} if dtype_policy else {}
    in_block = cfg.dropout_at == "block"
    at_pool = cfg.dropout_at == "pool" and cfg.dropout > 0
    inputs = keras.Input(shape=(None, None, cfg.in_channels), name="image")
    x = inputs
    skips = []
    for level, f in enumerate(cfg.filters[:-1]):
        x = _conv_block(x, f, cfg, f"enc{level}", in_block, dt)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}", **dt)(x)
        if at_pool:
            x = layers.Dropout(cfg.dropout, name=f"pool{level}_drop", **dt)(x)
    x = _conv_block(x, cfg.filters[-1], cfg, "bottleneck", in_block or cfg.dropout_at == "bottleneck", dt)
    for level in reversed(range(cfg.depth)):
        f = cfg.filters[level]
        if cfg.upsampling == "transpose":
            x = layers.Conv2DTranspose(f, 2, strides=2, padding="same", kernel_initializer=cfg.kernel_initializer,
                                       name=f"up{level}", **dt)(x)
        else:
            x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{level}", **dt)(x)
        if cfg.skip == "add":
            x = layers.Add(name=f"add{level}", **dt)([x, skips[level]])
        else:
            x = layers.Concatenate(name=f"cat{level}", **dt)([x, skips[level]])
        if at_pool:
            x = layers.Dropout(cfg.dropout, name=f"cat{level}_drop", **dt)(x)
        x = _conv_block(x, f, cfg, f"dec{level}", in_block, dt)
    outputs = layers.Conv2D(cfg.out_channels, 1, activation="sigmoid", dtype="float32", name="prob")(x)
    return keras.Model(inputs, outputs, name="unet")


def inference_model(model: keras.Model, cfg: UNetConfig, into: keras.Model | None = None) -> keras.Model:
    """A copy of a trained `build_unet(cfg)` model for inference: no Dropout, and BatchNormalization folded into
    the preceding convolution (same outputs, about half the CPU time at full resolution).

    `into` (an earlier result for the same cfg) is refilled in place, so its traced predict function is reused:
    validating during training then costs no new tracing."""
    plain = into if into is not None else build_unet(replace(cfg, batchnorm=False, dropout=0.0))
    names = {l.name for l in model.layers}
    for layer in plain.layers:
        if not layer.weights:
            continue
        src = model.get_layer(layer.name)
        weights = [np.asarray(w) for w in src.get_weights()]
        bn_name = layer.name.replace("_conv", "_bn")
        if cfg.batchnorm and bn_name != layer.name and bn_name in names:
            bn = model.get_layer(bn_name)
            gamma, beta, mean, var = (np.asarray(w) for w in bn.get_weights())
            scale = gamma / np.sqrt(var + bn.epsilon)
            kernel = weights[0] * scale
            bias = beta - mean * scale
            weights = [kernel.astype(np.float32), bias.astype(np.float32)]
        layer.set_weights(weights)
    return plain
