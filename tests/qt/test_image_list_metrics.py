"""The image list's Dice, IoU and lesions-found columns beside AUC: values from saved metrics, Dice leading for a
lesion class, numeric sorting by a header click, every column in view in the default list of a 1400×860 window."""

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHeaderView

from medseg_gui.core.images import write_png
from medseg_gui.core.lesions import per_image_metrics
from medseg_gui.core.project import Project
from medseg_gui.core.uncertainty import UncertaintyScores
from medseg_gui.qt.panels.image_columns import (AUC_COL, DICE_COL, LABELLED_COL, NAME_COL, NAME_MIN, RECALL_COL,
                                                UNCERTAINTY_COL)
from medseg_gui.qt.panels.image_list import ImageListPanel
from medseg_gui.qt.window_state import default_split, fitted_size
from tests.workers.helpers import H, W, disc, make_project, open_window, synthetic_image


def cell_texts(panel: ImageListPanel, stem: str) -> dict[str, str]:
    """{header as read: cell text} of `stem`'s row."""
    table, row = panel.table, panel.stems().index(stem)
    return {title: table.item(row, col).text() for col, title in zip(panel.shown_columns(), panel.headers())}


def click_header(qtbot, table, col):
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def sorted_by_dice(qtbot, n: int, height: int) -> tuple[ImageListPanel, list[str]]:
    """A shown 350-px-wide panel of `n` images img00… with Dice 0, 0.01, 0.02 …, sorted by Dice (a header click)."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.resize(350, height)
    panel.show()
    stems = [f"img{i:02d}" for i in range(n)]
    panel.set_images(stems, ["lesion"])
    panel.set_current_class("lesion")
    panel.set_metrics("lesion", {s: {"dice": i / 100} for i, s in enumerate(stems)})
    click_header(qtbot, panel.table, DICE_COL)
    return panel, stems


def test_metric_columns_order_values_and_sorting(qtbot):
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_images(["a", "b", "c"], ["lesion", "vessel"])
    panel.set_current_class("lesion")
    assert panel.headers() == ["Name", "Labelled (lesion)", "Dice", "IoU", "Lesions found", "AUC", "Unsure"]
    panel.set_metrics("lesion", {"a": {"auc": 0.9, "dice": 0.6, "iou": 0.42857, "recall": 0.5},
                                 "b": {"auc": 0.8, "dice": 0.2, "iou": 0.1111, "recall": math.nan},
                                 "c": {"auc": 0.7, "dice": 0.9, "iou": 0.8181, "recall": 1.0, "lesions": 3,
                                       "found": 3}})
    assert cell_texts(panel, "a") == {"Name": "a", "Labelled (lesion)": "", "Dice": "0.60", "IoU": "0.43",
                                      "Lesions found": "50 %", "AUC": "0.90", "Unsure": ""}  # no counts saved
    assert cell_texts(panel, "b")["Lesions found"] == "–"  # no lesion in the label: undefined, not 0
    assert cell_texts(panel, "c")["Lesions found"] == "3/3"
    item = panel.table.item(panel.stems().index("a"), panel.shown_columns()[3])
    assert item.text() == "0.43" and item.toolTip() == "IoU 0.429"  # three decimals in the tooltip
    click_header(qtbot, panel.table, DICE_COL)
    assert panel.stems() == ["b", "a", "c"]
    click_header(qtbot, panel.table, RECALL_COL)
    assert panel.stems() == ["a", "c", "b"]  # by the share found; undefined last
    panel.set_current_class("vessel")  # AUC leads for vessels, no lesion column; this class's values (none yet)
    assert panel.headers() == ["Name", "Labelled (vessel)", "AUC", "Dice", "IoU", "Unsure"]
    assert set(cell_texts(panel, "a").values()) == {"a", ""}
    panel.set_current_class("polyp", {"regime": "lesions"})  # the model's regime, whatever the class is called
    assert panel.headers() == ["Name", "Labelled (polyp)", "Dice", "IoU", "Lesions found", "AUC", "Unsure"]
    panel.set_current_class("lesion", {"regime": "vessels"})
    assert panel.headers() == ["Name", "Labelled (lesion)", "AUC", "Dice", "IoU", "Unsure"]
    panel.set_current_class("lesion", {"regime": ""})  # a recipe that did not choose: the name decides
    assert panel.headers()[2:5] == ["Dice", "IoU", "Lesions found"]
    tips = {panel.table.horizontalHeaderItem(c).text(): panel.table.horizontalHeaderItem(c).toolTip()
            for c in (RECALL_COL, UNCERTAINTY_COL)}
    assert "IoU ≥ 0.5" in tips["Lesions\nfound"] and "uncertainty" in tips["Unsure"]


def _in_view(qtbot, panel: ImageListPanel) -> list[str]:
    """The titles of the columns whole in the list's viewport, left to right."""
    qtbot.wait(10)
    header, right = panel.table.horizontalHeader(), panel.table.viewport().width()
    return [title for col, title in zip(panel.shown_columns(), panel.headers())
            if header.sectionViewportPosition(col) >= 0
            and header.sectionViewportPosition(col) + header.sectionSize(col) <= right]


