"""The layer contract (docs/ARCHITECTURE.md): core/ and ml/ never import Qt, core/ never imports Keras,
ml/ never uses TensorFlow directly, and the CLI/pipeline never import Qt."""

import ast
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
        ([PKG / "cli.py", PKG / "pipeline.py"], QT),
    ],
    ids=["core", "ml", "cli+pipeline"],
)
def test_layer_contract(files, forbidden):
    assert files, "no files found: the package layout changed"
    assert offending(files, forbidden) == []


def test_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\nimport keras.ops as K\n")
    assert imported_modules(bad) == {"PySide6.QtCore", "keras.ops"}
    assert sorted(offending([bad], QT + KERAS)) == ["bad.py imports PySide6.QtCore", "bad.py imports keras.ops"]
