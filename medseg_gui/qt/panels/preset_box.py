"""The Train panel's Preset box: each preset described in its tooltip, and the current model's preset shown.

A trial trained fxfviolet from the command line; the window then showed Preset = default beside "preset fxfviolet",
and Retrain would have switched recipe without a word. The box follows the current model of the class shown, until
the user chooses a preset there (theirs until another class or project is shown).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox, QWidget

from medseg_gui.ml.config import PRESET_LINES


class PresetBox(QComboBox):
    """`presets` by name; `fallback` is shown for a class without a model (or one of an unknown preset)."""

    def __init__(self, presets: list[str], fallback: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItems(presets)
        for i, name in enumerate(presets):
            self.setItemData(i, PRESET_LINES.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.setToolTip("Network and training recipe; Retrain uses the current model's unless you choose another.\n"
                        + "\n".join(f"{name}: {PRESET_LINES[name]}" for name in presets if name in PRESET_LINES))
        self._fallback = fallback
        self.setCurrentText(fallback)
        self._chosen = False  # the user picked the one shown (follow leaves it)
        self.activated.connect(self._on_chosen)

    @Slot()
    def _on_chosen(self) -> None:
        self._chosen = True

    def release(self) -> None:
        """Another class or project is shown: the next `follow` shows its model's preset again."""
        self._chosen = False

    def follow(self, preset: str | None) -> None:
        """Show `preset` (the current model's; None: no model), unless the user chose one since `release`."""
        if not self._chosen:
            self.setCurrentText(preset if preset is not None and self.findText(preset) >= 0 else self._fallback)
