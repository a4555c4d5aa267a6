"""The Train panel's progress and result lines, and the class they speak of: a run's lines name its class while another
class is shown, and each class's last result waits until that class is shown again (an outside trial started a lesion
Retrain, pressed 2 for the cervix, and read the lesion run's progress, then its "New model kept", under the cervix's
Current model line)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QLabel

ERROR_STYLE = "color: #c0392b;"
NAMED = "'{}': "  # how a line names the class it speaks of
TRAINING = "Training '{}': "  # how a training progress line does


@dataclass(frozen=True)
class Said:
    """A result line as its own class's panel shows it: the text, its tooltip, whether it tells an error, and the
    whole of it (a brief text's tooltip may hold the full text)."""

    text: str = ""
    tip: str = ""
    error: bool = False
    full: str = ""  # all of it with its reasons (Train → Last result in full); '': the text and the tip

    def in_full(self) -> str:
        return self.full or "\n\n".join(filter(None, (self.text, self.tip)))


class RunLines:
    """What the progress and result labels say (without a class name) and of which class (`run_class`); `shown` is
    the class chosen in the window (None until told: the lines' own class then)."""

    def __init__(self, progress_label: QLabel, result_label: QLabel) -> None:
        self.progress_label, self.result_label = progress_label, result_label
        self.shown: str | None = None
        self.run_class: str | None = None
        self.result = Said()
        self._progress = ("", NAMED)  # its text and how it names its class
        self._last: dict[str, Said] = {}  # class → its last result, shown again when the class is chosen

    def other(self) -> bool:
        """True while the lines speak of another class than the one shown."""
        return self.shown is not None and self.run_class is not None and self.shown != self.run_class

    def named(self, text: str, head: str = NAMED) -> str:
        """`text`, naming its class when that is not the class shown: "'lesion': New model kept …"."""
        return head.format(self.run_class) + text if text and self.other() else text

    def say_progress(self, text: str, head: str = NAMED) -> None:
        self._progress = (text, head)
        self._render()

    def say(self, said: Said) -> None:
        """The result line says `said`; the progress line is emptied."""
        self.result, self._progress = said, ("", NAMED)
        self._render()

    def clear(self) -> None:
        self.say(Said())

    def begin(self, cls: str) -> None:
        """A run of `cls` starts: the result shown becomes its class's last one, and `cls`'s last one is dropped."""
        self._keep()
        self._last.pop(cls, None)
        self.run_class = cls
        self.clear()

    def show_class(self, cls: str, running: bool) -> bool:
        """`cls` is chosen. A run under way keeps its lines (naming its class while `cls` is another); else `cls`'s
        last result is shown, and True says the lines changed class."""
        self.shown = cls
        if running or self.run_class == cls:
            self._render()
            return False
        self._switch()
        return True

    def settle(self) -> bool:
        """A run's end was said: while another class is shown, that result becomes its class's last one and the
        shown class's own is shown again (True)."""
        if not self.other():
            return False
        self._switch()
        return True

    def forget(self) -> None:
        """No class's last result is kept (another project was opened)."""
        self._last, self.run_class = {}, None
        self.clear()

    def _switch(self) -> None:
        self._keep()
        self.run_class = self.shown
        self.say(self._last.pop(self.shown, Said()) if self.shown is not None else Said())

    def _keep(self) -> None:
        if self.run_class is not None and self.result.text:
            self._last[self.run_class] = self.result

    def _render(self) -> None:
        self.result_label.setStyleSheet(ERROR_STYLE if self.result.error else "")
        self.result_label.setText(self.named(self.result.text))
        self.result_label.setToolTip(self.named(self.result.tip))
        self.progress_label.setText(self.named(*self._progress))
        for label in (self.progress_label, self.result_label):  # empty lines take no room (a 720-pixel-high screen)
            label.setVisible(bool(label.text()))
