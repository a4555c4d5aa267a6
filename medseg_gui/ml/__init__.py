"""Keras 3 models, training and inference (keras / keras.ops only; no Qt, no tf.*).

Importing this package does not import Keras; submodules that need it import it from `keras_quiet`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The JAX backend (the GPU path) compiles the training and prediction steps when a run starts: on an H200 the first
# ~50 s of a CHASE_DB1 run went to it (session 24). A persistent compilation cache lets later runs on the same machine
# reuse those programs (JAX on the 2-core CPU VM: first training step 5.4 s -> 2.0 s). A user's own setting wins;
# with a backend chosen in ~/.keras/keras.json instead of KERAS_BACKEND nothing is cached.
if os.environ.get("KERAS_BACKEND") == "jax" and not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    from platformdirs import user_cache_path

    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(user_cache_path("medseg_gui", appauthor=False) / "jax")
