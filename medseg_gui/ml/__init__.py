"""Keras 3 models, training and inference (keras / keras.ops only; no Qt, no tf.*).

Importing this package does not import Keras; submodules that need it import it from `keras_quiet`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
