"""resource_path in a PyInstaller build: the bundle's resources/ folder (sys._MEIPASS) comes first; outside a
build nothing changes."""

import sys

from medseg_gui.core.resources import frozen_resources, resource_path


def test_frozen_build_finds_the_bundled_resources_first(tmp_path, monkeypatch):
    bundled = tmp_path / "_internal" / "resources" / "demo"
    bundled.mkdir(parents=True)
    (bundled / "project.json").write_text("{}")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    assert resource_path("demo", "project.json") == bundled / "project.json"
    # a file the bundle lacks falls back to the installed package or checkout, or is None
    assert resource_path("no-such-folder", "x.json") is None


def test_frozen_without_meipass_uses_the_executables_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "medseg"))
    assert frozen_resources() == tmp_path.resolve() / "resources"


def test_not_frozen_finds_the_checkout_or_installed_resources(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert frozen_resources() is None
    found = resource_path("demo", "project.json")
    assert found is not None and found.is_file()
    assert found.parent.name == "demo"