def _fill(panel: ImageListPanel, stems: list[str], cls: str = "lesion") -> None:
    panel.set_images(stems, [cls])
    panel.set_current_class(cls)
    panel.set_labelled(set(stems))
    panel.set_annotated_shares(cls, dict.fromkeys(stems))  # complete labels (read in the background in the window)
    panel.labelled_column.set_split(stems[1:], stems[:1])  # "✓ · train", the widest Labelled cell
    panel.set_metrics(cls, {s: {"auc": 0.987654, "dice": 0.54321, "iou": 0.4, "recall": 0.0, "lesions": 1,
                                "found": 0} for s in stems})
    panel.set_uncertainty(cls, UncertaintyScores({s: 0.728 for s in stems}))


def test_name_column_gives_way_so_the_scores_stay_in_view(qtbot):
    """New-user trial: in the 350 px list of a 1400×860 window the uncertainty hid behind a sideways scroll bar. The
    Name column takes what the other columns leave, long names elided in the middle (whole in the tooltip); a panel
    too narrow even for NAME_MIN scrolls sideways rather than shrink names to "I…"."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.resize(350, 300)
    panel.show()
    long = "150OLCV1_100H0016_left_eye"
    _fill(panel, [long, "Image_01L"])
    table, header = panel.table, panel.table.horizontalHeader()
    assert _in_view(qtbot, panel) == panel.headers() and table.horizontalScrollBar().maximum() == 0
    metrics = table.fontMetrics()
    assert metrics.horizontalAdvance(NAME_MIN) <= header.sectionSize(NAME_COL) < metrics.horizontalAdvance(long)
    assert table.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert table.item(panel.stems().index(long), NAME_COL).toolTip() == long
    panel.resize(600, 300)  # room to spare: the names get it
    qtbot.waitUntil(lambda: header.sectionSize(NAME_COL) >= metrics.horizontalAdvance(long))
    assert _in_view(qtbot, panel) == panel.headers()
    panel.resize(200, 300)
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() > 0)
    assert header.sectionSize(NAME_COL) >= metrics.horizontalAdvance(NAME_MIN)


def test_the_labelled_marks_leave_every_score_in_view(qtbot):
    """Outside trial (1366×768 at 125-150 %): "✓ accepted · seen by the built-in start" made the Labelled column
    220-350 px wide, so every score lay behind a sideways scroll bar. Its marks are a word each (the whole in the
    tooltip): in the 350 px list every column stays in view."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.resize(350, 300)
    panel.show()
    stems = ["150OLCV1_100H0016", "500OLCV1_100H0008", "711OLCV1_100H0002"]
    _fill(panel, stems)
    panel.labelled_column.set_split([], stems[:1], model="m1", start_saw=stems)  # the shipped start saw them all
    panel.labelled_column.set_image_marks(set(), {stems[2]})
    assert [panel.labelled_column.text(s) for s in stems] == ["✓ · seen", "✓ · seen", "✓ accepted"]
    assert "Seen by the built-in start" in panel.table.item(panel.stems().index(stems[2]), LABELLED_COL).toolTip()
    assert _in_view(qtbot, panel) == panel.headers() and panel.table.horizontalScrollBar().maximum() == 0


