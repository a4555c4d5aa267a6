"""Disk full / read-only / permission denied during CLI export and the save after training: one `medseg: error:`
line, non-zero exit, no traceback, nothing claimed as written that was not, and a finished model never dropped.

Errors are injected into os.replace (every file this program writes goes through it) because tests often run as
root, where a chmod 0o555 folder does not stop writes; one test uses a real read-only folder when it can, and where
the tests may mount (root with mount rights) a real 256 KiB tmpfs is filled up or remounted read-only.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.cli_fakes import CLS, FakeResult, make_project, run_cli, tiny_segmenter

ERRNOS = [errno.ENOSPC, errno.EROFS, errno.EACCES]


def fail_replace_under(monkeypatch, folder: Path, code: int, after: int = 0) -> list[str]:
    """os.replace raises OSError(code) for targets inside `folder` once `after` of them have succeeded."""
    real_replace = os.replace
    done: list[str] = []

    def replace(src, dst):
        if Path(dst).resolve().is_relative_to(folder.resolve()):
            if len(done) >= after:
                raise OSError(code, os.strerror(code), str(src))
            done.append(str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return done


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.is_file()] if folder.exists() else []


@pytest.mark.parametrize("code", ERRNOS)
def test_export_write_error_is_one_line_and_claims_nothing(tmp_path, capsys, monkeypatch, code):
    project = make_project(tmp_path / "p")
    out = tmp_path / "out"
    fail_replace_under(monkeypatch, out, code, after=2)  # the manifest (written first), then mask 1
    rc, stdout, err = run_cli(capsys, "export", project.root, "--class", CLS, "--out", out)
    assert rc == 1 and "Wrote" not in stdout
    assert len(err) == 1 and err[0].startswith("medseg: error: Export incomplete: could not write mask 2 of 3")
    assert str(out / f"{project.stems[1]}.png") in err[0] and err[0].endswith(os.strerror(code))
    assert temp_files(out) == []


def test_hdf5_write_error_leaves_no_file(tmp_path, capsys, monkeypatch):
    project = make_project(tmp_path / "p")
    h5 = tmp_path / "h5" / "all.h5"
    fail_replace_under(monkeypatch, h5.parent, errno.ENOSPC)
    rc, stdout, err = run_cli(capsys, "export", project.root, "--class", CLS, "--out", tmp_path / "m",
                              "--hdf5", h5)
    assert rc == 1 and "Wrote 3 masks" in stdout and str(h5) not in stdout  # the masks were written; the HDF5 not
    assert err == [f"medseg: error: Could not write the HDF5 export ({h5}): No space left on device"]
    assert list(h5.parent.iterdir()) == []


def test_hdf5_error_of_the_library_itself_is_one_line_naming_the_cause(tmp_path, capsys, monkeypatch):
    """h5py reports a full disk as an OSError without an errno, over several lines of file descriptors and
    addresses (fault-injection trial on a real full tmpfs): the error line gives the cause alone."""
    import h5py

    project = make_project(tmp_path / "p")
    h5 = tmp_path / "h5" / "all.h5"
    raw = ("Unable to synchronously create dataset (file write failed: time = Sat Dec  5 23:10:01 2026\n, filename = "
           "'x.h5', file descriptor = 7, errno = 28, error message = 'No space left on device', buf = 0x55d0, "
           "total write size = 4096, bytes this sub-write = 4096, bytes actually written = 18446744073709551615)")

    def full(*args, **kwargs):
        raise OSError(raw)

    monkeypatch.setattr(h5py.Group, "create_dataset", full)
    rc, _stdout, err = run_cli(capsys, "export", project.root, "--class", CLS, "--out", tmp_path / "m", "--hdf5", h5)
    assert rc == 1 and err == [f"medseg: error: Could not write the HDF5 export ({h5}): No space left on device"]
    assert list(h5.parent.iterdir()) == []


def test_export_into_a_file_says_it_is_a_file(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    for out in (afile, afile / "sub"):
        rc, stdout, err = run_cli(capsys, "export", project.root, "--class", CLS, "--out", out)
        assert rc == 1 and "Wrote" not in stdout
        assert len(err) == 1 and f"{afile} is a file, not a folder" in err[0]
    assert afile.read_text() == "not a folder"


def test_predict_external_image_write_error(tmp_path, capsys, monkeypatch):
    from medseg_gui.ml import store

    project = make_project(tmp_path / "p")
    store.save_if_better(project.model_dir(CLS), FakeResult(tiny_segmenter()))
    out = tmp_path / "out"
    fail_replace_under(monkeypatch, out, errno.EROFS)
    rc, stdout, err = run_cli(capsys, "predict", project.root, "--class", CLS, project.image_path(project.stems[0]),
                              "--out", out)
    assert rc == 1 and "wrote" not in stdout
    assert err == [f"medseg: error: Could not write the prediction of {project.stems[0]}.png "
                   f"({out / (project.stems[0] + '_prob.png')}): Read-only file system"]  # the file, not its temp


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_export_into_a_real_read_only_folder(tmp_path, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        if os.access(out, os.W_OK):  # root ignores the mode: the injected cases above cover it
            pytest.skip("running as root: a read-only folder is still writable")
        project = make_project(tmp_path / "p")
        rc, stdout, err = run_cli(capsys, "export", project.root, "--class", CLS, "--out", out)
        assert rc == 1 and "Wrote" not in stdout
        assert len(err) == 1 and err[0].startswith("medseg: error: Export incomplete") and "Permission" in err[0]
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


def test_no_traceback_reaches_the_terminal(tmp_path):
    """The real process: stderr is the one line, exit status 1."""
    project = make_project(tmp_path / "p")
    code = (
        "import errno, os, sys\n"
        "def full(src, dst):\n"
        "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))\n"
        "os.replace = full\n"
        "from medseg_gui.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, "export", str(project.root), "--class", CLS, "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medseg: error:") and "No space left on device" in lines[0]


@pytest.fixture
def fake_training(monkeypatch, tmp_path):
    """Training returns a finished tiny model at once; the user data folder is a temp folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "userdata"))
    monkeypatch.setattr("medseg_gui.ml.train.train", lambda samples, config, **kw: FakeResult(tiny_segmenter(1.0)))
    return tmp_path / "userdata"


