"""The image list's names kept in view while the list is scrolled sideways: a view of the same rows over the table's
left edge that shows only the Name column (Qt's frozen-column pattern: one model, one selection). An outside trial at
150 % scrolled right to read the scores and lost the names, so no score could be matched to its image.

It shows only while the table is scrolled sideways (at the left the table's own Name column is there); a click on
a name selects that image as a click in the table does, a click on its title sorts by name, and a right-click offers
the table's own menu."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QTableWidget
from shiboken6 import isValid


class FrozenNames(QTableView):
    """Column `col` of `table`, over the table's left edge while the table is scrolled sideways."""

    def __init__(self, table: QTableWidget, col: int) -> None:
        super().__init__(table)
        self._table, self._col = table, col
        self.setObjectName("frozenNames")
        self.setStyleSheet("QTableView#frozenNames { border: none; padding: 0px; }")  # the table draws the frame
        self.setModel(table.model())
        self.setSelectionModel(table.selectionModel())  # a click here makes the row current in the table too
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay the table's (`mousePressEvent`)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(table.textElideMode())
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # sized from the table's column (`place`)
        header.setSortIndicatorShown(True)
        header.sectionClicked.connect(self._sort_by_name)
        main = table.horizontalHeader()
        main.sortIndicatorChanged.connect(lambda col, order: header.setSortIndicator(col, order))
        main.sectionResized.connect(lambda *_: self.place())
        main.geometriesChanged.connect(self.place)
        bar = table.horizontalScrollBar()
        bar.valueChanged.connect(lambda _value: self.place())
        bar.rangeChanged.connect(lambda *_: self.place())
        table.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.verticalScrollBar().valueChanged.connect(table.verticalScrollBar().setValue)  # a wheel over the names
        self.hide()

    def place(self) -> None:
        """Shown over the table's left edge, as wide as its Name column, while the table is scrolled sideways (the
        table calls this when it is resized too)."""
        if not isValid(self._table):  # a signal of the table being deleted
            return
        table, main = self._table, self._table.horizontalHeader()
        shown = table.horizontalScrollBar().value() > 0 and not main.isSectionHidden(self._col)
        if shown:
            for col in range(self.model().columnCount()):
                self.setColumnHidden(col, col != self._col)
            self.setColumnWidth(self._col, main.sectionSize(self._col))
            self.horizontalHeader().setFixedHeight(main.height())
            self.horizontalHeader().setSortIndicator(main.sortIndicatorSection(), main.sortIndicatorOrder())
            self.verticalHeader().setDefaultSectionSize(table.verticalHeader().defaultSectionSize())
            top, view = main.geometry().top(), table.viewport().geometry()
            self.setGeometry(view.left(), top, main.sectionSize(self._col), view.bottom() + 1 - top)
            self.verticalScrollBar().setValue(table.verticalScrollBar().value())
            self.raise_()
        self.setVisible(shown)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        """A click on a name gives the table the keyboard focus, as a click on its own cells does."""
        self._table.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        """The table's right-click menu (e.g. Remove image) over the names too."""
        if self._table.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu and self._table.actions():
            QMenu.exec(self._table.actions(), event.globalPos(), None, self)

    def _sort_by_name(self, _section: int) -> None:
        """A click on the title sorts as one on the table's Name title does (QHeaderView's order of a click: the
        column's first order, then the other, then none where a sort can be cleared)."""
        main = self._table.horizontalHeader()
        first = self.model().headerData(self._col, Qt.Orientation.Horizontal, Qt.ItemDataRole.InitialSortOrderRole)
        first = Qt.SortOrder(first) if first is not None else Qt.SortOrder.AscendingOrder
        other = Qt.SortOrder.DescendingOrder if first == Qt.SortOrder.AscendingOrder else Qt.SortOrder.AscendingOrder
        if main.sortIndicatorSection() != self._col:
            main.setSortIndicator(self._col, first)
        elif main.isSortIndicatorClearable() and main.sortIndicatorOrder() != first:
            main.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        else:
            main.setSortIndicator(self._col, other if main.sortIndicatorOrder() == first else first)