def test_default_window_shows_every_column_and_compact_scores(tmp_path, qtbot, messages):
    """New-user trial at 1400×860 after a Retrain: the Uncertainty column lay behind a sideways scroll bar and AUC
    read "0.". In the default list every column of either regime is whole in view, with two-decimal scores, also once
    sorted (the sorted column widens for its arrow), and no title is cut."""
    stems = ["150OLCV1_100H0016", "500OLCV1_100H0008", "711OLCV1_100H0002"]  # the lesion demo's names
    project = Project.create(tmp_path / "p")
    for i, stem in enumerate(stems):
        project.add_image(write_png(tmp_path / f"{stem}.png", synthetic_image(i, disc())))
    window = open_window(qtbot, project)
    window.resize(1400, 860)
    window.splitter.setSizes(default_split(1400))
    qtbot.waitUntil(lambda: window.image_list.width() == default_split(1400)[0], timeout=5_000)
    panel, header = window.image_list, window.image_list.table.horizontalHeader()
    for cls in ("lesion", "vessel"):
        _fill(panel, stems, cls)
        assert _in_view(qtbot, panel) == panel.headers(), cls
        texts = cell_texts(panel, stems[1])
        assert (texts["AUC"], texts["Dice"], texts["Unsure"]) == ("0.99", "0.54", "0.73")
        assert texts["Labelled (" + cls + ")"] == "✓ · train" and texts.get("Lesions found", "0/1") == "0/1"
        for col in panel.shown_columns():
            title = panel.table.horizontalHeaderItem(col).text()
            assert header.sectionSize(col) >= max(map(QFontMetrics(header.font()).horizontalAdvance,
                                                      title.split("\n")))
        click_header(qtbot, panel.table, DICE_COL)
        assert _in_view(qtbot, panel) == panel.headers(), cls
        click_header(qtbot, panel.table, AUC_COL)
        assert _in_view(qtbot, panel) == panel.headers(), cls
    assert panel.table.horizontalScrollBar().maximum() == 0
    usual = fitted_size(QRect(0, 0, 1400, 860))  # the window's first size on a 1400×860 screen (1260 px wide)
    window.resize(usual)
    window.splitter.setSizes(default_split(usual.width()))
    qtbot.waitUntil(lambda: window.image_list.width() == default_split(usual.width())[0], timeout=5_000)
    _fill(panel, stems, "lesion")
    panel.labelled_column.set_doubt("lesion", stems[1], "looks incomplete")  # "✓ ? · train": the widest Labelled cell
    qtbot.wait(10)
    name_px = header.sectionSize(panel.shown_columns()[0])  # a new user saw "15…16" at 320 px
    # 12 of 17 characters, middle elided
    assert name_px >= QFontMetrics(panel.table.font()).horizontalAdvance("150OLCV1_100")
    small = fitted_size(QRect(0, 0, 1280, 800))  # the default window on a 1280×800 screen: a 340 px list
    window.resize(small)
    window.splitter.setSizes(default_split(small.width()))
    _fill(panel, stems, "lesion")
    click_header(qtbot, panel.table, DICE_COL)
    assert _in_view(qtbot, panel)[:4] == ["Name", "Labelled (lesion)", "Dice", "IoU"]


def test_a_long_name_is_elided_in_the_middle_and_whole_in_its_tooltip(qtbot):
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.resize(350, 300)
    panel.show()
    long, short = "IMG_20240312_143512_patient0042_left_eye_fundus", "Image_01L"
    panel.set_images([long, short], ["vessel"])
    panel.set_current_class("vessel")
    header, metrics = panel.table.horizontalHeader(), panel.table.fontMetrics()
    qtbot.wait(10)
    assert metrics.horizontalAdvance(short) <= header.sectionSize(NAME_COL) < metrics.horizontalAdvance(long)
    assert panel.table.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert panel.table.item(panel.stems().index(long), NAME_COL).toolTip() == long


