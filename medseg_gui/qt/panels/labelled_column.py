"""The image list's "Labelled (<class>)" column: its cells, written from `LabelMarks` (labelled_cell.py says what
they read), and the marks that change only that column: labels not saved yet, doubts ("✓ ?"), "none" and "✓ accepted",
the current model's split ("· train / · val / · new / · test"), the photos its built-in start saw, when each label was
saved. What also changes the scores shown (which images are labelled, a sparse label's share, an unreadable label
file) stays with the list (image_list.py), which refreshes these cells after it; the list's `labelled_column`."""

from __future__ import annotations

from collections.abc import Callable, Collection

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QTableWidgetItem

from medseg_gui.core.project import LabelsRead
from medseg_gui.qt.panels.image_columns import LABELLED_COL, UNSAVED_COLOR, ImageTable
from medseg_gui.qt.panels.labelled_cell import WARNINGS, LabelMarks
from medseg_gui.qt.panels.row_order import RowOrder


class LabelledColumn:
    """The Labelled cells of `table`, rows found by stem (`items`, shared with the list as with RowOrder), sorted and
    batched through `rows`; `current_class()` is the list's class, `readable(stem)` False for an image that cannot be
    read (its row says so instead, image_columns.mark_unreadable)."""

    def __init__(self, table: ImageTable, rows: RowOrder, current_class: Callable[[], str],
                 readable: Callable[[str], bool]) -> None:
        self._table, self._rows, self._cls, self._readable = table, rows, current_class, readable
        self._items: dict[str, QTableWidgetItem] = {}
        self.marks = LabelMarks()  # what the list knows about the labels

    def reset(self, items: dict[str, QTableWidgetItem]) -> None:
        """A new list: its rows (`items`, filled by the list) and nothing known about their labels yet."""
        self._items, self.marks = items, LabelMarks()

    def text(self, stem: str) -> str:
        """The Labelled cell of `stem` for the current class ("✓", "✓ 12 %" for a sparse label, "")."""
        return self._table.item(self._items[stem].row(), LABELLED_COL).text()

    def set_unsaved(self, unsaved: dict[str, str]) -> None:
        """Mark images whose current-class label could not be saved (stem → reason, shown as tooltip)."""
        changed = set(unsaved) ^ set(self.marks.unsaved)
        self.marks.unsaved = dict(unsaved)
        self.refresh([stem for stem in changed | set(unsaved) if stem in self._items])

    def unsaved(self) -> set[str]:
        return set(self.marks.unsaved)

    def set_doubt(self, cls: str, stem: str, why: str | None) -> None:
        """Mark a complete `cls` label that looks incomplete ("✓ ?", `why` in the tooltip; core.label_status)."""
        self.marks.set_doubt(cls, stem, why)
        if cls == self._cls() and stem in self._items:
            self.refresh([stem])

    def set_image_marks(self, negatives: set[str], accepted: set[str]) -> None:
        """Show "none" for images marked "no <current class> here" (an explicit negative), "✓ accepted" for labels
        that are an accepted prediction."""
        self.marks.negatives, self.marks.accepted = set(negatives), set(accepted)
        self.refresh()

    def set_split(self, train: list[str] | None, val: list[str] | None, test: Collection[str] = (),
                  read_at: LabelsRead = LabelsRead(), model: str = "", start_saw: Collection[str] = ()) -> None:
        """Mark the images the current class's model trained and validated on (None: not recorded, no marks), the
        dataset's `test` split; a label saved after the model's run read it (core.project.labels_read) is "new";
        `model`: its id, `start_saw`: photos its shipped start saw, as its run recorded them ("seen")."""
        self.marks.set_split(train, val, test, read_at, model, start_saw)
        self.refresh()

    def add_start_saw(self, model: str, stems: Collection[str]) -> None:
        """More photos the start of the model `model` (id) saw: labelled since its run (workers.label_shares)."""
        self.marks.add_start_saw(model, stems)
        self.refresh([stem for stem in stems if stem in self._items])

    def set_saved_at(self, cls: str, saved_at: dict[str, float]) -> None:
        """When the `cls` labels of these images were last saved (POSIX s: a file's mtime, or a save just made)."""
        self.marks.set_saved_at(cls, saved_at)
        if cls == self._cls():
            self.refresh([stem for stem in saved_at if stem in self._items])

    def split_of(self, stem: str | None) -> str | None:
        """"train" / "val" / "new" for `stem` by the current model's split (set_split), None when not known."""
        return self.marks.split_of(stem)

    def refresh(self, stems: Collection[str] | None = None) -> None:
        """Write the cells of `stems` (None: every image) again from `marks`, in one batch of the list."""
        with self._rows.batch():
            for stem in self._items if stems is None else stems:
                self._show(stem)

    def _show(self, stem: str) -> None:
        if not self._readable(stem):
            return
        item = self._table.item(self._items[stem].row(), LABELLED_COL)
        text, tip, order = self.marks.cell(self._cls(), stem)
        item.setText(text)
        item.setData(Qt.ItemDataRole.ForegroundRole, QBrush(UNSAVED_COLOR) if text in WARNINGS else None)
        item.setToolTip(tip)
        self._rows.set_key(stem, LABELLED_COL, order)
