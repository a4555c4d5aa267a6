"""On a terminal every `medseg:` line (an error, warning, log line or the stop's) starts a line of its own after the
progress redrawn there (session 47's CLI trial: "medseg: error: …" at the end of an open progress line), and a
stopped `medseg train` still says the model it stored."""

import logging
import signal
import sys

import numpy as np
import pytest

from medseg_gui import cli, cli_progress, pipeline
from medseg_gui.core.errors import MedsegError
from tests import test_cli_json, test_info
from tests.test_cli_json import _finished, _stop
from tests.test_cli_progress import FakeTerminal, _report

root, clean_root_logger = test_cli_json.root, test_info.clean_root_logger  # fixtures


def _terminal(monkeypatch) -> FakeTerminal:
    """stderr is a terminal: where the progress, the console's log lines and the error line all go (set in the
    test itself: pytest's capture sets sys.stderr again as each phase starts)."""
    stream = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def _lines(text: str) -> list[str]:
    """The lines a terminal shows, each redraw (carriage return) read as a line of its own."""
    return text.replace("\r", "\n").split("\n")


def _check_own_lines(text: str) -> None:
    assert [line for line in _lines(text) if "medseg:" in line and not line.startswith("medseg:")] == []
    assert "\n\n" not in text and text.endswith("\n")  # no blank line for a line ended twice


def _open_line_then(command: str, error: BaseException):
    """pipeline's train_class / predict_class for `command`: one report (a redrawn line left open), then `error`."""
    def failing(*_args, progress, **_kwargs):
        progress(_report(3)) if command == "train" else progress(1, 3, "img0")
        raise error
    return failing


@pytest.mark.parametrize("command", ["train", "predict"])
@pytest.mark.parametrize("error, rc, said", [(MedsegError("Class 'vessel' has no labels."), 1,
                                              "medseg: error: Class 'vessel' has no labels."),
                                             (OSError(28, "No space left on device"), 1,
                                              "medseg: error: {} failed: No space left on device"),
                                             (KeyboardInterrupt(), 130, "medseg: interrupted")])
def test_an_error_or_stop_while_the_progress_is_redrawn_starts_a_line_of_its_own(root, monkeypatch, clean_root_logger,
                                                                                 command, error, rc, said):
    terminal = _terminal(monkeypatch)
    what = {"train": "Training", "predict": "Prediction"}[command]
    monkeypatch.setattr(pipeline, f"{command}_class", _open_line_then(command, error))
    assert cli.main([command, root, "--class", "vessel"]) == rc
    text = terminal.getvalue()
    _check_own_lines(text)
    assert _lines(text)[-2] == said.format(what)


def _logging_counts(monkeypatch) -> None:
    """Each count of an image or file is followed by a log line (as the core logs what it does), while it shows."""
    counted = cli_progress.TerminalProgress.count

    def count(self, verb, done_total_name):
        counted(self, verb, done_total_name)
        logging.getLogger("medseg_gui.core.example").info("%s counted", done_total_name[2])

    monkeypatch.setattr(cli_progress.TerminalProgress, "count", count)


def test_a_log_line_during_predict_import_or_export_stands_on_a_line_of_its_own(tmp_path, monkeypatch,
                                                                               clean_root_logger):
    """`medseg -v predict`, `import` and `export` wrote a log line at the end of their open progress line (only
    `train` ended it first)."""
    from medseg_gui.core.images import write_png
    from tests.workers.helpers import disc, make_project

    project = make_project(tmp_path / "p", n=2)
    masks = tmp_path / "masks"
    masks.mkdir()
    for stem in project.stems:
        write_png(masks / f"{stem}_mask.png", disc().astype(np.uint8) * 255)

    def predicting(_project, _cls, *, progress, **_kwargs):
        for done, stem in enumerate(project.stems, start=1):
            progress(done, len(project.stems), stem)
        return {}

    _logging_counts(monkeypatch)
    terminal = _terminal(monkeypatch)
    monkeypatch.setattr(pipeline, "predict_class", predicting)
    assert cli.main(["-v", "import", str(project.root), "--masks", str(masks), "--class", "lesion"]) == 0
    assert cli.main(["-v", "export", str(project.root), "--class", "lesion", "--out", str(tmp_path / "out")]) == 0
    assert cli.main(["-v", "predict", str(project.root), "--class", "lesion"]) == 0
    text = terminal.getvalue()
    _check_own_lines(text)
    for verb in ("importing", "exporting", "predicting"):
        assert any(line.startswith(f"{verb} 1/2 ") for line in _lines(text)), verb
    assert sum(line.startswith("medseg: info: ") and line.endswith(" counted") for line in _lines(text)) == 6


