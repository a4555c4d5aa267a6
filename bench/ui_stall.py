"""UI-stall benchmark (a script, not a test): the longest gap of the GUI event loop while the real MainWindow works.

A 5 ms precise QTimer stamps every turn of the event loop; a gap is the time between two stamps (5 ms when the loop
is idle, longer whenever something runs on the GUI thread, or the thread waits for a CPU: each row also prints how
long it was runnable but not running, from Linux's schedstat). Scenarios, each measured from the action until it is
done plus a short settle:

- ``window shows``: from ``show()`` until the window's start-up work is done (no Keras in its process any more);
- ``train``: Retrain on a tiny synthetic project (12 images 192², 8 labelled), a short real run (in its own process,
  started and imported afresh), until prediction starts; ``predict``: from there until the window shows the new
  prediction (then the steps the child trained in its time box: what the window's share of the CPUs costs it);
- ``continuous``: the Train panel's Continuous toggle on the same project, with an unlabelled image shown, from the
  click until training has ended: a stroke on that image 20 s in, saved while the child trains, then Stop (the
  toggle clicked again) at ``--continuous-seconds``; then each round (kept or not, refreshing the image shown or
  not, learnt from the stroked image or not), when the stroke's label was saved, and the Stop latency (click to the
  window's ``training_ended``; bench/ui_stall_continuous.py);
- ``open 8000²``: selecting an 8000×8000 JPEG in the image list until the canvas has painted it;
- ``save 8000² label``: a brush stroke on it until the label PNG is on disk;
- ``two quick strokes``: a stroke, another 50 ms later while the first is being written, until both are on disk;
- ``switch after stroke``: a stroke on it, then PgDn as the very next event (the pending save must not freeze the
  switch; until 2026-12-02 both ran in one turn of the event loop, which no mouse and keyboard can do, so that row
  showed their sum);
- ``reopen 8000² labelled``: PgUp back to it, now with a label file, until the canvas has painted it.

Each row also splits its longest gap into the GUI thread's time on a CPU (its own work, the only part the window
can change), waiting for a CPU (the machine's load) and the rest (waiting for the GIL or the disk), from Linux's
schedstat. ``--why`` samples the stacks during stalls; ``--profile`` prints the GUI thread's Python calls per row
(cProfile, own-thread only: slower, but an exact account of what the GUI thread ran).

Usage::

    QT_QPA_PLATFORM=offscreen python bench/ui_stall.py [--train-seconds 30] [--continuous-seconds 90] [--size 8000]
        [--skip-train | --skip-big] [--only continuous,open,save,strokes,switch,reopen] [--why [--why-ms 40]]
        [--profile]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import datetime
import functools
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 5
ROWS = ("window", "train", "predict", "continuous", "open", "save", "strokes", "switch",  # --only names, in order
        "reopen")


class StallSampler:
    """With ``--why``: a thread that, while the GUI thread has not stamped for over ``--why-ms`` (40), samples the
    Python stacks of every thread (the GUI's own work, or another thread holding the GIL); ``report()`` prints the
    most frequent."""

    def __init__(self, meter: GapMeter, after_ms: float = 40.0) -> None:
        self._meter, self._main, self._after = meter, threading.get_ident(), after_ms / 1000
        self.samples: collections.Counter[str] = collections.Counter()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(0.01)
            if self._meter.stamps and time.perf_counter() - self._meter.stamps[-1] > self._after:
                for ident, frame in sys._current_frames().items():  # the other threads: who holds the GIL
                    if ident == threading.get_ident():
                        continue
                    stack = traceback.extract_stack(frame)[-5 if ident != self._main else -7:]
                    name = "GUI thread" if ident == self._main else "other thread"
                    lines = "\n".join(f"    {Path(f.filename).name}:{f.lineno} {f.name}" for f in stack)
                    self.samples[f"  [{name}]\n{lines}"] += 1

    def report(self, top: int = 10) -> None:
        for stack, n in self.samples.most_common(top):
            print(f"  {n * 10} ms of stalls in:\n{stack}")
        self.samples.clear()


class GapMeter:
    """Stamps each turn of the event loop with a 5 ms precise timer; ``gaps_ms()`` since the last ``reset()``, and
    with each stamp the GUI thread's schedstat (time on a CPU, time waiting for one), so ``split_ms(i)`` tells what
    gap ``i`` was made of."""

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.sched: list[tuple[float, float]] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._stamp)
        self._timer.start()

    def _stamp(self) -> None:
        self.stamps.append(time.perf_counter())
        self.sched.append(schedstat_s())

    def reset(self) -> None:
        self.stamps, self.sched = [], []
        self._stamp()

    def gaps_ms(self) -> np.ndarray:
        self._stamp()  # the end of the last gap
        return np.diff(np.asarray(self.stamps)) * 1000

    def split_ms(self, i: int) -> tuple[float, float, float]:
        """(on a CPU, waiting for a CPU, other) in ms of gap ``i`` of the last ``gaps_ms()``."""
        total = (self.stamps[i + 1] - self.stamps[i]) * 1000
        run = (self.sched[i + 1][0] - self.sched[i][0]) * 1000
        wait = (self.sched[i + 1][1] - self.sched[i][1]) * 1000
        return run, wait, max(0.0, total - run - wait)


def run_until(done: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``done()`` (polled every 10 ms) or the timeout."""
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if done() or time.perf_counter() > deadline else None)
    poll.start(10)
    loop.exec()
    poll.stop()
    return done()


