"""The image list's column header: compact (room for the sort arrow only where it is drawn, titles sized plain) and
with columns the user can widen or narrow by dragging a border, though every column fits its contents until then
(image_columns.ImageTable: the Name column takes what the others leave)."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QMouseEvent
from PySide6.QtWidgets import QHeaderView, QStyle, QStyleOptionHeader, QWidget


class CompactHeader(QHeaderView):
    """A horizontal header that keeps room for the sort arrow only in the column sorted by, and only as much as the
    arrow takes. Qt keeps the header's height again (20-34 px) in every column, which pushed the metric columns out
    of a 320 px list; in the sorted column alone, the 34 px of the two-line "Lesions found" elided every name once a
    header was clicked (and the sort is remembered: in every project). Titles are plain, not bold, and sized so:
    whole rows are selected, so every title was bold all the time (Qt sizes titles as bold in any case).

    A column fits its contents until the user drags its right border: from then on it keeps the width given
    (`user_sized`; Qt lets no column that fits its contents be dragged, and an outside trial's drags did nothing),
    until a double-click on that border fits it again."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionsClickable(True)  # as QTableView's own header: a click sorts
        self.setHighlightSections(False)
        self._bold: tuple[str, QFontMetrics] | None = None  # (font key, metrics of that font in bold)
        self.user_sized: set[int] = set()  # logical columns the user gave a width (dragged borders)
        self._dragged: tuple[int, int] | None = None  # (column, width at the press) while its border is dragged
        self.sectionHandleDoubleClicked.connect(self.fit_again)

    def sectionSizeFromContents(self, logical_index: int) -> QSize:  # noqa: N802 (Qt override)
        size = super().sectionSizeFromContents(logical_index)
        lines = str(self.model().headerData(logical_index, self.orientation()) or "").split("\n")
        size.setWidth(size.width() - max(map(self._bold_metrics().horizontalAdvance, lines))
                      + max(map(self.fontMetrics().horizontalAdvance, lines)))
        if self.isSortIndicatorShown():
            margin = self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, self)
            size.setWidth(size.width() - size.height() - margin)  # Qt's room for the arrow
            if logical_index == self.sortIndicatorSection():
                size.setWidth(size.width() + self._arrow_room(size, margin))
        return size

    def _arrow_room(self, size: QSize, margin: int) -> int:
        """The width to add to a section `size` wide (without the arrow) so that its title, centred in the style's
        label rect, fits that rect and ends `margin` before the style's sort arrow. Both rects' right edges move with
        the section's, the label's left edge stays (Fusion: 18 px for "Lesions found", where Qt adds 34)."""
        option = QStyleOptionHeader()
        self.initStyleOption(option)
        option.rect = QRect(0, 0, size.width(), size.height())
        option.sortIndicator = QStyleOptionHeader.SortIndicator.SortDown
        label = self.style().subElementRect(QStyle.SubElement.SE_HeaderLabel, option, self)
        arrow = self.style().subElementRect(QStyle.SubElement.SE_HeaderArrow, option, self)
        title = size.width() - 2 * margin
        if not arrow.isValid():
            return max(0, title - label.width())
        clear_of_arrow = label.left() + label.right() + 1 + title - 2 * (arrow.left() - margin)
        return max(0, clear_of_arrow, title - label.width())

    def _bold_metrics(self) -> QFontMetrics:
        """The metrics of this header's font in bold, made once per font (the header asks for every section's size
        many times a fill: 180 calls, 14 ms of the window's start-up, when each made its own)."""
        key = self.font().key()
        if self._bold is None or self._bold[0] != key:
            bold = QFont(self.font())
            bold.setBold(True)
            self._bold = (key, QFontMetrics(bold))
        return self._bold[1]

    def handle_at(self, x: int) -> int:
        """The logical column whose right border is under `x` (viewport pixels, within the style's grip margin), the
        visible column left of it for a left border; -1 for none (QHeaderView's own rule, which it keeps private)."""
        visual = self.visualIndexAt(x)
        if visual < 0:
            return -1
        col = self.logicalIndex(visual)
        left = self.sectionViewportPosition(col)
        grip = self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderGripMargin, None, self)
        at_left, at_right = x < left + grip, x > left + self.sectionSize(col) - grip
        if self.isRightToLeft():
            at_left, at_right = at_right, at_left
        if at_right:
            return col
        while at_left and visual > 0:
            visual -= 1
            if not self.isSectionHidden(self.logicalIndex(visual)):
                return self.logicalIndex(visual)
        return -1

    def fit_again(self, col: int) -> None:
        """Column `col` fits its contents again (a double-click on its border), as before the user sized it."""
        self.user_sized.discard(col)
        self.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

    def fit_all(self) -> None:
        """Every column fits its contents (a remembered layout puts back an older version's column modes)."""
        self.user_sized.clear()
        for col in range(self.count()):
            self.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """A press on a column's border lets it be dragged: Qt resizes only Interactive columns."""
        col = self.handle_at(event.position().toPoint().x()) if event.button() == Qt.MouseButton.LeftButton else -1
        if col >= 0 and self.sectionResizeMode(col) == QHeaderView.ResizeMode.ResizeToContents:
            self._dragged = (col, self.sectionSize(col))
            self.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """The end of a drag: the column keeps its new width, the Name column gives way (or takes the room left); a
        press that moved nothing leaves it fitting."""
        super().mouseReleaseEvent(event)
        if self._dragged is not None:
            col, width = self._dragged
            self._dragged = None
            if self.sectionSize(col) == width:
                self.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
            else:
                self.user_sized.add(col)
                self.resizeSections()  # the columns that fit (Name: what the others leave) follow

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """The resize cursor over every border, as over an Interactive column's (Qt shows it for those only)."""
        super().mouseMoveEvent(event)
        if event.buttons() == Qt.MouseButton.NoButton:
            if self.handle_at(event.position().toPoint().x()) >= 0:
                self.setCursor(Qt.CursorShape.SplitHCursor)
            else:
                self.unsetCursor()
