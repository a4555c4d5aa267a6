"""Window size on small screens, what is remembered between sessions (temporary settings file, never the user's),
and closing while work runs (asks first, never hangs on a thread that cannot stop)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QHeaderView, QStyle

from medseg_gui.core.images import write_png
from medseg_gui.core.project import Project
from medseg_gui.qt import dialogs
from medseg_gui.qt.main_window import QUIT_QUESTION
from medseg_gui.qt.panels.column import column_width
from medseg_gui.qt.panels.image_columns import NAME_COL, NAME_MIN, RECALL_COL
from medseg_gui.qt.window_state import _project_key, default_split, fitted_size
from medseg_gui.workers.base import Worker
from tests.qt.test_image_list_metrics import click_header
from tests.workers.helpers import disc, make_project, open_window, synthetic_image


def first_start_size(qtbot, window, size: QSize) -> None:
    """`window` at `size`, its splitter as a first start in a window of that size splits it (made on the offscreen
    800×600 screen, its right-hand column starts narrow, its rows wrapped)."""
    window.resize(size)
    qtbot.waitUntil(lambda: window.size() == size, timeout=5_000)
    window.splitter.setSizes(default_split(size.width(), column_width(window.side_scroll)))


def test_window_fits_small_screens_and_cancel_stays_reachable(tmp_path, qtbot, messages):
    assert fitted_size(QRect(0, 0, 1920, 1040)) == QSize(1400, 860)
    small = fitted_size(QRect(0, 0, 1280, 720))
    assert small == QSize(1152, 648)
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    screen = window.screen().availableGeometry()
    assert window.width() <= screen.width() and window.height() <= screen.height()
    assert window.minimumSizeHint().width() <= small.width() and window.minimumSizeHint().height() <= small.height()
    window.resize(small)
    qtbot.waitUntil(lambda: window.size() == small, timeout=5_000)
    viewport = window.side_scroll.viewport()
    for button in (window.train_panel.retrain_button, window.train_panel.cancel_button):
        top = button.mapTo(viewport, QPoint(0, 0)).y()
        assert 0 <= top and top + button.height() <= viewport.height()  # visible without scrolling


def test_draw_tools_threshold_and_layers_fit_together_at_1366_by_768(tmp_path, qtbot, messages):
    """Outside trial at 1366×768 (a window's title bar taken): the threshold and the layer toggles were reachable only
    by scrolling the column, which scrolled the Draw tools away. Packed tightly, the column needs no scrolling."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    first_start_size(qtbot, window, QSize(1366, 768 - 40))
    for suggested in (False, True):  # a model's suggested threshold too (review: it went below the box, one row more)
        if suggested:
            window.layers.show_suggestion({"threshold": 0.35, "val_dice": 0.62})
            qtbot.waitUntil(lambda: window.layers.suggestion.isVisible(), timeout=5_000)
        qtbot.wait(20)
        viewport = window.side_scroll.viewport()
        assert window.side_scroll.verticalScrollBar().maximum() == 0
        tools, layers = window.tools.tool_buttons.values(), window.layers
        for widget in (*tools, window.train_panel.retrain_button, layers.threshold_spin, *layers.checks.values()):
            top = widget.mapTo(viewport, QPoint(0, 0)).y()
            assert 0 <= top and top + widget.height() <= viewport.height(), widget


def _wheel_down(widget) -> None:
    centre = QPointF(widget.rect().center())
    QApplication.sendEvent(widget, QWheelEvent(centre, QPointF(widget.mapToGlobal(centre)), QPoint(0, 0),
                                               QPoint(0, -120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                               Qt.ScrollPhase.NoScrollPhase, False))


def test_the_wheel_scrolls_the_column_and_moves_a_value_only_once_focused(tmp_path, qtbot, messages):
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    window.resize(QSize(1152, 648))
    qtbot.waitUntil(lambda: window.side_scroll.verticalScrollBar().maximum() > 0, timeout=5_000)
    bar, spin = window.side_scroll.verticalScrollBar(), window.train_panel.minutes_spin
    bar.setValue(0)
    minutes = spin.value()
    _wheel_down(spin)
    assert spin.value() == minutes and bar.value() > 0  # scrolled past it
    slider = window.layers.sliders["contours"]
    opacity, scrolled = slider.value(), bar.value()
    _wheel_down(slider)
    assert slider.value() == opacity and bar.value() >= scrolled
    bar.setValue(0)
    window.train_panel.curve.show(True)  # as during and after a run
    plot = window.train_panel.curve.plot
    view_range = plot.getPlotItem().getViewBox().viewRange()
    _wheel_down(plot.viewport())
    assert bar.value() > 0 and plot.getPlotItem().getViewBox().viewRange() == view_range  # scrolled, not zoomed
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=5_000)
    _wheel_down(spin)
    assert spin.value() < minutes  # clicked or tabbed to: the wheel is the box's


def test_the_threshold_suggestion_is_in_view_at_the_default_size(tmp_path, qtbot, messages):
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    window.resize(fitted_size(QRect(0, 0, 1920, 1040)))
    window.layers.show_suggestion({"threshold": 0.35, "val_dice": 0.62})
    qtbot.waitUntil(lambda: window.layers.suggestion.isVisible(), timeout=5_000)
    window.side_scroll.verticalScrollBar().setValue(0)
    viewport, label = window.side_scroll.viewport(), window.layers.suggestion
    qtbot.waitUntil(lambda: label.mapTo(viewport, QPoint(0, label.height())).y() <= viewport.height(), timeout=5_000)


def test_the_layers_box_lays_out_cleanly_with_a_suggestion(tmp_path, qtbot, messages):
    """New-user trial: with the suggestion on a line of its own the Layers box overflowed the column at 1400×860 (the
    box squeezed below its height). The suggestion sits on the threshold row, or below it in the default 340 px
    column (session 48: counting it in the column's width took 55 px from the image); the box gets its full height,
    no row overlaps another or leaves the box, nothing is cut, and the column is no wider than its viewport."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    first_start_size(qtbot, window, fitted_size(QRect(0, 0, 1920, 1040)))
    layers, side = window.layers, window.side_scroll
    layers.show_suggestion({"threshold": 0.35, "val_dice": 0.62})
    qtbot.waitUntil(lambda: layers.suggestion.isVisible(), timeout=5_000)
    qtbot.wait(20)
    spin, label = layers.threshold_spin, layers.suggestion
    assert label.text().startswith("suggested 0.35") and "validation Dice 0.62" in label.toolTip()
    one_row = spin.geometry().top() <= label.geometry().center().y() <= spin.geometry().bottom()
    assert one_row
    assert layers.height() >= layers.sizeHint().height()
    rects = [w.geometry() for w in (spin, label, *layers.checks.values(), *layers.sliders.values())]
    assert all(layers.contentsRect().contains(r) for r in rects)
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    assert label.width() >= label.sizeHint().width()
    assert side.widget().width() <= side.viewport().width()
    name = layers.layout().itemAtPosition(0, 0).layout().itemAt(0).widget()
    assert name.text() == "Threshold" and "One threshold for every class" in name.toolTip()
    assert spin.geometry().left() - name.geometry().right() > 2
    assert not one_row or label.geometry().left() - spin.geometry().right() > 2


def test_a_long_training_result_wraps_and_never_widens_the_column(tmp_path, qtbot, messages):
    """Outside trial, 1600 px wide window: after a run the right-hand column widened until the image kept 510 px (a
    result line's word without a space, e.g. a long image name, set the column's minimum width)."""
    from medseg_gui.qt.panels.run_lines import Said

    window = open_window(qtbot, make_project(tmp_path / "p", n=1))
    window.resize(1600, 900)
    qtbot.waitUntil(lambda: window.width() == 1600, timeout=5_000)
    panel, side = window.train_panel, window.side_scroll
    qtbot.wait(20)
    width, canvas = side.width(), window.canvas.width()
    stem = "20230517_fundus_OD_3504x2336_IMG_0042_vessel_traced_by_the_fellow_" * 3
    panel.lines.say(Said(f"New model kept: val AUC 0.951 on its validation image {stem}; " + "more words " * 60))
    panel.model_label.setText(f"Current model: val AUC 0.951, trained on {stem}")
    qtbot.wait(50)
    assert panel.result_label.isVisible() and panel.result_label.height() > 3 * panel.fontMetrics().height()
    assert side.minimumWidth() <= width and side.width() <= width and window.canvas.width() >= canvas
    assert panel.minimumSizeHint().width() < panel.fontMetrics().horizontalAdvance(stem) // 2  # not the word's


def test_geometry_and_project_choices_are_remembered(tmp_path, qtbot, messages):
    settings = tmp_path / "settings.ini"
    project = make_project(tmp_path / "p", n=2)
    first = open_window(qtbot, project, settings_file=settings)
    first.resize(700, 500)
    qtbot.waitUntil(lambda: first.size() == QSize(700, 500), timeout=5_000)
    first.tools.select_class("vessel")
    first.train_panel.minutes_spin.setValue(5.5)
    first.layers.threshold_spin.setValue(0.35)
    first.image_list.select(project.stems[1])
    qtbot.waitUntil(lambda: first.session.stem == project.stems[1], timeout=5_000)
    first.canvas.set_brush_size(37)
    first.splitter.setSizes([150, 400, 150])
    sizes = first.splitter.sizes()
    first.image_list.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    first.image_list.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # as saved
    first.close()  # by an older version, whose stretched Name column shrank to "I…" on a narrow panel
    assert settings.is_file()

    second = open_window(qtbot, Project.open(project.root), settings_file=settings)
    assert second.size() == QSize(700, 500)
    assert second.current_class() == "vessel"
    assert second.session.stem == project.stems[1]  # the image last shown, not the first
    assert second.canvas.brush_size() == 37 and second.tools.brush_slider.value() == 37
    assert second.train_panel.minutes() == 5.5 and second.layers.threshold() == pytest.approx(0.35)
    assert second.image_list.headers()[1] == "Labelled (vessel)"
    assert second.splitter.sizes() == sizes  # the panel widths and the list's columns and sort order too
    header = second.image_list.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (0, Qt.SortOrder.DescendingOrder)
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.ResizeToContents  # this version's column modes


def test_a_first_start_on_a_small_screen_opens_maximised(tmp_path, qtbot, messages, monkeypatch):
    """Outside trial at 1366×768: the window opened at 1229×691 with a 460 px image area. A first start on a screen
    of at most 1440×900 opens maximised; a remembered geometry wins; a big screen keeps the preferred size; without a
    settings file (tests, screenshots) the window is never maximised."""
    from PySide6.QtGui import QScreen

    from medseg_gui.config import AppConfig
    from medseg_gui.qt.main_window import MainWindow
    from medseg_gui.qt.window_state import show_window

    screen = [QRect(0, 0, 1366, 728)]  # 1366×768 less a panel
    monkeypatch.setattr(QScreen, "availableGeometry", lambda self: screen[0])

    def start(settings):
        window = MainWindow(None, AppConfig(settings_file=settings))
        qtbot.addWidget(window)
        show_window(window, window.memory)
        qtbot.waitExposed(window)
        return window

    settings = tmp_path / "settings.ini"
    first = start(settings)
    assert first.isMaximized()
    first.showNormal()
    first.resize(700, 500)
    qtbot.waitUntil(lambda: first.size() == QSize(700, 500) and not first.isMaximized(), timeout=5_000)
    first.close()
    second = start(settings)
    assert not second.isMaximized() and second.size() == QSize(700, 500)  # as left
    assert not start(None).isMaximized()
    screen[0] = QRect(0, 0, 1920, 1040)
    big = start(tmp_path / "other.ini")
    assert not big.isMaximized() and big.size() == QSize(1400, 860)


def test_a_hand_edited_settings_file_never_stops_the_window(tmp_path, qtbot, messages):
    """Fault-injection trial, session 33: text where Qt's saved states belong, "dark, light" (read back as a list)
    as the theme, or a threshold of nan stopped the app at every start, or exported empty masks; all are ignored."""
    settings = tmp_path / "settings.ini"
    project = make_project(tmp_path / "p", n=2)
    key = _project_key(project.root)
    settings.write_text(f"[layout]\nsplitter=abc\n[window]\ngeometry=abc\n[view]\ntheme=dark, light\n"
                        f"[{key}]\nthreshold=nan\nminutes=inf\nbrush=abc\nimage=nothing-here\n")
    window = open_window(qtbot, Project.open(project.root), settings_file=settings)
    assert window.session.threshold == pytest.approx(0.5) and window.train_panel.minutes() == 3.0
    assert window.session.stem == project.stems[0] and window.theme_menu.theme == "dark"


def test_switching_projects_remembers_the_one_left(tmp_path, qtbot, messages):
    """Fault-injection trial, session 33: opening B in the window forgot where A was left (remembered only on
    close)."""
    settings = tmp_path / "settings.ini"
    a, b = make_project(tmp_path / "a", n=3), make_project(tmp_path / "b", n=1)
    window = open_window(qtbot, a, settings_file=settings)
    window.image_list.select(a.stems[2])
    qtbot.waitUntil(lambda: window.session.stem == a.stems[2], timeout=5_000)
    window.canvas.set_brush_size(37)
    window.set_project(Project.open(b.root))
    assert window.memory.project(a.root)["image"] == a.stems[2] and window.memory.project(a.root)["brush"] == 37
    window.set_project(Project.open(a.root))
    assert window.session.stem == a.stems[2]


def test_threshold_is_remembered_once_settled_not_per_step(tmp_path, qtbot, messages):
    settings = tmp_path / "settings.ini"
    project = make_project(tmp_path / "p", n=1)
    window = open_window(qtbot, project, settings_file=settings)
    window.layers.threshold_spin.setValue(0.8)  # settle the opening writes first
    qtbot.waitUntil(lambda: window.memory.project(project.root).get("threshold") == pytest.approx(0.8), timeout=5_000)
    before = settings.stat().st_mtime_ns
    for value in (0.75, 0.7, 0.65):
        window.layers.threshold_spin.setValue(value)
    assert settings.stat().st_mtime_ns == before  # no settings write per spin step
    assert window.memory.project(project.root)["threshold"] == pytest.approx(0.8)
    qtbot.waitUntil(lambda: window.memory.project(project.root).get("threshold") == pytest.approx(0.65), timeout=5_000)


class Stubborn(Worker):
    """Ignores cancel, like a Keras import or a first batch being traced."""

    def __init__(self, release: threading.Event, ended: threading.Event) -> None:
        super().__init__()
        self.release, self.ended = release, ended

    def work(self) -> None:
        try:
            self.release.wait(60)
        finally:
            self.ended.set()


def test_close_during_training_asks_and_does_not_hang(tmp_path, qtbot, messages, monkeypatch):
    answers = [False, True]
    asked = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or answers.pop(0))
    window = open_window(qtbot, make_project(tmp_path / "p", n=1), close_timeout_s=0.2)
    release, ended = threading.Event(), threading.Event()
    worker = Stubborn(release, ended)
    thread = window.workers.start(worker)
    window.train_worker = worker  # stands in for a TrainWorker that is still importing Keras
    try:
        assert not window.close()  # "No": keep training
        assert window.isVisible() and not worker.is_cancelled()
        assert asked == [QUIT_QUESTION] == ["Training is running — cancel it and quit?"]
        assert window.close()  # "Yes": cancel, wait briefly, close anyway
        assert not window.isVisible() and worker.is_cancelled()
        assert window.left_running == 1 and not window.workers.running()
    finally:
        release.set()
        assert thread.wait(10_000)  # no event processing in between, so it is not deleted yet
    assert ended.is_set()


@pytest.mark.parametrize("answer", [False, True])
def test_quit_question_is_read_against_the_state_after_it(tmp_path, qtbot, messages, monkeypatch, answer):
    """New-user trial: the question stays open while training goes on, and the training may end meanwhile. "No"
    (do not cancel, do not quit) then keeps the window open with the run's result on screen; "Yes" quits without
    anything left to cancel."""
    window = open_window(qtbot, make_project(tmp_path / "p", n=1), close_timeout_s=0.2)
    release, ended = threading.Event(), threading.Event()
    worker = Stubborn(release, ended)
    thread = window.workers.start(worker)
    window.train_worker = worker

    def ended_while_asked(parent, title, text):
        release.set()  # the training ends and reports it while the question is open
        assert ended.wait(10)
        window.training._on_ended("finished", "New model kept")
        return answer

    monkeypatch.setattr(dialogs, "ask_yes_no", ended_while_asked)
    try:
        assert window.close() is answer
        assert window.isVisible() is not answer and window.train_worker is None
        if not answer:
            assert window.close()  # nothing runs now: no question, the window closes
    finally:
        release.set()
        assert thread.wait(10_000)


def test_a_finished_run_brings_the_layers_into_view(tmp_path, qtbot, messages):
    """At 1280×720 a run's curve and lines pushed the Layers panel out of view just when reviewing needs it (trials)."""
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.workers.training import TrainWorker
    from tests.qt.test_main_window_panels import _progress

    window = open_window(qtbot, make_project(tmp_path / "p", n=2, labelled=1))
    window.resize(1280, 560)
    panel, side, layers = window.train_panel, window.side_scroll, window.layers
    panel.attach(TrainWorker(tmp_path, "lesion", TrainConfig(minutes=3.0)))  # a real worker, never started
    for step in range(1, 30):
        panel.show_progress(_progress(step, 0, loss=0.5))
    side.verticalScrollBar().setValue(0)
    qtbot.waitUntil(lambda: side.widget().height() > side.viewport().height(), timeout=5_000)

    def shown() -> bool:
        top = layers.mapTo(side.widget(), QPoint(0, 0)).y() - side.verticalScrollBar().value()
        return 0 <= top and top + layers.height() <= side.viewport().height()

    assert not shown()
    panel.ended.emit("finished", "Every image was predicted.")
    qtbot.waitUntil(shown, timeout=5_000)


def _name_texts(window, texts: list[str] | None = None) -> list[str]:
    """`texts` (the names) as the Name column draws them: elided in the middle to its width less the cell's text
    margins."""
    table = window.image_list.table
    margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1
    room = table.horizontalHeader().sectionSize(NAME_COL) - 2 * margin
    return [table.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, room)
            for text in texts or window.project.stems]


