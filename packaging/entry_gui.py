"""Entry point of the packaged `medseg-gui` executable (packaging/medseg.spec); `medseg-gui` in a venv runs the same
medseg_gui.app:main."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything can import TensorFlow: no start-up banner

from medseg_gui.app import main  # noqa: E402

raise SystemExit(main())
