"""`make run` without a display says so, points to the headless demo, and does not try to open the window."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None or not sys.platform.startswith("linux"), reason="needs make on Linux")
@pytest.mark.skipif(not (ROOT / ".venv" / ".medseg-installed").exists(), reason="run through `make test`")
def test_make_run_without_display_points_to_the_headless_demo():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no display found" in done.stdout
    assert "medseg demo --out" in done.stdout
    assert "medseg-gui" not in done.stdout  # the GUI was not started