def test_names_stay_readable_after_a_sort_and_a_remembered_layout(tmp_path, qtbot, messages):
    """Verification trial: clicking "Lesions found" widened it by the header's height for its arrow, which elided
    every name; once a Labelled cell grew ("⚠ image unreadable") names read "10…50" (less than NAME_MIN), in every
    project since the sort is remembered. The arrow takes only its own room; names keep NAME_MIN's text; a restored
    layout leaves the widths to the contents."""
    stems = ["150OLCV1_100H0016", "500OLCV1_100H0008", "711OLCV1_100H0002"]  # the lesion demo's names
    project = Project.create(tmp_path / "p")
    for i, stem in enumerate(stems):
        project.add_image(write_png(tmp_path / f"{stem}.png", synthetic_image(i, disc())))
    settings = tmp_path / "settings.ini"
    first = open_window(qtbot, project, settings_file=settings)
    for window in (first, None):
        if window is None:
            first.close()
            window = open_window(qtbot, Project.open(project.root), settings_file=settings)
        window.resize(1400, 860)
        window.splitter.setSizes(default_split(1400))
        qtbot.waitUntil(lambda: window.image_list.width() == default_split(1400)[0], timeout=5_000)
        header = window.image_list.table.horizontalHeader()
        if window is first:
            click_header(qtbot, window.image_list.table, RECALL_COL)
        assert header.sortIndicatorSection() == RECALL_COL  # remembered in the second window
        qtbot.waitUntil(lambda: _name_texts(window) == stems, timeout=5_000)  # whole names
        window.image_list.set_error(stems[0], "broken")  # the widest Labelled cell
        qtbot.wait(20)
        assert _name_texts(window, [NAME_MIN]) == [NAME_MIN]  # at least NAME_MIN's characters
        window.image_list.set_error(stems[0], "")  # the widths follow the contents, also after a restore
        qtbot.waitUntil(lambda: _name_texts(window) == stems, timeout=5_000)
