"""What `medseg info` and Help → About report: versions, the compute device, the precision, and the user folders.

`cheap_rows()` never imports Keras or Qt (safe on the GUI thread and in the CLI); `keras_rows()` imports Keras, so
the GUI calls it on a worker thread. Rows are (label, value) pairs in display order.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from medseg_gui import __version__
from medseg_gui.paths import data_dir, log_dir, settings_file

log = logging.getLogger(__name__)

Rows = list[tuple[str, str]]
QT_DISTRIBUTIONS = ("PySide6-Essentials", "PySide6")


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name and core count, e.g. "AMD EPYC 9R14 (2 cores)"; the architecture where unknown."""
    name = ""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    name = name or platform.processor() or platform.machine() or "unknown CPU"
    return f"{name} ({os.cpu_count() or '?'} cores)"


def qt_version() -> str:
    """PySide6's version from the installed package metadata (without importing Qt)."""
    for dist in QT_DISTRIBUTIONS:
        try:
            return f"PySide6 {metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def cheap_rows() -> Rows:
    """Everything that needs neither Keras nor Qt: versions, OS, CPU and the user folders."""
    return [
        ("medseg_gui", __version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("System", platform.platform()),
        ("Qt", qt_version()),
        ("CPU", cpu_model()),
        ("Settings file", str(settings_file())),
        ("Data folder", str(data_dir())),
        ("Log folder", str(log_dir())),
    ]


def _gpu_name(backend: str) -> str | None:
    """The first GPU's marketing name as the backend reports it; None when it cannot tell."""
    try:
        if backend == "jax":
            import jax

            return str(jax.devices()[0].device_kind)
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            return tf.config.experimental.get_device_details(gpus[0]).get("device_name") if gpus else None
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0)
    except Exception as err:  # noqa: BLE001 - the name is a nicety; the device kind is still reported
        log.info("Could not read the GPU name from %s: %s", backend, err)
    return None


def device_text() -> str:
    """The device training runs on: "GPU: <name>" (with a count when several) or "CPU: <model>". Imports Keras."""
    from medseg_gui.ml.keras_quiet import keras

    try:
        devices = [str(d) for d in keras.distribution.list_devices()]
    except Exception as err:  # noqa: BLE001 - listing devices is best effort on every backend
        log.info("Could not list devices: %s", err)
        devices = []
    gpus = [d for d in devices if "gpu" in d.lower() or "cuda" in d.lower()]
    if not gpus:
        return f"CPU: {cpu_model()}"
    name = _gpu_name(keras.backend.backend()) or gpus[0]
    return f"GPU: {name}" + (f" (×{len(gpus)})" if len(gpus) > 1 else "")


def precision_text(requested: str = "auto", chosen_by: str = "in the settings") -> str:
    """The precision training uses for `requested` and why, e.g. "bfloat16 (auto: the CPU computes bfloat16)";
    `chosen_by` says where a `requested` other than auto came from ("with --precision" on the command line)."""
    from medseg_gui.ml.precision import choose_precision, cpu_has_bf16, gpu_visible

    chosen = choose_precision(requested)
    if requested != "auto":
        return f"{chosen} (chosen {chosen_by})"
    if gpu_visible():
        why = "a GPU is used"
    elif cpu_has_bf16() and chosen == "bfloat16":
        why = "the CPU computes bfloat16 natively"
    elif cpu_has_bf16():
        why = "bfloat16 on a CPU is used with the TensorFlow backend only"
    else:
        why = "the CPU has no bfloat16 instructions"
    return f"{chosen} (auto: {why})"


def keras_rows(requested_precision: str = "auto", chosen_by: str = "in the settings") -> Rows:
    """Keras and backend versions, the device and the precision (imports Keras; slow the first time); `chosen_by`
    as in `precision_text`."""
    from medseg_gui.ml.keras_quiet import keras

    backend = keras.backend.backend()
    try:
        backend_version = getattr(importlib.import_module(backend), "__version__", "")
    except ImportError:
        backend_version = ""
    rows = [
        ("Keras", keras.__version__),
        ("Backend", f"{backend} {backend_version}".strip()),
        ("Device", device_text()),
        ("Precision", precision_text(requested_precision, chosen_by)),
    ]
    cache = os.environ.get("JAX_COMPILATION_CACHE_DIR") if backend == "jax" else None
    return rows + ([("Compile cache", cache)] if cache else [])  # set by medseg_gui.ml for JAX


def format_rows(rows: Rows) -> str:
    """Aligned plain-text lines "label   value" for the terminal."""
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join(f"{label + ':':<{width + 1}}  {value}" for label, value in rows)
