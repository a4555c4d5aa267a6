"""Test-wide settings: headless Qt, quiet TensorFlow, deterministic small runs."""

import atexit
import faulthandler
import os
import shutil
import tempfile
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="medseg-test-state-")  # log files of CLI/GUI runs in tests
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], True)
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="medseg-test-data-")  # demo copies, rescued labels
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

# pytest-timeout (300 s, pyproject) fails a hung test with every thread's stack, but its timer thread needs the GIL: a
# deadlock in which a thread holds the GIL inside Qt would stop CI silently. faulthandler's watchdog is C code: a bit
# later it writes every thread's Python stack to the terminal and ends the run.
HANG_EXIT_S = float(os.environ.get("MEDSEG_TEST_HANG_EXIT_S", "360"))
_terminal_fd: list[int] = []


def pytest_configure(config):
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # the terminal, not the capture file of the running test
        _terminal_fd.append(os.dup(2))


@pytest.fixture(scope="session")
def qapp(qapp):
    """pytest-qt's application with the program's default look (style, palette, style sheet), as app.py sets it: a
    window's layout depends on it, and tests saw it only after a theme test had run in their process."""
    from medseg_gui.qt.theme import apply_theme

    apply_theme(qapp)
    return qapp


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    faulthandler.dump_traceback_later(HANG_EXIT_S, exit=True, file=_terminal_fd[0])
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def _gui_thread_gc(request):
    """As in the app (medseg_gui.qt.gui_gc): in a test with Qt, reference cycles are collected in the GUI thread only;
    at teardown, after pytest-qt closed the test's widgets, everything left is collected there."""
    if "qapp" not in request.fixturenames:
        yield
        return
    from medseg_gui.qt.gui_gc import GuiThreadCollector

    request.getfixturevalue("qapp")
    collector = GuiThreadCollector()
    yield
    collector.stop()
    collector.deleteLater()


@pytest.fixture(autouse=True)
def _no_label_saver_left():
    """Every LabelSaver a test started is closed by its end (after pytest-qt closed the test's windows): a saver left
    running writes and signals into later tests (one CI run hung in such a signal's slot under load). A closed one
    still finishing a write is waited for."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t.name == "label-saver" and t not in before]
    open_savers = []
    for thread in left:
        saver = getattr(getattr(thread, "_target", None), "__self__", None)  # Thread keeps its target while running
        if saver is not None and not saver._stopping:
            open_savers.append(saver)
            saver.close(timeout=5.0)
        thread.join(timeout=60.0)
    assert not open_savers, f"{len(open_savers)} LabelSaver(s) left open by this test (their window did not close?)"


@pytest.fixture(scope="session")
def tiny_preset():
    """A one-pooling U-Net preset that traces in a few seconds: for tests of the training machinery run in this
    process (a training process started from here would not know it)."""
    from medseg_gui.ml.config import PRESETS, Augment, Preset, UNetConfig

    name = "tiny-test"
    PRESETS[name] = Preset(name=name, description="test only", unet=UNetConfig(filters=(4, 8), in_channels=1),
                           patch_size=32, batch_size=4, loss="bce_dice", optimizer="adamw", schedule="cosine",
                           input_mode="green", augment=Augment(), positive_fraction=0.5, steps_per_epoch=5,
                           tile_size=64, tile_overlap=16)
    yield name
    PRESETS.pop(name, None)


# -- trained projects, trained once per run (2 CPU cores: a training costs seconds); tests get their own copy ----------
@pytest.fixture(scope="session")
def trained_template(tmp_path_factory):
    """(root, TrainOutcome): a 4-image project, 3 with a lesion label, one model trained by pipeline.train_class with
    TINY_TRAIN and every image predicted. Never changed: tests use a copy (`trained_project`)."""
    from medseg_gui import pipeline
    from tests.workers.helpers import TINY_TRAIN, make_project

    project = make_project(tmp_path_factory.mktemp("trained") / "p", n=4, labelled=3)
    outcome = pipeline.train_class(project, "lesion", TINY_TRAIN)
    pipeline.predict_class(project, "lesion")
    return project.root, outcome


@pytest.fixture(scope="session")
def two_models_template(trained_template, tmp_path_factory):
    """The trained template with a second lesion model (seed 1) trained after its predictions were made, so those are
    still the first model's. Never changed: tests use a copy (`two_models_project`)."""
    from dataclasses import replace

    from medseg_gui import pipeline
    from medseg_gui.core.project import Project
    from tests.workers.helpers import TINY_TRAIN

    root = tmp_path_factory.mktemp("two_models") / "p"
    shutil.copytree(trained_template[0], root)
    pipeline.train_class(Project.open(root), "lesion", replace(TINY_TRAIN, seed=1))
    return root


def _copy_project(template, folder):
    """A copy of the project folder `template` at `folder`/p, opened."""
    from medseg_gui.core.project import Project

    shutil.copytree(template, folder / "p")
    return Project.open(folder / "p")


@pytest.fixture
def trained_project(trained_template, tmp_path):
    """This test's own copy of the trained template (one lesion model, every image predicted)."""
    return _copy_project(trained_template[0], tmp_path)


@pytest.fixture
def two_models_project(two_models_template, tmp_path):
    """This test's own copy of the two-models template."""
    return _copy_project(two_models_template, tmp_path)
