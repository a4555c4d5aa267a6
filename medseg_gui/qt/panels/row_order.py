"""Which row of the image list is current, and where the rows go: a re-sort never moves the image being worked on
out from under the user. Its row keeps its place until another image is chosen (its sort keys are held meanwhile),
a batch of edits re-sorts once and keeps it in view, and a step straight back returns to the image it came from. A
sort the user asks for (a header click) shows the top of the list instead, the current image still selected.
Rows are found by stem (`items`: stem → its Name item, shared with the list), never by position."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractItemView, QTableWidgetItem

from medseg_gui.qt.panels.image_columns import NAME_COL, SORT_ROLE, ImageTable


class RowOrder:
    """The current image (`current`) and the sort order around it for an `ImageTable` (image_list.py fills it)."""

    def __init__(self, table: ImageTable) -> None:
        self._table = table
        self._items: dict[str, QTableWidgetItem] = {}
        self.current: str | None = None
        self._held: dict[tuple[str, int], object] = {}  # (stem, column) → sort key the current row takes on leaving
        self._last_step: tuple[str, str, int] | None = None  # (from, to, delta) of the last PgUp/PgDown

    def reset(self, items: dict[str, QTableWidgetItem]) -> None:
        """A new list: `items` (filled by the caller) and no current image yet."""
        self._items, self.current, self._held = items, None, {}

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Edit cells without rows jumping around (ImageTable.frozen: one re-sort and column fit at the end of the
        outermost batch); the image being worked on stays in view wherever its row went, unless the user had
        scrolled it out of view."""
        shown = None if self._table.frozen_depth else self._current_in_view()
        with self._table.frozen(lambda: self._items.get(shown) if shown is not None and shown == self.current
                                else None):
            yield

    def _current_in_view(self) -> str | None:
        """The current image's stem when its row is in the visible part of the list (else None: the user has
        scrolled away, and a re-sort must not pull the list back)."""
        item = self._items.get(self.current or "")
        if item is None:
            return None
        rect = self._table.visualItemRect(item)
        return self.current if rect.isValid() and self._table.viewport().rect().intersects(rect) else None

    def select(self, stem: str) -> None:
        """Make `stem` current and scroll its row into view (setCurrentCell alone left a reopened 300-image list at
        its top, the image shown 256 rows below: trial)."""
        if stem in self._items:
            self._table.setCurrentCell(self._items[stem].row(), NAME_COL)
            self._table.scrollToItem(self._items[stem], QAbstractItemView.ScrollHint.EnsureVisible)

    def step(self, delta: int) -> None:
        """Move the selection by `delta` rows in the order shown, wrapping around; a step straight back goes to the
        image it came from, even when that image's row took its sorted place meanwhile (a trial drew on the top row
        of a list sorted by Labelled, pressed PgDown, then PgUp, and landed on the last image)."""
        rows = self._table.rowCount()
        if not rows:
            return
        came, self._last_step = self._last_step, None
        if came is not None and came[2] == -delta and came[1] == self.current and came[0] in self._items:
            self.select(came[0])
            return
        before, row = self.current, self._table.currentRow()
        self._table.setCurrentCell(0 if row < 0 else (row + delta) % rows, NAME_COL)
        if before is not None and self.current != before:
            self._last_step = (before, self.current, delta)

    def make_current(self, stem: str) -> bool:
        """`stem`'s row became the table's current one: True when that is another image (sorting moves the row, not
        the image). The rows left behind take their sorted places after this event: a click makes the clicked row
        current, then selects the row under the mouse; a re-sort in between moved another row there (a trial's list
        highlighted 983 while 177 was shown)."""
        if stem == self.current:
            return False
        self.current = stem
        QTimer.singleShot(0, self._table, self._release)
        return True

    def set_key(self, stem: str, col: int, key: object) -> None:
        """Set the sort key of a cell; the row of the image being worked on keeps its place until another image is
        chosen, then takes its sorted place (a new-user trial's row jumped under the mouse after every stroke, its
        live Dice re-sorting the list)."""
        if stem == self.current:
            self._held[(stem, col)] = key
        else:
            self._item(stem, col).setData(SORT_ROLE, key)

    def _release(self) -> None:
        """The held sort keys of the rows left behind (`set_key`): one re-sort, the view kept (`batch`); the current
        row's stay held."""
        current = {k: v for k, v in self._held.items() if k[0] == self.current}
        left = {k: v for k, v in self._held.items() if k[0] != self.current}
        if left:  # else nothing moves: a re-sort and column fit measure every row (a step through 600 photos)
            with self.batch():
                self._write_keys(left)
        self._held = current

    def sort_all(self, *_args: object) -> None:
        """A header click sorts every row, the current one too (a trial's image on screen, Dice 0.07, stayed below
        0.95 in a list sorted by Dice ascending), and shows the top of the list, what the user sorted for; the
        current image stays selected. Keeping its row in view instead left the worst image 40 wheel notches away,
        or put the row at the top edge with the rows sorted before it out of view above (outside trial)."""
        held, self._held = self._held, {}
        with self._table.frozen():
            self._write_keys(held)
        self._table.scrollToTop()

    def _write_keys(self, keys: dict[tuple[str, int], object]) -> None:
        """Give the cells (stem, column) these sort keys; the rows re-sort at the end of the caller's batch."""
        for (stem, col), key in keys.items():
            if stem in self._items:
                self._item(stem, col).setData(SORT_ROLE, key)

    def _item(self, stem: str, col: int) -> QTableWidgetItem:
        return self._table.item(self._items[stem].row(), col)
