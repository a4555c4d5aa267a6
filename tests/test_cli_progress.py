"""The CLI progress bar redraws one line on a terminal and writes plain, spaced-out lines anywhere else."""

import io
import os

from medseg_gui import cli_progress
from medseg_gui.ml.progress import TrainProgress
from tests.test_info import clean_root_logger  # noqa: F401 - a fixture


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _report(step: int) -> TrainProgress:
    return TrainProgress(step=step, total_steps=10, epoch=0, loss=0.5, elapsed_s=step, eta_s=10 - step,
                         val_auc=None, message="")


def _run(stream, clock: list[float], monkeypatch) -> None:
    monkeypatch.setattr(cli_progress.time, "monotonic", lambda: clock[0])
    bar = cli_progress.TerminalProgress(stream)
    for step in range(1, 11):
        clock[0] = step * 1.0  # one report per second
        bar.train(_report(step))
    bar.done()


def test_log_output_has_no_carriage_returns_and_one_line_per_interval(monkeypatch):
    out = io.StringIO()
    _run(out, [0.0], monkeypatch)
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    # the first report, one 5 s later, and the last (written by done())
    assert [line.split(" · ")[1] for line in lines] == ["step 1", "step 6", "step 10"]
    assert text.endswith("\n") and "" not in lines


def test_terminal_output_redraws_in_place_and_ends_the_line(monkeypatch):
    out = FakeTerminal()
    _run(out, [0.0], monkeypatch)
    text = out.getvalue()
    assert text.count("\r") == 10 and text.count("\n") == 1 and text.endswith("\n")


