"""ui_stall's ``continuous`` row: continuous training (the Train panel's Continuous toggle) on the tiny project.

Before the row the window shows an image with no label yet. The row clicks Continuous (as a user does), draws a
stroke on the image shown STROKE_AT_S in (halfway through a shorter row; its label is saved while the child trains
the first round, so the second round learns from it), clicks Continuous again at ``seconds`` (Stop) and runs until
the window reports that training has ended. Printed after the row: each round (its first step, its end, steps,
kept or not, whether the image shown was refreshed, whether it learnt from the stroked image), when the stroke's
label was on disk, and the Stop latency (from the click until the window's ``training_ended``), with when the child
process exited and was reaped, and whether it had to be terminated (it did not answer "stop" in its grace time).

The panel's shortest time box is 30 s and a round lasts the time box, so the first round ends 35 s or more after the
toggle (the child's start and Keras import come first; longer on a loaded machine: the child runs at nice +10), and
the stroke's label is learnt from only by the second round: hence the default of 90 s.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

STROKE_AT_S = 20.0


class Notes(logging.Handler):
    """Log records (any thread) as lines in ``log.notes``, stamped in seconds since the toggle."""

    def __init__(self, log: RunLog) -> None:
        super().__init__(logging.INFO)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        self._log.notes.append(f"+{self._log.now():.2f} s {record.getMessage()}")


@dataclass
class RunLog:
    """What happened, in seconds since the toggle was clicked (``on_at``, perf_counter)."""

    on_at: float = 0.0
    rounds: list[str] = field(default_factory=list)  # one text per RoundReport
    first_steps: list[float] = field(default_factory=list)  # each round's first optimiser step
    refreshed: list[float] = field(default_factory=list)  # the image shown got a new prediction of the class
    saved_at: float | None = None  # the stroke's label is on disk
    stop_at: float | None = None
    ended_at: float | None = None
    how: str = ""  # training_ended's "finished" | "cancelled" | "errored"
    run: Any = None  # the final TrainRun (rounds, kept)
    child_pid: int | None = None
    child_exited_at: float | None = None  # a zombie, or gone (after Stop)
    child_reaped_at: float | None = None
    notes: list[str] = field(default_factory=list)  # child_process's log lines (e.g. "did not stop within …")
    timers: list[QTimer] = field(default_factory=list)  # kept alive until they fire

    def now(self) -> float:
        return time.perf_counter() - self.on_at

    def watch_child(self) -> None:
        """After Stop, every 10 ms: has the child process exited (zombie or gone), been reaped (gone)?"""
        if self.stop_at is None or self.child_pid is None or self.child_reaped_at is not None:
            return
        try:
            state = Path(f"/proc/{self.child_pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            state = "gone"
        if state in ("Z", "X", "gone") and self.child_exited_at is None:
            self.child_exited_at = self.now()
        if state == "gone":
            self.child_reaped_at = self.now()


def continuous_row(window: Any, project: Any, run: Callable[..., None], seconds: float,
                   run_until: Callable[[Callable[[], bool], float], bool],
                   stroke: Callable[[Any, list[tuple[float, float]]], None]) -> None:
    """Measure the row with ui_stall's ``run`` (measure, partially applied); ``run_until`` and ``stroke`` are
    ui_stall's (passed in: this module is imported by the script, which is ``__main__``)."""
    cls = window.current_class()
    unlabelled = [s for s in project.stems if s not in set(project.labelled_stems(cls))]
    stem = unlabelled[-1]
    window.image_list.select(stem)
    run_until(lambda: window.session.stem == stem, 10.0)
    run_until(lambda: False, 0.5)  # painted and fitted: the stroke's widget points are where the image is
    path = project.label_path(cls, stem)
    log = RunLog()
    review = window.canvas.review

    def on_prediction(name: str) -> None:
        if name == cls and window.session.stem == stem:
            log.refreshed.append(log.now())

    def on_progress(p: Any) -> None:
        if getattr(p, "step", None) == 1:
            log.first_steps.append(log.now())

    def on_round(report: Any) -> None:  # connected after the window's own slot: its refresh has happened
        meta = report.outcome.result.metadata
        learnt = stem in meta.get("train_stems", []) + meta.get("val_stems", [])
        fresh = "image shown refreshed" if log.refreshed and log.refreshed[-1] >= log.now() - 0.5 else "no refresh"
        first = f"first step +{log.first_steps[-1]:.1f} s, " if log.first_steps else ""
        steps = report.outcome.result.steps
        log.rounds.append(f"round {report.number}: {first}ended +{log.now():.1f} s, {steps} steps, "
                          f"{'kept' if report.kept else 'not kept'}, {fresh}, "
                          f"{'with' if learnt else 'without'} the stroked image")

    def on_ended(how: str) -> None:
        if log.ended_at is None and log.on_at:
            log.ended_at, log.how = log.now(), how

    def later(delay_s: float, fn: Callable[[], None], interval: bool = False) -> None:
        timer = QTimer()
        timer.setSingleShot(not interval)
        timer.timeout.connect(fn)
        timer.start(int(delay_s * 1000))
        log.timers.append(timer)

    def draw() -> None:
        stroke(window.canvas, [(70.0, 114.0), (90.0, 116.0), (110.0, 118.0)])  # img11: its disk (90, 126) r 30

        def saved() -> None:
            if log.saved_at is None and path.exists() and not window.saver.has_pending():
                log.saved_at = log.now()

        later(0.01, saved, interval=True)

    def stop() -> None:
        if log.ended_at is not None:  # it ended by itself (an error): a click would start another run
            return
        log.stop_at = log.now()
        window.train_panel.continuous_button.click()  # toggled off: the panel's cancel ("Stopping…")

    def start() -> None:
        log.on_at = time.perf_counter()
        window.train_panel.continuous_button.click()
        worker = window.training.worker
        assert worker is not None and worker.continuous, window.last_error
        worker.finished.connect(lambda result: setattr(log, "run", result))
        worker.progress.connect(on_progress)
        later(min(STROKE_AT_S, seconds / 2), draw)
        later(seconds, stop)
        later(0.01, lambda: setattr(log, "child_pid", log.child_pid or worker.child_pid), interval=True)
        later(0.01, log.watch_child, interval=True)

    child_log = logging.getLogger("medseg_gui.child_process")
    level = child_log.level
    child_log.setLevel(logging.INFO)
    notes = Notes(log)
    child_log.addHandler(notes)
    review.events.prediction.connect(on_prediction)
    window.train_panel.round_finished.connect(on_round)
    window.training_ended.connect(on_ended)
    try:
        run(f"continuous {seconds:g} s", "continuous", start, lambda: log.ended_at is not None,
            timeout_s=seconds + 60, settle_s=0.5)
    finally:
        for timer in log.timers:
            timer.stop()
        review.events.prediction.disconnect(on_prediction)
        window.train_panel.round_finished.disconnect(on_round)
        window.training_ended.disconnect(on_ended)
        child_log.removeHandler(notes)
        child_log.setLevel(level)
    print_log(log, stem)


def print_log(log: RunLog, stem: str) -> None:
    for text in log.rounds or ["no round ended"]:
        print(f"  ({text})", flush=True)
    refreshed = ", ".join(f"+{t:.1f} s" for t in log.refreshed) or "never"
    saved = "not saved" if log.saved_at is None else f"saved +{log.saved_at:.1f} s"
    total = "" if log.run is None else f"; the window's run: {log.run.rounds} rounds, {log.run.kept} kept"
    print(f"  ({stem} shown, its prediction refreshed: {refreshed}; the stroke's label {saved}{total}; load average "
          f"{os.getloadavg()[0]:.1f} at the end)", flush=True)
    if log.stop_at is None or log.ended_at is None:
        print(f"  (no end seen after Stop; training_ended '{log.how}')", flush=True)
        return

    def after(t: float | None) -> str:
        return "not seen" if t is None else f"{t - log.stop_at:.2f} s"

    notes = "; ".join(log.notes) or "no child_process log line"
    print(f"  (Stop at +{log.stop_at:.1f} s → training_ended '{log.how}' {log.ended_at - log.stop_at:.2f} s later; "
          f"the child exited {after(log.child_exited_at)}, was reaped {after(log.child_reaped_at)} after Stop; "
          f"{notes})", flush=True)