def schedstat_s() -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of this thread (Linux schedstat; zeros elsewhere)."""
    try:
        run, wait = Path("/proc/thread-self/schedstat").read_text().split()[:2]
        return int(run) / 1e9, int(wait) / 1e9
    except (OSError, ValueError):
        return 0.0, 0.0


@dataclass
class Options:
    """How rows are measured and reported: which rows print (``only``; None: all), ``why``, ``profile``."""

    only: set[str] | None = None
    why: StallSampler | None = None
    profile: bool = False


def measure(meter: GapMeter, opts: Options, name: str, key: str, start: Callable[[], None], done: Callable[[], bool],
            timeout_s: float = 120.0, settle_s: float = 0.3) -> None:
    """Run ``start`` on the event loop until ``done()``; print the row ``name`` if ``key`` is chosen (``--only``):
    a row not chosen still runs (a later row needs its state) but prints nothing."""
    shown = opts.only is None or key in opts.only
    profiler = cProfile.Profile(time.thread_time) if shown and opts.profile else None  # CPU time, not waits
    meter.reset()
    waited = schedstat_s()[1]
    t0 = time.perf_counter()
    QTimer.singleShot(0, start)
    if profiler is not None:
        profiler.enable()  # this thread only: the GUI thread's own calls
    ok = run_until(done, timeout_s)
    took = time.perf_counter() - t0
    run_until(lambda: False, settle_s)
    if profiler is not None:
        profiler.disable()
    gaps = meter.gaps_ms()
    if opts.why is not None and not shown:
        opts.why.samples.clear()
    if not shown:
        return
    i = int(np.argmax(gaps))
    worst = float(np.sum(gaps[:i])) / 1000
    run, wait, other = meter.split_ms(i)
    busiest = max(meter.split_ms(j)[0] for j in range(len(gaps)))
    note = "" if ok else "  (TIMED OUT)"
    waited = schedstat_s()[1] - waited
    print(f"{name:<22} max gap {gaps.max():7.1f} ms (on a CPU {run:5.1f}, waiting for one {wait:5.1f}, other "
          f"{other:5.1f}; most CPU in one gap {busiest:5.1f})   p99 {np.percentile(gaps, 99):6.1f} ms   "
          f"({len(gaps)} turns, {took:5.1f} s, worst at +{worst:.1f} s, GUI thread waited {waited:4.1f} s for a CPU)"
          f"{note}", flush=True)
    if opts.why is not None:
        opts.why.report()
    if profiler is not None:
        print_profile(profiler)


def print_profile(profiler: cProfile.Profile, top: int = 14) -> None:
    """The GUI thread's slowest calls of this program (cumulative CPU time, with the profiler's overhead)."""
    stats = pstats.Stats(profiler)
    rows = [(ct, nc, func) for func, (_cc, nc, _tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
            if "medseg_gui" in func[0] and ct >= 0.001]
    for ct, nc, (file, line, fn) in sorted(rows, reverse=True)[:top]:
        where = Path(file).relative_to(ROOT) if Path(file).is_relative_to(ROOT) else Path(file).name
        print(f"    {ct * 1000:7.1f} ms CPU  {nc:4d}×  {where}:{line} {fn}")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def tiny_project(root: Path):
    from medseg_gui.core.images import write_png
    from medseg_gui.core.project import Project

    rng = np.random.default_rng(0)
    src = root.parent / "tiny_src"
    src.mkdir(parents=True)
    yy, xx = np.mgrid[:192, :192]
    project = Project.create(root)
    for i in range(12):
        mask = (yy - 60 - 6 * i) ** 2 + (xx - 90) ** 2 <= 30 ** 2
        rgb = rng.integers(20, 80, (192, 192, 3), dtype=np.uint8)
        rgb[mask] = (200, 170, 60)
        project.add_image(write_png(src / f"img{i:02d}.png", rgb))
        if i < 8:
            project.save_label("lesion", project.stems[-1], mask)
    return project


def big_project(root: Path, size: int):
    import cv2

    from medseg_gui.core.images import write_png
    from medseg_gui.core.project import Project

    src = root.parent / "big_src"
    src.mkdir(parents=True)
    ramp = np.linspace(30, 220, size, dtype=np.float32)
    rgb = np.empty((size, size, 3), np.uint8)
    rgb[..., 0] = ramp[None, :]
    rgb[..., 1] = ramp[:, None]
    rgb[..., 2] = 90
    rgb += np.random.default_rng(1).integers(0, 25, (size, size, 1), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    (src / "big.jpg").write_bytes(buf.tobytes())
    project = Project.create(root)
    project.add_image(write_png(src / "a_small.png", rgb[:256, :256].copy()))
    project.add_image(src / "big.jpg")
    return project


class PaintSeen(QObject):
    """``seen`` turns true at the first paint event of ``widget`` once ``when()`` holds (the paint itself follows
    at once, inside the measured settle time)."""

    def __init__(self, widget, when: Callable[[], bool]) -> None:
        super().__init__(widget)
        self.seen, self._when = False, when
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and self._when():
            self.seen = True
        return False


def stroke(canvas, points: list[tuple[float, float]]) -> None:
    """A left-button drag through image points (real mouse events, sent on the GUI thread)."""
    wps = [canvas.image_to_widget(x, y) for x, y in points]
    kinds = [QEvent.Type.MouseButtonPress] + [QEvent.Type.MouseMove] * (len(wps) - 2) + [QEvent.Type.MouseButtonRelease]
    for kind, p in zip(kinds, wps):
        button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        event = QMouseEvent(kind, QPointF(p), QPointF(canvas.mapToGlobal(p.toPoint())), button, held,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(canvas, event)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-seconds", type=float, default=30.0,
                        help="Retrain's time box (the Train panel's shortest, 0.5 min, is what Retrain uses below it)")
    parser.add_argument("--continuous-seconds", type=float, default=90.0,
                        help="the continuous row: Stop this long after the toggle (the stroke at 20 s)")
    parser.add_argument("--size", type=int, default=8000)
    parser.add_argument("--skip-train", action="store_true", help="only the big-image scenarios")
    parser.add_argument("--skip-big", action="store_true", help="only the start and training scenarios")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), metavar="ROWS",
                        help=f"print only these rows (comma-separated: {','.join(ROWS)}); the others still run "
                             "when a chosen row needs them, unprinted")
    parser.add_argument("--why", action="store_true", help="print the GUI thread's stacks during stalls")
    parser.add_argument("--why-ms", type=float, default=40.0, help="with --why: a gap longer than this is a stall")
    parser.add_argument("--profile", action="store_true", help="print the GUI thread's slowest calls per row")
    args = parser.parse_args()
    if args.only is not None and not args.only <= set(ROWS):
        parser.error(f"--only takes {', '.join(ROWS)}, not {', '.join(sorted(args.only - set(ROWS)))}")
    only = args.only or set(ROWS)
    skip_train = args.skip_train or not only & {"train", "predict"}
    continuous = not args.skip_train and "continuous" in only
    skip_big = args.skip_big or not only & {"open", "save", "strokes", "switch", "reopen"}

    from medseg_gui.config import AppConfig
    from medseg_gui.core.project import Project
    from medseg_gui.ml.config import TrainConfig
    from medseg_gui.qt.gui_gc import FREEZE_AFTER_MS, GuiThreadCollector
    from medseg_gui.qt.main_window import MainWindow
    from medseg_gui.workers.training import PredictProgress

    app = QApplication.instance() or QApplication(sys.argv)
    GuiThreadCollector(app, freeze_after_ms=FREEZE_AFTER_MS)  # as app.main (its collections' stalls count here)
    tmp = Path(tempfile.mkdtemp(prefix="ui_stall_"))
    tiny = tiny_project(tmp / "tiny")
    t0 = time.perf_counter()
    big = None if skip_big else big_project(tmp / "big", args.size)
    print(f"ui_stall — {cpu_model()}, {os.cpu_count()} CPUs, {datetime.datetime.now():%Y-%m-%d %H:%M}, load average "
          f"{os.getloadavg()[0]:.1f}, {args.size}² JPEG made in {time.perf_counter() - t0:.1f} s", flush=True)

    train = TrainConfig(minutes=args.train_seconds / 60, patch_size=64, batch_size=8, base_filters=8)
    window = MainWindow(tiny, AppConfig(train=train))
    window.resize(1400, 900)
    meter = GapMeter()
    run = functools.partial(measure, meter, Options(args.only, StallSampler(meter, args.why_ms) if args.why else None,
                                                    args.profile))
    run("window shows", "window", window.show, lambda: not window.workers.is_busy(), settle_s=0.5)
    if not skip_train:
        phase = {"predicting": False, "ended": False, "steps": None}
        window.training_ended.connect(lambda how: phase.update(ended=True))

        def on_progress(p: object) -> None:
            if isinstance(p, PredictProgress):
                phase["predicting"] = True

        def start_training() -> None:
            worker = window.retrain()
            assert worker is not None, window.last_error
            worker.progress.connect(on_progress)
            worker.finished.connect(lambda run: phase.update(steps=run.outcome.result.steps))

        run("train", "train", start_training, lambda: phase["predicting"] or phase["ended"])
        run("predict", "predict", lambda: None, lambda: phase["ended"])
        print(f"  (the child trained {phase['steps']} steps in its {args.train_seconds:g} s)", flush=True)
    if continuous:
        from ui_stall_continuous import continuous_row  # bench/ is this script's folder

        continuous_row(window, tiny, run, args.continuous_seconds, run_until, stroke)

    if big is None:
        window.close()
        shutil.rmtree(tmp, ignore_errors=True)
        return
    window.set_project(Project.open(big.root))
    run_until(lambda: window.session.stem is not None, 10)
    stem = big.stems[1]
    canvas = window.canvas
    painted = PaintSeen(canvas, lambda: window.session.stem == stem)
    run(f"open {args.size}²", "open", lambda: window.image_list.select(stem), lambda: painted.seen, settle_s=0.5)
    path = big.label_path("lesion", stem)
    c = args.size / 2
    run(f"save {args.size}² label", "save", lambda: stroke(canvas, [(c, c), (c + 40, c + 10), (c + 80, c + 20)]),
        lambda: path.exists() and not window.saver.has_pending(), settle_s=0.5)

    def two_strokes() -> None:  # the second comes while the first one's label is being written
        stroke(canvas, [(c, c + 100), (c + 40, c + 110), (c + 80, c + 120)])
        QTimer.singleShot(50, lambda: stroke(canvas, [(c, c + 150), (c + 40, c + 160), (c + 80, c + 170)]))

    run("two quick strokes", "strokes", two_strokes, lambda: not window.saver.has_pending(), settle_s=0.5)

    def stroke_then_switch() -> None:  # PgDn as the next input event, after the loop's next turn (a 0 ms timer
        stroke(canvas, [(c, c + 200), (c + 40, c + 210), (c + 80, c + 220)])  # is a posted call, run before it)
        QTimer.singleShot(1, window.actions.next_image.trigger)

    run("switch after stroke", "switch", stroke_then_switch,
        lambda: window.session.stem == big.stems[0] and not window.saver.has_pending(), settle_s=0.5)
    painted.seen = False
    run(f"reopen {args.size}² labelled", "reopen", window.actions.prev_image.trigger, lambda: painted.seen,
        settle_s=0.5)
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
