"""`medseg export --format outlines`: the photos with each class's outline, the manifest, the summary line; a class
with nothing named; a folder of the project refused with one `medseg: error:` line."""

import json

import numpy as np

from medseg_gui import cli
from medseg_gui.core.images import read_image
from tests.workers.helpers import H, W, disc, make_project


def test_export_format_outlines(tmp_path, capsys):
    project = make_project(tmp_path / "p", n=3, labelled=1)  # img0 labelled (the disc)
    stems = project.stems
    project.save_prediction("lesion", stems[1], np.where(disc(cx=40), 0.9, 0.1).astype(np.float32))
    project.add_class("cervix", (0, 200, 255))
    capsys.readouterr()
    out = tmp_path / "figures"
    assert cli.main(["export", str(project.root), "--class", "lesion,cervix", "--format", "outlines",
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(f"Wrote 2 photos with outlines to {out}: lesion on 2 (1 label, 1 prediction)")
    assert "dashed = the model's prediction ≥ 0.50" in printed
    assert printed.endswith("; nothing to export of cervix: no image has a label or prediction of it")
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{stems[0]}_outlined.png", f"{stems[1]}_outlined.png",
                                                            "manifest.json"])
    photo = read_image(out / f"{stems[0]}_outlined.png")
    assert photo.shape == (H, W, 3) and (photo == project.class_spec("lesion").color).all(axis=2).any()
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(m["image"], m["source"], m["line"]) for m in manifest["masks"]] == [
        (stems[0], "label", "solid"), (stems[1], "prediction", "dashed")]

    labels = tmp_path / "labels_only"
    assert cli.main(["export", str(project.root), "--class", "lesion", "--format", "outlines", "--source", "labels",
                     "--out", str(labels)]) == 0
    assert sorted(p.name for p in labels.iterdir()) == [f"{stems[0]}_outlined.png", "manifest.json"]
    assert "dashed" not in capsys.readouterr().out

    assert cli.main(["export", str(project.root), "--class", "lesion", "--format", "outlines", "--out",
                     str(project.root / "labels")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("medseg: error: ") and "cannot be exported into" in err and len(err.splitlines()) == 1
