"""`medseg-gui [PROJECT_OR_FOLDER]`: create the QApplication and the main window, nothing else.

Keras/TensorFlow are not imported here (the window shows in ~1–2 s); Retrain imports them in its own process, which a
standby child (child_process.STANDBY, started two seconds after the window) has usually done already. The standby is
switched off as the window closes, before its work is stopped: a training cancelled by quitting started a new standby
child as it ended, which lingered 4–12 s after the window had gone. The fingerprint of the package's files is taken as
the window starts (child_process.Standby.code), so a child that fails after an update on disk says to restart.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

from medseg_gui import __version__
from medseg_gui.core.demo import DEMOS
from medseg_gui.core.identity import APP_NAME, GUI_NAME
from medseg_gui.logs import setup_logging
from medseg_gui.paths import settings_file

log = logging.getLogger(__name__)

STANDBY_DELAY_MS = 2000  # the standby child (child_process.STANDBY) starts once the window has painted


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=GUI_NAME, description="Annotate, retrain and review segmentations.")
    parser.add_argument("path", nargs="?", type=Path,
                        help="project folder or plain folder of images (default: the project open last time)")
    parser.add_argument("--demo", nargs="?", const="vessel", choices=tuple(DEMOS),
                        help="open a bundled demo project: vessel (the default) or lesion; on the very first start "
                        "without a PATH or --demo (or when the last project is gone) the window asks which")
    parser.add_argument("--screenshot", type=Path, metavar="PNG", help="grab the window to this PNG and quit")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help="quit after this many seconds")
    parser.add_argument("--version", action="version", version=f"{GUI_NAME} {__version__}")
    return parser.parse_args(argv)


def install_excepthook(log_file: Path | None = None) -> None:
    """Show unexpected errors in a dialog (and the log file) instead of letting Qt abort the program."""
    from PySide6.QtWidgets import QApplication

    from medseg_gui.qt.dialogs import show_message

    shown: list[object] = []  # keeps a parentless box alive until the next one replaces it

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        details = "".join(traceback.format_exception(kind, value, tb))
        where = (f"in the log file {log_file} (Help → Open log folder)" if log_file is not None
                 else "in the terminal's output")
        log.error("Unexpected error:\n%s", details)
        windows = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()]
        parent = QApplication.activeWindow() or (windows[0] if windows else None)
        box = show_message(parent, "Unexpected error", f"Something went wrong: {kind.__name__}: {value}\n\n"
                           "Labels are saved after every stroke; the title shows * while one is not saved yet. "
                           f"Details are below and {where}.",
                           error=True, details=details)
        shown[:] = [box]

    sys.excepthook = hook


XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xkbcommon-x11": "libxkbcommon-x11-0", "xcb-icccm": "libxcb-icccm4",
                 "xcb-keysyms": "libxcb-keysyms1"}  # Qt 6's xcb plugin loads these; bare Debian/Ubuntu lack some


def bundled(lib: str) -> bool:
    """True in a PyInstaller build that carries `lib` (it copies the xcb plugin's libraries into `_internal/`, where
    find_library does not look)."""
    base = getattr(sys, "_MEIPASS", None)
    return bool(getattr(sys, "frozen", False) and base and any(Path(base).glob(f"lib{lib}.so*")))


def xcb_hint(env: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """A hint naming the system libraries Qt's X11 plugin will miss (it then aborts with only "Could not load the Qt
    platform plugin xcb"), or None when they are there (installed, or inside the package) or X11 is not used."""
    import ctypes.util

    env = dict(os.environ) if env is None else env
    if not _uses_x11(env, platform):
        return None
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None and not bundled(lib)]
    if not missing:
        return None
    return (f"{GUI_NAME}: warning: Qt's X11 plugin needs {', '.join(missing)}, which this system seems to lack; if the "
            f"window does not open, install them (Debian/Ubuntu: sudo apt-get install {' '.join(missing)})")


def _uses_x11(env: dict[str, str], platform: str) -> bool:
    """Whether Qt will open its window through X11 (xcb) with `env`'s DISPLAY."""
    qpa = env.get("QT_QPA_PLATFORM", "")
    return platform.startswith("linux") and bool(env.get("DISPLAY")) and (qpa.startswith("xcb") if qpa else
                                                                          not env.get("WAYLAND_DISPLAY"))


