"""`medseg`'s progress on stderr: one line redrawn in place on a terminal, plain spaced-out lines in a log or pipe."""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from medseg_gui.logs import before_console_lines
from medseg_gui.ml.progress import DICE_SHOWN


def _mmss(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


_ENDED = "medseg_line_ended"  # set on a stop whose line end_stop_line ended


def end_stop_line(stop: BaseException, last: bool = False) -> None:
    """On a terminal, end the line a stop (Ctrl+C, SIGTERM) leaves open on stderr (the ^C the terminal echoed, and the
    progress line TerminalProgress leaves open then), once: whoever says something after the stop ends it first
    (`medseg train`'s result lines stood at the end of the progress line), and `cli`'s `last` line otherwise. None in
    a log or pipe (a scripting trial's logs had a blank line there). The stop itself holds that it was ended, so each
    stop (a second Ctrl+C echoes ^C again) gets its own newline; `last` clears that, should it be raised again."""
    ended = vars(stop).pop(_ENDED, False) if last else vars(stop).get(_ENDED, False)
    isatty = getattr(sys.stderr, "isatty", None)
    if ended or not (isatty is not None and isatty()):
        return
    if not last:
        vars(stop)[_ENDED] = True
    sys.stderr.write("\n")
    sys.stderr.flush()


class TerminalProgress:
    """Progress on stderr for training (TrainProgress), prediction (done, total, stem) and other counts (`count`).

    On a terminal: one line redrawn in place (carriage return). Elsewhere (a log file, a pipe): a plain line every
    `log_every_s` seconds and the final one, so logs hold readable lines instead of one long line of updates.
    Used as `with TerminalProgress() as bar:` by every command that shows progress, so that every other line on
    stderr starts a line of its own (a trial's "medseg: error: …" stood at the end of the redrawn line).
    """

    def __init__(self, stream=None, log_every_s: float = 5.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.every_s = 0.2 if self.tty else log_every_s
        self.last: float | None = None
        self.open_line = False  # terminal: a redrawn line is showing without its newline
        self.unwritten = ""  # log: the latest report, when it fell between two written lines
        self.written = ""  # the last report written (one held back that says the same is not written again)

    def _line(self, text: str, final: bool = False) -> None:
        now = time.monotonic()
        if not (final or self.last is None or now - self.last >= self.every_s):
            self.unwritten = "" if text == self.written else text
            return
        self.last, self.unwritten, self.written = now, "", text
        if self.tty:
            width = self._width()
            self.stream.write("\r" + text[:width].ljust(width) + ("\n" if final else ""))
            self.open_line = not final
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _width(self) -> int:
        """Characters a redrawn line may take: the terminal's width less one (no wrap), at most 160."""
        return min(shutil.get_terminal_size((111, 24)).columns - 1, 160)

    def train(self, p) -> None:
        val = "" if p.val_auc is None else (f" · val AUC {p.val_auc:.4f}" if p.val_dice is None
                                            else f" · val Dice {p.val_dice:.3f} {DICE_SHOWN}, AUC {p.val_auc:.4f}")
        loss = f"{p.loss:.4f}" if np.isfinite(p.loss) else "–"
        if p.step == 0:
            self._line(p.message or "Preparing data and building the network…")
            return
        clock = _mmss(p.elapsed_s) + (f" of {_mmss(p.elapsed_s + p.eta_s)}" if np.isfinite(p.eta_s) else "")
        text = f"{clock} · step {p.step} · epoch {p.epoch_shown} · loss {loss}{val}"
        size = 30 if not self.tty else min(30, self._width() - len(text) - 3)  # the bar takes the room left, if any
        self._line(f"[{'#' * int(size * p.fraction):<{size}}] {text}" if size >= 10 else text)

    def predict(self, done: int, total: int, stem: str) -> None:
        self.count("predicting", (done, total, stem))

    def counter(self, verb: str) -> Callable[[tuple[int, int, str]], None]:
        """`count` with `verb` on a terminal; elsewhere nothing (a log or pipe of an import or export keeps only its
        own lines, its warnings first)."""
        return partial(self.count, verb) if self.tty else lambda _count: None

    def count(self, verb: str, count: tuple[int, int, str]) -> None:
        """A count `(done, total, name)` of images or files, as core reports it: 'importing 120/250 a.png'."""
        done, total, name = count
        self._line(f"{verb} {done}/{total} {name}", final=done == total)

    def __enter__(self) -> TerminalProgress:
        """Console log lines (`-v`, warnings) end the progress output first while inside (`before_logs`)."""
        self._logs = contextlib.ExitStack()
        self._logs.enter_context(self.before_logs())
        return self

    def __exit__(self, _kind, error, _traceback) -> None:
        """End the progress output, so the lines after it (`cli`'s error line) stand on their own; a stop (Ctrl+C,
        SIGTERM) leaves a redrawn line to `end_stop_line`, whose newline ends it and the ^C the terminal echoed: ended
        here too, it left a blank line."""
        try:
            if isinstance(error, KeyboardInterrupt) and self.tty:
                self.open_line, self.unwritten = False, ""
            else:
                self.done()
        finally:
            self._logs.close()

    def before_logs(self) -> contextlib.AbstractContextManager[None]:
        """While inside, a console log line (`-v`) first ends the progress output (`done`), so it stands on a line of
        its own after the reports that came before it."""
        return before_console_lines(self.done)

    def done(self) -> None:
        """End the progress output: close the terminal line, or write the last report a log has not seen."""
        if self.open_line:
            self.stream.write("\n")
        elif self.unwritten:
            self.stream.write(self.unwritten + "\n")
            self.written = self.unwritten
        self.open_line, self.unwritten = False, ""
        self.stream.flush()

