"""Training loss: binary cross-entropy (+ soft Dice) weighted per pixel by the region of interest.

The label tensor packs two channels, (label, weight): pixels outside the ROI or the image have weight 0, so they
never teach the network anything. Written with keras.ops only, so it runs on every Keras backend.
"""

from __future__ import annotations

from medseg_gui.ml.keras_quiet import keras
from keras import ops


@keras.saving.register_keras_serializable(package="medseg")
class MaskedSegLoss(keras.losses.Loss):
    """y_true (B,H,W,2) = (label in [0,1], weight >= 0); y_pred (B,H,W,1) sigmoid probabilities."""

    def __init__(self, dice_weight: float = 0.0, name: str = "masked_seg_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dice_weight = float(dice_weight)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        t, w = y_true[..., 0:1], y_true[..., 1:2]
        p = ops.clip(y_pred, 1e-6, 1.0 - 1e-6)
        bce = -(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p))
        total_w = ops.sum(w) + 1e-6
        batch = ops.cast(ops.shape(w)[0], "float32")
        per_sample = ops.sum(w * bce, axis=(1, 2, 3)) * batch / total_w  # mean over the batch = weighted BCE
        if self.dice_weight > 0:
            inter = ops.sum(w * t * p)
            dice = 1.0 - (2.0 * inter + 1.0) / (ops.sum(w * t) + ops.sum(w * p) + 1.0)
            per_sample = per_sample + self.dice_weight * dice
        return per_sample

    def get_config(self):
        return {**super().get_config(), "dice_weight": self.dice_weight}
