"""The right-hand column: panels stacked top to bottom in a vertical scroll area, so every control (Cancel
included) stays reachable on a 1280×720 screen. The mouse wheel scrolls the column: a slider, spin box or combo box
under the pointer takes the wheel only once it has the keyboard focus (clicked or tabbed to), as in web forms;
otherwise scrolling past the Layers panel would drag the opacities and the threshold along. Over the loss plot the
wheel always scrolls the column. The column packs its panels tightly (`compact`): at 1366×768 an outside trial reached
the threshold and the layer toggles only by scrolling the Draw tools away; tight, the three panels fit 680 pixels
(about 560 instead of 660) until a run's progress and loss curve join the Train panel."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, Qt
from PySide6.QtWidgets import (QAbstractSlider, QAbstractSpinBox, QComboBox, QFormLayout, QGraphicsView, QGridLayout,
                               QLabel, QLayout, QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

WHEEL_TAKERS = (QAbstractSlider, QAbstractSpinBox, QComboBox)
PANEL_MARGINS = (8, 4, 8, 6)  # left, top, right, bottom inside a panel's frame (the style's are about 11 each)
ROW_SPACING, PANEL_SPACING = 3, 2  # between a panel's rows (the style's: 6 to 9), between panels


class _WheelScrollsColumn(QObject):
    """Event filter on the column's value widgets: an unfocused one passes the wheel to the column's scroll bar."""

    def __init__(self, scroll: QScrollArea) -> None:
        super().__init__(scroll)
        self._bar = scroll.verticalScrollBar()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            QCoreApplication.sendEvent(self._bar, event)
            return True
        return False


class _WidthFollowsContents(QObject):
    """Event filter on the column's contents: the column is never narrower than they are with a scroll bar beside
    them, also once something wider shows (the threshold's suggestion): set once when the column was made, a taller
    column with its scroll bar showing cut the suggestion's row."""

    def __init__(self, scroll: QScrollArea) -> None:
        super().__init__(scroll)
        self._scroll = scroll
        self.fit()

    def fit(self) -> None:
        self._scroll.setMinimumWidth(column_width(self._scroll, least=True))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return False


def column_width(scroll: QScrollArea, *, least: bool = False) -> int:
    """The width the column's panels ask for with a scroll bar beside them: their rows at their natural widths, or
    (`least`) wrapped (wrap_grid) and their fields at their narrowest."""
    side = scroll.widget()
    width = (side.minimumSizeHint() if least else side.sizeHint()).width()
    return width + scroll.verticalScrollBar().sizeHint().width() + 4


def text_line(text: str, parent: QWidget) -> QLabel:
    """A word-wrapped line of text for a panel in the column that never widens it (`wrap_in_place`)."""
    return wrap_in_place(QLabel(text, parent))


def wrap_in_place(label: QLabel) -> QLabel:
    """`label` word-wrapped, its width the place's it is given, its height following. A word-wrapped label asks to
    be as wide as its longest word: a training result naming a long file or image name without a space widened an
    outside trial's column to leave the image 510 of 1600 pixels, and "Loading EndoCV2021_C6_0100010…" in the
    canvas' place narrowed the image list at each such photo (a word longer than the place is cut at its edge; the
    tooltip or Train → Last result in full holds it all)."""
    label.setWordWrap(True)
    policy = label.sizePolicy()  # (keeps the height-for-width that word wrap set)
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label


def bring_into_view(widget: QWidget, start: QWidget | None = None) -> None:
    """Scroll the column holding `widget` so that it shows, as far as the top of `start` (above it) stays in view:
    after a run the Layers panel, below a long result, scrolled away the result's first lines at 150 % scaling (an
    outside trial read it from its middle). Nothing when `widget` is not in a column."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    if parent is None:
        return
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # where the lines just changed put them
    parent.ensureWidgetVisible(widget, 0, 0)
    if start is not None and start.isVisible():
        bar, top = parent.verticalScrollBar(), start.mapTo(parent.widget(), QPoint(0, 0)).y()
        bar.setValue(min(bar.value(), top))


def compact(layout: QLayout, *, nested: bool = False) -> None:
    """Tight margins and row spacing for a panel's `layout` and the layouts inside it (columns keep their spacing)."""
    layout.setContentsMargins(*((0, 0, 0, 0) if nested else PANEL_MARGINS))
    if isinstance(layout, (QGridLayout, QFormLayout)):
        layout.setVerticalSpacing(ROW_SPACING)
    elif isinstance(layout, QVBoxLayout):
        layout.setSpacing(ROW_SPACING)
    for i in range(layout.count()):
        inner = layout.itemAt(i).layout()
        if inner is not None:
            compact(inner, nested=True)


def scroll_column(panels: list[QWidget], parent: QWidget | None = None) -> QScrollArea:
    side = QWidget()
    column = QVBoxLayout(side)
    column.setContentsMargins(4, 2, 4, 2)
    column.setSpacing(PANEL_SPACING)
    for panel in panels:
        if panel.layout() is not None:
            compact(panel.layout())
        column.addWidget(panel)
    column.addStretch(1)
    scroll = QScrollArea(parent)
    scroll.setObjectName("sideColumn")
    scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click on its background or on a button that takes no focus
    #                                                (Accept prediction) leaves the keys where they were
    scroll.setWidget(side)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    side.installEventFilter(_WidthFollowsContents(scroll))
    wheel = _WheelScrollsColumn(scroll)
    for widget in side.findChildren(QWidget):
        if isinstance(widget, WHEEL_TAKERS):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone no longer focuses it
            widget.installEventFilter(wheel)
        elif isinstance(widget, QGraphicsView):  # the loss plot (never focused): it would zoom and stop the scroll
            widget.viewport().installEventFilter(wheel)
    return scroll