@pytest.mark.parametrize("code", ERRNOS)
def test_finished_training_whose_save_fails_is_kept_elsewhere(tmp_path, capsys, monkeypatch, fake_training, code):
    from medseg_gui.ml import store

    project = make_project(tmp_path / "p")
    fail_replace_under(monkeypatch, project.model_dir(CLS), code)
    rc, stdout, err = run_cli(capsys, "train", project.root, "--class", CLS, "--max-steps", "1")
    assert rc == 1 and not store.has_model(project.model_dir(CLS))
    assert len(err) == 1 and err[0].startswith("medseg: error: The trained model could not be saved in")
    assert os.strerror(code) in err[0]
    (fallback,) = (fake_training / "medseg_gui" / "unsaved-models").iterdir()
    assert str(fallback) in err[0]
    monkeypatch.undo()
    (model_file,) = fallback.glob("*.keras")
    prob = store.load_model(fallback, model_file.stem).predict(project.load_image(project.stems[0]))
    assert prob.shape == (24, 32)
    assert temp_files(project.model_dir(CLS)) == []


def test_a_model_saved_aside_says_how_it_compared_and_copying_it_in_adds_one_model(tmp_path, capsys, monkeypatch,
                                                                                   fake_training):
    """A fault-injection trial copied the fallback folder into models/ as told: its current.json and one-entry
    history.json made the new model current (the log said 'Saved the new model (Dice 0 vs 0)', a tie) and wiped the
    history. The folder holds the model's files only, the message says whether it beat the current model and which
    files to copy; copied in, the model is listed beside the others and the current one stays until chosen."""
    import shutil

    from medseg_gui.ml import store
    from medseg_gui.ml.model_list import list_models

    project = make_project(tmp_path / "p")
    store.save_if_better(project.model_dir(CLS), FakeResult(tiny_segmenter(), val_auc=0.9))
    before = store.read_pointer(project.model_dir(CLS))["id"]
    monkeypatch.setattr("medseg_gui.ml.train.train", lambda samples, config, **kw: FakeResult(
        tiny_segmenter(1.0), val_auc=0.85, previous_val_auc=0.9))
    fail_replace_under(monkeypatch, project.model_dir(CLS), errno.ENOSPC)
    rc, _, err = run_cli(capsys, "train", project.root, "--class", CLS, "--max-steps", "1")
    monkeypatch.undo()
    assert rc == 1 and len(err) == 1
    assert "it did not validate better than the current model (AUC 0.8500 against 0.9000)" in err[0]
    (fallback,) = (fake_training / "medseg_gui" / "unsaved-models").iterdir()
    assert not (fallback / "current.json").exists() and not (fallback / "history.json").exists()
    (model_file,) = fallback.glob("*.keras")
    assert f"copy {model_file.stem}.json, {model_file.name} into" in err[0] and model_file.stem in err[0]
    for path in fallback.iterdir():
        shutil.copy(path, project.model_dir(CLS))
    assert store.read_pointer(project.model_dir(CLS))["id"] == before
    assert sorted(e.id for e in list_models(project.model_dir(CLS))) == sorted([before, model_file.stem])
    aside = next(e for e in list_models(project.model_dir(CLS)) if e.id == model_file.stem)
    assert aside.kept is False  # what keep-unless-better would have done: Models… asks before using it
    store.rollback(project.model_dir(CLS), model_file.stem)
    assert store.read_pointer(project.model_dir(CLS))["id"] == model_file.stem


