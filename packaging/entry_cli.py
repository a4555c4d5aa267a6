"""Entry point of the packaged `medseg` command-line executable (packaging/medseg.spec); `medseg` in a venv runs the
same medseg_gui.cli:main."""

import multiprocessing
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything can import TensorFlow: no start-up banner
# Retrain runs in a spawned child process (medseg_gui.train_process): in a frozen build the child is this executable
# started again with multiprocessing's arguments, which freeze_support() recognises and runs instead of the program.
multiprocessing.freeze_support()

from medseg_gui.cli import main  # noqa: E402

raise SystemExit(main())