def test_columns_fit_their_cells_after_a_fill(qtbot):
    """Cells are filled with the columns' fitting paused (a fitted column measured all its rows after every cell);
    afterwards each column fits its widest cell again."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_images(["a", "b"], ["v"])
    panel.set_current_class("v")
    header, wide = panel.table.horizontalHeader(), panel.table.fontMetrics().horizontalAdvance("123456789.00")
    assert header.sectionSize(DICE_COL) < wide
    panel.set_metrics("v", {"a": {"dice": 0.5}, "b": {"dice": 123456789.0}})  # a width no Dice needs; any will do
    assert header.sectionSize(DICE_COL) >= wide
    assert all(header.sectionResizeMode(c) == QHeaderView.ResizeMode.ResizeToContents for c in range(header.count()))


def test_recall_tooltip_counts_lesions_and_a_few_strokes_are_not_zero_percent(qtbot):
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.set_images(["a", "b", "c"], ["lesion"])
    panel.set_current_class("lesion")
    truth = disc(cx=12, r=5) | disc(cx=50, r=5)  # two lesions
    missed = per_image_metrics(np.zeros((H, W), np.float32), truth)
    one_and_a_false = per_image_metrics((disc(cx=12, r=5) | disc(cy=5, cx=30, r=3)).astype(np.float32), truth)
    panel.set_metrics("lesion", {"a": missed, "b": one_and_a_false, "c": {"auc": 0.9}})
    row = panel.stems().index
    tip = {s: panel.table.item(row(s), RECALL_COL).toolTip() for s in "abc"}
    assert cell_texts(panel, "a")["Lesions found"] == "0/2" and cell_texts(panel, "b")["Lesions found"] == "1/2"
    assert tip["a"].startswith("0 of 2 lesion(s) found") and "nothing is predicted" in tip["a"]
    assert tip["b"].startswith("1 of 2 lesion(s) found") and "1 predicted region(s) touch no lesion" in tip["b"]
    assert "lesion recall 0.500" in tip["b"]
    assert tip["c"] == ""  # counts not known
    panel.set_labelled({"a", "b"})
    panel.set_annotated("lesion", "a", 0.0004)  # a few strokes: rounds to 0 %, but is not nothing
    panel.set_annotated("lesion", "b", 0.25)
    assert panel.labelled_column.text("a") == "✓ <0.1 %" and panel.labelled_column.text("b") == "✓ 25 %"
    panel.set_annotated("lesion", "a", 0.0052)  # a trial: "✓ 1 %" in the list, "Only 0.5 %" in the Train panel
    assert panel.labelled_column.text("a") == "✓ 0.5 %"
    panel.set_annotated("lesion", "a", 0.0004)
    assert "<0.1 % of the image" in panel.table.item(row("a"), LABELLED_COL).toolTip()
    told = []
    panel.labels_changed.connect(lambda cls, shares: told.append(shares))
    panel.set_annotated_shares("lesion", {"a": None, "b": 0.5, "gone": 0.3})  # a project's fill: one update
    assert panel.labelled_column.text("a") == "✓" and panel.labelled_column.text("b") == "✓ 50 %"
    assert len(told) == 1
    panel.set_unreadable_labels("lesion", {"b": "b.png is damaged"})  # Retrain leaves it out: so does the count
    assert told[-1] == {"a": 1.0} == panel.labelled_shares()  # a trial's panel counted 5 labels with 2 unreadable


def test_scores_of_a_sparse_label_are_in_italics_and_say_why(qtbot):
    """New-user trial: stroke-scored images read Dice 0.97 (0.72 on the whole image) beside complete labels' 0.81 in
    one column, with nothing to tell them apart."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.set_images(["a", "b"], ["lesion"])
    panel.set_metrics("lesion", {"a": {"auc": 0.99, "dice": 0.97, "lesions": 1, "found": 1},
                                 "b": {"auc": 0.95, "dice": 0.81, "lesions": 1, "found": 1}})
    panel.set_labelled({"a", "b"})
    cell = lambda s: panel.table.item(panel.stems().index(s), DICE_COL)  # noqa: E731
    found = lambda s: panel.table.item(panel.stems().index(s), RECALL_COL)  # noqa: E731
    assert not cell("a").font().italic() and "annotated pixels only" not in cell("a").toolTip()
    panel.set_annotated("lesion", "a", 0.005)
    assert cell("a").font().italic() and not cell("b").font().italic()
    assert "annotated pixels only (0.5 % of the image)" in cell("a").toolTip()
    # Lesions found too ("1/1" on strokes read as a whole lesion found: returning-user trial, session 39)
    assert found("a").text() == "1/1" and found("a").font().italic() and not found("b").font().italic()
    assert "annotated pixels only" in found("a").toolTip() and "annotated pixels only" not in found("b").toolTip()
    panel.set_annotated("lesion", "a", None)  # made complete
    assert not cell("a").font().italic() and "annotated pixels only" not in cell("a").toolTip()


