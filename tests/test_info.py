"""`medseg info`, the user paths and the log files: what they report, that the cheap part imports neither Keras nor
Qt, and that logs rotate and never stop the program from starting."""

import logging
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from medseg_gui import __version__, cli, info, logs, paths
from medseg_gui.ml.precision import choose_precision


@pytest.fixture
def clean_root_logger():
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "medseg", False)]:
        root.removeHandler(handler)
        handler.close()


def test_cheap_rows_import_neither_keras_nor_qt():
    code = ("import sys; from medseg_gui import info; rows = dict(info.cheap_rows()); "
            "print(sorted(m for m in ('keras', 'tensorflow', 'PySide6') if m in sys.modules)); print(rows['Qt'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["[]", f"PySide6 {__import__('PySide6').__version__}"]


def test_cpu_model_reads_cpuinfo_and_falls_back(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 3000\nflags\t: sse2\n")
    assert info.cpu_model(cpuinfo).startswith("Test CPU 3000 (")
    assert info.cpu_model(tmp_path / "missing").endswith(" cores)")


def test_medseg_info_reports_versions_device_precision_and_paths(capsys, clean_root_logger):
    assert cli.main(["info"]) == 0
    rows = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines())
    rows = {k: v.strip() for k, v in rows.items()}
    assert rows["medseg_gui"] == __version__
    assert rows["Keras"] == keras.__version__
    assert rows["Backend"].startswith(keras.backend.backend())
    assert rows["Device"].startswith("CPU: ")  # the tests hide GPUs (CUDA_VISIBLE_DEVICES="")
    assert rows["Precision"].startswith(choose_precision("auto") + " (auto: ")
    assert rows["Log folder"] == str(paths.log_dir()) and rows["Settings file"] == str(paths.settings_file())
    assert rows["Python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")


def test_info_precision_option_is_reported_as_chosen(capsys, clean_root_logger):
    assert cli.main(["info", "--precision", "bfloat16"]) == 0
    assert "bfloat16 (chosen with --precision)" in capsys.readouterr().out  # not "in the settings" (outside trial)


def test_medseg_version(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"medseg {__version__}"


def test_settings_file_follows_xdg_config_home(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert paths.settings_file() == tmp_path / "medseg_gui" / "medseg-gui.ini"
    monkeypatch.setenv("XDG_CONFIG_HOME", "")
    assert paths.settings_file() == Path.home() / ".config" / "medseg_gui" / "medseg-gui.ini"


def test_log_file_gets_info_console_gets_its_level_and_handlers_are_not_duplicated(tmp_path, capsys,
                                                                                    clean_root_logger):
    for _ in range(2):
        path = logs.setup_logging("t", logging.WARNING, "%(levelname)s %(message)s", folder=tmp_path / "log")
    assert path == tmp_path / "log" / "t.log"
    logging.getLogger("medseg_gui.test").info("only in the file")
    logging.getLogger("medseg_gui.test").warning("in both")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "only in the file" in text and text.count("in both") == 1
    assert capsys.readouterr().err.count("WARNING in both") == 1


def test_the_command_lines_console_lines_name_the_program_and_level(tmp_path, capsys, clean_root_logger):
    logs.setup_logging("c", logging.WARNING, logs.CommandLineFormatter(), folder=tmp_path)
    logging.getLogger("medseg_gui.test").warning("skipped %s: empty", "a.jpg")
    assert capsys.readouterr().err == "medseg: warning: skipped a.jpg: empty\n"


def test_library_warnings_reach_the_log_file_not_the_console(tmp_path, capsys, clean_root_logger):
    path = logs.setup_logging("c", logging.WARNING, logs.CommandLineFormatter(), folder=tmp_path)
    logging.getLogger("tensorflow").warning("5 out of the last 23 calls triggered tf.function retracing")
    logging.getLogger("tensorflow").error("a library error")
    logging.getLogger("medseg_gui.pipeline").warning("ours")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert capsys.readouterr().err == "medseg: error: a library error\nmedseg: warning: ours\n"
    assert "retracing" in path.read_text()


def test_log_file_rotates(tmp_path, monkeypatch, clean_root_logger):
    monkeypatch.setattr(logs, "LOG_BYTES", 500)
    path = logs.setup_logging("r", logging.WARNING, "%(message)s", folder=tmp_path)
    for i in range(50):
        logging.getLogger("medseg_gui.test").info("line %d %s", i, "x" * 40)
    assert (tmp_path / "r.log.1").is_file() and path.stat().st_size <= 600
    assert len(list(tmp_path.glob("r.log*"))) <= 1 + logs.LOG_BACKUPS


def test_unwritable_log_folder_is_a_warning_not_a_crash(tmp_path, capsys, clean_root_logger):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert logs.setup_logging("x", logging.WARNING, "%(levelname)s %(message)s", folder=blocker / "log") is None
    assert "No log file: cannot write in" in capsys.readouterr().err


def test_cli_run_is_logged_in_the_user_log_folder(tmp_path, monkeypatch, capsys, clean_root_logger):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert cli.main(["import", str(tmp_path / "missing"), str(tmp_path / "p"), "--layout", "folder"]) == 1
    log_file = paths.log_dir() / "medseg.log"
    assert log_file.is_relative_to(tmp_path / "state")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert f"medseg {__version__}: import" in log_file.read_text()


def test_no_tensorflow_banner_reaches_the_terminal(tmp_path):
    """`medseg info` imports Keras/TensorFlow; with the user's plain environment (no TF_CPP_MIN_LOG_LEVEL) stderr
    stays empty and stdout holds only the report."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["XDG_STATE_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "medseg_gui.cli", "info"], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert [line.split(":", 1)[0] for line in done.stdout.splitlines()][-4:] == ["Keras", "Backend", "Device",
                                                                                 "Precision"]


def test_only_the_backend_banners_are_kept_off_stderr():
    from medseg_gui.ml.keras_quiet import without_banners

    text = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            b"I0000 00:00:1.0 1 port.cc:153] oneDNN custom operations are on. You may see ...\n"
            b"Traceback (most recent call last):\n  a real error\n")
    assert without_banners(text) == b"Traceback (most recent call last):\n  a real error\n"
    assert without_banners(b"") == b""