def unreachable_display(env: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """One `medseg: error:` line when Qt would use X11 and no X server answers at DISPLAY (an SSH session with broken
    X forwarding: Qt aborted with status 134, blaming a missing xcb-cursor0 that was installed; outside trial), else
    None; also None when libxcb, which the check connects with, cannot be found (Qt reports that itself)."""
    import ctypes
    import ctypes.util

    env = dict(os.environ) if env is None else env
    name = ctypes.util.find_library("xcb") if _uses_x11(env, platform) else None
    if name is None:
        return None
    xcb = ctypes.CDLL(name)
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connection_has_error.argtypes = xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(env["DISPLAY"].encode(), None)
    failed = xcb.xcb_connection_has_error(connection)
    xcb.xcb_disconnect(connection)
    return (f"medseg: error: cannot open display {env['DISPLAY']!r} (DISPLAY): no X server answers there (over SSH: "
            "connect with ssh -X); the command-line tool works without one: medseg --help") if failed else None


NO_DISPLAY = ("medseg: error: no display: the window needs a desktop session (DISPLAY is not set); the command-line "
              "tool works without one: medseg --help")


def no_display(env: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """True on Linux with neither DISPLAY nor WAYLAND_DISPLAY nor QT_QPA_PLATFORM (another platform, e.g. offscreen
    in the tests, vnc or eglfs), where Qt aborts (status 134) saying only that the xcb plugin could not connect;
    `make run` checks the same."""
    env = dict(os.environ) if env is None else env
    return platform.startswith("linux") and not any(env.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                          "QT_QPA_PLATFORM"))


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # a packaged program runs its Retrain process (train_process) through here
    args = parse_args(sys.argv[1:] if argv is None else argv)
    refusal = NO_DISPLAY if no_display() else unreachable_display()
    if refusal:  # before the QApplication: Qt would abort
        print(refusal, file=sys.stderr)
        return 1
    log_file = setup_logging(GUI_NAME, logging.INFO, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.info("%s %s starting; log file %s", GUI_NAME, __version__, log_file)
    hint = xcb_hint()
    if hint:
        print(hint, file=sys.stderr)
        log.warning(hint)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from medseg_gui.child_process import STANDBY
    from medseg_gui.config import AppConfig
    from medseg_gui.qt.gui_gc import FREEZE_AFTER_MS, GuiThreadCollector
    from medseg_gui.qt.main_window import MainWindow
    from medseg_gui.qt.theme import DEFAULT_THEME, THEME_KEY, app_icon, apply_theme
    from medseg_gui.qt.window_state import WindowMemory, show_window

    STANDBY.code.take_soon()  # the code this window runs: a child that fails after an update says "restart"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(APP_NAME)
    app.setApplicationName(GUI_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(GUI_NAME)  # packaging/medseg-gui.desktop (the Wayland app id)
    app.setWindowIcon(app_icon())
    collector = GuiThreadCollector(app, freeze_after_ms=FREEZE_AFTER_MS)  # cycles freed in the GUI thread only
    scripted = args.screenshot is not None  # reproducible screenshots: no remembered geometry
    settings = None if scripted else settings_file()
    apply_theme(app, WindowMemory(settings).value(THEME_KEY, DEFAULT_THEME))
    install_excepthook(log_file)

    window = MainWindow(None, AppConfig(settings_file=settings))
    window.closing.connect(STANDBY.close_soon)  # no new standby for a job ended by the close; the waiting one ends
    show_window(window, window.memory)  # maximised on a first start on a small screen
    if not scripted and args.quit_after is None:  # Retrain's child then finds Keras imported already
        QTimer.singleShot(STANDBY_DELAY_MS, STANDBY.enable)
    window.activateWindow()  # keyboard shortcuts need an active window, also without a window manager (Xvfb)
    if args.path is not None and args.demo is None:
        window.open_folder(args.path)
    elif args.demo is None and settings is not None:  # the last project; else ask: a demo or a folder?
        from medseg_gui.qt.demo_choice import ask_which_demo

        window.files.reopen_last(lambda: ask_which_demo(window, window.open_demo, window.files.ask_open,
                                                        window.statusBar().showMessage))
    else:
        window.open_demo(args.demo or "vessel")

    if args.screenshot is not None or args.quit_after is not None:
        delay_ms = int(1000 * (args.quit_after if args.quit_after is not None else 3.0))
        QTimer.singleShot(delay_ms, lambda: _finish(window, args.screenshot))
    restore = end_on_signals(window)
    try:
        code = app.exec()
    finally:
        restore()
    collector.stop()  # collection as before main() (tests call main() more than once in one process)
    if window.left_running:  # e.g. a Keras import or first batch that cannot be interrupted: labels are saved and
        log.info("Exiting without waiting for %d background task(s)", window.left_running)  # every write is atomic
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def end_on_signals(window: Any) -> Callable[[], None]:
    """SIGTERM and SIGHUP (a logout, `kill`) and SIGINT (Ctrl+C in the terminal that started it) close the window
    without questions: training is cancelled and the label saves still queued are written first
    (MainWindow.closeEvent, `ask_on_close`), where the default action ended the process at once; SIGINT's raised
    KeyboardInterrupt inside whichever Qt slot ran (a half-run update, the window left up) or crashed the process
    mid-stroke (a trial: the stroke lost, the lock left). A SIGINT ignored from the start (`medseg-gui &` in a script)
    stays ignored. Python runs a handler only between its own bytecodes, so a timer gives it a turn every 200 ms.
    Returns what puts the previous handlers back."""
    import signal

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def close(signum: int, _frame: Any) -> None:
        log.warning("signal %d: closing the window (queued label saves are written first)", signum)
        window.ask_on_close = False
        modal = QApplication.activeModalWidget()  # a question of the close under way (Quit's): closed unanswered
        if modal is not None:
            modal.close()
        QTimer.singleShot(0, window.close)

    names = [n for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, n)
             and signal.getsignal(getattr(signal, n)) is not signal.SIG_IGN]
    before = {n: signal.signal(getattr(signal, n), close) for n in names}
    tick = QTimer()  # no parent: restore() stops it after the window is gone
    tick.timeout.connect(lambda: None)
    tick.start(200)

    def restore() -> None:
        tick.stop()
        for n, handler in before.items():
            signal.signal(getattr(signal, n), handler)
    return restore


def _finish(window: object, screenshot: Path | None) -> None:
    from PySide6.QtWidgets import QApplication

    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(screenshot)):  # type: ignore[attr-defined]
            log.error("Could not write the screenshot %s", screenshot)
        else:
            log.info("Screenshot written to %s", screenshot)
    window.close()  # type: ignore[attr-defined]
    QApplication.quit()


if __name__ == "__main__":
    raise SystemExit(main())
