"""Start-up: the window appears without importing Keras/TensorFlow; the CLI entry takes screenshots and quits, and
exits promptly even when background work cannot stop. Every run gets its own XDG_CONFIG_HOME, so the user's
settings are never read or written."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.workers.helpers import make_project

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="medseg-test-config-") as config_home:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": config_home}
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=ROOT)


def test_window_shows_without_importing_keras(tmp_path):
    make_project(tmp_path / "p", n=2, labelled=1)
    result = _run(
        """
        import sys, time
        t0 = time.perf_counter()
        from PySide6.QtWidgets import QApplication
        from medseg_gui.config import AppConfig
        from medseg_gui.core.project import Project
        from medseg_gui.qt.main_window import MainWindow
        app = QApplication([])
        window = MainWindow(Project.open(sys.argv[1]), AppConfig())
        window.show()
        for _ in range(20):
            app.processEvents()
        print("SHOWN", round(time.perf_counter() - t0, 2))
        bad = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
        print("HEAVY", bad)
        window.close()
        """,
        str(tmp_path / "p"),
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


def test_main_screenshot_and_quit(tmp_path):
    make_project(tmp_path / "p", n=2, labelled=1)
    shot = tmp_path / "shot.png"
    result = _run(
        """
        import sys
        from medseg_gui.app import main
        from medseg_gui.child_process import STANDBY
        code = main(sys.argv[1:])
        print("HEAVY", sorted(m for m in ("keras", "tensorflow") if m in sys.modules))
        print("CODE", STANDBY.code.changed(), "py" in str(sorted(STANDBY.code._stats or {})))
        sys.exit(code)
        """,
        str(tmp_path / "p"), "--screenshot", str(shot), "--quit-after", "1.5",
    )
    assert result.returncode == 0, result.stderr
    assert shot.is_file() and shot.stat().st_size > 1000
    assert "HEAVY []" in result.stdout
    assert "CODE [] True" in result.stdout  # the fingerprint a failed child's code is compared with was taken


def test_bad_path_argument_shows_message_not_crash(tmp_path):
    result = _run(
        """
        import sys
        from medseg_gui.app import main
        sys.exit(main([sys.argv[1], "--quit-after", "1.5"]))
        """,
        str(tmp_path / "missing"),
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING medseg_gui.qt.main_window: Cannot open" in result.stderr and "it does not exist." in result.stderr
    assert "different thread" not in result.stderr


def test_excepthook_shows_a_dialog_instead_of_dying(qtbot, monkeypatch):
    import sys

    from PySide6.QtWidgets import QApplication, QMessageBox

    from medseg_gui.app import install_excepthook

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthook()
    try:
        raise ValueError("something odd")
    except ValueError as err:
        sys.excepthook(type(err), err, err.__traceback__)
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert any("something odd" in b.text() for b in boxes)
    assert any("ValueError" in b.detailedText() for b in boxes)
    for box in boxes:
        box.close()


# A running app with a 'training' that ignores cancel (like a Keras import), prepended to the scripts below.
STUBBORN_APP = """
import threading
from PySide6.QtWidgets import QApplication
from medseg_gui import app
from medseg_gui.qt import dialogs
from medseg_gui.qt.main_window import MainWindow
from medseg_gui.workers.base import Worker

class Stubborn(Worker):
    def work(self):
        threading.Event().wait(600)

def the_window():
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))

def start_training(window):
    window.train_worker = Stubborn()
    window.workers.start(window.train_worker)

def run_app(then):  # the app on the project argv[1]; `then` 0.5 s after the event loop starts
    import sys
    from PySide6.QtCore import QTimer
    qapp = QApplication([])
    QTimer.singleShot(500, then)
    return app.main([sys.argv[1]])
