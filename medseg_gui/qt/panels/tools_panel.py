"""Right panel: which class to draw, which tool, what a new label is (complete / sparse / correct the prediction),
brush size and magic-wand tolerance."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledSlider

from medseg_gui.qt import defaults, keymap
from medseg_gui.qt.panels.wrap_grid import WrapGrid

LABEL_MODE_LABELS: dict[str, tuple[str, str]] = {  # canvas.LABEL_MODES → (combo text, tooltip)
    "auto": ("Automatic", "Lesion-like classes: complete (an outlined lesion, everything else background). Thin "
                          "structures such as vessels (read from the class's predictions): sparse, since nobody "
                          f"traces every vessel. {keymap.ACTIONS['label_sparse'].keys[0]} switches a label "
                          "between complete and sparse"),
    "complete": ("Complete", "A new label is complete: every pixel you do not paint is background"),
    "sparse": ("Sparse", "A new label is sparse: only what you paint (class or background) is annotated; "
                         "training and scores ignore the rest"),
    "correct": ("Correct prediction", "Sparse, starting from the prediction (shown faintly): paint the class where "
                                      f"it was missed ({keymap.TOOLS['brush'][0]}) and background where it is wrong "
                                      f"({keymap.TOOLS['background'][0]}); the rest is ignored"),
}


def labeled_slider(value_range: tuple[int, int], value: int, parent: QWidget) -> QLabeledSlider:
    """A slider with its number beside it: one Tab stop, its slider (the frame around both took a stop of its own
    that showed nothing: an outside trial pressed Tab twice per slider)."""
    slider = QLabeledSlider(Qt.Orientation.Horizontal, parent)
    slider.setRange(*value_range)
    slider.setValue(value)
    slider.setFocusProxy(slider.findChild(QSlider))
    return slider


def narrow_combo(parent: QWidget) -> QComboBox:
    """A combo box that asks for room for a few characters, not for its longest item (a long class name, "Correct
    prediction"): the form gives it the column's width anyway, and its longest item set the column's minimum."""
    combo = QComboBox(parent)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    return combo


def color_icon(rgb: tuple[int, int, int], size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*rgb))
    return QIcon(pixmap)


