"""The canvas' tools by name and the one in use: what happens to a polygon being drawn when the image, the class
or the tool is left, and how the canvas' Undo / Redo reach it first."""

from __future__ import annotations

from medseg_gui.core.masks import OBJECT, UNANNOTATED
from medseg_gui.qt.canvas.tools import TOOLS, BrushTool, FillTool, PanTool, PolygonTool, Tool, ToolContext, WandTool


class ToolSet:
    """The canvas' tools by name (``TOOLS``) and the one in use (``current``; the brush at first)."""

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx, self.polygon = ctx, PolygonTool(ctx)
        self._tools: dict[str, Tool] = {
            "brush": BrushTool(ctx, "brush", OBJECT), "eraser": BrushTool(ctx, "eraser", None),
            "background": BrushTool(ctx, "background", 0, background=True),
            "unannotate": BrushTool(ctx, "unannotate", UNANNOTATED),
            "polygon": self.polygon, "fill": FillTool(ctx), "wand": WandTool(ctx), "pan": PanTool(ctx)}
        self.current = "brush"

    def active(self) -> Tool:
        return self._tools[self.current]

    def choose(self, name: str) -> bool:
        """Make ``name`` the tool in use, first ending what every tool is doing; False when it already is."""
        if name not in self._tools:
            raise ValueError(f"unknown tool {name!r}; expected one of {', '.join(TOOLS)}")
        if name == self.current:
            return False
        self.end_shape()
        self.current = name
        return True

    def finish(self) -> None:
        """End whatever any tool is doing (a new image or labels, undo); a polygon being drawn is dropped."""
        for tool in self._tools.values():
            tool.finish()

    def undo(self) -> bool:
        """The canvas' Undo reaches the tools first: a polygon being drawn loses its last corner (True: nothing else
        is undone); else every tool ends what it is doing (False: the label's last step is undone next)."""
        if self.polygon.undo_corner():
            return True
        self.finish()
        return False

    def redo(self) -> bool:
        """As ``undo``: a corner Undo took comes back, or, while a polygon is drawn, nothing happens (True)."""
        if self.polygon.redo_corner():
            return True
        self.finish()
        return False

    def leave(self) -> str | None:
        """End whatever any tool is doing, a polygon being drawn as ``PolygonTool.leave`` says; what became of it."""
        left = self.polygon.leave(self.ctx.doc.key, self.ctx.editable)
        self.finish()
        return left

    def end_shape(self) -> None:
        """Before the class or the tool changes: ``leave``, and say what became of a polygon being drawn (a trial's
        class key and tool key threw away a polygon of four corners without a word)."""
        left = self.leave()
        if left is not None:
            self.ctx.notify(f"{left[0].upper()}{left[1:]}.")
