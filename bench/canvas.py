"""Canvas benchmark (a script, not a test): brush-stroke latency per mouse-move event, memory for large images, and
the cost of a worst-case noisy prediction (smoothed uniform noise thresholded at 0.5: thousands of small blobs).

Each image size runs in its own subprocess so its RSS is its own. A "move" is timed from sending the QMouseEvent to
the end of processing the resulting repaint (``processEvents``), offscreen. A paint is one synchronous ``repaint()``
of the whole widget. Usage::

    QT_QPA_PLATFORM=offscreen python bench/canvas.py [--sizes 1000 4000 8000] [--moves 200] [--brush 40] [--no-strokes]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

WIDGET = (1200, 900)
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """Peak RSS since the last :func:`reset_peak_rss` (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS
    except OSError:
        pass


def make_inputs(n: int):
    import numpy as np

    rng = np.random.default_rng(0)
    yy, xx = np.ogrid[:n, :n]
    yy, xx = yy.astype(np.float32), xx.astype(np.float32)
    rgb = np.empty((n, n, 3), np.uint8)
    rgb[..., 0] = (xx * 255 / n).astype(np.uint8)
    rgb[..., 1] = (yy * 255 / n).astype(np.uint8)
    rgb[..., 2] = rng.integers(0, 40, (n, n), dtype=np.uint8)
    r = (xx - n / 2) ** 2 + (yy - n / 2) ** 2
    lesion = r < (n / 5) ** 2
    vessel = np.zeros((n, n), bool)
    vessel[:, n // 3: n // 3 + max(2, n // 200)] = True
    prob = np.clip(1.2 - np.sqrt(r) / np.float32(n / 4), 0, 1)
    roi = r < (n / 2.1) ** 2
    del r
    return rgb, {"lesion": lesion, "vessel": vessel}, prob, roi


def noisy_prob(n: int, seed: int = 1):
    """float32 n x n: uniform noise blurred with sigma 1 px, so ``>= 0.5`` gives ~n²/300 blobs and holes."""
    import cv2
    import numpy as np

    return cv2.GaussianBlur(np.random.default_rng(seed).random((n, n), dtype=np.float32), (0, 0), 1.0)


def ms_since(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 1)


def timed_repaint(canvas, times: int = 5) -> dict:
    ms = []
    for _ in range(times):
        t = time.perf_counter()
        canvas.repaint()
        ms.append(ms_since(t))
    return {"first": ms[0], "max": max(ms), "median": sorted(ms)[len(ms) // 2]}


def run_noisy(app, canvas, rgb, labels, colors, n: int) -> dict:
    """set_prediction / first paint / steady paints at three zooms / a full image switch, with a noisy prediction."""
    probs = {"lesion": noisy_prob(n, 1), "vessel": noisy_prob(n, 2)}
    canvas.fit()
    canvas.repaint()
    t = time.perf_counter()
    canvas.set_prediction("lesion", probs["lesion"], 0.5)
    out: dict = {"set_prediction_ms": ms_since(t)}
    t = time.perf_counter()
    canvas.repaint()
    out["first_paint_ms"] = ms_since(t)
    for zoom_name, zoom in (("fit", None), ("100%", 1.0), ("800%", 8.0)):
        canvas.fit() if zoom is None else canvas.set_zoom(zoom)
        app.processEvents()
        out[f"paint_{zoom_name}"] = timed_repaint(canvas)
    canvas.fit()
    t = time.perf_counter()
    canvas.set_image(f"switch{n}", rgb)
    canvas.set_labels(labels, colors)
    for name, prob in probs.items():
        canvas.set_prediction(name, prob, 0.5)
    canvas.repaint()
    out["switch_2_classes_ms"] = ms_since(t)
    return out


def stroke_points(n_moves: int, step: float):
    """A serpentine stroke over the middle of the widget: rows 600 px wide, 40 px apart, ``step`` px per move."""
    from PySide6.QtCore import QPointF

    cx, cy = WIDGET[0] / 2, WIDGET[1] / 2
    pts = []
    for i in range(n_moves + 1):
        row, along = divmod(i * step, 600)
        x = along if row % 2 == 0 else 600 - along
        pts.append(QPointF(cx - 300 + x, cy - 200 + row * 40))
    return pts


def run_one(n: int, moves: int, brush: int, strokes: bool = True) -> dict:
    import numpy as np
    import PySide6
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from medseg_gui.qt.canvas import Canvas

    app = QApplication.instance() or QApplication([])
    base = rss_mb()
    rgb, labels, prob, roi = make_inputs(n)
    inputs = rss_mb()
    reset_peak_rss()
    canvas = Canvas()
    canvas.resize(*WIDGET)
    canvas.show()
    app.processEvents()
    t0 = time.perf_counter()
    canvas.set_image(f"bench{n}", rgb)
    colors = {"lesion": (255, 170, 0), "vessel": (0, 200, 255)}
    canvas.set_labels(labels, colors)
    canvas.set_prediction("lesion", prob, 0.5)
    canvas.set_roi(roi)
    canvas.repaint()
    open_s = time.perf_counter() - t0
    result = {"size": n, "pyside": PySide6.__version__, "open_s": round(open_s, 3),
              "rss_inputs_mb": round(inputs - base),
              "rss_after_open_mb": round(rss_mb()),
              "peak_open_mb": round(peak_rss_mb())}
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for zoom_name, zoom in (("fit", None), ("100%", 1.0)) if strokes else ():
        canvas.fit() if zoom is None else canvas.set_zoom(zoom)
        canvas.set_brush_size(max(1, int(brush / canvas.zoom())) if zoom is None else brush)
        app.processEvents()
        times = []
        pts = stroke_points(moves, 6.0)

        def send(kind, p: QPointF, button, buttons):
            QApplication.sendEvent(canvas, QMouseEvent(kind, p, p, button, buttons, Qt.KeyboardModifier.NoModifier))

        send(QEvent.Type.MouseButtonPress, pts[0], left, left)
        app.processEvents()
        for p in pts[1:]:
            t = time.perf_counter()
            send(QEvent.Type.MouseMove, p, none, left)
            app.processEvents()
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        send(QEvent.Type.MouseButtonRelease, pts[-1], left, none)
        app.processEvents()
        release = time.perf_counter() - t
        ms = np.array(times) * 1000
        result[zoom_name] = {"zoom": round(canvas.zoom(), 4), "brush_px": canvas.brush_size(),
                             "move_median_ms": round(float(np.median(ms)), 2),
                             "move_p95_ms": round(float(np.percentile(ms, 95)), 2),
                             "move_max_ms": round(float(ms.max()), 2), "slowest_move": int(ms.argmax()),
                             "release_ms": round(release * 1000, 1)}
    t = time.perf_counter()
    canvas.fit()
    canvas.repaint()
    result["full_repaint_fit_ms"] = round((time.perf_counter() - t) * 1000, 1)
    result["undo_bytes"] = canvas.undo_memory_bytes()
    result["noisy"] = run_noisy(app, canvas, rgb, labels, colors, n)
    result["rss_end_mb"] = round(rss_mb())
    result["peak_rss_mb"] = round(peak_rss_mb())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 8000])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--brush", type=int, default=40, help="brush diameter in screen px")
    parser.add_argument("--no-strokes", action="store_true", help="only the open / noisy-prediction figures")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.one:
        print(json.dumps(run_one(args.one, args.moves, args.brush, not args.no_strokes)), flush=True)
        os._exit(0)  # skip interpreter teardown (PySide6 6.12.0 on CPython 3.11 corrupts None's refcount)
    print(f"canvas bench: widget {WIDGET[0]}x{WIDGET[1]}, {args.moves} mouse moves per zoom, "
          f"brush {args.brush} screen px, {os.cpu_count()} CPUs, platform {os.environ['QT_QPA_PLATFORM']}")
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--moves", str(args.moves), "--brush", str(args.brush)]
        cmd += ["--no-strokes"] if args.no_strokes else []
        out = subprocess.run(cmd, capture_output=True, text=True)
        lines = out.stdout.strip().splitlines()
        if out.returncode or not lines:
            print(f"\n{n}x{n}: failed (exit {out.returncode}): {out.stderr.strip()[-400:]}")
            continue
        r = json.loads(lines[-1])
        print(f"\n{n}x{n} (PySide6 {r['pyside']}): open {r['open_s']} s, RSS after open {r['rss_after_open_mb']} MB "
              f"(inputs {r['rss_inputs_mb']} MB), peak while opening {r['peak_open_mb']} MB, "
              f"peak overall {r['peak_rss_mb']} MB, full repaint at fit "
              f"{r['full_repaint_fit_ms']} ms, undo {r['undo_bytes'] / 1e6:.2f} MB")
        for zoom_name in [z for z in ("fit", "100%") if z in r]:
            z = r[zoom_name]
            print(f"  {zoom_name:>4} (zoom {z['zoom']}, brush {z['brush_px']} px): "
                  f"move median {z['move_median_ms']} ms, "
                  f"p95 {z['move_p95_ms']} ms, max {z['move_max_ms']} ms, release {z['release_ms']} ms")
        q = r["noisy"]
        paints = ", ".join(f"{k[6:]} {v['median']}/{v['max']}" for k, v in q.items() if k.startswith("paint_"))
        print(f"  noisy prediction: set_prediction {q['set_prediction_ms']} ms, first paint {q['first_paint_ms']} ms, "
              f"paint median/max ms: {paints}; image switch with 2 noisy classes {q['switch_2_classes_ms']} ms")


if __name__ == "__main__":
    main()
