"""The layer contract (docs/ARCHITECTURE.md): core/ and ml/ never import Qt, core/ never imports Keras,
ml/ never uses TensorFlow directly, and the CLI/pipeline never import Qt; qt/ reaches ml only through workers (apart
from the Keras-free ml.config and ml.progress) and workers/ never import widgets."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "medseg_gui"
QT = ("PySide6", "PyQt5", "PyQt6", "qtpy", "superqt", "pyqtgraph", "medseg_gui.qt", "medseg_gui.workers")
KERAS = ("keras", "tensorflow", "jax", "torch", "medseg_gui.ml")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(paths, forbidden) -> list[str]:
    bad = []
    for path in paths:
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.name} imports {name}")
    return bad


@pytest.mark.parametrize(
    "files, forbidden",
    [
        (sorted((PKG / "core").rglob("*.py")), QT + KERAS),
        (sorted((PKG / "ml").rglob("*.py")), QT + ("tensorflow", "torch")),
        ([*sorted(PKG.glob("cli*.py")), PKG / "pipeline.py", PKG / "training_data.py"], QT),
        # what child processes run
        ([PKG / name for name in ("child_process.py", "child_side.py", "train_process.py", "model_jobs.py")], QT),
    ],
    ids=["core", "ml", "cli+pipeline", "child processes"],
)
def test_layer_contract(files, forbidden):
    assert files, "no files found: the package layout changed"
    assert offending(files, forbidden) == []


KERAS_FREE_ML = ("config", "progress", "precision", "regime", "init")  # importing them loads no Keras
QT_ML = ("config", "progress")  # the only ml modules qt/ may import (settings and progress types)
WIDGETS = ("PySide6.QtWidgets", "PySide6.QtGui", "superqt", "pyqtgraph", "medseg_gui.qt")


def imported_names(path: Path) -> set[str]:
    """Like imported_modules, plus ``module.name`` for every ``from module import name`` (``from medseg_gui import
    ml`` imports medseg_gui.ml)."""
    names = imported_modules(path)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def qt_reaching_past_workers(paths) -> list[str]:
    allowed = {f"medseg_gui.ml.{m}" for m in QT_ML}
    bad = []
    for path in paths:
        for name in imported_names(path):
            if name in ("medseg_gui.pipeline", "medseg_gui.training_data", "medseg_gui.ml") or name.split(".")[0] in (
                    "keras", "tensorflow", "jax", "torch"):
                bad.append(f"{path.name} imports {name}")
            elif name.startswith("medseg_gui.ml.") and not any(name == a or name.startswith(a + ".") for a in allowed):
                bad.append(f"{path.name} imports {name}")
    return bad


def test_qt_reaches_ml_only_through_workers():
    files = sorted((PKG / "qt").rglob("*.py"))
    assert files
    assert qt_reaching_past_workers(files) == []


def widget_imports(paths) -> list[str]:
    return [f"{path.name} imports {name}" for path in paths for name in sorted(imported_names(path))
            if any(name == w or name.startswith(w + ".") for w in WIDGETS)]


def test_workers_never_import_widgets():
    files = sorted((PKG / "workers").rglob("*.py"))
    assert files
    assert widget_imports(files) == []


def test_the_ml_modules_qt_may_import_do_not_load_keras():
    assert set(QT_ML) <= set(KERAS_FREE_ML)
    modules = ", ".join(f"medseg_gui.ml.{m}" for m in KERAS_FREE_ML)
    code = (f"import sys, {modules}; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\nimport keras.ops as K\n")
    assert imported_modules(bad) == {"PySide6.QtCore", "keras.ops"}
    assert sorted(offending([bad], QT + KERAS)) == ["bad.py imports PySide6.QtCore", "bad.py imports keras.ops"]
    qt_file = tmp_path / "panel.py"
    qt_file.write_text("from medseg_gui.ml.config import TrainConfig\nfrom medseg_gui.ml import store\n"
                       "from medseg_gui import pipeline\nfrom medseg_gui.ml.init import read_init\n"
                       "import medseg_gui.ml\n")
    assert sorted(qt_reaching_past_workers([qt_file])) == [
        "panel.py imports medseg_gui.ml", "panel.py imports medseg_gui.ml.init",
        "panel.py imports medseg_gui.ml.init.read_init", "panel.py imports medseg_gui.ml.store",
        "panel.py imports medseg_gui.pipeline"]
    worker = tmp_path / "worker.py"
    worker.write_text("from PySide6 import QtWidgets\nfrom PySide6.QtCore import QObject\n")
    assert widget_imports([worker]) == ["worker.py imports PySide6.QtWidgets"]
