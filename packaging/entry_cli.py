"""Entry point of the packaged `medseg` command-line executable (packaging/medseg.spec); `medseg` in a venv runs the
same medseg_gui.cli:main. The set-up before the import is entry_gui.py's (see there why)."""

import multiprocessing
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
multiprocessing.freeze_support()

from medseg_gui.cli import main  # noqa: E402

raise SystemExit(main())
