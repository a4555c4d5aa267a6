"""Editing tools of the canvas. A tool turns left-button events (already in image coordinates) into document edits;
``toolset.ToolSet`` holds the canvas' tools and the one in use.

Modifiers (documented in the user guide): **Shift** makes polygon/lasso, fill and wand mark *background* instead of
the class; **Ctrl** on closing a polygon/lasso accepts the prediction inside it. Brushes paint label codes
(``core.masks``): the brush the class, the background brush background, the unannotate eraser "not annotated"; the
eraser returns pixels to "unpainted": background on a complete label, not annotated on a sparse one.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, SignalInstance
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from medseg_gui.core import masks
from medseg_gui.core.masks import BACKGROUND, OBJECT, UNANNOTATED, Region
from medseg_gui.qt.canvas.document import LabelDocument
from medseg_gui.qt.canvas.view import View
from medseg_gui.qt.keymap import key_text

Point = tuple[float, float]
CLOSE_DISTANCE_PX = 6.0  # clicking this close to the first vertex closes the polygon
LASSO_START_PX = 4.0  # dragging further than this from the press turns a polygon click into a lasso
TOOLS = ("brush", "eraser", "background", "unannotate", "polygon", "fill", "wand", "pan")


class ToolContext(Protocol):
    """What a tool needs from the canvas. Edits go to ``doc``, whose ``edited`` event repaints what changed."""

    doc: LabelDocument
    view: View
    editable: bool
    history_changed: SignalInstance  # what Undo / Redo would do changed (here: a polygon's corners)

    def current_class(self) -> str: ...
    def brush_size(self) -> int: ...
    def wand_tolerance(self) -> int: ...
    def edit_finished(self, name: str) -> None: ...
    def accept_in(self, region: Region | None) -> None: ...
    def update(self, rect: QRect | None = None) -> None: ...
    def confirm(self, question: str) -> bool: ...
    def notify(self, text: str) -> None: ...


class Tool:
    """Base: does nothing. ``pos`` are image coordinates, ``wpos`` widget coordinates."""

    name = ""

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx

    def press(self, pos: Point, wpos: QPointF, mods: Qt.KeyboardModifier) -> None: ...
    def move(self, pos: Point, wpos: QPointF, mods: Qt.KeyboardModifier) -> None: ...
    def release(self, pos: Point, wpos: QPointF, mods: Qt.KeyboardModifier) -> None: ...
    def double_click(self, pos: Point, wpos: QPointF, mods: Qt.KeyboardModifier) -> None: ...

    def key(self, key: int, mods: Qt.KeyboardModifier) -> bool:
        return False

    def finish(self) -> None:
        """End whatever is in progress (new image or labels, undo; ``ToolSet.leave`` for a class or tool switch)."""

    def preview(self, painter: QPainter, cursor: QPointF | None) -> None: ...

    def preview_rect(self, cursor: QPointF | None) -> QRectF:
        return QRectF()

    def _target(self) -> str | None:
        name = self.ctx.current_class()
        return name if name in self.ctx.doc.labels else None

    def _commit(self, name: str, region: Region | None, value: int) -> None:
        doc = self.ctx.doc
        sparse = region is not None and doc.starts_sparse(name, value)
        if doc.apply_region(name, region, value, sparse=sparse) is not None:
            self.ctx.edit_finished(name)


class BrushTool(Tool):
    """Round brush of ``brush_size`` px painting label code ``value`` (None: the eraser, "unpainted"); one undo step
    per stroke. ``background``: the background brush, whose first stroke on an unlabelled class starts a sparse
    label. On an image where the class has no label yet, the object brush starts one only once the press moves (a
    new-user trial clicked a photo to select it and saved a label of one dot, later counted as a second lesion):
    a click alone paints nothing and says so."""

    CLICK_SLOP = 4  # screen px a press may move and still be a click

    def __init__(self, ctx: ToolContext, name: str, value: int | None, background: bool = False) -> None:
        super().__init__(ctx)
        self.name, self.value, self.background = name, value, background
        self._last: Point | None = None
        self._pending: tuple[Point, QPointF] | None = None  # a press on an unlabelled class, until it moves
        self._value = BACKGROUND

    def press(self, pos, wpos, mods) -> None:
        name, doc = self._target(), self.ctx.doc
        if name is None:
            return
        if self.value == OBJECT and name not in doc.labelled:
            self._pending = (pos, QPointF(wpos))
            return
        self._begin(name, pos)

    def _begin(self, name: str, pos: Point) -> None:
        doc = self.ctx.doc
        self._value = self.value if self.value is not None else UNANNOTATED if doc.is_sparse(name) else BACKGROUND
        sparse = doc.starts_sparse(name, self._value, self.background)
        doc.begin_stroke(name, sparse)
        if sparse:
            self.ctx.update()  # the whole label changed its look
        self._last = pos
        doc.stroke_segment(pos, pos, self.ctx.brush_size(), self._value)

    def move(self, pos, wpos, mods) -> None:
        if self._pending is not None:
            start, at = self._pending
            if (wpos - at).manhattanLength() < self.CLICK_SLOP:
                return
            self._pending = None
            name = self._target()
            if name is None:
                return
            self._begin(name, start)
        if self._last is None:
            return
        self.ctx.doc.stroke_segment(self._last, pos, self.ctx.brush_size(), self._value)
        self._last = pos

    def release(self, pos, wpos, mods) -> None:
        if self._pending is not None and (name := self._target()) is not None:
            self._pending = None
            self.ctx.notify(f"A click alone paints nothing where there is no {name} label yet (it would save a "
                            "label of one dot): drag to paint; Space + drag moves the image.")
            return
        self.finish()

    def finish(self) -> None:
        self._pending = None
        if self._last is None:
            return
        self._last = None
        target, doc = self._target(), self.ctx.doc
        name = doc.end_stroke()
        if name is not None:
            self.ctx.edit_finished(name)
        elif self.background and target is not None and not doc.is_sparse(target):  # nothing to see: say why
            self.ctx.notify(f"The {target} label is complete: every unpainted pixel is already background, so the "
                            f"Background brush changed nothing here. To mark background explicitly, make the label "
                            f"sparse first ({key_text('label_sparse')}).")

    def _circle(self, cursor: QPointF) -> tuple[QPointF, float]:
        size, view = self.ctx.brush_size(), self.ctx.view
        cx, cy = masks.brush_center(*view.to_image(cursor.x(), cursor.y()), size)
        return QPointF(*view.to_widget(cx, cy)), max(size * view.zoom / 2, 1.5)

    def preview(self, painter: QPainter, cursor: QPointF | None) -> None:
        if cursor is None or self.ctx.doc.image is None:
            return
        centre, r = self._circle(cursor)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.drawEllipse(centre, r, r)
        dashed = QPen(QColor(0, 0, 0), 1, Qt.PenStyle.DashLine)
        painter.setPen(dashed)
        painter.drawEllipse(centre, r, r)

    def preview_rect(self, cursor: QPointF | None) -> QRectF:
        if cursor is None or self.ctx.doc.image is None:
            return QRectF()
        centre, r = self._circle(cursor)
        return QRectF(centre.x() - r - 3, centre.y() - r - 3, 2 * r + 6, 2 * r + 6)


class PolygonTool(Tool):
    """Click vertices, close with a double-click, Enter or a click on the first vertex; or press-drag a freehand
    lasso that closes on release. Fills the inside (Shift: erases it; Ctrl: accepts the prediction inside).
    Backspace or Undo removes the last vertex, Redo puts it back (``undo_corner``), Escape cancels."""

    name = "polygon"

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self.points: list[Point] = []
        self._undone: list[Point] = []  # corners Undo took back, the last one first to come back on Redo
        self._press_w: QPointF | None = None
        self._lasso = False
        self._started_here = False

    def press(self, pos, wpos, mods) -> None:
        if len(self.points) >= 3 and self._near_first(wpos):
            self.close(mods)
            return
        self._started_here = not self.points
        self.points.append(pos)
        self._undone.clear()  # a new corner: those taken back stay gone, as a new stroke ends a label's redo
        self._press_w, self._lasso = QPointF(wpos), False
        self._changed()

    def move(self, pos, wpos, mods) -> None:
        if self._press_w is not None:
            d = wpos - self._press_w
            self._lasso = self._lasso or math.hypot(d.x(), d.y()) > LASSO_START_PX
            if self._lasso and pos != self.points[-1]:
                self.ctx.update(self._span(self.points[-1], pos))
                self.points.append(pos)

    def _span(self, a: Point, b: Point) -> QRect:
        """Widget rectangle covering the edge between image points ``a`` and ``b`` (plus the pen)."""
        (ax, ay), (bx, by) = self.ctx.view.to_widget(*a), self.ctx.view.to_widget(*b)
        return QRectF(QPointF(ax, ay), QPointF(bx, by)).normalized().adjusted(-3, -3, 3, 3).toAlignedRect()

    def release(self, pos, wpos, mods) -> None:
        lasso, self._press_w, self._lasso = self._lasso and self._started_here, None, False
        if lasso:
            self.close(mods)

    def double_click(self, pos, wpos, mods) -> None:
        self.close(mods)

    def key(self, key: int, mods) -> bool:
        if not self.points:
            return False
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.close(mods)
        elif key == Qt.Key.Key_Escape:
            self.finish()
        elif key == Qt.Key.Key_Backspace:
            self.undo_corner()
        else:
            return False
        self.ctx.update()
        return True

    def undo_corner(self) -> bool:
        """Take back the last corner of the polygon being drawn (True); False when none is drawn (a trial's Ctrl+Z
        threw away a polygon of three corners and undid the label's previous, unrelated edit as well)."""
        if not self.points:
            return False
        self._undone.append(self.points.pop())
        self._press_w, self._lasso = None, False  # a lasso being dragged stops growing: what is left stays open
        self._changed()
        return True

    def redo_corner(self) -> bool:
        """Put back the last corner Undo took; True while a polygon is drawn, with a corner to put back or not (the
        label's undone steps come back only once none is: Redo would otherwise drop the polygon)."""
        if self._undone:
            self.points.append(self._undone.pop())
            self._changed()
        return bool(self.points)

    def can_undo(self) -> bool:
        return bool(self.points)

    def can_redo(self, label_can: bool) -> bool:
        """Whether Redo puts back a corner; ``label_can`` (the label has a step to redo) when no polygon is drawn."""
        return bool(self._undone) if self.points or self._undone else label_can

    def _changed(self) -> None:
        self.ctx.update()
        self.ctx.history_changed.emit()  # the Edit menu's Undo / Redo follow the corners

    def finish(self) -> None:
        drawn = bool(self.points or self._undone)
        self.points, self._undone, self._press_w, self._lasso = [], [], None, False
        self.ctx.update()
        if drawn:
            self.ctx.history_changed.emit()

    def close(self, mods: Qt.KeyboardModifier) -> None:
        points, name = self.points, self._target()
        self.finish()
        if len(points) < 3 or name is None:
            return
        region = masks.polygon_region(self.ctx.doc.shape, points)
        if mods & Qt.KeyboardModifier.ControlModifier:
            self.ctx.accept_in(region)
        else:
            self._commit(name, region, 0 if mods & Qt.KeyboardModifier.ShiftModifier else 1)

    def leave(self, key: str, editable: bool) -> str | None:
        """The image ``key``, the class or the tool is left: a polygon being drawn with three corners or more is
        closed and filled into the class it was drawn for (one undoable step, saved as any stroke), one with fewer,
        or any while the canvas takes no edit (it would not be saved), is dropped; what became of it (None: none)."""
        n, name = len(self.points), self._target()
        if not n:
            return None
        if n >= 3 and editable and name is not None:  # the message names the image and the class (a trial read
            self.close(Qt.KeyboardModifier.NoModifier)  # "left open on cervix", an image, as the cervix class)
            return (f"the polygon left open on image {key} ({n} corners) was closed, filled into '{name}' and saved "
                    "(Ctrl+Z there undoes it)")
        self.finish()
        why = "no edit is taken now" if not editable else "a polygon needs three" if n < 3 else "its class is gone"
        return f"the polygon started on image {key} ({n} corner{'' if n == 1 else 's'}) was dropped: {why}"

    def _near_first(self, wpos: QPointF) -> bool:
        fx, fy = self.ctx.view.to_widget(*self.points[0])
        return math.hypot(wpos.x() - fx, wpos.y() - fy) <= CLOSE_DISTANCE_PX

    def preview_rect(self, cursor: QPointF | None) -> QRectF:
        """The rubber band from the last vertex to the cursor (the canvas repaints it as the cursor moves)."""
        if not self.points or cursor is None:
            return QRectF()
        return QRectF(self._span(self.points[-1], self.ctx.view.to_image(cursor.x(), cursor.y())))

    def preview(self, painter: QPainter, cursor: QPointF | None) -> None:
        if not self.points:
            return
        poly = QPolygonF([QPointF(*self.ctx.view.to_widget(x, y)) for x, y in self.points])
        if cursor is not None and self._press_w is None:
            poly.append(cursor)
        painter.setBrush(Qt.BrushStyle.NoBrush)  # dark dashes on a wider light line: seen on any tissue (a 1-pixel
        painter.setPen(QPen(QColor(255, 255, 255), 3))  # pair was faint on tissue at 200 %, outside trial)
        painter.drawPolyline(poly)
        painter.setPen(QPen(QColor(0, 0, 0), 1.5, Qt.PenStyle.DashLine))
        painter.drawPolyline(poly)


class FillTool(Tool):
    """Flood-fills the closed region of the current label under the click (4-connected); Shift empties it.

    The fill stops at the edge of the region of interest (a click outside it does nothing), and a fill covering more
    than ``LARGE_FILL`` of the image (of the ROI when there is one), usually a click beside a gap in an outline,
    happens only if the user confirms it."""

    name = "fill"
    LARGE_FILL = 0.5

    def press(self, pos, wpos, mods) -> None:
        name, roi = self._target(), self.ctx.doc.roi
        if name is None:
            return
        label = self.ctx.doc.labels[name]
        value = 0 if mods & Qt.KeyboardModifier.ShiftModifier else 1
        col, row = int(math.floor(pos[0])), int(math.floor(pos[1]))
        if not (0 <= row < label.shape[0] and 0 <= col < label.shape[1]) or label[row, col] == value:
            return
        if roi is not None and not roi[row, col]:
            self.ctx.notify("Fill works inside the region of interest; that point is outside it.")
            return
        walled = label if roi is None else np.where(roi, label, np.uint8(3))  # 3 (no label code): the ROI's edge
        region = masks.flood_region(walled, pos)
        if roi is None:
            total, where = label.size, "the image"
        else:
            total, where = int(np.count_nonzero(roi)), "the region of interest"
        if region is not None and not self._confirmed(region.area, total, where, value):
            return
        self._commit(name, region, value)

    def _confirmed(self, area: int, total: int, where: str, value: int) -> bool:
        if area <= self.LARGE_FILL * total:
            return True
        share = f"{100 * area / max(total, 1):.0f} % of {where} ({area:,} pixels)"
        hint = " (the outline around the click probably has a gap)" if value else ""
        if self.ctx.confirm(f"This fill would {'erase' if not value else 'cover'} {share}{hint}.\n\nFill anyway?"):
            return True
        self.ctx.notify(f"Fill not done: it would have changed {share}.")
        return False


class WandTool(Tool):
    """Adds the connected region of similar image colour (within the wand tolerance) to the label; Shift removes."""

    name = "wand"

    def press(self, pos, wpos, mods) -> None:
        name, image = self._target(), self.ctx.doc.image
        if name is None or image is None:
            return
        value = 0 if mods & Qt.KeyboardModifier.ShiftModifier else 1
        self._commit(name, masks.magic_wand(image, pos, self.ctx.wand_tolerance()), value)


class PanTool(Tool):
    """Left-drag pans (handled by the canvas, which pans for every tool with space or the middle button)."""

    name = "pan"
