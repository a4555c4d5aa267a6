"""Real kill -9 of a process saving labels and project.json through core.atomic, at random moments, at least 30
times: every file is always the old or the new content (and decodes), and opening the project afterwards sweeps every
temp file the killed writers left behind."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from medseg_gui.core.atomic import is_temp_name
from medseg_gui.core.project import Project

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")

MIN_KILLS = 30
MAX_KILLS = 200  # keep going past 30 until at least one kill has left a temp file, so the sweep is really tested

WRITER = """
import sys
from pathlib import Path
from medseg_gui.core.atomic import atomic_write_bytes

root = Path(sys.argv[1])
pngs = [Path(p).read_bytes() for p in sys.argv[2:4]]
jsons = [Path(p).read_bytes() for p in sys.argv[4:6]]
labels = [root / "labels" / "lesion" / f"{name}.png" for name in ("a", "b", "c")]
print("ready", flush=True)
i = 0
while True:
    for n, path in enumerate(labels):
        atomic_write_bytes(path, pngs[(i + n) % 2])
    atomic_write_bytes(root / "project.json", jsons[i % 2])
    i += 1
"""


def _variants(tmp_path, project):
    """Two versions of each file: two label PNGs and two valid project.json texts."""
    pngs, jsons = [], []
    for k in range(2):
        mask = np.zeros((40, 50), np.uint8)
        mask[5 + 10 * k:20 + 10 * k, 5:30] = 255
        ok, buf = cv2.imencode(".png", mask)
        pngs.append(buf.tobytes())
        data = project.to_json()
        data["classes"][0]["color"] = [10 + k, 20, 30]
        jsons.append((json.dumps(data, indent=2) + "\n").encode())
    paths = []
    for name, blobs in (("png", pngs), ("json", jsons)):
        for k, blob in enumerate(blobs):
            path = tmp_path / f"variant{k}.{name}"
            path.write_bytes(blob)
            paths.append(path)
    return pngs, jsons, paths


def _temp_files(root):
    return [p for p in root.rglob("*") if p.is_file() and is_temp_name(p.name)]


def test_kill9_while_saving_leaves_old_or_new_files_and_no_stray_temp(tmp_path):
    root = tmp_path / "project"
    project = Project.create(root)
    pngs, jsons, variant_paths = _variants(tmp_path, project)
    labels = [root / "labels" / "lesion" / f"{n}.png" for n in ("a", "b", "c")]
    for path in labels:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pngs[0])
    (root / "project.json").write_bytes(jsons[0])

    rng = random.Random(1234)
    kills, strays_seen, stray_max = 0, 0, 0
    started = time.monotonic()
    while kills < MIN_KILLS or (strays_seen == 0 and kills < MAX_KILLS):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(root), *map(str, variant_paths)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.03))
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL  # reaped: its pid is dead for the sweep
        child.stdout.close()
        kills += 1

        for path in labels:
            blob = path.read_bytes()
            assert blob in pngs, f"{path.name} is neither the old nor the new PNG after kill {kills}"
            assert cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_UNCHANGED) is not None
        assert (root / "project.json").read_bytes() in jsons
        strays = _temp_files(root)
        strays_seen += bool(strays)
        stray_max = max(stray_max, len(strays))

    assert kills >= MIN_KILLS and strays_seen > 0, f"no kill hit a write in {kills} tries"
    reopened = Project.open(root)  # opening a project sweeps the temp files of dead writers
    assert _temp_files(root) == []
    assert reopened.classes[0].color in ((10, 20, 30), (11, 20, 30))
    print(f"{kills} kills in {time.monotonic() - started:.1f} s; {strays_seen} left temp files (max {stray_max})")
