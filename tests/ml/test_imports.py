"""ml/ uses keras and keras.ops only: no TensorFlow/JAX/Qt imports anywhere in the package source."""

import ast
from pathlib import Path

import medseg_gui.ml

FORBIDDEN = ("tensorflow", "jax", "torch", "PySide6", "PyQt5", "PyQt6", "qtpy", "superqt", "pyqtgraph")


def test_ml_source_imports_only_keras():
    root = Path(medseg_gui.ml.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
                assert not name.startswith("keras.src"), f"{path.name} uses private {name}"
