"""Help → About and the device shown in the status bar while training.

`SystemInfo` owns what `medseg_gui.info` reports. The Keras part (versions, device, precision) is read once, never in
the window's process (a Keras import on one of its threads held Python's GIL for seconds and froze the window): a
training child reports it at the start of its job (`learn`), and the About box, when it is opened before any training,
reads it in a child process of its own (`request`, medseg_gui.child_process). The device label asks for no child: a
second child importing Keras beside a starting training slowed that start by seconds on 2 cores.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QTextBrowser, QVBoxLayout, QWidget
from shiboken6 import isValid

from medseg_gui import info
from medseg_gui.child_process import call_in_child
from medseg_gui.core.resources import package_folder
from medseg_gui.qt import dialogs
from medseg_gui.qt.message_bar import StatusField
from medseg_gui.workers.base import FunctionWorker, WorkerHost, error_message

PENDING = "looking up…"
KERAS_LABELS = ("Keras", "Backend", "Device", "Precision")


class SystemInfo(QObject):
    """The system rows; `keras_rows` stays None until a child has read them (`changed` then fires)."""

    changed = Signal()

    def __init__(self, workers: WorkerHost, precision: str = "auto", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers = workers
        self._precision = precision
        self._worker: FunctionWorker | None = None
        self.keras_rows: list[tuple[str, str]] | None = None

    def request(self) -> None:
        """Start reading the Keras rows in a child of its own (no-op when known or already being read)."""
        if self.keras_rows is not None or self._worker is not None:
            return
        self._worker = FunctionWorker(call_in_child, info.keras_rows, self._precision,  # Keras: not in this process
                                      what="Reading the Keras version")
        self._workers.start(self._worker, on_done=self._known, on_error=self._failed)

    def rows(self) -> list[tuple[str, str]]:
        """Every row; the Keras ones say PENDING until known."""
        return info.cheap_rows() + (self.keras_rows or [(label, PENDING) for label in KERAS_LABELS])

    def value(self, label: str) -> str | None:
        return dict(self.keras_rows or []).get(label)

    @Slot(object)
    def learn(self, rows: list[tuple[str, str]]) -> None:
        """The Keras rows as a child that imported Keras anyway read them (a training's: train_process.KerasRows)."""
        self.keras_rows = list(rows)
        self.changed.emit()

    @Slot(object)
    def _known(self, rows: list[tuple[str, str]]) -> None:
        self._worker = None
        self.learn(rows)

    def _failed(self, err: BaseException) -> None:
        self.keras_rows = [(label, f"could not be read ({error_message(err)})") for label in KERAS_LABELS]
        self._worker = None
        self.changed.emit()


def rows_html(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>"
                    for k, v in rows)
    return f"<h4>This installation</h4><table>{cells}</table>"


class AboutBox(QDialog):
    """The About text in a scrolling browser, the full credits behind "Show Details…" below it; the box stays within
    the screen (as a QMessageBox, it grew with its details past the bottom of a 1366×768 screen)."""

    WIDTH, DETAILS_HEIGHT = 800, 240  # the credits' lines are about 110 characters

    def __init__(self, parent: QWidget | None, text: str, details: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("About medseg_gui")
        self.browser = QTextBrowser(self)  # paths can be selected and copied
        self.browser.setOpenExternalLinks(True)
        self.details = QPlainTextEdit(details, self)
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.accepted.connect(self.accept)
        self.details_button = buttons.addButton("Show Details…", QDialogButtonBox.ButtonRole.ActionRole)
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._show_details)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.setText(text)

    def text(self) -> str:
        return self._text

    def detailedText(self) -> str:  # noqa: N802 (QMessageBox's name)
        return self.details.toPlainText()

    def setText(self, text: str) -> None:  # noqa: N802 (QMessageBox's name)
        self._text = text
        self.browser.setHtml(text)

    def fit(self) -> None:
        """As tall as the text (and the details when shown) needs, within the screen; the rest scrolls."""
        chrome = self.layout().contentsMargins().top() * 2 + self.details_button.sizeHint().height() + 40
        height = dialogs.text_height(self.browser, self.WIDTH - 40) + chrome
        dialogs.fit_to_screen(self, self.WIDTH, height + (self.DETAILS_HEIGHT if self.details.isVisible() else 0))

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide Details…" if shown else "Show Details…")
        self.fit()


def show_about(parent: QWidget, system: SystemInfo) -> AboutBox:
    """The About box (non-blocking): app, demo and pretrained-start credits, licences, system rows; the Keras rows
    fill in when known."""
    full_credits = dialogs.demo_credits()
    starts = dialogs.start_credits()
    credits = dialogs.about_html(full_credits, starts, package_folder())
    details = "\n\n".join([dialogs.plain_text(full_credits or ""), "Pretrained starts (shipped):", *starts])
    box = AboutBox(parent, credits + rows_html(system.rows()), details)
    box.fit()
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(parent.window().activateWindow)  # the keyboard back to the window (shortcuts)

    def refresh() -> None:
        if isValid(box):
            box.setText(credits + rows_html(system.rows()))

    system.changed.connect(refresh)
    box.destroyed.connect(lambda *_: system.changed.disconnect(refresh))
    system.request()
    box.open()
    return box


class DeviceLabel(StatusField):
    """Permanent status-bar label "Training on CPU: … · float32 (…)", visible only while training runs; the device
    is the one the training's child reports (until then "reading the device"). Once the run has decided on its model
    and predicts the images it says "Predicting on CPU: …" (a trial read "Training on … bfloat16" through 4 minutes
    of predictions)."""

    def __init__(self, system: SystemInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._system = system
        self._training = False
        self._predicting = False
        system.changed.connect(self._refresh)
        self.setVisible(False)

    def follow(self, running: SignalInstance, rows: SignalInstance, decided: SignalInstance) -> None:
        """Show the label while `running(bool)` says training runs; `rows(list)`: the Keras rows its child read;
        `decided(outcome)`: the run trained and now predicts the images."""
        running.connect(self.set_training)
        rows.connect(self._system.learn)
        decided.connect(self.set_predicting)

    @Slot(bool)
    def set_training(self, running: bool) -> None:
        self._training, self._predicting = running, False
        self._refresh()

    @Slot()
    @Slot(object)
    def set_predicting(self, _outcome: object = None) -> None:
        self._predicting = True
        self._refresh()

    def _refresh(self) -> None:
        device = self._system.value("Device")
        precision = (self._system.value("Precision") or "").split(" (")[0]
        if self._predicting:  # the precision is training's
            self.setText(f"Predicting on {device}" if device else "Predicting the images")
        else:
            self.setText(f"Training on {device}" + (f" · {precision}" if precision else "") if device
                         else "Training on … (reading the device)")
        self.setVisible(self._training)
