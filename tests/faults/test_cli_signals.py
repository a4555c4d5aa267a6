"""`medseg` ended by a signal: SIGTERM (what `timeout`, cron and systemd send) takes Ctrl+C's clean path (trial: rc 124,
no message, the project's lock left behind with the dead pid)."""

import signal
import subprocess
import sys

import pytest

from medseg_gui.core.lock import LOCK_FILE
from medseg_gui.core.project import Project

# `medseg train` whose training is a long sleep: the real command line, lock and error handling without Keras
SLOW_TRAIN = """
import sys, time
import medseg_gui.cli_train as cli_train
from medseg_gui import cli

def slow(*_):
    print("training", flush=True)
    time.sleep(60)

cli_train.do_train = slow
raise SystemExit(cli.main(["train", sys.argv[1], "--class", "vessel"]))
"""


@pytest.mark.parametrize("signum, rc, said", [(signal.SIGTERM, 143, "medseg: terminated"),
                                              (signal.SIGINT, 130, "medseg: interrupted")])
def test_a_signal_ends_a_command_cleanly_and_releases_the_lock(tmp_path, signum, rc, said):
    Project.create(tmp_path / "p")
    child = subprocess.Popen([sys.executable, "-c", SLOW_TRAIN, str(tmp_path / "p")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "training"
        assert (tmp_path / "p" / LOCK_FILE).exists()
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == rc
    assert err.splitlines() == [said]  # no blank line before it in a log or pipe (a scripting trial's had one)
    assert not (tmp_path / "p" / LOCK_FILE).exists()
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == sorted(
        p.name for p in Project.create(tmp_path / "fresh").root.iterdir())  # nothing half-written left behind
    Project.open(tmp_path / "p")


def test_the_sigterm_handler_is_only_installed_while_a_command_runs(tmp_path):
    from medseg_gui import cli

    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["classes", str(Project.create(tmp_path / "p").root)]) == 0
    assert signal.getsignal(signal.SIGTERM) is before


# Ctrl+C while `medseg` still loads its modules: one of them raises KeyboardInterrupt as it is imported
INTERRUPTED_IMPORT = """
import builtins, sys
real_import = builtins.__import__

def interrupting_import(name, *args, **kwargs):
    if name == "medseg_gui.cli_evaluate":
        raise KeyboardInterrupt
    return real_import(name, *args, **kwargs)

builtins.__import__ = interrupting_import
from medseg_gui.cli import main
"""


def test_ctrl_c_while_the_command_starts_says_interrupted_without_a_traceback(monkeypatch, capsys):
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr.splitlines()) == (130, ["medseg: interrupted"])  # a trial saw a traceback

    from medseg_gui import cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)  # Ctrl+C before the command itself runs
    assert cli.main(["classes", "anywhere"]) == 130
    assert capsys.readouterr().err.splitlines() == ["medseg: interrupted"]
