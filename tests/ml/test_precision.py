"""Precision choice: bfloat16 only where the hardware computes it, float32 elsewhere."""

import pytest

from medseg_gui.ml.precision import choose_precision, cpu_flags


def test_auto_falls_back_to_float32_without_bf16_instructions():
    assert choose_precision("auto", flags={"avx2", "fma", "avx512f"}, gpu=False) == "float32"
    assert choose_precision("auto", flags=set(), gpu=False) == "float32"


def test_auto_uses_bfloat16_on_bf16_cpus_and_gpus():
    tf = {"backend_name": "tensorflow"}
    assert choose_precision("auto", flags={"avx2", "avx512_bf16"}, gpu=False, **tf) == "bfloat16"
    assert choose_precision("auto", flags={"amx_bf16", "amx_tile"}, gpu=False, **tf) == "bfloat16"
    assert choose_precision("auto", flags=set(), gpu=True) == "bfloat16"
    # JAX's CPU backend was not measured with bf16: float32 there
    assert choose_precision("auto", flags={"avx512_bf16"}, gpu=False, backend_name="jax") == "float32"


@pytest.mark.parametrize("flags, gpu, backend, expected", [
    ({"avx512_bf16"}, False, "tensorflow", "bfloat16 (auto: the CPU computes bfloat16 natively)"),
    ({"avx512_bf16"}, False, "jax", "float32 (auto: bfloat16 on a CPU is used with the TensorFlow backend only)"),
    ({"avx2"}, False, "tensorflow", "float32 (auto: the CPU has no bfloat16 instructions)"),
    (set(), True, "jax", "bfloat16 (auto: a GPU is used)"),
])
def test_info_says_why_auto_chose_its_precision(monkeypatch, flags, gpu, backend, expected):
    from medseg_gui import info
    from medseg_gui.ml import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    monkeypatch.setattr(precision, "gpu_visible", lambda: gpu)
    monkeypatch.setattr(precision, "backend", lambda: backend)
    assert info.precision_text() == expected
    assert info.precision_text("float32") == "float32 (chosen in the settings)"


def test_explicit_choice_wins_and_nonsense_is_refused():
    assert choose_precision("float32", flags={"avx512_bf16"}, gpu=True) == "float32"
    assert choose_precision("bfloat16", flags=set(), gpu=False) == "bfloat16"
    with pytest.raises(ValueError):
        choose_precision("fp8")


def test_cpu_flags_reads_a_cpuinfo_file(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512_bf16\n")
    assert cpu_flags(f) == {"fpu", "sse2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "missing") == set()


@pytest.mark.slow
def test_a_bfloat16_run_trains_and_predicts_in_float32(samples, tiny_preset):
    """The mixed-bfloat16 path end to end (emulated where the CPU lacks bf16): metadata says so, outputs are finite
    float32 probabilities and the kept inference model is float32."""
    import numpy as np

    from medseg_gui.ml.train import train

    from .conftest import tiny_config

    result = train(samples, tiny_config(tiny_preset, max_steps=3, precision="bfloat16"))
    assert result.segmenter.metadata["precision"] == "bfloat16"
    prob = result.segmenter.predict(samples[0].image)
    assert prob.dtype == np.float32 and np.isfinite(prob).all()
    assert all(np.asarray(w).dtype == np.float32 for w in result.segmenter.model.get_weights())
