"""A row of controls that breaks into more rows when the right-hand column is narrow (`WrapGrid`): the Draw tools'
buttons (3 a row, else 2), Retrain · Continuous · Cancel · Models… (4, else 2) and the threshold with its suggestion
(in one row, else the suggestion below). As plain rows they set the column's minimum width: at 1366×768 with 150 %
scaling an outside trial's column could not be narrowed below 500 of its 1366 pixels, and the image kept 330."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget, QWidgetItem

from medseg_gui.qt.panels.column import ROW_SPACING


def shares(total: int, weights: list[int], minimums: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, none below its minimum (those at their minimum take no more)."""
    fixed: dict[int, int] = {}
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        room = total - sum(fixed.values())
        weight = sum(weights[i] for i in free) or 1
        below = [i for i in free if room * weights[i] / weight < minimums[i]]
        if not below:
            break
        fixed.update((i, minimums[i]) for i in below)
    sizes = [fixed.get(i, int(room * weights[i] / weight)) for i in range(len(weights))]
    if free:  # rounding: the last free cell takes what is left
        sizes[free[-1]] += total - sum(sizes)
    return sizes


def _item_size(item: QLayoutItem, hint: bool) -> QSize:
    """The size hint (else minimum size) of `item`, also while its widget is hidden (its item's is 0 × 0 then)."""
    widget = item.widget()
    if widget is None or not widget.isHidden():
        return item.sizeHint() if hint else item.minimumSize()
    return widget.sizeHint() if hint else widget.minimumSizeHint().expandedTo(widget.minimumSize())


class WrapGrid(QLayout):
    """Widgets in reading order on a grid of the most of `columns` (e.g. (4, 2)) whose rows fit the width at the
    widgets' size hints, else of the fewest; its minimum width is the fewest's. The columns are aligned across rows
    and share the width in proportion to their widgets' stretch (the largest in the column). Hidden widgets take no
    cell, so the columns follow the visible ones."""

    def __init__(self, columns: tuple[int, ...], spacing: int = 6, row_spacing: int = ROW_SPACING) -> None:
        super().__init__()
        self._choices = tuple(sorted(columns, reverse=True))
        self._items: list[tuple[QLayoutItem, int]] = []
        self._row_spacing = row_spacing
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addWidget(self, widget: QWidget, stretch: int = 1) -> None:  # noqa: N802 (Qt's name)
        self.addChildWidget(widget)
        self._items.append((QWidgetItem(widget), stretch))
        self.invalidate()

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt override)
        self._items.append((item, 1))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt override)
        return self._items[index][0] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt override)
        return self._items.pop(index)[0] if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 (Qt override)
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 (Qt override)
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """One row at the widgets' size hints. Hidden widgets count here and in the minimum: the column's default
        width leaves room for what shows later (a model's threshold suggestion wrapped below at once), and its
        minimum does not change as it shows (it moved the splitter)."""
        return self._size(self._choices[0], hint=True)

    def minimumSize(self) -> QSize:  # noqa: N802 (Qt override)
        """The fewest columns' width, the most columns' height: the height the width gives is heightForWidth's. A
        minimum of the wrapped rows' height made the column 17 px taller than the rows it showed in one row once a
        model's suggestion showed (it scrolled at 1366×768; review)."""
        fewest, most = self._size(self._choices[-1], hint=False), self._size(self._choices[0], hint=False)
        return QSize(fewest.width(), most.height())

    # -- arrangement ---------------------------------------------------------------------------------------------
    def _shown(self) -> list[tuple[QLayoutItem, int]]:
        return [(item, stretch) for item, stretch in self._items if not item.isEmpty()]

    def _widths(self, n: int, hint: bool, items: list[tuple[QLayoutItem, int]] | None = None) -> list[int]:
        """The columns' widths on a grid of `n` columns: the widest size hint (or minimum) of each."""
        widths = [0] * n
        for i, (item, _) in enumerate(self._shown() if items is None else items):
            widths[i % n] = max(widths[i % n], _item_size(item, hint).width())
        return widths

    def _columns(self, width: int) -> int:
        for n in self._choices:
            if sum(self._widths(n, hint=True)) + self.spacing() * (n - 1) <= width:
                return n
        return self._choices[-1]

    def _size(self, n: int, *, hint: bool) -> QSize:
        """On a grid of at most `n` columns: the width of every widget (hidden ones too), the height of those shown."""
        columns = max(1, min(n, len(self._items)))
        width = sum(self._widths(columns, hint, self._items)) + self.spacing() * (columns - 1)
        shown = self._shown()
        n = max(1, min(n, len(shown)))
        rows = [shown[i:i + n] for i in range(0, len(shown), n)]
        heights = [max((item.sizeHint() if hint else item.minimumSize()).height() for item, _ in row) for row in rows]
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(),
                     sum(heights) + self._row_spacing * max(0, len(rows) - 1) + margins.top() + margins.bottom())

    def _place(self, rect: QRect, *, move: bool) -> int:
        """Lay the widgets out in `rect` (when `move`); the height they take."""
        shown = self._shown()
        if not shown:
            return 0
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        n = min(self._columns(area.width()), len(shown))
        weights = [max(stretch for _, stretch in shown[c::n]) for c in range(n)]
        widths = shares(area.width() - self.spacing() * (n - 1), weights, self._widths(n, hint=False))
        y = area.y()
        for start in range(0, len(shown), n):
            row = shown[start:start + n]
            height = max(item.sizeHint().height() for item, _ in row)
            x = area.x()
            for (item, _), width in zip(row, widths):
                if move:
                    item.setGeometry(QRect(x, y, width, height))
                x += width + self.spacing()
            y += height + self._row_spacing
        return y - self._row_spacing - area.y() + margins.top() + margins.bottom()