def test_scores_follow_the_ticks_of_the_class_switched_to_and_wait_for_the_kind_of_label(qtbot):
    """An ophthalmologist's trial: one image kept upright scores beside its "✓ 12 %" (the image on screen had told
    its share before the class it belongs to was shown). Scores and tick always agree; a label not known yet to be
    complete or sparse shows "✓ …" and no scores rather than the look of a complete one."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.set_images(["a", "b", "c"], ["lesion", "vessel"])
    panel.set_metrics("vessel", {s: {"auc": 0.9, "dice": 0.8} for s in "abc"})
    panel.set_annotated("vessel", "a", 0.12)  # the image on screen says its strokes' share for every class
    panel.set_annotated("vessel", "b", None)
    panel.set_current_class("lesion")
    panel.set_labelled(set())
    panel.set_current_class("vessel")
    panel.set_labelled({"a", "b", "c"})
    cell = lambda s: panel.table.item(panel.stems().index(s), DICE_COL)  # noqa: E731
    assert panel.labelled_column.text("a") == "✓ 12 %" and cell("a").text() == "0.80" and cell("a").font().italic()
    assert panel.labelled_column.text("b") == "✓" and cell("b").text() == "0.80" and not cell("b").font().italic()
    assert panel.labelled_column.text("c") == "✓ …" and cell("c").text() == "" and panel.pending_kinds() == {"c"}
    assert "Reading the label file" in panel.table.item(panel.stems().index("c"), LABELLED_COL).toolTip()
    panel.set_annotated_shares("vessel", {"c": 0.3})
    assert cell("c").text() == "0.80" and cell("c").font().italic() and panel.pending_kinds() == set()


def test_window_shows_saved_lesion_metrics(tmp_path, qtbot, messages):
    project = make_project(tmp_path / "p", n=3, labelled=2)
    saved = {}
    for i, stem in enumerate(project.stems[:2]):
        prob = (disc(cx=22 + 10 * i) | disc(cx=58, cy=6, r=3 * i)).astype(np.float32) * 0.8
        project.save_prediction("lesion", stem, prob)
        saved[stem] = per_image_metrics(prob, project.load_label("lesion", stem))
    project.save_metrics("lesion", saved)
    window = open_window(qtbot, project)
    panel = window.image_list
    shown = lambda: all(cell_texts(panel, stem)["Dice"] for stem in saved)  # noqa: E731
    qtbot.waitUntil(shown, timeout=20_000)  # scores saved in the clock tick of their map are re-scored first (flaky)
    for stem, m in saved.items():
        texts = cell_texts(panel, stem)
        for title, key in (("Dice", "dice"), ("IoU", "iou"), ("AUC", "auc")):
            assert float(texts[title]) == pytest.approx(m[key], abs=5e-3)  # two decimals
        assert texts["Lesions found"] == f"{m['found']:.0f}/{m['lesions']:.0f}"
    assert saved[project.stems[0]]["recall"] == 1.0 and 0 < saved[project.stems[1]]["iou"] < 1
    assert cell_texts(panel, project.stems[2])["Dice"] == ""  # unlabelled: no metrics
    assert (H, W) == project.load_label("lesion", project.stems[0]).shape


def test_a_saved_label_re_scores_its_image_and_a_removed_one_drops_its_scores(tmp_path, qtbot, messages):
    """The list never shows scores of a label that no longer exists (new-user trial: Dice kept after undo)."""
    project = make_project(tmp_path / "p", n=2, labelled=2)
    for stem in project.stems:
        prob = disc(cx=22).astype(np.float32) * 0.8
        project.save_prediction("lesion", stem, prob)
    first, second = project.stems
    project.save_metrics("lesion", {s: per_image_metrics(project.load_prediction("lesion", s),
                                                        project.load_label("lesion", s)) for s in project.stems})
    window = open_window(qtbot, project)
    panel = window.image_list
    qtbot.waitUntil(lambda: cell_texts(panel, first)["Dice"] != "", timeout=20_000)  # as above
    before = float(cell_texts(panel, first)["Dice"])
    project.save_label("lesion", first, disc(cx=22))  # now the label equals the thresholded prediction
    with qtbot.waitSignal(window.metrics_refresher.updated, timeout=20_000):
        window.saver.saved.emit("lesion", first, True)
    assert float(cell_texts(panel, first)["Dice"]) == pytest.approx(1.0) != pytest.approx(before)
    project.label_path("lesion", second).unlink()  # e.g. its only stroke was undone
    with qtbot.waitSignal(window.metrics_refresher.updated, timeout=20_000):
        window.saver.saved.emit("lesion", second, True)
    assert cell_texts(panel, second)["Dice"] == ""


def test_new_scores_re_sort_the_list_but_the_current_row_keeps_its_place_until_left(qtbot):
    """New-user trials: moving the threshold re-scored the images and the sorted list moved the image being worked
    on out of view; with the list sorted by Dice, every stroke re-sorted it and the edited row jumped under the mouse
    (session 34). The current row keeps its place until another image is chosen, then takes its sorted place; the
    other rows re-sort at once; the image chosen stays in view; a list the user scrolled away from stays there."""
    panel, stems = sorted_by_dice(qtbot, 40, 200)
    assert panel.stems() == stems
    panel.select("img01")
    table = panel.table

    def in_view(stem: str) -> bool:
        rect = table.visualItemRect(table.item(panel.stems().index(stem), NAME_COL))
        return table.viewport().rect().intersects(rect)

    assert in_view("img01") and not in_view("img39")
    scores = {s: {"dice": 0.99 if s == "img01" else 0.255 if s == "img00" else i / 100} for i, s in enumerate(stems)}
    panel.set_metrics("lesion", scores)
    assert panel.stems()[:2] == ["img01", "img02"] and panel.stems().index("img00") == 25  # held; img00 moved
    assert table.item(0, DICE_COL).text() == "0.99"  # the held row shows its new score
    panel.select("img38")
    qtbot.waitUntil(lambda: panel.stems()[-1] == "img01")  # left behind: sorted once the choice is made
    assert in_view("img38")  # the new one in view
    table.verticalScrollBar().setValue(0)  # the user scrolls back to the top, away from the current image
    assert not in_view("img38")
    panel.set_metrics("lesion", {s: {"dice": 0.995 if s == "img01" else i / 100} for i, s in enumerate(stems)})
    assert table.verticalScrollBar().value() == 0 and not in_view("img38")


def test_a_click_on_another_row_highlights_and_shows_that_image_when_the_list_re_sorts(qtbot):
    """A new-user trial sorted by Dice, changed the current image's score, then clicked another row: the left row
    took its sorted place between the click making the row current and selecting the row under the mouse, so 983
    was highlighted while 177 was shown, and PgDown went on from 177's new place (session 35)."""
    panel, stems = sorted_by_dice(qtbot, 8, 400)
    shown: list[str] = []
    panel.stem_selected.connect(shown.append)
    panel.select("img01")
    panel.set_metrics("lesion", {s: {"dice": 0.95 if s == "img01" else i / 10} for i, s in enumerate(stems)})
    assert panel.stems()[1] == "img01"  # held in its place
    table = panel.table
    rect = table.visualItemRect(table.item(panel.stems().index("img05"), NAME_COL))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: panel.stems()[-1] == "img01")  # the row left behind takes its sorted place
    assert shown[-1] == "img05" and panel.current_stem() == "img05"
    selected = {panel.stems()[i.row()] for i in table.selectionModel().selectedRows()}
    assert selected == {"img05"} and panel.stems()[table.currentRow()] == "img05"
    panel.step(1)
    assert shown[-1] == "img06"  # the next row after the one shown
    panel.set_metrics("lesion", {s: {"dice": 0.99 if s == "img06" else i / 10} for i, s in enumerate(stems)})
    assert panel.stems().index("img06") == 6  # held at its 0.6 while it is shown ...
    click_header(qtbot, panel.table, DICE_COL)  # ... until a header click sorts every row (here: descending)
    assert panel.stems()[:2] == ["img06", "img07"] and panel.current_stem() == "img06"


