"""The image list on a small screen (an outside trial at 1366×768, 125-150 %): its columns can be widened or narrowed
by dragging a border, the names staying readable; a list scrolled sideways keeps its names in view; Home and End
leave the sideways scroll where it was."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from medseg_gui.qt.panels.image_columns import AUC_COL, DICE_COL, NAME_COL
from medseg_gui.qt.panels.image_list import ImageListPanel
from tests.qt.test_image_list_metrics import _fill, click_header

STEMS = ["150OLCV1_100H0016", "500OLCV1_100H0008", "711OLCV1_100H0002", "EndoCV2021_C6_0100020"]
LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def shown_panel(qtbot, width: int) -> ImageListPanel:
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.resize(width, 300)
    panel.show()
    _fill(panel, STEMS)
    qtbot.wait(10)
    return panel


def drag_border(qtbot, panel: ImageListPanel, col: int, dx: int) -> None:
    """Drag the right border of column `col` of the list's header `dx` pixels sideways."""
    header = panel.table.horizontalHeader()
    x = header.sectionViewportPosition(col) + header.sectionSize(col) - 1
    QTest.mousePress(header.viewport(), LEFT, NONE, QPoint(x, 5))
    QTest.mouseMove(header.viewport(), QPoint(x + dx // 2, 5))
    QTest.mouseMove(header.viewport(), QPoint(x + dx, 5))
    QTest.mouseRelease(header.viewport(), LEFT, NONE, QPoint(x + dx, 5))
    qtbot.wait(10)


def test_a_dragged_border_resizes_its_column_and_names_stay_readable(qtbot):
    """Trial: dragging a header border did nothing (every column fitted its contents, which Qt lets no one drag)."""
    panel = shown_panel(qtbot, 350)
    table, header = panel.table, panel.table.horizontalHeader()
    fitted = header.sectionSize(DICE_COL)
    drag_border(qtbot, panel, DICE_COL, 30)
    assert header.sectionSize(DICE_COL) == fitted + 30
    assert header.sortIndicatorSection() == -1  # a drag is no click: nothing sorted
    assert table.name_floor() <= header.sectionSize(NAME_COL)  # the names gave way, down to 8 characters
    _fill(panel, STEMS)  # new scores: the width given stays
    click_header(qtbot, table, AUC_COL)  # sorted: the arrow's room (session 46: names unreadable after a sort)
    assert header.sectionSize(DICE_COL) == fitted + 30 and header.sectionSize(NAME_COL) >= table.name_floor()
    drag_border(qtbot, panel, NAME_COL, -200)  # names are never dragged below 8 characters
    assert header.sectionSize(NAME_COL) == table.name_floor()
    x = header.sectionViewportPosition(DICE_COL) + header.sectionSize(DICE_COL) - 1
    QTest.mouseDClick(header.viewport(), LEFT, NONE, QPoint(x, 5))  # a double-click on the border: fits again
    qtbot.waitUntil(lambda: header.sectionSize(DICE_COL) < fitted + 30)
    assert abs(header.sectionSize(DICE_COL) - fitted) <= 12  # (its sort arrow's room, if sorted by it)


def test_end_and_home_leave_the_sideways_scroll_and_the_names_stay_in_view(qtbot):
    """Trial: End (the last image) also scrolled the list to its last column, hiding the names; at 150 % the scores
    lay to the right, and scrolling there lost the names, so no score could be matched to its image."""
    panel = shown_panel(qtbot, 220)
    table, bar = panel.table, panel.table.horizontalScrollBar()
    assert bar.maximum() > 0  # too narrow for every column: it scrolls sideways
    panel.select(STEMS[0])
    table.setFocus()
    QTest.keyClick(table, Qt.Key.Key_End)
    assert panel.current_stem() == STEMS[-1] and bar.value() == 0
    assert not table.frozen_names.isVisible()  # at the left edge the table shows its own names
    bar.setValue(bar.maximum())  # the user scrolls right, to the scores
    names = table.frozen_names
    assert names.isVisible() and names.x() == table.viewport().x() and names.y() == table.horizontalHeader().y()
    assert names.width() == table.horizontalHeader().sectionSize(NAME_COL)
    QTest.keyClick(table, Qt.Key.Key_Home)
    assert panel.current_stem() == STEMS[0] and bar.value() == bar.maximum()
    shown: list[str] = []
    panel.stem_selected.connect(shown.append)
    rect = names.visualRect(names.model().index(panel.stems().index(STEMS[2]), NAME_COL))
    assert names.viewport().rect().contains(rect.center())
    QTest.mouseClick(names.viewport(), LEFT, NONE, rect.center())  # a click on a name kept in view
    assert shown == [STEMS[2]] and panel.current_stem() == STEMS[2] and bar.value() == bar.maximum()
    click = names.horizontalHeader()  # its title sorts by name, as the table's does
    QTest.mouseClick(click.viewport(), LEFT, NONE, QPoint(5, 5))
    assert table.horizontalHeader().sortIndicatorSection() == NAME_COL
    QTest.mouseClick(click.viewport(), LEFT, NONE, QPoint(5, 5))
    assert panel.stems() == sorted(STEMS, key=str.lower, reverse=True)
    bar.setValue(0)
    assert not names.isVisible()