def test_prediction_progress_in_a_log_ends_with_the_final_count(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(cli_progress.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    bar = cli_progress.TerminalProgress(out)
    for done in range(1, 4):
        bar.predict(done, 3, f"img{done}")
    assert out.getvalue().splitlines() == ["predicting 1/3 img1", "predicting 3/3 img3"]


def test_a_lesion_run_reports_validation_dice_beside_auc():
    out = io.StringIO()
    bar = cli_progress.TerminalProgress(out)
    bar.train(TrainProgress(step=3, total_steps=10, epoch=1, loss=0.5, elapsed_s=3, eta_s=7, val_auc=0.921,
                            message="", val_dice=0.6149))
    bar.done()
    assert out.getvalue().rstrip().endswith("· loss 0.5000 · val Dice 0.615 at best threshold, AUC 0.9210")


def test_on_a_terminal_the_bar_gives_way_to_the_figures(monkeypatch):
    """A lesion line no longer fits a fixed 110 characters once it says what its Dice is: the bar takes only the room
    the terminal has left, and goes where too little is left; the figures are cut only on a very narrow terminal."""
    report = TrainProgress(step=3, total_steps=10, epoch=1, loss=0.5, elapsed_s=3, eta_s=7, val_auc=0.921,
                           message="", val_dice=0.6149)
    for columns, bar in ((200, True), (100, False)):
        size = os.terminal_size((columns, 24))
        monkeypatch.setattr(cli_progress.shutil, "get_terminal_size", lambda fallback, s=size: s)
        out = FakeTerminal()
        cli_progress.TerminalProgress(out).train(report)
        line = out.getvalue().lstrip("\r")
        assert line.startswith("[") == bar and len(line) == min(columns - 1, 160)
        assert line.rstrip().endswith("val Dice 0.615 at best threshold, AUC 0.9210")


def test_the_epoch_shown_is_the_one_trained_or_the_one_that_just_ended():
    """`medseg train --epochs 1` ended on "epoch 2" (new-user trial): the reports sent at an epoch's end are about
    that epoch."""
    def line(epoch: int, message: str) -> str:
        out = io.StringIO()
        bar = cli_progress.TerminalProgress(out)
        bar.train(TrainProgress(step=3, total_steps=3, epoch=epoch, loss=0.5, elapsed_s=3, eta_s=0, val_auc=0.9,
                                message=message))
        bar.done()
        return out.getvalue().split(" · ")[2]

    assert line(0, "epoch 1, step 3/3, loss 0.5") == "epoch 1"
    assert line(1, "validating") == "epoch 1"
    assert line(1, "epoch 1: loss 0.5000, validation AUC 0.9000") == "epoch 1"
    assert line(1, "epoch 2, step 4/6, loss 0.5") == "epoch 2"


def test_a_report_without_an_estimate_shows_the_time_so_far_only():
    """Before its second step a run without a time box has no pace to estimate from (ml.control: eta_s nan)."""
    out = io.StringIO()
    cli_progress.TerminalProgress(out).train(TrainProgress(step=1, total_steps=100, epoch=0, loss=0.5, elapsed_s=6,
                                                           eta_s=float("nan"), val_auc=None, message=""))
    assert out.getvalue().split(" · ")[0].endswith("] 0:06")


def test_import_and_export_count_their_masks_on_a_terminal_only(tmp_path, monkeypatch):
    """`medseg import PROJECT --masks` and `medseg export` count the masks on a terminal as the window does (an
    outside trial's 250 masks took 8 s in silence); a log or pipe keeps only their own lines."""
    import numpy as np

    from medseg_gui import cli, cli_project
    from medseg_gui.core.images import write_png
    from tests.workers.helpers import disc, make_project

    project = make_project(tmp_path / "p", n=2)
    masks = tmp_path / "masks"
    masks.mkdir()
    for stem in project.stems:
        write_png(masks / f"{stem}_mask.png", disc().astype(np.uint8) * 255)
    for stream in (FakeTerminal(), io.StringIO()):
        monkeypatch.setattr(cli_project, "TerminalProgress", lambda s=stream: cli_progress.TerminalProgress(s))
        assert cli.main(["import", str(project.root), "--masks", str(masks), "--class", "lesion"]) == 0
        assert cli.main(["export", str(project.root), "--class", "lesion", "--out",
                         str(tmp_path / f"out{len(stream.getvalue())}")]) == 0
        lines = stream.getvalue().replace("\r", "\n").split("\n")
        counted = [line.strip() for line in lines if line.strip()]
        if isinstance(stream, FakeTerminal):
            assert f"importing 2/2 {project.stems[1]}_mask.png" in counted and f"exporting 2/2 {project.stems[1]}.png" \
                in counted
        else:
            assert counted == []


def test_a_log_line_ends_the_progress_output_before_it(tmp_path, monkeypatch, clean_root_logger):
    """`medseg -v train` wrote the run's last progress report (held back by the 5 s spacing of a log) after the store's
    "Saved the new model." line, and on a terminal the log lines landed at the end of the redrawn line."""
    import logging
    import sys

    from medseg_gui import logs

    clock = [0.0]
    monkeypatch.setattr(cli_progress.time, "monotonic", lambda: clock[0])
    for stream in (io.StringIO(), FakeTerminal()):
        monkeypatch.setattr(sys, "stderr", stream)  # where the console handler and the progress both write
        logs.setup_logging("c", logging.INFO, logs.CommandLineFormatter(), folder=tmp_path)
        bar = cli_progress.TerminalProgress()
        with bar.before_logs():
            for step in (1, 2):
                clock[0] = step * 1.0  # the second report falls inside the spacing of a log
                bar.train(_report(step))
            logging.getLogger("medseg_gui.ml.store").info("Saved the new model.")
        bar.done()
        logging.getLogger("medseg_gui.cli").info("after the bar is done")
        lines = [line.strip() for line in stream.getvalue().replace("\r", "\n").split("\n") if line.strip()]
        assert [line.split(" · ")[1] for line in lines[-4:-2]] == ["step 1", "step 2"]  # the report, then the log
        assert lines[-2:] == ["medseg: info: Saved the new model.", "medseg: info: after the bar is done"]
        assert "\nmedseg: info: Saved the new model.\n" in stream.getvalue()  # on a line of its own


def test_a_held_back_report_that_says_the_same_is_not_written_again(monkeypatch):
    """Training says "starting" before and after its first log lines: a log got it twice once they ended the bar."""
    clock = [0.0]
    monkeypatch.setattr(cli_progress.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    bar = cli_progress.TerminalProgress(out)
    starting = TrainProgress(step=0, total_steps=10, epoch=0, loss=float("nan"), elapsed_s=0, eta_s=float("nan"),
                             val_auc=None, message="starting")
    bar.train(starting)
    clock[0] = 1.0
    bar.train(starting)
    bar.done()
    assert out.getvalue().splitlines() == ["starting"]


def test_a_report_written_late_by_done_is_not_written_again(monkeypatch):
    """done() writes a held-back report (a -v log line ends the bar): the same report arriving again is not new
    (review: "starting" was written twice when done() wrote it late)."""
    clock = [0.0]
    monkeypatch.setattr(cli_progress.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    bar = cli_progress.TerminalProgress(out)

    def report(message: str) -> TrainProgress:
        return TrainProgress(step=0, total_steps=10, epoch=0, loss=float("nan"), elapsed_s=0, eta_s=float("nan"),
                             val_auc=None, message=message)

    bar.train(report("Preparing"))
    clock[0] = 1.0
    bar.train(report("starting"))  # held back: within the spacing of log lines
    bar.done()  # writes it
    clock[0] = 2.0
    bar.train(report("starting"))
    bar.done()
    assert out.getvalue().splitlines() == ["Preparing", "starting"]
