"""Where the image list's view goes when it re-sorts (qt.panels.row_order): a header click shows the top of the list,
the current image still selected; new scores re-sort it without moving the view."""

from PySide6.QtCore import Qt

from medseg_gui.core.uncertainty import UncertaintyScores
from medseg_gui.qt.panels.image_columns import DICE_COL, NAME_COL, UNCERTAINTY_COL
from tests.qt.test_image_list_metrics import click_header, sorted_by_dice


def first_visible(panel) -> str:
    """The stem of the row at the top edge of the list's viewport."""
    return panel.table.item(panel.table.rowAt(0), NAME_COL).data(Qt.ItemDataRole.UserRole)


def test_a_header_click_shows_the_top_of_the_list_and_keeps_the_image(qtbot):
    """An outside trial (344 photos) sorted by Dice with an image near the end open: its row stayed in view, so the
    worst image was 40 wheel notches away; once, sorted by Unsure during training, the image open was the first row
    shown, the rows sorted before it out of view above although the scroll bar looked at the top."""
    panel, stems = sorted_by_dice(qtbot, 60, 200)
    table, bar = panel.table, panel.table.verticalScrollBar()
    panel.select("img55")
    table.scrollToItem(table.item(panel.stems().index("img55"), NAME_COL))
    assert bar.value() > 0
    click_header(qtbot, table, DICE_COL)  # descending: img59 first
    assert panel.stems()[0] == "img59" and first_visible(panel) == "img59" and bar.value() == 0
    assert table.viewport().rect().contains(table.visualItemRect(table.item(0, NAME_COL)))
    assert panel.current_stem() == "img55"  # still the image open, its row selected, out of view below
    assert {i.row() for i in table.selectionModel().selectedRows()} == {panel.stems().index("img55")}
    panel.set_uncertainty("lesion", UncertaintyScores({s: i / 100 for i, s in enumerate(stems)}))
    click_header(qtbot, table, DICE_COL)  # a third click: project order again
    table.scrollToItem(table.item(panel.stems().index("img55"), NAME_COL))  # the user scrolls back to the image
    assert bar.value() > 0
    click_header(qtbot, table, UNCERTAINTY_COL)  # most unsure first: the image (0.55) is the fifth row
    assert bar.value() == 0 and first_visible(panel) == panel.stems()[0] and panel.current_stem() == "img55"
    assert panel.stems().index("img55") == 4  # the rows sorted before it are in view, not above the top edge


def test_new_scores_do_not_move_the_view_of_a_sorted_list(qtbot):
    """Scores arriving (a Retrain's, a threshold's re-score) re-sort the list where the user looks: the top stays
    the top, a scrolled view stays where it is."""
    panel, stems = sorted_by_dice(qtbot, 60, 200)
    table, bar = panel.table, panel.table.verticalScrollBar()
    panel.select("img50")
    click_header(qtbot, table, DICE_COL)  # descending
    assert bar.value() == 0
    panel.set_metrics("lesion", {s: {"dice": (60 - i) / 100, "threshold": 0.5} for i, s in enumerate(stems)})
    panel.set_threshold(0.4)  # greyed, re-scored later
    assert bar.value() == 0 and first_visible(panel) == panel.stems()[0]
    bar.setValue(20)
    shown = first_visible(panel)
    panel.set_metrics("lesion", {s: {"dice": (60 - i) / 100, "threshold": 0.4} for i, s in enumerate(stems)})
    assert bar.value() == 20 and first_visible(panel) == shown


def test_home_and_end_go_to_the_first_and_last_image(qtbot):
    """A verification trial pressed End in the list and nothing happened (only Ctrl+End moved): the list selects
    whole rows, so Home and End go to the first and last image shown, in the order shown."""
    panel, _stems = sorted_by_dice(qtbot, 30, 200)
    panel.select("img10")
    panel.table.setFocus()
    with qtbot.waitSignal(panel.stem_selected):
        qtbot.keyClick(panel.table, Qt.Key.Key_End)
    assert panel.current_stem() == panel.stems()[-1]
    with qtbot.waitSignal(panel.stem_selected):
        qtbot.keyClick(panel.table, Qt.Key.Key_Home)
    assert panel.current_stem() == panel.stems()[0]
