"""Test-wide settings: headless Qt, quiet TensorFlow, deterministic small runs."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="medseg-test-state-")  # log files of CLI/GUI runs in tests
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