def test_a_better_model_saved_aside_is_listed_as_one_that_would_have_been_kept(tmp_path, capsys, monkeypatch,
                                                                               fake_training):
    """Review: a model saved aside was stored as not kept whatever it validated at, so Models… listed the better
    model the message told the user to copy in as 'rejected' and warned before using it."""
    from medseg_gui.ml import store
    from medseg_gui.ml.model_list import list_models

    project = make_project(tmp_path / "p")
    store.save_if_better(project.model_dir(CLS), FakeResult(tiny_segmenter(), val_auc=0.8))
    monkeypatch.setattr("medseg_gui.ml.train.train", lambda samples, config, **kw: FakeResult(
        tiny_segmenter(1.0), val_auc=0.95, previous_val_auc=0.8))
    fail_replace_under(monkeypatch, project.model_dir(CLS), errno.ENOSPC)
    rc, _, err = run_cli(capsys, "train", project.root, "--class", CLS, "--max-steps", "1")
    monkeypatch.undo()
    assert rc == 1 and "it validated better than the current model (AUC 0.9500 against 0.8000)" in err[0]
    (fallback,) = (fake_training / "medseg_gui" / "unsaved-models").iterdir()
    (entry,) = list_models(fallback)
    assert entry.kept is True and not entry.current


def test_a_model_saved_aside_without_a_comparison_says_whether_a_current_model_exists(tmp_path, capsys, monkeypatch,
                                                                                      fake_training):
    """Review: 'there was no current model to compare it with' also when there was one that could not be loaded or
    scored (the run then trained from scratch and had no figure for it)."""
    from medseg_gui.ml import store

    project = make_project(tmp_path / "p")
    fail_replace_under(monkeypatch, project.model_dir(CLS), errno.ENOSPC)
    rc, _, err = run_cli(capsys, "train", project.root, "--class", CLS, "--max-steps", "1")
    assert rc == 1 and "there was no current model to compare it with" in err[0]
    monkeypatch.undo()
    monkeypatch.setenv("XDG_DATA_HOME", str(fake_training))
    store.save_if_better(project.model_dir(CLS), FakeResult(tiny_segmenter(), val_auc=0.8))
    monkeypatch.setattr("medseg_gui.ml.train.train", lambda samples, config, **kw: FakeResult(tiny_segmenter(1.0)))
    fail_replace_under(monkeypatch, project.model_dir(CLS), errno.ENOSPC)
    rc, _, err = run_cli(capsys, "train", project.root, "--class", CLS, "--max-steps", "1")
    assert rc == 1 and "the current model could not be compared with it" in err[0]


def test_save_failing_everywhere_says_the_result_is_lost(tmp_path, capsys, monkeypatch, fake_training):
    project = make_project(tmp_path / "p")
    fail_replace_under(monkeypatch, tmp_path, errno.ENOSPC)
    rc, _, err = run_cli(capsys, "train", project.root, "--class", CLS, "--max-steps", "1")
    assert rc == 1 and len(err) == 1 and err[0].startswith("medseg: error:")
    assert "failed too" in err[0] and "lost" in err[0]


def test_save_after_training_survives_a_read_only_model_folder_in_the_gui_path(tmp_path, monkeypatch, fake_training):
    """The GUI's TrainWorker calls the same pipeline: it gets a ModelError (shown in a dialog), not an OSError."""
    from medseg_gui import pipeline
    from medseg_gui.core.errors import ModelError

    project = make_project(tmp_path / "p")
    fail_replace_under(monkeypatch, project.model_dir(CLS), errno.EROFS)
    with pytest.raises(ModelError, match="It was saved to"):
        pipeline.train_class(project, CLS, config=None)