def test_an_export_stopped_on_a_terminal_ends_its_count_once(tmp_path, monkeypatch, clean_root_logger):
    """The stop's line itself starts with a newline on a terminal (after the echoed ^C, or an open line): the export's
    count, ended first, left a blank line before `medseg: interrupted`."""
    from tests.workers.helpers import disc, make_project

    project = make_project(tmp_path / "p", n=2)
    for stem in project.stems:
        project.save_label("lesion", stem, disc())
    counted = cli_progress.TerminalProgress.count

    def count_then_stop(self, verb, done_total_name):
        counted(self, verb, done_total_name)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_progress.TerminalProgress, "count", count_then_stop)
    terminal = _terminal(monkeypatch)
    assert cli.main(["export", str(project.root), "--class", "lesion", "--out", str(tmp_path / "out")]) == 130
    text = terminal.getvalue()
    _check_own_lines(text)
    assert [line.strip() for line in _lines(text) if line.strip()][-2:] == [
        f"exporting 1/2 {project.stems[0]}.png", "medseg: interrupted"]


@pytest.mark.parametrize("stop, rc, line", [("interrupted", 130, "medseg: interrupted"),
                                            ("terminated", 143, "medseg: terminated")])
def test_train_stopped_once_its_model_is_stored_still_says_it(root, monkeypatch, capsys, stop, rc, line):
    """`medseg train` without --json: a stop just after the run returned (its model stored), before the result was
    held, printed only `medseg: interrupted`; the result lines are said as --json says its object."""
    _finished(monkeypatch)
    monkeypatch.setattr(cli_progress.TerminalProgress, "done", lambda self: _stop(stop))  # first after the run
    capsys.readouterr()
    assert cli.main(["train", root, "--class", "vessel"]) == rc
    out, err = capsys.readouterr()
    assert out.count("Trained 3 steps in 1 s on 2 labelled images") == 1 and out.count("Saved the new model.") == 1
    assert err.splitlines()[-1] == line


def test_train_stopped_as_its_model_became_current_says_so(root, monkeypatch, capsys):
    """A stop inside the run once its model was made current (pipeline.train_class had not returned) said nothing of
    it in prose, though --json says `kept_new` true."""
    from medseg_gui.core.project import Project

    def stored_then_stopped(project, cls, *_args, **_kwargs):
        monkeypatch.setattr(Project, "current_model_info", lambda self, c: {"id": "m2"})
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "train_class", stored_then_stopped)
    capsys.readouterr()
    assert cli.main(["train", root, "--class", "vessel"]) == 130
    out, err = capsys.readouterr()
    assert out.splitlines() == ["Training was stopped as its new model became current."]
    assert err.splitlines() == ["medseg: interrupted"]


def test_a_second_stop_while_the_result_lines_are_said_does_not_say_them_again(root, monkeypatch, capsys):
    """The first stop waits for the result lines; a second acts at once and they are not started over."""
    import builtins

    from medseg_gui import cli_train

    _finished(monkeypatch)
    warned, printed = cli_train.warn, builtins.print
    stops = [signal.SIGINT]  # the first stop, held

    def warn(messages):
        if stops:
            signal.raise_signal(stops.pop())
        warned(messages)

    monkeypatch.setattr(cli_train, "warn", warn)

    def print_cut(*args, **kwargs):
        printed(*args, **kwargs)
        if args and str(args[0]).startswith("Trained "):
            raise KeyboardInterrupt  # the second stop

    monkeypatch.setattr(builtins, "print", print_cut)
    capsys.readouterr()
    assert cli.main(["train", root, "--class", "vessel"]) == 130
    out, err = capsys.readouterr()
    assert out.count("Trained ") == 1 and "Saved the new model." not in out
    assert err.splitlines()[-1] == "medseg: interrupted"


@pytest.mark.parametrize("as_json", [False, True])
def test_train_stopped_as_its_model_became_current_says_so_on_a_line_of_its_own(root, monkeypatch, as_json):
    """stdout and stderr the same terminal: the stopped run's line (or --json object) stood at the end of the progress
    line left open, and a blank line followed it before `medseg: interrupted`."""
    from medseg_gui.core.project import Project

    def stored_then_stopped(project, cls, *_args, progress, **_kwargs):
        progress(_report(3))
        monkeypatch.setattr(Project, "current_model_info", lambda self, c: {"id": "m2"})
        raise KeyboardInterrupt

    terminal = _terminal(monkeypatch)
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(pipeline, "train_class", stored_then_stopped)
    assert cli.main(["train", root, "--class", "vessel", *(["--json"] if as_json else [])]) == 130
    text = terminal.getvalue()
    _check_own_lines(text)
    lines = _lines(text)
    said = lines.index("{") if as_json else lines.index("Training was stopped as its new model became current.")
    assert "step 3" in lines[said - 1] and lines[-2:] == ["medseg: interrupted", ""]


def test_a_plain_stop_of_train_on_a_terminal_ends_its_progress_line_once(root, monkeypatch):
    """Nothing said before it: the stop's line alone ends the open progress line (and the ^C echoed after it)."""
    terminal = _terminal(monkeypatch)
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(pipeline, "train_class", _open_line_then("train", KeyboardInterrupt()))
    assert cli.main(["train", root, "--class", "vessel"]) == 130
    assert terminal.getvalue().endswith(" \nmedseg: interrupted\n")
