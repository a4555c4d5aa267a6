"""With the JAX backend, importing the ml package points JAX's persistent compilation cache at the user's cache
folder (unless the user set one); other backends are left alone. Subprocesses: the environment is read at import."""

import os
import subprocess
import sys

import pytest

SCRIPT = "import os, medseg_gui.ml; print(os.environ.get('JAX_COMPILATION_CACHE_DIR', '-'))"


def cache_dir_after_import(tmp_path, **env) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "JAX_COMPILATION_CACHE_DIR")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env={**base, "XDG_CACHE_HOME": str(tmp_path), **env},
                         capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME is the Linux rule")
def test_jax_gets_a_persistent_compilation_cache(tmp_path):
    assert cache_dir_after_import(tmp_path, KERAS_BACKEND="jax") == str(tmp_path / "medseg_gui" / "jax")
    assert cache_dir_after_import(tmp_path, KERAS_BACKEND="jax", JAX_COMPILATION_CACHE_DIR="/mine") == "/mine"
    assert cache_dir_after_import(tmp_path, KERAS_BACKEND="tensorflow") == "-"
    assert cache_dir_after_import(tmp_path) == "-"