@pytest.fixture
def small_fs(tmp_path):
    """A real 256 KiB tmpfs (skipped where mounting is not allowed); unmounted afterwards."""
    mnt = tmp_path / "fs"
    mnt.mkdir()
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(folder: Path) -> None:
    """Write a filler file until the file system is full."""
    with open(folder / "filler.bin", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as err:
            assert err.errno == errno.ENOSPC


def test_training_on_an_already_full_disk_stops_before_training(tmp_path, capsys, small_fs, monkeypatch):
    """Nothing is trained that could not be saved: the project lock cannot be written, one error line says why."""
    project = make_project(small_fs / "p")
    fill(small_fs)
    monkeypatch.setattr("medseg_gui.ml.train.train", lambda *a, **k: pytest.fail("training ran on a full disk"))
    rc, _, err = run_cli(capsys, "train", project.root, "--class", CLS, "--max-steps", "1")
    assert rc == 1 and len(err) == 1 and "No space left on device" in err[0]
    assert temp_files(project.root) == []


def test_export_onto_a_really_full_file_system(tmp_path, capsys, small_fs):
    project = make_project(tmp_path / "p")
    fill(small_fs)
    out = small_fs / "masks"
    rc, stdout, err = run_cli(capsys, "export", project.root, "--class", CLS, "--out", out)
    assert rc == 1 and "Wrote" not in stdout
    assert len(err) == 1 and err[0].startswith("medseg: error: Nothing exported: could not write the manifest")
    assert err[0].endswith("No space left on device") and temp_files(small_fs) == []


def test_export_onto_a_really_read_only_file_system(tmp_path, capsys, small_fs):
    project = make_project(tmp_path / "p")
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    rc, stdout, err = run_cli(capsys, "export", project.root, "--class", CLS, "--out", small_fs / "masks")
    assert rc == 1 and "Wrote" not in stdout
    assert len(err) == 1 and err[0].startswith("medseg: error:") and err[0].endswith("Read-only file system")


def test_training_into_a_really_full_project_keeps_the_model(tmp_path, capsys, small_fs, fake_training,
                                                              monkeypatch):
    """The disk fills up while training runs (the project lock was taken): the finished model is kept elsewhere."""
    from medseg_gui.ml import store

    project = make_project(small_fs / "p")

    def train_then_fill(samples, config, **kw):
        fill(small_fs)
        return FakeResult(tiny_segmenter(1.0))

    monkeypatch.setattr("medseg_gui.ml.train.train", train_then_fill)
    rc, _, err = run_cli(capsys, "train", project.root, "--class", CLS, "--max-steps", "1")
    assert rc == 1 and len(err) == 1 and "No space left on device" in err[0]
    (fallback,) = (fake_training / "medseg_gui" / "unsaved-models").iterdir()
    assert str(fallback) in err[0] and len(list(fallback.glob("*.keras"))) == 1
    assert temp_files(project.root) == []


def test_the_retrain_write_probe_finds_a_full_disk_and_leaves_no_file(tmp_path, monkeypatch):
    """Fault-injection trial, session 33: the probe created an empty file, which a full disk allows, so Retrain
    trained for its whole time box and then could not save the model. It writes (and syncs) bytes now."""
    from medseg_gui.core import atomic

    project = make_project(tmp_path / "p")
    assert project.write_probe() is None
    real_write = os.write

    def full(fd, data):
        if len(data) >= atomic.PROBE_BYTES:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(atomic.os, "write", full)
    assert "No space left on device" in project.write_probe()
    assert not [p for p in project.root.iterdir() if "write-probe" in p.name]


def test_hdf5_export_whose_writes_fail_mid_file_stops_cleanly(tmp_path, capsys, monkeypatch):
    """Fault injection on a real full tmpfs: h5py crashed the process (segfault) when a write failed part-way; the
    file h5py writes through (interchange.hdf5._CarefulFile) keeps the failure from it and the export says so."""
    import io

    from medseg_gui.core.interchange import hdf5

    class DiskFills(io.FileIO):  # the disk is full after 4 KiB
        def write(self, data):
            if self.tell() + len(memoryview(data).cast("B")) > 4096:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return super().write(data)

    class Full(hdf5._CarefulFile, DiskFills):
        pass

    monkeypatch.setattr(hdf5, "_CarefulFile", Full)
    project = make_project(tmp_path / "p")
    h5 = tmp_path / "h5" / "all.h5"
    rc, _stdout, err = run_cli(capsys, "export", project.root, "--class", CLS, "--out", tmp_path / "m", "--hdf5", h5)
    assert rc == 1 and err == [f"medseg: error: Could not write the HDF5 export ({h5}): No space left on device"]
    assert list(h5.parent.iterdir()) == []


def test_hdf5_export_onto_a_really_full_file_system_in_its_own_process(tmp_path, small_fs):
    """The fault-injection case itself: the disk fills part-way through the HDF5 (a segfault before)."""
    project = make_project(tmp_path / "p")
    with open(small_fs / "filler.bin", "wb") as fh:
        fh.write(b"\0" * (256 - 24) * 1024)
    h5 = small_fs / "h5" / "all.h5"
    proc = subprocess.run([sys.executable, "-m", "medseg_gui.cli", "export", str(project.root), "--class", CLS,
                           "--out", str(small_fs / "h5"), "--format", "hdf5"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [
        f"medseg: error: Could not write the HDF5 export ({h5.parent / (CLS + '.h5')}): No space left on device"]
    assert temp_files(small_fs / "h5") == []