"""


def test_quit_while_work_cannot_stop_exits_promptly(tmp_path):
    """Ctrl+Q during a 'training' that ignores cancel (like a Keras import): asked, closed, process gone."""
    make_project(tmp_path / "p", n=1)
    result = _run(
        STUBBORN_APP + textwrap.dedent("""
        from PySide6.QtCore import QTimer

        dialogs.ask_yes_no = lambda parent, title, text: print("ASKED", text, flush=True) or True

        def start_then_quit():
            window = the_window()
            start_training(window)
            QTimer.singleShot(100, window.actions.quit.trigger)

        code = run_app(start_then_quit)
        print("NOT REACHED", code)
        """),
        str(tmp_path / "p"),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ASKED Training is running — cancel it and quit?" in result.stdout
    assert "NOT REACHED" not in result.stdout  # the exit did not wait for the thread
    assert "Exiting without waiting for 1 background task(s)" in result.stderr
    assert "Destroyed while thread is still running" not in result.stderr


@pytest.mark.parametrize("name, number", [("SIGTERM", 15), ("SIGINT", 2)])
def test_sigterm_closes_without_questions_after_writing_the_queued_label(tmp_path, name, number):
    """A logout or `kill` (SIGTERM) ended the process at once: a label queued for saving was lost and the project's
    lock file stayed. Now the window closes as on Quit, without asking (a training runs), writing the label first.
    Ctrl+C (SIGINT) in the terminal that started it raised KeyboardInterrupt inside a Qt slot (the window stayed up,
    or crashed right after a stroke, losing it and leaving the lock: a crash-recovery trial); now it does the same."""
    project = make_project(tmp_path / "p", n=1)
    result = _run(
        STUBBORN_APP + textwrap.dedent("""
        import os, signal
        import numpy as np
        from PySide6.QtCore import QTimer

        signal.signal(signal.SIGINT, signal.default_int_handler)  # as started from a terminal, whoever runs the test

        dialogs.ask_yes_no = lambda *args: print("ASKED", flush=True) or True

        def edit_then_terminate():
            window = the_window()
            if window.session.stem is None:
                QTimer.singleShot(100, edit_then_terminate)
                return
            window.tools.select_class("lesion")
            prob = np.zeros(window.canvas.doc.shape, np.float32)
            prob[5:20, 5:20] = 0.9
            window.canvas.set_prediction("lesion", prob)
            window.canvas.accept_prediction()  # a label edit, queued for saving
            start_training(window)
            os.kill(os.getpid(), signal.SIGNAL)

        run_app(edit_then_terminate)
        """).replace("SIGNAL", name),
        str(project.root),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ASKED" not in result.stdout and f"signal {number}: closing the window" in result.stderr
    assert "KeyboardInterrupt" not in result.stderr
    assert project.has_label("lesion", project.stems[0]) and not (project.root / ".medseg.lock").exists()


def test_sigterm_while_the_quit_question_is_open_still_closes(tmp_path):
    """Review: a SIGTERM arriving while Quit's question was on screen was lost (the close under way was answered
    No, the one the signal asked for ignored meanwhile): the app stayed up, holding its lock."""
    project = make_project(tmp_path / "p", n=1)
    result = _run(
        STUBBORN_APP + textwrap.dedent("""
        import os, signal, time
        from PySide6.QtCore import QTimer

        def ask(*args):  # the question on screen while the signal comes; then answered No
            print("ASKED", flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                QApplication.processEvents()
                time.sleep(0.02)
            return False

        dialogs.ask_yes_no = ask

        def train_then_quit():
            window = the_window()
            start_training(window)
            QTimer.singleShot(100, window.actions.quit.trigger)

        run_app(train_then_quit)
        """),
        str(project.root),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ASKED") == 1 and not (project.root / ".medseg.lock").exists()


def test_quitting_switches_the_standby_child_off_before_the_training_is_cancelled(tmp_path):
    """Quit during training: the cancelled job's end started a new standby child (child_process.STANDBY), which
    lingered 4-12 s after the window had gone. The app switches the standby off as the window closes, before the
    training is cancelled, so no job's end starts one; a close that is refused leaves it on."""
    make_project(tmp_path / "p", n=1)
    result = _run(
        """
        import sys, threading
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from medseg_gui import app, child_process
        from medseg_gui.code_changes import CodeFingerprint
        from medseg_gui.qt import dialogs
        from medseg_gui.qt.main_window import MainWindow
        from medseg_gui.workers.base import Worker

        class Standby:  # records what the app does with it; starts no process
            enabled = False
            code = CodeFingerprint()
            def enable(self):
                self.enabled = True
                print("STANDBY on", flush=True)
            def close_soon(self):
                self.enabled = False
                print("STANDBY off", flush=True)

        class Stubborn(Worker):
            def work(self):
                threading.Event().wait(600)
            def cancel(self):
                print("CANCEL with the standby", "on" if child_process.STANDBY.enabled else "off", flush=True)
                super().cancel()

        child_process.STANDBY = Standby()
        answers = [False, True]
        dialogs.ask_yes_no = lambda parent, title, text: answers.pop(0)

        def start_then_quit():
            window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
            window.train_worker = Stubborn()
            window.workers.start(window.train_worker)
            window.actions.quit.trigger()  # "No": keep training
            print("STILL OPEN", window.isVisible(), child_process.STANDBY.enabled, flush=True)
            QTimer.singleShot(100, window.actions.quit.trigger)  # "Yes"

        def when_standby_on():  # the app enables it STANDBY_DELAY_MS after the window is up: later on a busy CPU
            if child_process.STANDBY.enabled:
                start_then_quit()
            else:
                QTimer.singleShot(50, when_standby_on)

        qapp = QApplication([])
        QTimer.singleShot(app.STANDBY_DELAY_MS, when_standby_on)
        app.main([sys.argv[1]])
        """,
        str(tmp_path / "p"),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(("STANDBY", "CANCEL", "STILL"))]
    assert lines == ["STANDBY on", "STILL OPEN True True", "STANDBY off", "CANCEL with the standby off"], result.stdout


def test_missing_x11_libraries_are_named_with_the_install_command(monkeypatch):
    import ctypes.util

    from medseg_gui.app import xcb_hint

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else f"lib{name}.so")
    hint = xcb_hint({"DISPLAY": ":0"}, "linux")
    assert "libxcb-cursor0" in hint and "apt-get install libxcb-cursor0" in hint and "icccm" not in hint
    assert xcb_hint({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux") is None  # X11 not used
    assert xcb_hint({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert xcb_hint({}, "linux") is None and xcb_hint({"DISPLAY": ":0"}, "darwin") is None
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"lib{name}.so")
    assert xcb_hint({"DISPLAY": ":0"}, "linux") is None


def test_x11_libraries_inside_the_package_are_not_named_missing(monkeypatch, tmp_path):
    """The one-folder package carries them in _internal/, where find_library does not look."""
    import ctypes.util

    from medseg_gui.app import xcb_hint

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    for lib in ("libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libxcb-icccm.so.4"):
        (tmp_path / lib).write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    hint = xcb_hint({"DISPLAY": ":0"}, "linux")
    assert "libxcb-keysyms1" in hint and "cursor" not in hint and "icccm" not in hint


def test_without_a_display_the_window_says_so_in_one_line_and_exits_1(tmp_path):
    """Qt aborted (status 134) with "could not connect to display … xcb-cursor0 … is needed" (outside trial)."""
    from medseg_gui.app import NO_DISPLAY, no_display

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "medseg_gui", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path)})
    assert (done.returncode, done.stderr) == (1, NO_DISPLAY + "\n")
    assert not no_display({"QT_QPA_PLATFORM": "offscreen"}, "linux") and not no_display({"DISPLAY": ":0"}, "linux")
    assert not no_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux") and not no_display({}, "darwin")


def test_a_display_nobody_answers_at_is_one_line_and_status_1(tmp_path):
    """DISPLAY set but no X server there (broken SSH forwarding): Qt aborted (134) blaming a missing xcb-cursor0."""
    import ctypes.util

    from medseg_gui.app import unreachable_display

    if ctypes.util.find_library("xcb") is None:
        pytest.skip("no libxcb here: the check leaves the report to Qt")
    display = next(f":{n}" for n in range(917, 999) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    said = unreachable_display({"DISPLAY": display}, "linux")
    assert said is not None and said.startswith(f"medseg: error: cannot open display '{display}' (DISPLAY)")
    assert unreachable_display({"DISPLAY": display, "QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert unreachable_display({"DISPLAY": display, "WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "medseg_gui", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**env, "DISPLAY": display, "PYTHONPATH": str(ROOT),
                                                      "XDG_CONFIG_HOME": str(tmp_path)})
    assert (done.returncode, done.stderr) == (1, said + "\n")
