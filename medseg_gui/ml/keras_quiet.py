"""Keras, imported with the backend's start-up banner kept off the terminal: `from medseg_gui.ml.keras_quiet import
keras` is this package's one way to import Keras.

TensorFlow 2.21 writes absl lines ("WARNING: All log messages before absl::InitializeLog() is called ...", "oneDNN
custom operations are on ...") straight to file descriptor 2 on CPUs where oneDNN's optimisations are on (avx512,
AMX), whatever TF_CPP_MIN_LOG_LEVEL (set by this package's __init__, which runs first) says. While Keras first
loads, stderr goes to a temporary file; every other line written meanwhile (a traceback, another thread's message)
is passed on afterwards.
"""

from __future__ import annotations

import os
import sys
import tempfile

BANNERS = (b"All log messages before absl::InitializeLog()", b"oneDNN custom operations are on")


def without_banners(text: bytes) -> bytes:
    """`text` without the lines that hold a backend start-up banner."""
    return b"".join(line for line in text.splitlines(keepends=True) if not any(b in line for b in BANNERS))


def _import_keras():
    if "keras" in sys.modules:
        return sys.modules["keras"]
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr (a windowed app): nothing to keep quiet
        import keras

        return keras
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import keras
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            rest = without_banners(caught.read())
            if rest:
                os.write(2, rest)
    return keras


keras = _import_keras()
