"""The canvas legend: one coloured square and a few words for every colour drawn on the canvas now (labels,
predicted outlines, FP, FN, ROI, probability heat map, uncertainty), overlaid in the canvas' bottom-left corner. It
lists only what is shown (ticked in the Layers panel and present on this image) and follows every repaint of the
canvas. View → Layers → Show legend hides it (`wanted`): an outside trial's legend covered part of a small image
area, with no way to hide it."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel

from medseg_gui.qt.canvas import Canvas
from medseg_gui.qt.canvas.layer_stack import outline_drawn
from medseg_gui.qt.canvas.layers import viridis_rgb
from medseg_gui.qt.defaults import (BACKGROUND_RGB, FN_COLOR, FP_COLOR, HEATMAP_HIGH_RGB, UNCERTAINTY_RGB,
                                    contour_rgb)

RGB = tuple[int, int, int]
# the heat map's entry shows its scale (a new user read its one yellow square as the lesion label's colour)
HEATMAP_SWATCHES: tuple[RGB, ...] = (viridis_rgb(0.1), viridis_rgb(0.55), HEATMAP_HIGH_RGB)
ROI_RGB: RGB = (0, 0, 0)  # the ROI layer darkens what lies outside the region
MARGIN = 8


def legend_entries(canvas: Canvas) -> list[tuple[RGB | tuple[RGB, ...], str]]:
    """(colour, or a colour scale's few colours, meaning) of each colour the canvas draws now, back to front."""
    doc, current, entries = canvas.doc, canvas.current_class(), []

    def has_label(name: str) -> bool:
        return name in doc.labels and bool(doc.area(name) or doc.is_sparse(name))

    if canvas.layer_shown("roi") and doc.roi is not None:
        entries.append((ROI_RGB, "outside the region (darkened)"))
    if canvas.layer_shown("others"):
        entries += [(canvas.class_color(n), f"{n} label") for n in doc.labels if n != current and has_label(n)]
    if canvas.layer_shown("label") and has_label(current):
        entries.append((canvas.class_color(current), f"{current} label"))
        h, w = doc.shape
        if doc.is_sparse(current) and doc.area(current) + doc.unannotated(current) < h * w:  # some painted
            entries.append((BACKGROUND_RGB, f"{current}: annotated background"))
    if canvas.layer_shown("fpfn") and current in doc.preds and canvas.is_labelled(current):
        entries += [(tuple(FP_COLOR), "false positive: predicted, not labelled"),
                    (tuple(FN_COLOR), "false negative: labelled, not predicted")]
    if canvas.layer_shown("probability") and current in doc.probs:  # drawn over the masks (canvas.layer_stack)
        entries.append((HEATMAP_SWATCHES, f"{current}: probability (heat map: clear 0, purple, green, yellow 1)"))
    if canvas.layer_shown("uncertainty") and current in doc.probs:
        entries.append((UNCERTAINTY_RGB, f"{current}: model unsure (near the threshold)"))
    if canvas.layer_shown("contours"):
        zoom = canvas.zoom() * canvas.devicePixelRatioF()  # device pixels per image pixel, as the canvas draws
        entries += [(contour_rgb(canvas.class_color(n)), f"{n} predicted outline") for n in doc.preds
                    if outline_drawn(canvas.new_label.is_thin(n), zoom)]
    return entries


def legend_html(entries: list[tuple[RGB | tuple[RGB, ...], str]]) -> str:
    """One row per entry: its colour's square (a row of squares for a colour scale) and its meaning."""
    def squares(colours: RGB | tuple[RGB, ...]) -> str:
        scale = colours if isinstance(colours[0], tuple) else (colours,)
        return "".join(f'<span style="color: rgb{tuple(int(c) for c in rgb)}">■</span>' for rgb in scale)

    return "<br>".join(f"{squares(rgb)}&nbsp;{escape(text)}" for rgb, text in entries)


class CanvasLegend(QLabel):
    """A small translucent label over the canvas; mouse events pass through to the canvas beneath."""

    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.setObjectName("canvasLegend")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("QLabel#canvasLegend { background-color: rgba(20, 22, 26, 190); color: #e0e2e6; "
                           "padding: 4px 6px; border-radius: 4px; font-size: 11px; }")
        self._entries: list[tuple[RGB | tuple[RGB, ...], str]] = []
        self.wanted = True  # View → Layers → Show legend
        self.hide()
        canvas.installEventFilter(self)

    def entries(self) -> list[tuple[RGB | tuple[RGB, ...], str]]:
        """What the legend lists now (colour, meaning)."""
        return list(self._entries)

    def refresh(self) -> None:
        entries = legend_entries(self.canvas)
        if entries != self._entries:
            self._entries = entries
            self.setText(legend_html(entries))
            self._place()
        self.setVisible(self.wanted and bool(entries))

    def set_wanted(self, wanted: bool) -> None:
        """Show the legend (while there is a colour to name) or keep it hidden."""
        self.wanted = wanted
        self.refresh()

    def _place(self) -> None:
        """In the bottom-left corner, its lines wrapped where the canvas is narrower than they are (at 150 % on a
        1366×768 screen its right end was cut off)."""
        room = max(self.canvas.width() - 2 * MARGIN, 1)
        self.setWordWrap(False)
        self.adjustSize()
        if self.width() > room:
            self.setWordWrap(True)
            self.resize(room, self.heightForWidth(room))
        self.move(MARGIN, max(0, self.canvas.height() - self.height() - MARGIN))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Every canvas change ends in a repaint: refresh then (cheap: cached counts); follow its size."""
        if watched is self.canvas:
            if event.type() == QEvent.Type.Paint:
                self.refresh()
            elif event.type() == QEvent.Type.Resize:
                self._place()
        return False
