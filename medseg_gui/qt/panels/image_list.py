"""Left panel: the project's images with "Labelled (<class>)", the metric columns that fit the current class
(image_columns.py: Dice, IoU and lesions found lead for a lesion class, AUC for a vessel class) and the uncertainty
of its prediction (every predicted image, labelled or not: `core.uncertainty`), and a "Next image to label" button;
sortable by a click on a column header (numbers numerically, images without a value last in either direction).
Cells show scores with two decimals; their tooltips, `auc_text`, `dice_text` and `uncertainty_text` have three.

Rows are always found by stem, never by position, so sorting never breaks `select`, `auc_text` or `set_error`, and
the selected image stays selected (row_order.py: its row also keeps its place while it is worked on). Unreadable
images stay in the list in red, marked "⚠ image unreadable" with the full reason as tooltip; they can be selected (the
window shows the reason) but never crash anything. The Labelled cells and the marks that change only them (not
saved, doubts, "none", the model's split…) are `labelled_column` (labelled_column.py); which images are labelled, and
how much of each, is set here, since the scores shown follow it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QPushButton, QTableWidgetItem, QVBoxLayout, QWidget

from medseg_gui.core.lesions import REGIMES, class_regime
from medseg_gui.core.metrics import NOT_SCORED
from medseg_gui.core.uncertainty import UncertaintyScores
from medseg_gui.qt.keymap import key_text
from medseg_gui.qt.panels.image_columns import (COLUMN_COUNT, EDITED_TIP, LABELLED_COL, METRIC_COLS, METRIC_NAMES,
                                                NAME_COL, RECALL_COL, REVIEWED_MARK, SORT_ROLE, STALE_TIP, STEM_ROLE,
                                                UNCERTAINTY_COL, ImageTable, SortItem, arrange_metric_columns, cell,
                                                clear_marks, format_score, header_items, mark_unreadable, number,
                                                show_found, show_score, threshold_note)
from medseg_gui.qt.panels.labelled_column import LabelledColumn
from medseg_gui.qt.panels.row_order import RowOrder


class ImageListPanel(QWidget):
    """Emits `stem_selected(stem)` when the user (or `select`/`step`) makes another image current."""

    stem_selected = Signal(str)
    next_to_label_requested = Signal()  # the "Next image to label" button
    labels_changed = Signal(str, object)  # (current class, labelled_shares()) after the ticks or shares changed
    rescore_due = Signal(str)  # (current class) its scores shown were made at another threshold than set_threshold's

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = ImageTable(COLUMN_COUNT, self)
        self.table.setObjectName("imageTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSortIndicatorClearable(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # project order until a header is clicked
        self.table.fit_columns()
        self.table.setSortingEnabled(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self.unreadable_note = QLabel(self)  # stays while the folder is open (a status-bar line is soon replaced)
        self.unreadable_note.setObjectName("unreadableNote")
        self.unreadable_note.setWordWrap(True)
        self.unreadable_note.hide()
        layout.addWidget(self.unreadable_note)
        self.next_button = QPushButton("Next image to label", self)
        self.next_button.setObjectName("nextToLabel")
        self.next_button.setToolTip("Open the unlabelled image the model is least sure about, else the least "
                                    f"annotated sparse label ({key_text('next_to_label')})")
        self.next_button.clicked.connect(self.next_to_label_requested)
        layout.addWidget(self.next_button)
        self._items: dict[str, QTableWidgetItem] = {}  # stem → its name item (the row follows sorting)
        self._classes: list[str] = []
        self._cls = ""
        self._regime = REGIMES[0]
        self._errors: dict[str, str] = {}
        self._metrics: dict[str, dict[str, dict]] = {}  # class → stem → {"auc":…, "dice":…}
        self._uncertainty: dict[str, UncertaintyScores] = {}  # class → the uncertainty of its predictions
        self._stale: dict[str, set[str]] = {}  # class → stems whose scores come from an earlier model
        self._edited: dict[str, set[str]] = {}  # class → stems whose label changed since their scores were made
        self._threshold: float | None = None  # the scores' due threshold: those made at another are greyed
        self._depth = 0  # nested `batch` blocks
        self._due: set[str] = set()  # the whole-list fills ("metrics", "uncertainty") due at the end of the batch
        self._rows = RowOrder(self.table)  # the current image, and its row's place while it is worked on
        self.labelled_column = LabelledColumn(self.table, self._rows, lambda: self._cls,  # its marks: LabelMarks
                                              lambda stem: stem not in self._errors)
        self._set_headers()
        self.table.currentCellChanged.connect(self._on_current_changed)
        header.sortIndicatorChanged.connect(self._rows.sort_all)

    # -- filling -------------------------------------------------------------------------------------------------
    def set_images(self, stems: list[str], classes: list[str], errors: dict[str, str] | None = None) -> None:
        self._classes, self._errors = list(classes), dict(errors or {})
        self._cls = self._cls if self._cls in self._classes else (self._classes[0] if self._classes else "")
        self._metrics, self._items = {}, {}
        self._uncertainty, self._stale, self._edited = {}, {}, {}
        self._rows.reset(self._items)
        self.labelled_column.reset(self._items)
        self.table.blockSignals(True)
        with self.batch():
            self.table.setRowCount(0)  # also forgets the current cell, so `select` below always emits
            self.table.setRowCount(len(stems))
            for row, stem in enumerate(stems):
                name = SortItem(stem)
                name.setData(STEM_ROLE, stem)
                name.setData(SORT_ROLE, stem.lower())
                name.setToolTip(stem)  # whole, where the column elides it
                self.table.setItem(row, NAME_COL, name)
                self._items[stem] = name
                for col in (LABELLED_COL, *METRIC_COLS, UNCERTAINTY_COL):
                    self.table.setItem(row, col, cell())
                if stem in self._errors:
                    self._mark_error(stem)
        self.table.blockSignals(False)
        self._set_headers()
        self._show_unreadable()

    def set_current_class(self, cls: str, model_info: dict | None = None) -> None:
        """Show the Labelled and metric columns of `cls` (call `set_labelled` next); `model_info` (the current
        model's metadata) tells its regime, and so which metric columns fit (core.lesions.class_regime)."""
        regime = class_regime(cls, model_info)
        if (cls, regime) != (self._cls, self._regime):  # after a round of the same class: the same columns
            self._cls, self._regime = cls, regime
            self._set_headers()
        with self.batch():
            self._fill_metrics()
            self._fill_uncertainty()

    def set_error(self, stem: str, message: str) -> None:
        """`stem` cannot be read, for `message`; '' : it reads again (its file was replaced by a whole one)."""
        if message:
            self._errors[stem] = message
        if stem in self._items and (message or self._errors.pop(stem, None) is not None):
            with self.batch():
                if message:
                    self._mark_error(stem)
                else:
                    clear_marks([self._item(stem, col) for col in range(self.table.columnCount())], stem)
                    self.labelled_column.refresh([stem])
                    self._fill_metrics([stem])
                    self._fill_uncertainty()
        self._show_unreadable()

    def _show_unreadable(self) -> None:
        """The note under the list: how many images cannot be read (hidden when none)."""
        n = sum(1 for stem in self._errors if stem in self._items)
        self.unreadable_note.setText(f"⚠ {n} of {len(self._items)} image{'s' if len(self._items) != 1 else ''} "
                                     f"cannot be read: select one to see why.")
        self.unreadable_note.setVisible(n > 0)

    def set_labelled(self, labelled: set[str]) -> None:
        """Tick the images that have a label for the current class; their scores follow (italics: a sparse label)."""
        marks = self.labelled_column.marks
        changed, marks.labelled = marks.labelled ^ set(labelled), set(labelled)
        with self.batch():
            self.labelled_column.refresh()
            self._fill_metrics([stem for stem in changed if stem in self._items])  # also after a class switch
        self.labels_changed.emit(self._cls, self.labelled_shares())

    def set_present(self, stem: str, present: bool) -> None:
        """Tick (or untick) one image after an edit of its current-class label, without looking at the disk (an
        unreadable file was moved aside before the edit)."""
        marks = self.labelled_column.marks
        marks.unreadable.get(self._cls, {}).pop(stem, None)
        self.set_labelled(marks.labelled | {stem} if present else marks.labelled - {stem})

    def set_annotated(self, cls: str, stem: str, share: float | None) -> None:
        """The annotated share (0–1) of a sparse `cls` label of `stem`, shown beside its tick; None: complete."""
        self.set_annotated_shares(cls, {stem: share})

    def set_annotated_shares(self, cls: str, shares: dict[str, float | None]) -> None:
        """`set_annotated` for several images at once: one re-sort, column fit and `labels_changed` (the list's
        fill when a project opens had cost one of each per sparse label), and none when no labelled image's share
        changes (each image shown says its share: a step through 600 photos re-sorted and fitted all rows)."""
        marks = self.labelled_column.marks
        known = marks.kinds.get(cls, {})
        changed = [stem for stem, share in shares.items() if stem in marks.labelled and stem in self._items
                   and (stem not in known or known[stem] != (None if share is None else float(share)))]
        for stem, share in shares.items():
            marks.set_share(cls, stem, share)
        shown = changed if cls == self._cls else []
        if shown:
            with self.batch():
                self.labelled_column.refresh(shown)
                self._fill_metrics(shown)  # a sparse label's scores in italics
            self.labels_changed.emit(self._cls, self.labelled_shares())

    def pending_kinds(self) -> set[str]:
        """Labelled images of the current class not known yet to be complete or sparse ("✓ …", no scores shown)."""
        return self.labelled_column.marks.pending(self._cls)

    def set_unreadable_labels(self, cls: str, unreadable: dict[str, str]) -> None:
        """Mark the `cls` label files that cannot be read (stem → why) instead of ticking them; the same ones as
        marked already change nothing (every opening refilled every row for none)."""
        if self.labelled_column.marks.unreadable.get(cls, {}) == unreadable:
            return
        self.labelled_column.marks.unreadable[cls] = dict(unreadable)
        if cls == self._cls:
            with self.batch():
                self.labelled_column.refresh()
                self._fill_metrics()
            self.labels_changed.emit(self._cls, self.labelled_shares())  # the Train panel counts readable ones

    def set_reviewed(self, reviewed: set[str]) -> None:
        """Mark the images the clinician has marked as reviewed (a tick after the name, "Reviewed" in the tooltip)."""
        for stem, item in self._items.items():
            if stem not in self._errors:
                item.setText(f"{stem}  {REVIEWED_MARK}" if stem in reviewed else stem)
                item.setToolTip(f"{stem}\nReviewed" if stem in reviewed else stem)

    def set_metrics(self, cls: str, metrics: dict[str, dict]) -> None:
        """Per-image metrics of `cls` ({stem: {"auc":…, "dice":…}}); shown when `cls` is the current class."""
        self._metrics[cls] = {stem: dict(values) for stem, values in metrics.items()}
        if cls == self._cls:
            with self.batch():
                self._fill_metrics()

    def set_stale(self, cls: str, stems: set[str]) -> None:
        """Grey the scores of `stems`: predicted by an earlier model of `cls` (continuous training re-predicts only
        the image on screen); an empty set after a Retrain predicted them all."""
        self._stale[cls] = set(stems)
        if cls == self._cls:
            with self.batch():
                self._fill_metrics()
                self._fill_uncertainty()  # Unsure comes from the same prediction (a trial saw it grey a step late)

    def set_edited(self, cls: str, stems: Collection[str], edited: bool = True) -> None:
        """Grey the scores of `stems` while their `cls` label has changed since they were made (a saved edit, an
        import), until the new ones come (`edited` False); an outside trial read an old Dice in plain text for 5-20 s
        after adding a polygon."""
        marked = self._edited.setdefault(cls, set())
        (marked.update if edited else marked.difference_update)(stems)
        if cls == self._cls:
            with self.batch():
                self._fill_metrics([stem for stem in stems if stem in self._items])

    def set_threshold(self, threshold: float) -> None:
        """The threshold the scores and Unsure are due at (the review state's): those made at another are greyed,
        saying so, until new ones come (an outside trial's Dice column kept its old values, unmarked, after a
        change)."""
        if threshold != self._threshold:
            self._threshold = threshold
            with self.batch():
                self._fill_metrics()
                self._fill_uncertainty()

    def set_uncertainty(self, cls: str, scores: UncertaintyScores) -> None:
        """Uncertainty of the `cls` prediction of each image (core.uncertainty, with the threshold each was made at);
        shown when `cls` is the current class, blank for an image without a prediction."""
        self._uncertainty[cls] = scores
        if cls == self._cls:
            with self.batch():
                self._fill_uncertainty()

    def uncertainty_text(self, stem: str) -> str:
        """The uncertainty of `stem`'s current-class prediction with three decimals ('' when not predicted)."""
        return format_score(self.uncertainty().get(stem))

    def uncertainty(self) -> dict[str, float]:
        """{stem: uncertainty} of the current class."""
        return dict(self._uncertainty.get(self._cls, UncertaintyScores()).scores)

    def labelled_shares(self) -> dict[str, float]:
        """{stem: annotated share} of the images labelled for the current class (1.0: a complete label)."""
        return self.labelled_column.marks.shares(self._cls)

    # -- queries and navigation --------------------------------------------------------------------------------
    def stems(self) -> list[str]:
        """All stems in the order shown (sorting included)."""
        return [self.table.item(row, NAME_COL).data(STEM_ROLE) for row in range(self.table.rowCount())]

    def error(self, stem: str) -> str | None:
        return self._errors.get(stem)

    def errors(self) -> dict[str, str]:
        """{stem: why} of the images listed as unreadable."""
        return {stem: why for stem, why in self._errors.items() if stem in self._items}

    def current_stem(self) -> str | None:
        item = self.table.item(self.table.currentRow(), NAME_COL)
        return item.data(STEM_ROLE) if item is not None else None

    def auc_text(self, stem: str, cls: str) -> str:
        return format_score(self._metrics.get(cls, {}).get(stem, {}).get("auc"))

    def dice_text(self, stem: str, cls: str) -> str:
        return format_score(self._metrics.get(cls, {}).get(stem, {}).get("dice"))

    def headers(self) -> list[str]:
        """The titles of the columns shown, left to right ("Labelled (vessel)", "Lesions found"; shown on two
        lines)."""
        return [self.table.horizontalHeaderItem(col).text().replace("\n", " ") for col in self.shown_columns()]

    def shown_columns(self) -> list[int]:
        """The logical indices of the columns shown, left to right."""
        header = self.table.horizontalHeader()
        return [col for col in map(header.logicalIndex, range(self.table.columnCount()))
                if not header.isSectionHidden(col)]

    def has_metrics(self, cls: str) -> bool:
        return bool(self._metrics.get(cls))

    def select(self, stem: str) -> None:
        self._rows.select(stem)

    def step(self, delta: int) -> None:
        """Move the selection by `delta` rows in the order shown, wrapping around (RowOrder.step: a step straight
        back goes to the image it came from)."""
        self._rows.step(delta)

    # -- internals -----------------------------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Edit cells without rows jumping around: one re-sort and column fit at the end of the outermost batch, the
        image being worked on kept in view (RowOrder.batch). The whole-list fills asked for meanwhile are made once,
        just before (a project's opening asked for four of the scores and three of Unsure, each of every row)."""
        self._depth += 1
        try:
            with self._rows.batch():
                try:
                    yield
                finally:  # also after an error in the batch: the list is not left with the scores of before (review)
                    if self._depth == 1:
                        due, self._due = self._due, set()
                        if "metrics" in due:
                            self._write_metrics(self._items)
                        if "uncertainty" in due:
                            self._write_uncertainty()
        finally:
            self._depth -= 1

    def _item(self, stem: str, col: int) -> QTableWidgetItem:
        return self.table.item(self._items[stem].row(), col)

    def _set_headers(self) -> None:
        for col, item in enumerate(header_items(self._cls)):
            self.table.setHorizontalHeaderItem(col, item)
        arrange_metric_columns(self.table.horizontalHeader(), self._regime)

    def _fill_metrics(self, stems: Collection[str] | None = None) -> None:
        """The scores of `stems` (None: every image; in a batch, once at its end)."""
        if self._depth and (stems is None or "metrics" in self._due):  # every row's at the batch's end
            self._due.add("metrics")
            return
        self._write_metrics(self._items if stems is None else stems)

    def _write_metrics(self, stems: Collection[str]) -> None:
        marks = self.labelled_column.marks
        metrics, pending, due = self._metrics.get(self._cls, {}), marks.pending(self._cls), False
        for stem in stems:
            values, hidden = metrics.get(stem, {}), stem in pending  # complete or sparse? no scores until known
            share = marks.sparse_share(self._cls, stem)
            off = threshold_note(values.get("threshold"), self._threshold)
            due, edited = due or bool(off), EDITED_TIP if stem in self._edited.get(self._cls, ()) else ""
            for col, key in METRIC_COLS.items():  # AUC does not depend on the threshold
                self._show_score(stem, col, values.get(key), METRIC_NAMES[key], share,
                                 (edited, "" if key == "auc" else off), hidden, values.get(NOT_SCORED, ""))
            show_found(self._item(stem, RECALL_COL), {} if hidden else values, share, tip=stem not in self._errors)
        if due:
            self.rescore_due.emit(self._cls)

    def _fill_uncertainty(self) -> None:
        """Every image's Unsure cell (in a batch, once at its end)."""
        if self._depth:
            self._due.add("uncertainty")
        else:
            self._write_uncertainty()

    def _write_uncertainty(self) -> None:
        unsure = self._uncertainty.get(self._cls, UncertaintyScores())
        off = {stem: threshold_note(unsure.thresholds.get(stem), self._threshold) for stem in self._items}
        for stem, note in off.items():
            self._show_score(stem, UNCERTAINTY_COL, unsure.scores.get(stem), "Uncertainty", notes=(note,))
        if any(off.values()):
            self.rescore_due.emit(self._cls)

    def _show_score(self, stem: str, col: int, value: object, name: str, share: float | None = None,
                    notes: Sequence[str] = (), hidden: bool = False, unscored: str = "") -> None:
        """`value` in its cell (image_columns.show_score), sorted by the number; greyed when it comes from another
        model or for the non-empty `notes` (made at another threshold: threshold_note; before its label changed:
        EDITED_TIP); `hidden` (not known yet if a sparse label's): sorted by it, not shown; `unscored`: unscored_tip."""
        self._rows.set_key(stem, col, number(value))
        stale = STALE_TIP if stem in self._stale.get(self._cls, ()) else ""
        show_score(self._item(stem, col), None if hidden else value, name, (stale, *notes), share,
                   tip=stem not in self._errors, unscored="" if hidden else unscored)

    def _mark_error(self, stem: str) -> None:
        mark_unreadable([self._item(stem, col) for col in range(self.table.columnCount())], stem, self._errors[stem])

    def _on_current_changed(self, row: int, _col: int, _prev_row: int, _prev_col: int) -> None:
        item = self.table.item(row, NAME_COL)
        stem = item.data(STEM_ROLE) if item is not None else None
        if stem is not None and self._rows.make_current(stem):  # sorting moves the row, not the image: no reload
            self.stem_selected.emit(stem)