class ToolsPanel(QGroupBox):
    """Signals carry the new value; setters do not re-emit (blocked) so the window can sync from the canvas."""

    class_changed = Signal(str)
    tool_changed = Signal(str)
    brush_size_changed = Signal(int)
    wand_tolerance_changed = Signal(int)
    accept_prediction_requested = Signal()
    label_mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Draw", parent)
        self._told_missing = False  # the last class key named no class, and the status bar said so
        self.class_combo = narrow_combo(self)
        self.class_combo.setObjectName("classCombo")
        self.class_combo.setToolTip(f"Class to draw (keys {keymap.CLASS_KEYS[0]}–{keymap.CLASS_KEYS[-1]})")
        self.class_combo.currentIndexChanged.connect(self._on_class_index)

        self.tool_group = QButtonGroup(self)
        self.tool_group.setExclusive(True)
        self.tool_buttons: dict[str, QToolButton] = {}
        grid = WrapGrid((3, 2))  # 2 a row in a narrow column
        for i, (tool, (_, text, _)) in enumerate(keymap.TOOLS.items()):
            button = QToolButton(self)
            button.setText(text)
            button.setToolTip(keymap.tool_tip(tool))
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setObjectName(f"tool_{tool}")
            self.tool_group.addButton(button, i)
            self.tool_buttons[tool] = button
            grid.addWidget(button)
        self._tool = "brush"  # the tool in use; its button is checked while it is enabled (_show_tool)
        self._show_tool()
        self.tool_group.idClicked.connect(self._on_tool_id)

        self.brush_slider = labeled_slider(defaults.BRUSH_RANGE, defaults.BRUSH_SIZE, self)
        self.brush_slider.setToolTip("Brush and eraser diameter in image pixels "
                                     f"({keymap.ACTIONS['smaller_brush'].keys[0]} and "
                                     f"{keymap.ACTIONS['bigger_brush'].keys[0]})")
        self.brush_slider.valueChanged.connect(self.brush_size_changed)

        self.wand_slider = labeled_slider(defaults.WAND_RANGE, defaults.WAND_TOLERANCE, self)
        self.wand_slider.setToolTip("How different a colour may be and still be selected by the wand")
        self.wand_slider.valueChanged.connect(self.wand_tolerance_changed)

        self.mode_combo = narrow_combo(self)
        self.mode_combo.setObjectName("labelModeCombo")
        for mode, (text, tip) in LABEL_MODE_LABELS.items():
            self.mode_combo.addItem(text, mode)
            self.mode_combo.setItemData(self.mode_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.mode_combo.setToolTip("What a new label is: complete (unpainted = background) or sparse "
                                   "(unpainted = not annotated); Automatic: sparse for vessels, complete for "
                                   "lesions. A label with unannotated pixels stays sparse")
        self.mode_combo.currentIndexChanged.connect(
            lambda i: self.label_mode_changed.emit(self.mode_combo.itemData(i)))

        self.accept_button = QPushButton("Accept prediction", self)
        self.accept_button.setToolTip("Copy the predicted mask into the label of the current class (undoable)")
        self.accept_button.clicked.connect(self.accept_prediction_requested)
        # a click leaves the keys where they were (the canvas: a trial's next Enter, meant to close a polygon,
        # accepted again); Tab still reaches it
        self.accept_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)

        form = QFormLayout()
        form.addRow("Class", self.class_combo)
        form.addRow("New label", self.mode_combo)
        form.addRow("Brush size", self.brush_slider)
        form.addRow("Wand tolerance", self.wand_slider)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(grid)
        layout.addWidget(self.accept_button)

    def set_classes(self, classes: list[tuple[str, tuple[int, int, int]]], inside: dict[str, str] | None = None
                    ) -> None:
        """[(name, rgb)] in project order; keeps the current class when it still exists. `inside` maps a two-stage
        class to the class whose region it is restricted to ("2  lesion (inside cervix)")."""
        current = self.current_class()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        for i, (name, rgb) in enumerate(classes):
            where = f"  (inside {inside[name]})" if inside and name in inside else ""
            self.class_combo.addItem(color_icon(rgb), f"{i + 1}  {name}{where}", name)
        index = self.class_combo.findData(current)
        self.class_combo.setCurrentIndex(max(index, 0))
        self.class_combo.blockSignals(False)

    def current_class(self) -> str | None:
        return self.class_combo.currentData()

    def class_names(self) -> list[str]:
        return [self.class_combo.itemData(i) for i in range(self.class_combo.count())]

    def select_class(self, name: str) -> None:
        """Make `name` current and emit class_changed (used by the 1–9 keys)."""
        index = self.class_combo.findData(name)
        if index >= 0:
            self.class_combo.setCurrentIndex(index)

    def select_class_index(self, index: int) -> str | None:
        """Choose the class of key `index` + 1; when there is none, what to tell the user (a trial pressed 3 after
        a class was deleted, saw nothing happen and drew the next polygon into the wrong class); "" when a class
        was chosen after such a notice (it no longer holds)."""
        if 0 <= index < self.class_combo.count():
            self.class_combo.setCurrentIndex(index)
            told, self._told_missing = self._told_missing, False
            return "" if told else None
        self._told_missing = True
        keys = ", ".join(f"{i + 1} {name}" for i, name in enumerate(self.class_names()))
        return (f"Key {index + 1} chooses no class (this project's classes: {keys}); still drawing "
                f"'{self.current_class()}'.")

    def set_tool(self, tool: str) -> None:
        if tool in self.tool_buttons:
            self._tool = tool
            self._show_tool()

    def set_tools_enabled(self, enabled: bool, pan: bool = True) -> None:
        """The drawing tools on or off, the pan tool as `pan` says (on in a read-only project, off with no image to
        pan: it looked usable beside the greyed tools). A tool that is off does not look chosen: with no project open
        the greyed Brush looked pressed (review, session 40); its button is checked again once on."""
        for name, button in self.tool_buttons.items():
            button.setEnabled(pan if name == "pan" else enabled)
        self._show_tool()

    def _show_tool(self) -> None:
        """Check the button of the tool in use, or none while that button is off."""
        chosen = self.tool_buttons[self._tool]
        self.tool_group.setExclusive(False)  # an exclusive group never unchecks its checked button
        for button in self.tool_buttons.values():
            button.setChecked(button is chosen and button.isEnabled())
        self.tool_group.setExclusive(True)

    def label_mode(self) -> str:
        return self.mode_combo.currentData()

    def set_brush_size(self, px: int) -> None:
        self.brush_slider.blockSignals(True)
        self.brush_slider.setValue(px)
        self.brush_slider.blockSignals(False)

    def _on_class_index(self, index: int) -> None:
        if index >= 0:
            self.class_changed.emit(self.class_combo.itemData(index))

    def _on_tool_id(self, button_id: int) -> None:
        self._tool = list(keymap.TOOLS)[button_id]
        self.tool_changed.emit(self._tool)
