"""Packaging and the bundled demo: every package is listed, the wheel builds quietly and carries every module and
resource, an installed wheel runs the demo, the demo is found and copied, never written in place."""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import medseg_gui

from medseg_gui.core.demo import demo_source, ensure_demo_copy
from medseg_gui.core.project import Project
from tests.test_cli import assert_demo_output

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--max-steps", "2", "--steps-per-epoch", "2", "--patch-size", "32", "--batch-size", "2", "--base-filters", "4"]


def _source_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)]


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> tuple[Path, str]:
    """Build offline as `python -m build` does: an sdist from a copy of the sources, then the wheel from the unpacked
    sdist (so a file missing from the sdist is missing from the wheel too); returns (wheel, build log)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("medseg_gui", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    sdist = subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                            "print(b.build_sdist(sys.argv[1]))", str(dist)], cwd=src, capture_output=True, text=True,
                           timeout=600)
    assert sdist.returncode == 0, sdist.stderr[-3000:]
    unpacked = tmp_path_factory.mktemp("sdist")
    with tarfile.open(dist / sdist.stdout.split()[-1]) as archive:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
            archive.extractall(unpacked, filter="data")
        else:
            archive.extractall(unpacked)
    (root,) = unpacked.iterdir()
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                           "--no-index", "-w", str(dist), str(root)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    done.stdout = sdist.stdout + sdist.stderr + done.stdout
    wheels = list(dist.glob("medseg_gui-*.whl"))
    assert len(wheels) == 1
    return wheels[0], done.stdout + done.stderr


def test_wheel_builds_without_setuptools_warnings(built_wheel):
    _, log = built_wheel
    assert "would be ignored" not in log and "absent from the `packages` configuration" not in log


def test_wheel_holds_every_module_and_resource_and_one_version(built_wheel):
    wheel, _ = built_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in _source_files(ROOT / "medseg_gui") if p.suffix == ".py"}
    resources = {"medseg_gui/_resources/" + p.relative_to(ROOT / "resources").as_posix()
                 for p in _source_files(ROOT / "resources")}
    assert "medseg_gui/_resources/demo/project.json" in resources
    assert modules <= names, sorted(modules - names)
    assert resources <= names, sorted(resources - names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    dist_info = f"medseg_gui-{medseg_gui.__version__}.dist-info"
    assert wheel.name.startswith(f"medseg_gui-{medseg_gui.__version__}-")
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert "medseg = medseg_gui.cli:main" in entry_points and "medseg-gui = medseg_gui.app:main" in entry_points


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_from_its_own_resources(built_wheel, tmp_path):
    """The wheel alone (installed into an empty folder, not this checkout) finds its demo and runs `medseg demo`, which
    writes what it must.

    Its dependencies (Keras, TensorFlow, ...) come from the test environment, so no download is needed.
    """
    wheel, _ = built_wheel
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "TF_CPP_MIN_LOG_LEVEL": "2"}
    run = lambda *args: subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True,
                                       text=True, timeout=600)  # noqa: E731
    where = run("-c", "import medseg_gui; from medseg_gui.core.demo import demo_source; "
                      "print(medseg_gui.__file__); print(demo_source())")
    assert where.returncode == 0, where.stderr
    assert all(Path(line).is_relative_to(target) for line in where.stdout.split()), where.stdout
    version = run("-m", "medseg_gui.cli", "--version")
    assert version.stdout.strip() == f"medseg {medseg_gui.__version__}"
    demo = run("-m", "medseg_gui.cli", "demo", "--out", str(tmp_path / "out"), *TINY)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert len(list((tmp_path / "out" / "masks" / "vessel").glob("*.png"))) == len(Project.open(demo_source()).stems)
    assert_demo_output(tmp_path / "out", demo.stdout)  # the one run of the demo in the suite: what it writes


def test_every_package_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "medseg_gui").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found | {"medseg_gui._resources"} == listed


def test_demo_is_a_valid_project_with_labels_and_unlabelled_images():
    project = Project.open(demo_source())
    labelled = project.labelled_stems("vessel")
    assert 4 <= len(project.stems) <= 8
    assert 1 <= len(project.stems) - len(labelled) <= 2
    for stem in project.stems:
        h, w = project.load_image(stem).shape[:2]
        assert project.load_roi(stem).shape == (h, w)
    assert (demo_source() / "ATTRIBUTION.md").read_text().count("CC BY 4.0") >= 1


def test_demo_copy_is_made_once_and_reused(tmp_path):
    src_listing = sorted(p.relative_to(demo_source()) for p in demo_source().rglob("*"))
    dest = ensure_demo_copy(tmp_path / "demo")
    assert sorted(p.relative_to(dest) for p in dest.rglob("*")) == src_listing
    marker = dest / "labels" / "vessel" / "edited.txt"
    marker.write_text("user edit")
    assert ensure_demo_copy(tmp_path / "demo") == dest and marker.exists()
    assert sorted(p.relative_to(demo_source()) for p in demo_source().rglob("*")) == src_listing
