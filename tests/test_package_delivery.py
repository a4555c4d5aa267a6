"""What the one-folder package delivers beside the program, checked without PyInstaller: the licence files and index
packaging/notices.py gathers, the files the spec puts at the top of dist/medseg/, and install-menu-entry.sh."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_notices():
    spec = importlib.util.spec_from_file_location("medseg_packaging_notices", ROOT / "packaging" / "notices.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


notices = _load_notices()


def _index_entry(index: str, name: str) -> str:
    """The index's section of one distribution."""
    match = re.search(rf"^## {re.escape(name)} .*?(?=^## |\Z)", index, re.MULTILINE | re.DOTALL)
    assert match, f"no entry for {name}"
    return match.group(0)


def test_licence_files_of_installed_distributions_are_copied_and_indexed(tmp_path):
    done = notices.gather(tmp_path, roots=("keras",), also=("no-such-distribution-here",))
    index = (tmp_path / notices.INDEX).read_text()
    for name in ("keras", "numpy"):  # keras and a dependency of it
        dist = metadata.distribution(name)
        copied = tmp_path / "licenses" / f"{name}-{dist.version}" / "LICENSE"
        copied = copied if copied.exists() else copied.with_suffix(".txt")  # numpy's is LICENSE.txt
        source = next(Path(dist.locate_file(f)) for f in dist.files if str(f).endswith(".dist-info/licenses/"
                                                                                     + copied.name))
        assert copied.read_bytes() == source.read_bytes()
        entry = _index_entry(index, dist.metadata["Name"])
        assert f"`licenses/{name}-{dist.version}/{copied.name}`" in entry and dist.version in entry
    assert "Apache" in _index_entry(index, "keras")
    assert "keras" not in {n.name for n in done if not n.files}
    assert "PSF" in _index_entry(index, "Python")  # the interpreter the package carries
    assert "not in it: no-such-distribution-here" in index
    for listed in re.findall(r"`(licenses/[^`]+)`", index):
        assert (tmp_path / listed).is_file(), listed


@pytest.mark.skipif(not any(d.metadata["Name"] == "medseg-gui" for d in metadata.distributions()),
                    reason="medseg-gui is not installed (pip install -e .)")
def test_the_package_roots_cover_qt_and_tensorflow_and_say_where_the_lgpl_is(tmp_path):
    notices.gather(tmp_path)  # what medseg.spec runs
    index = (tmp_path / notices.INDEX).read_text()
    assert "## medseg-gui " not in index  # its own licence is LICENSE at the top
    names = {n.lower() for n in re.findall(r"^## (\S+) ", index, re.MULTILINE)}
    assert {"keras", "numpy", "h5py", "scikit-image", "pyside6_essentials", "shiboken6"} <= names
    assert names & {"tensorflow", "tensorflow_cpu", "tensorflow-cpu"}
    assert names & {"opencv-python-headless", "opencv-python"}
    qt = _index_entry(index, "PySide6_Essentials")
    assert "LGPL-3.0" in qt and "carry no licence text" in qt and "https://" in qt
    assert "No licence file in the distribution:" in index and "PySide6_Essentials" in index.split("\n## ")[0]


def _fake_distribution(site: Path, name: str, fields: list[str], files: dict[str, str]) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("\n".join(["Metadata-Version: 2.4", f"Name: {name}", "Version: 1.0", *fields])
                                   + "\n")
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    record = [f"{name}-1.0.dist-info/METADATA,,", f"{name}-1.0.dist-info/RECORD,,", *(f"{rel},," for rel in files)]
    (info / "RECORD").write_text("\n".join(record) + "\n")


