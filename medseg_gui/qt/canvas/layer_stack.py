"""The Qt images the canvas draws for one image, cached per document array, and the back-to-front drawing of them.

The canvas owns one ``LayerStack`` and tells it what changed (image, labels and colours, a prediction, the ROI, the
current class); the stack rebuilds a cached ``ArrayImage`` only when the array it shows was replaced (an edit in
place is visible at the next paint without a rebuild) or when a label turned sparse or complete.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter

from medseg_gui.qt.canvas import layers as L
from medseg_gui.qt.canvas.document import LabelDocument
from medseg_gui.qt.defaults import (LAYER_HIDDEN, LAYER_OPACITY, PREDICTION_FILL_OPACITY, THIN_OUTLINE_MIN_ZOOM,
                                    contour_rgb)

DEFAULT_COLOR = (255, 255, 0)


def outline_drawn(thin: bool | None, zoom: float) -> bool:
    """Whether a class's predicted outline is drawn at device `zoom` (device pixels per image pixel): a thin-structure
    class's (`thin`: core.label_status.NewLabelRule.is_thin) only from THIN_OUTLINE_MIN_ZOOM, any other's always."""
    return not thin or zoom >= THIN_OUTLINE_MIN_ZOOM - 1e-6


class LayerStack:
    """Cached layers of ``doc``; ``draw`` paints the ``shown`` ones in canvas order with their opacities. ``thin``:
    whether a class is thin structures (its outlines are drawn only from THIN_OUTLINE_MIN_ZOOM: ``outline_drawn``)."""

    def __init__(self, doc: LabelDocument, thin: Callable[[str], bool | None] = lambda _name: None) -> None:
        self.doc, self._thin = doc, thin
        self.colors: dict[str, tuple[int, int, int]] = {}
        self.image: L.ImagePyramid | None = None
        self.contours: dict[str, L.ContourLayer] = {}
        self._masks: dict[str, L.ArrayImage] = {}
        self._fpfn: L.ArrayImage | None = None
        self._roi: L.ArrayImage | None = None
        self._pred_fill: L.ArrayImage | None = None
        self._uncertainty: L.ArrayImage | None = None
        self._probability: tuple[object, L.ArrayImage] | None = None  # (the map it shows, its heat map)
        self.visible = {name: name not in LAYER_HIDDEN for name in L.LAYERS}  # the layer toggles
        self.opacity = dict(LAYER_OPACITY)

    def color(self, name: str) -> tuple[int, int, int]:
        return self.colors.get(name, DEFAULT_COLOR)

    # -- what changed ------------------------------------------------------------------------------------------
    def image_changed(self, pyramid: L.ImagePyramid) -> None:
        self.image, self._masks, self.contours, self._fpfn, self._roi = pyramid, {}, {}, None, None
        self._uncertainty, self._probability = None, None

    def labels_changed(self, colors: dict[str, tuple[int, int, int]]) -> None:
        self.colors.update({k: tuple(int(c) for c in v) for k, v in colors.items()})
        self._masks, self._fpfn = {}, None
        self.contours = {name: c.recolored(contour_rgb(self.color(name))) for name, c in self.contours.items()}

    def prediction_changed(self, name: str) -> None:
        """The thresholded prediction of ``name`` was replaced (new map or new threshold)."""
        self.contours.pop(name, None)
        if name in self.doc.preds:
            self.contours[name] = L.ContourLayer(self.doc.preds[name].view(bool), contour_rgb(self.color(name)))
        self._fpfn = None

    def roi_changed(self) -> None:
        self._roi, self._fpfn = None, None

    def class_changed(self) -> None:
        self._fpfn = None

    # -- layers ------------------------------------------------------------------------------------------------
    def mask(self, name: str) -> L.ArrayImage:
        arr, sparse = self.doc.labels[name], self.doc.is_sparse(name)
        layer = self._masks.get(name)
        if layer is None or layer.array is not arr or layer.sparse != sparse:
            layer = self._masks[name] = L.mask_layer(arr, self.color(name), sparse)
        return layer

    def prediction_fill(self, name: str) -> L.ArrayImage | None:
        """The corrective mode's starting point: the thresholded prediction of ``name`` while its label is not
        complete."""
        pred = self.doc.preds.get(name)
        if pred is None or (name in self.doc.labelled and not self.doc.is_sparse(name)):
            return None
        if self._pred_fill is None or self._pred_fill.array is not pred:
            self._pred_fill = L.mask_layer(pred, self.color(name))
        return self._pred_fill

    def fpfn(self, name: str) -> L.ArrayImage | None:
        codes = self.doc.fpfn(name)
        if codes is None:
            return None
        if self._fpfn is None or self._fpfn.array is not codes:
            self._fpfn = L.fpfn_layer(codes)
        return self._fpfn

    def uncertainty(self, name: str) -> L.ArrayImage | None:
        """How unsure the prediction of ``name`` is (the review state's uncertainty map); built when first drawn."""
        closeness = self.doc.review.uncertainty(name)
        if closeness is None:
            return None
        if self._uncertainty is None or self._uncertainty.array is not closeness:
            self._uncertainty = L.uncertainty_layer(closeness)
        return self._uncertainty

    def probability(self, name: str) -> L.ArrayImage | None:
        """The heat map of the probability map of ``name``; built when first drawn, again when the map is replaced."""
        prob = self.doc.probs.get(name)
        if prob is None:
            return None
        if self._probability is None or self._probability[0] is not prob:
            self._probability = (prob, L.probability_layer(prob))
        return self._probability[1]

    def roi(self) -> L.ArrayImage | None:
        if self.doc.roi is None:
            return None
        if self._roi is None or self._roi.array is not self.doc.roi:
            self._roi = L.roi_layer(self.doc.roi)
        return self._roi

    def shown(self, layer: str, hide_overlays: bool) -> bool:
        """Whether ``layer`` is drawn: ticked, opacity above 0 and, but for the image, overlays not held hidden."""
        return self.visible[layer] and self.opacity[layer] > 0 and (layer == "image" or not hide_overlays)

    def _has_label(self, name: str) -> bool:
        return name in self.doc.labels and bool(self.doc.area(name) or self.doc.is_sparse(name))

    # -- drawing -----------------------------------------------------------------------------------------------
    def draw(self, painter: QPainter, src: QRectF, zoom: float, current: str, hide_overlays: bool,
             correcting: bool) -> None:
        """Paint the ``shown`` layers over ``src`` (image coordinates; the painter carries the view transform):
        image, ROI, other classes, (corrective mode: the prediction), the current class, FP/FN, the current class'
        probability heat map and uncertainty (off until asked for, then above the masks: under the label and FP/FN a
        new user saw M change nothing), contours (a thin-structure class's only from THIN_OUTLINE_MIN_ZOOM)."""
        shown, opacity = {layer for layer in L.LAYERS if self.shown(layer, hide_overlays)}, self.opacity
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom < 1)
        if self.image is not None and "image" in shown:
            painter.setOpacity(opacity["image"])
            self.image.draw(painter, src, zoom)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # masks: crisp and 4x cheaper
        painter.setOpacity(1.0)
        stack: list[tuple[L.ArrayImage | None, float]] = []
        if "roi" in shown:
            stack.append((self.roi(), opacity["roi"]))
        if "others" in shown:
            stack += [(self.mask(n), opacity["others"]) for n in self.doc.labels if n != current and self._has_label(n)]
        if "label" in shown and correcting:
            stack.append((self.prediction_fill(current), opacity["label"] * PREDICTION_FILL_OPACITY))
        if "label" in shown and self._has_label(current):
            stack.append((self.mask(current), opacity["label"]))
        if "fpfn" in shown:
            stack.append((self.fpfn(current), opacity["fpfn"]))
        if "probability" in shown:
            stack.append((self.probability(current), opacity["probability"]))
        if "uncertainty" in shown:
            stack.append((self.uncertainty(current), opacity["uncertainty"]))
        L.draw_masks(painter, src, [(item, o) for item, o in stack if item is not None], zoom)
        if "contours" in shown:
            for name, contours in self.contours.items():
                if outline_drawn(self._thin(name), zoom):
                    contours.draw(painter, src, zoom, opacity["contours"])