def three_scored(qtbot, dice: tuple[float, float, float]) -> ImageListPanel:
    """A shown panel of images a, b, c with these lesion Dice."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_images(["a", "b", "c"], ["lesion"])
    panel.set_current_class("lesion")
    panel.set_metrics("lesion", {s: {"dice": d} for s, d in zip("abc", dice)})
    return panel


def test_a_batch_of_updates_re_sorts_once_at_its_end(qtbot):
    """The end of a training round updates scores, ticks, split and shares: inside `batch()` no update re-sorts the
    rows (nor re-fits the columns), the list is sorted once when the batch ends, and the columns stay those of the
    class."""
    panel = three_scored(qtbot, (0.1, 0.2, 0.3))
    click_header(qtbot, panel.table, DICE_COL)
    assert panel.stems() == ["a", "b", "c"]
    headers = panel.headers()
    with panel.batch():
        panel.set_current_class("lesion", {"regime": "lesions"})
        panel.set_metrics("lesion", {"a": {"dice": 0.9}, "b": {"dice": 0.2}, "c": {"dice": 0.3}})
        panel.set_labelled({"a", "b"})
        assert panel.stems() == ["a", "b", "c"] and not panel.table.isSortingEnabled()  # not yet
    assert panel.stems() == ["b", "c", "a"] and panel.table.isSortingEnabled()
    assert panel.headers() == headers


def test_a_step_straight_back_returns_to_the_image_left_even_when_its_row_moved(qtbot):
    """A trial drew on the top row of a sorted list, pressed PgDown, then PgUp: the row left behind had taken its
    sorted place, so PgUp went on from the new top and wrapped to the last image."""
    panel, stems = sorted_by_dice(qtbot, 6, 300)
    shown: list[str] = []
    panel.stem_selected.connect(shown.append)
    panel.select("img00")
    panel.set_metrics("lesion", {s: {"dice": 0.025 if s == "img00" else i / 100} for i, s in enumerate(stems)})
    panel.step(1)
    qtbot.waitUntil(lambda: panel.stems().index("img00") == 2)  # left behind: sorted now
    assert shown[-1] == "img01" and panel.stems()[0] == "img01"
    panel.step(-1)
    assert shown[-1] == "img00"  # back where it came from, not wrapped to the last row
    panel.step(-1)
    assert shown[-1] == "img02"  # a second step is a plain step again


def test_a_first_click_on_unsure_puts_the_most_unsure_image_on_top(qtbot):
    """A trial's first click on Unsure put the surest image on top, the opposite of what one looks for there; the
    score columns still sort worst (lowest) first."""
    panel = three_scored(qtbot, (0.6, 0.2, 0.9))
    panel.set_uncertainty("lesion", UncertaintyScores({"a": 0.1, "b": 0.5, "c": 0.3}))
    click_header(qtbot, panel.table, UNCERTAINTY_COL)
    assert panel.stems() == ["b", "c", "a"]
    click_header(qtbot, panel.table, DICE_COL)
    assert panel.stems() == ["b", "a", "c"]


def test_selecting_an_image_scrolls_its_row_into_view_on_a_new_list(qtbot):
    """A reopened 300-photo list sorted by Dice showed its top, the image shown 256 rows below (trial): the rows are
    listed anew, then the remembered image is selected at once."""
    panel, stems = sorted_by_dice(qtbot, 300, 400)
    panel.set_images(stems, ["lesion"])  # as a reopening lists them, sorted as before
    panel.select(stems[-1])
    table = panel.table
    assert table.viewport().rect().contains(table.visualItemRect(table.currentItem()).center())