def test_a_distribution_without_licence_file_is_listed_with_its_declared_licence_and_homepage(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _fake_distribution(site, "fake_root", ["Requires-Dist: fake_bare", "Requires-Dist: fake_licensed",
                                           "Requires-Dist: fake_test_only; extra == 'test'"], {})
    _fake_distribution(site, "fake_bare", ["License: Apache 2.0", "Project-URL: Homepage, https://bare.example"],
                       {"fake_bare/__init__.py": ""})
    _fake_distribution(site, "fake_licensed", ["License-Expression: MIT", "License-File: LICENSE"],
                       {"fake_licensed-1.0.dist-info/licenses/LICENSE": "MIT text",
                        "fake_licensed/vendored/NOTICE.md": "notice", "fake_licensed/license.py": ""})
    monkeypatch.syspath_prepend(str(site))
    out = tmp_path / "out"
    notices.gather(out, roots=("fake_root",), also=())
    index = (out / notices.INDEX).read_text()
    bare = _index_entry(index, "fake_bare")
    assert "Apache 2.0" in bare and "https://bare.example" in bare and "none in the distribution" in bare
    assert "fake_bare 1.0" in index.split("\n## ")[0]  # named in the summary at the top
    assert (out / "licenses" / "fake-licensed-1.0" / "LICENSE").read_text() == "MIT text"
    assert (out / "licenses" / "fake-licensed-1.0" / "fake_licensed" / "vendored" / "NOTICE.md").is_file()
    assert not list(out.rglob("license.py")) and "fake_test_only" not in index
    assert "MIT" in _index_entry(index, "fake_licensed")


def _spec_top_files() -> dict[str, str]:
    tree = ast.parse((ROOT / "packaging" / "medseg.spec").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "TOP_FILES")
    return ast.literal_eval(node.value)


def test_the_spec_puts_licence_readme_docs_and_menu_entry_at_the_top():
    top = _spec_top_files()
    assert {"LICENSE", "README.md", "docs", "install-menu-entry.sh", "medseg-gui.desktop"} <= set(top.values())
    for source in top:
        assert (ROOT / source).exists(), source
    assert os.access(ROOT / "packaging" / "install-menu-entry.sh", os.X_OK)
    # every docs/ file the program's messages cite is in the docs/ folder the package carries
    cited = {m for p in (ROOT / "medseg_gui").rglob("*.py") for m in re.findall(r"docs/[\w-]+\.\w+", p.read_text())}
    assert "docs/BENCHMARKS.md" in cited
    assert all((ROOT / c).is_file() for c in cited), cited


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("sh") is None, reason="Linux menus, sh")
def test_install_menu_entry_writes_the_entry_and_icon_and_uninstalls(tmp_path):
    bundle = tmp_path / "my apps" / "medseg"  # a space in the path: Exec must quote it
    (bundle / "_internal" / "resources" / "icons").mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / "icons" / "medseg-gui.svg", bundle / "_internal" / "resources" / "icons")
    for name in ("install-menu-entry.sh", "medseg-gui.desktop"):
        shutil.copy2(ROOT / "packaging" / name, bundle / name)
    (bundle / "medseg-gui").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/args"\n')
    (bundle / "medseg-gui").chmod(0o755)
    env = {"HOME": str(tmp_path / "home"), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    run = lambda *args: subprocess.run(["sh", str(bundle / "install-menu-entry.sh"), *args], cwd=tmp_path, env=env,
                                       capture_output=True, text=True, timeout=60)  # noqa: E731
    data = tmp_path / "home" / ".local" / "share"
    entry, icon = data / "applications" / "medseg-gui.desktop", data / "icons/hicolor/scalable/apps/medseg-gui.svg"

    done = run()
    assert done.returncode == 0, done.stderr
    assert str(entry) in done.stdout and str(icon) in done.stdout
    assert icon.read_bytes() == (ROOT / "resources" / "icons" / "medseg-gui.svg").read_bytes()
    keys = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line and line[0] != "#")
    template = dict(line.split("=", 1) for line in (ROOT / "packaging" / "medseg-gui.desktop").read_text().splitlines()
                    if "=" in line and line[0] != "#")
    assert template["Exec"] == "medseg-gui %f"
    # the comment stays true in a copy an administrator puts in /usr/share/applications/ (outside trial)
    comment = " ".join(line for line in entry.read_text().splitlines() if line.startswith("#"))
    assert f'"{bundle}/install-menu-entry.sh", whose --uninstall removes that user\'s entry' in comment
    assert "elsewhere (/usr/share/applications/) is removed by deleting it" in comment
    assert keys["Exec"] == f'"{bundle}/medseg-gui" %f' and keys["TryExec"] == f"{bundle}/medseg-gui"
    assert {k: v for k, v in keys.items() if k not in ("Exec", "TryExec")} == \
        {k: v for k, v in template.items() if k != "Exec"}  # Icon=medseg-gui, the copied icon's name
    # what a menu runs when a folder is dropped on the entry: %f becomes the folder's path
    folder = tmp_path / "images of patient 1"
    subprocess.run([a.replace("%f", str(folder)) for a in shlex.split(keys["Exec"])], check=True, timeout=30)
    assert (tmp_path / "args").read_text() == f"{folder}\n"

    undone = run("--uninstall")
    assert undone.returncode == 0, undone.stderr
    assert not entry.exists() and not icon.exists()
    assert f"removed {entry}" in undone.stdout and f"removed {icon}" in undone.stdout
