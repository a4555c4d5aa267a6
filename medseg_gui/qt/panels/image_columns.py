"""The image list's columns: which there are, their titles and tooltips, the metric columns that fit a class's regime
and in which order, how wide they are, how a cell's value is written and sorted. The widget (image_list.py) fills them.

A lesion class leads with Dice and IoU and shows how many lesions were found ("1/2"); a vessel (thin-structure) class
leads with AUC and has no lesion column. The regime is the current model's (its metadata's "regime", chosen from the
labels by an adaptive recipe), else read from the class name ("lesion" in it).

Every column is readable in the default 350 px list (window 1400×860) without scrolling sideways: scores are written
with two decimals (three in the cell's tooltip), headers are short (their tooltips say what they mean), and the Name
column takes what the others leave (down to NAME_MIN, elided in the middle). The user may drag a column's border
(compact_header.py); a list scrolled sideways keeps its names in view (frozen_names.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTableWidget, QTableWidgetItem, QWidget

from medseg_gui.core.masks import share_text
from medseg_gui.core.metrics import NOT_SCORED
from medseg_gui.qt.panels.compact_header import CompactHeader
from medseg_gui.qt.panels.frozen_names import FrozenNames

NAME_COL, LABELLED_COL, AUC_COL, DICE_COL, IOU_COL, RECALL_COL, UNCERTAINTY_COL = range(7)
COLUMN_COUNT = 7
STEM_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
METRIC_COLS = {AUC_COL: "auc", DICE_COL: "dice", IOU_COL: "iou", RECALL_COL: "recall"}
METRIC_NAMES = {"auc": "AUC", "dice": "Dice", "iou": "IoU", "recall": "Lesion recall"}  # in cell tooltips
REGIME_COLUMNS = {"lesions": (DICE_COL, IOU_COL, RECALL_COL, AUC_COL), "vessels": (AUC_COL, DICE_COL, IOU_COL)}
"""The metric columns shown for a regime, in the order shown; the others are hidden."""
NAME_MIN = "0" * 8
"""The least of a name the Name column shows (`ImageTable.name_floor` adds the cell's margins): a longer file name
is elided in the middle ("IMG_2…0042"; the tooltip has it whole), so the status and metric columns stay in view
however the files are named; on a panel narrower than this and the other columns the table scrolls sideways rather
than shrink the names to "I…"."""
HEADERS = ("Name", "Labelled", "AUC", "Dice", "IoU", "Lesions\nfound", "Unsure")
"""The column titles by logical column (Labelled gets the class on a second line)."""


class SortItem(QTableWidgetItem):
    """Sorts by its SORT_ROLE value; a missing value (blank, "–", NaN) sorts last whichever the direction."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if a is None or b is None:
            table = self.tableWidget()
            descending = table is not None and (
                table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
            return b is None and a is not None if not descending else a is None and b is not None
        return a < b


class ImageTable(QTableWidget):
    """The image table: compact headers; every column but Name fits its contents (until the user drags its border)
    and the Name column takes the rest of the width, down to NAME_MIN (longer names elided in the middle: the start
    and the end of a file name tell images apart; the tooltip has it whole). Only a panel too narrow even for that
    scrolls sideways, its names staying in view (`frozen_names`)."""

    def __init__(self, columns: int, parent: QWidget | None = None) -> None:
        super().__init__(0, columns, parent)
        self.setHorizontalHeader(CompactHeader(self))
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setWordWrap(False)  # a cell narrowed by the user elides on its line ("✓ ac… ed" wrapped in two)
        self.frozen_depth = 0  # nested `frozen` blocks: only the outermost re-sorts and fits
        self.horizontalHeader().sectionResized.connect(self._keep_names_readable)
        self.frozen_names = FrozenNames(self, NAME_COL)

    def moveCursor(self, action: QAbstractItemView.CursorAction,  # noqa: N802 (Qt override)
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        """Home and End go to the first and last image, as Ctrl+Home / Ctrl+End do (Qt's table moves plain Home/End
        along the row's cells, which a list that selects whole rows never shows: a trial saw them do nothing), in the
        same column (Ctrl+End also went to the last column, and the list scrolled there: an outside trial's End hid
        the names)."""
        if action in (QAbstractItemView.CursorAction.MoveHome, QAbstractItemView.CursorAction.MoveEnd):
            rows = self.verticalHeader()
            row = rows.logicalIndex(0 if action == QAbstractItemView.CursorAction.MoveHome else rows.count() - 1)
            return self.model().index(row, max(self.currentColumn(), NAME_COL))
        return super().moveCursor(action, modifiers)

    def scrollTo(self, index: QModelIndex,  # noqa: N802 (Qt override)
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible) -> None:
        """A name is scrolled to by its row only: the sideways scroll stays where the user left it, the names in view
        either way (`frozen_names`; a step, Home, End or a click on a name pulled the list back to its left edge).
        Another column's cell (the arrow keys) is scrolled into view as Qt does."""
        bar = self.horizontalScrollBar()
        x = bar.value()
        super().scrollTo(index, hint)
        if index.column() == NAME_COL:
            bar.setValue(x)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.frozen_names.place()

    def _keep_names_readable(self, col: int, _old: int, width: int) -> None:
        """A Name column dragged narrower stops at `name_floor` (the other columns' own fit never takes it below)."""
        if col == NAME_COL and width < self.name_floor():
            self.horizontalHeader().resizeSection(NAME_COL, self.name_floor())

    @contextmanager
    def frozen(self, keep_in_view: Callable[[], QTableWidgetItem | None] = lambda: None) -> Iterator[None]:
        """Edit cells without rows jumping around, and without a column that fits its contents measuring all its
        rows after every changed cell (0.25 ms a cell for 12 images, rows² for a fill); the table re-sorts, the
        columns fit and `keep_in_view()`'s item is scrolled into view once at the end, of the outermost block when
        nested (the end of a continuous-training round made about eight updates, 60-70 ms of the GUI thread,
        before they ran as one batch)."""
        if self.frozen_depth:
            self.frozen_depth += 1
            try:
                yield
            finally:
                self.frozen_depth -= 1
            return
        header = self.horizontalHeader()
        fitted = [col for col in range(header.count())
                  if header.sectionResizeMode(col) == QHeaderView.ResizeMode.ResizeToContents]
        self.setSortingEnabled(False)
        for col in fitted:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        self.frozen_depth = 1
        try:
            yield
        finally:
            self.frozen_depth = 0
            for col in fitted:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
            self.setSortingEnabled(True)  # re-sorts: new scores (e.g. another threshold) may move rows
            item = keep_in_view()
            if item is not None:
                self.scrollToItem(item, QAbstractItemView.ScrollHint.EnsureVisible)

    def fit_columns(self) -> None:
        """Every column fits its text and the Name column takes the rest of the width (`sizeHintForColumn`). Called
        again after a remembered header layout is put back, since that also puts back the column modes of the version
        that saved it (a stretched Name column shrank to "I…"), and the widths the user gave its columns."""
        header = self.horizontalHeader()
        header.fit_all()
        header.setStretchLastSection(False)

    def sizeHintForColumn(self, column: int) -> int:  # noqa: N802 (Qt override)
        """For Name: what the other columns leave of the viewport (as wide as they fit, or as the user made them), at
        least `name_floor` (the header asks again whenever the table is resized or refilled, since every column fits
        its contents)."""
        if column != NAME_COL:
            return super().sizeHintForColumn(column)
        header = self.horizontalHeader()
        others = sum(header.sectionSize(col) if col in header.user_sized else
                     max(super(ImageTable, self).sizeHintForColumn(col), header.sectionSizeHint(col))
                     for col in range(self.columnCount()) if col != NAME_COL and not header.isSectionHidden(col))
        return max(self.viewport().width() - others, self.name_floor())

    def name_floor(self) -> int:
        """The narrowest Name column: NAME_MIN's text and the cell's margins either side, as Qt's item views draw
        text (without them a column of NAME_MIN showed six characters: "10…50")."""
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1
        return self.fontMetrics().horizontalAdvance(NAME_MIN) + 2 * margin


STROKES_TIP = ("In italics: scored on the sparse label's annotated pixels only ({share} of the image), which are "
               "mostly easy ones, so it usually reads higher than the same prediction scored on a complete label: "
               "compare it with care, and label more where the model is wrong to see the worst images.")
STALE_COLOR = QColor(128, 128, 128)  # a score that is not the current one: another model's, another threshold's
ERROR_COLOR = QColor(220, 60, 60)  # every cell of an unreadable image
UNREADABLE = "⚠ image unreadable"  # its Labelled cell (a label that cannot be read: labelled_cell.LABEL_UNREADABLE)
UNSAVED_COLOR = QColor(230, 140, 30)  # a Labelled cell's warning (labelled_cell.WARNINGS)
REVIEWED_MARK = "☑"  # after the name of an image marked as reviewed
STALE_TIP = ("From another model than the current one (continuous training re-predicts only the image on screen; a "
             "cancelled prediction leaves some images, `medseg models --use` without --predict all): Train → "
             "Predict all images predicts them all with the current one")  # 'earlier' was wrong after --use (trial)


EDITED_TIP = "Its label has changed since: being recomputed in the background"
OFF_THRESHOLD_TIP = ("Computed at threshold {made:.2f}, not at the {now:.2f} set: greyed until it is recomputed at "
                     "that, in the background")


def threshold_note(made_at: object, threshold: float | None) -> str:
    """OFF_THRESHOLD_TIP when a score was computed at another threshold (`made_at`: its metrics' "threshold", its
    uncertainty's) than `threshold` (the review state's); '' at it, or when either is unknown (saved by an older
    version)."""
    made = number(made_at)
    if threshold is None or made is None or abs(made - threshold) < 0.005:
        return ""
    return OFF_THRESHOLD_TIP.format(made=made, now=threshold)


def show_score(item: QTableWidgetItem, value: object, name: str, greyed: Sequence[str] = (),
               share: float | None = None, tip: bool = True, unscored: str = "") -> None:
    """A score cell: '0.96', '<name> 0.962' in its tooltip (not with `tip` False: an unreadable image's cell keeps
    its reason there); grey with the non-empty reasons of `greyed` in the tooltip; a score of a sparse label (`share`
    annotated) in italics, its tooltip saying so (STROKES_TIP); '–' with `unscored` (why the image is not scored:
    `unscored_tip`) in the tooltip."""
    known = number(value) is not None
    item.setText(format_cell(value))
    reasons = [reason for reason in greyed if reason] if known else []
    item.setData(Qt.ItemDataRole.ForegroundRole, QBrush(STALE_COLOR) if reasons else None)
    strokes = known and share is not None
    set_italic(item, strokes)
    if tip:
        notes = [*reasons, *([STROKES_TIP.format(share=share_text(share))] if strokes else [])]
        item.setToolTip("\n".join([f"{name} {format_score(value)}", *notes]) if known else unscored_tip(unscored))


def unscored_tip(why: object) -> str:
    """The tooltip of an image's scores when it is not scored (`why`: its metrics entry's core.metrics.NOT_SCORED,
    e.g. its region is empty there), left out of every mean; '' without a reason."""
    return f"Not scored, and left out of means: {why}" if isinstance(why, str) and why else ""


def mark_unreadable(row: Sequence[QTableWidgetItem], stem: str, why: str) -> None:
    """The cells of an unreadable image's `row` (by logical column): red, `why` in every tooltip, UNREADABLE in its
    Labelled cell, sorted last."""
    row[LABELLED_COL].setText(UNREADABLE)
    row[LABELLED_COL].setData(SORT_ROLE, None)
    for item in row:
        item.setForeground(QBrush(ERROR_COLOR))
        item.setToolTip(f"{stem} cannot be used: {why}")


def clear_marks(row: Sequence[QTableWidgetItem], stem: str) -> None:
    """Undo `mark_unreadable` on `row` (its image reads again): the default colour, no tooltips but the name's; the
    list's fills write the cells again."""
    for item in row:
        item.setForeground(QBrush())
        item.setToolTip("")
    row[NAME_COL].setToolTip(stem)


def set_italic(item: QTableWidgetItem, on: bool) -> None:
    """Show `item` in italics (a score of a sparse label) or not."""
    if item.font().italic() != on:
        font = item.font()
        font.setItalic(on)
        item.setFont(font)


def cell() -> QTableWidgetItem:
    item = SortItem("")
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    return item


def header_items(cls: str) -> list[QTableWidgetItem]:
    """The column titles (two lines where names are long) with their tooltips, by logical column, for class `cls`."""
    texts = list(HEADERS)
    texts[LABELLED_COL] = f"Labelled\n({cls})" if cls else "Labelled"
    tips = ["Image name", f"✓: you drew a {cls or 'class'} label on this image; train / val: the "
            "current model learnt from it / held it out for validation; new: not used by it (labelled since it was "
            "trained, or left out)",
            f"ROC AUC of the {cls} prediction against your label, 0–1 (click to sort; worst first): how well its "
            "probabilities rank your label's pixels above the others, at any threshold. A high AUC beside a low Dice "
            "means the model ranks the right place highest but the threshold misses it",
            f"Dice overlap of the thresholded {cls} prediction with your label, 0–1",
            f"IoU (Jaccard) of the thresholded {cls} prediction with your label, 0–1",
            "Lesions found: how many of the lesions in your label the prediction found (\"1/2\"). A lesion counts "
            "as found only when one predicted region overlaps it with IoU ≥ 0.5, so a prediction that covers it only "
            "in part, or in pieces, does not count, even where Dice is fair. The cell shows a dash when the label has "
            "no lesion. Sorts by the share found",
            f"How unsure the {cls} prediction is (uncertainty 0–1: mean of its 5 % least certain pixels): "
            "labelling the most uncertain images teaches the model most (click to sort; most unsure first). A model "
            "sure of a wrong answer (an object missed altogether) reads sure: among labelled images, sort by Dice"]
    items = []
    for text, tip in zip(texts, tips):
        item = QTableWidgetItem(text)
        item.setToolTip(tip)
        items.append(item)
    # a first click sorts the scores worst first (ascending) and Unsure most unsure first (a trial's first click
    # put the surest image on top)
    for col, item in enumerate(items):
        item.setData(Qt.ItemDataRole.InitialSortOrderRole, Qt.SortOrder.DescendingOrder if col == UNCERTAINTY_COL
                     else Qt.SortOrder.AscendingOrder)
    return items


def arrange_metric_columns(header: QHeaderView, regime: str) -> None:
    """Show the metric columns of `regime` right after Labelled, in its order; hide the ones that do not fit it."""
    shown = REGIME_COLUMNS[regime]
    for col in METRIC_COLS:
        header.setSectionHidden(col, col not in shown)
    for visual, col in enumerate((*shown, *(c for c in METRIC_COLS if c not in shown)), start=AUC_COL):
        header.moveSection(header.visualIndex(col), visual)


def number(value: object) -> float | None:
    """`value` as a float for sorting; None when it is missing or NaN."""
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(result) else result


SCORE_DIGITS = 3  # every score the window writes out (Train panel, Models dialog, tooltips); list cells: 2


def format_score(value: object, digits: int = SCORE_DIGITS) -> str:
    """'0.962' (`digits` decimals); '' when there is no value (not labelled / not predicted); '–' when it is
    undefined (NaN)."""
    if value is None:
        return ""
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "–" if math.isnan(result) else f"{result:.{digits}f}"


def format_cell(value: object) -> str:
    """A score as its list cell shows it: '0.96', compact so that every column fits a 340 px list (the tooltip has
    SCORE_DIGITS decimals, `format_score`)."""
    return format_score(value, 2)


def found_text(values: dict) -> str:
    """The lesions-found cell: '1/2' (found of the label's lesions), '–' when the label has none; without the counts
    (metrics saved by an older version) the recall as a share ('50 %'); '' when unknown."""
    lesions, found, recall = (number(values.get(k)) for k in ("lesions", "found", "recall"))
    if lesions is not None and found is not None:
        return "–" if lesions == 0 else f"{found:.0f}/{lesions:.0f}"
    if recall is None:
        return format_score(values.get("recall"))  # '' or '–'
    return f"{100 * recall:.0f} %"


def show_found(item: QTableWidgetItem, values: dict, share: float | None = None, tip: bool = True) -> None:
    """The lesions-found cell ("1/2", sorted by the recall elsewhere) of an image's metric `values` ({}: not shown);
    in italics with the strokes' caveat for a sparse label (`share` annotated; a trial read "1/1" on strokes)."""
    item.setText(found_text(values))
    strokes = share is not None and bool(item.text())
    set_italic(item, strokes)
    text = recall_tip(values) or unscored_tip(values.get(NOT_SCORED))
    if tip and text:
        item.setToolTip(text + (f"\n{STROKES_TIP.format(share=share_text(share))}" if strokes else ""))


def recall_tip(values: dict) -> str:
    """The lesions-found cell's tooltip in counts ("0 of 2 lesion(s) found …; nothing is predicted …", the recall
    as a share) saying why a lesion with some overlap may not count; '' unknown."""
    lesions, found, false, dice = (number(values.get(k)) for k in ("lesions", "found", "false_lesions", "dice"))
    if lesions is None or found is None:
        return ""
    if lesions == 0:
        return "Your label has no lesion here, so there is nothing to find (–)"
    why = [f"lesion recall {found / lesions:.3f}"]
    if found == 0 and not false and dice == 0:
        why.append("nothing is predicted here at this threshold")
    elif false:
        why.append(f"{false:.0f} predicted region(s) touch no lesion")
    if found < lesions and dice:
        why.append("a lesion counts as found only when one predicted region overlaps it with IoU ≥ 0.5, so a "
                   "prediction that covers it only in part adds to Dice but finds nothing")
    return f"{found:.0f} of {lesions:.0f} lesion(s) found (overlapped with IoU ≥ 0.5); " + "; ".join(why)
