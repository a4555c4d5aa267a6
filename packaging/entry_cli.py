"""Entry point of the packaged `medseg` command-line executable (packaging/medseg.spec); `medseg` in a venv runs the
same medseg_gui.cli:main."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything can import TensorFlow: no start-up banner

from medseg_gui.cli import main  # noqa: E402

raise SystemExit(main())
