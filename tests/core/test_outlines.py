"""Photos with outlines: each class's outline in its colour on the mask boundary (a label's solid, a prediction's
dashed), the rest of the photo unchanged; the manifest says label or prediction; the export's safety checks."""

import errno
import json

import cv2
import numpy as np
import pytest

from medseg_gui.core.errors import CancelledError, ProjectError, WriteError
from medseg_gui.core.images import read_image
from medseg_gui.core.interchange import outlines
from medseg_gui.core.interchange.formats import export_as
from medseg_gui.core.interchange.outlines import export_outlines, line_width
from medseg_gui.core.overlays import boundary
from medseg_gui.core.project import Project

H, W = 60, 80
YY, XX = np.mgrid[:H, :W]


def disc(cx, cy, r):
    return (XX - cx) ** 2 + (YY - cy) ** 2 <= r * r


def far_from(mask, margin=5):
    """Pixels more than `margin` steps from the mask's boundary (inside or outside): no line may touch them."""
    edge = boundary(mask) | boundary(~mask)
    return ~cv2.dilate(edge.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=margin).astype(bool)


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c", "d"):
        cv2.imwrite(str(folder / f"{name}.png"), rng.integers(40, 200, (H, W, 3), np.uint8))
    cv2.imwrite(str(folder / "g.png"), rng.integers(40, 200, (H, W), np.uint8))  # a gray photo
    p = Project.open_or_create_for_folder(folder)  # classes: lesion, vessel
    p.save_label("lesion", "a", disc(30, 30, 15))
    p.save_prediction("lesion", "b", np.where(disc(40, 30, 18), 0.9, 0.1).astype(np.float32))
    p.save_label("lesion", "g", disc(40, 30, 12))
    return p


def colour(project, cls):
    return np.array(project.class_spec(cls).color, np.uint8)


def coloured(photo, rgb):
    return (photo == rgb).all(axis=2)


def test_a_labels_outline_is_solid_in_its_colour_and_the_rest_of_the_photo_unchanged(project, tmp_path):
    out = tmp_path / "out"
    done = export_outlines(project, ["lesion"], out, source="labels")
    assert [p.name for p in done.files] == ["a_outlined.png", "g_outlined.png"]
    assert sorted(p.name for p in out.iterdir()) == [
        "a_outlined.png", "g_outlined.png", "manifest.json"]  # b has only a prediction; c and d nothing
    photo, original, mask = read_image(out / "a_outlined.png"), project.load_image("a"), disc(30, 30, 15)
    assert photo.shape == original.shape
    assert coloured(photo, colour(project, "lesion"))[boundary(mask)].all()  # continuous: every boundary pixel
    far = far_from(mask)
    np.testing.assert_array_equal(photo[far], original[far])  # inside and outside, away from the line
    edge = (photo == 0).all(axis=2)
    assert edge.any() and not edge[mask & far_from(mask, 2)].any()  # a thin dark edge, only along the line
    gray = read_image(out / "g_outlined.png")  # a gray photo becomes RGB, its gray kept
    far = far_from(disc(40, 30, 12))
    np.testing.assert_array_equal(gray[far], project.load_image("g")[far])
    assert (gray[far][:, 0] == gray[far][:, 2]).all()


def test_a_predictions_outline_is_dashed_and_the_manifest_says_so(project, tmp_path):
    out = tmp_path / "out"
    done = export_as("outlines", project, ["lesion"], out, threshold=0.5)
    photo, mask = read_image(out / "b_outlined.png"), disc(40, 30, 18)
    on_edge = boundary(mask)
    drawn = coloured(photo, colour(project, "lesion"))[on_edge].mean()
    untouched = (photo == project.load_image("b")).all(axis=2)[on_edge].mean()
    assert 0.3 < drawn < 0.8 and untouched > 0.15  # gaps where the photo shows through
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["export"] == "outlines" and manifest["threshold"] == 0.5
    entries = {m["image"]: m for m in manifest["masks"]}
    assert entries["a"]["source"] == "label" and entries["a"]["line"] == "solid"
    assert entries["a"]["file"] == "a_outlined.png"
    assert entries["b"]["source"] == "prediction" and entries["b"]["line"] == "dashed"
    assert entries["b"]["threshold"] == 0.5 and any("dashed" in n for n in manifest["notes"])
    assert done.count == 3 and "lesion on 3 (2 labels, 1 prediction)" in done.summary
    assert "solid line = your label, dashed = the model's prediction ≥ 0.50" in done.summary


def test_two_classes_each_in_its_colour_holes_outlined(project, tmp_path):
    ring = disc(40, 30, 24) & ~disc(40, 30, 5)  # a blob by its shape (a narrower ring reads as thin structures)
    project.add_class("cervix", (0, 120, 255))  # ('vessel' is a thin class: drawn beside its pixels, below)
    project.save_label("cervix", "d", ring)
    project.save_label("lesion", "d", disc(12, 12, 6))
    assert project.class_spec("lesion").color != project.class_spec("cervix").color
    export_outlines(project, ["lesion", "cervix"], tmp_path / "out")
    photo = read_image(tmp_path / "out" / "d_outlined.png")
    assert coloured(photo, colour(project, "lesion"))[boundary(disc(12, 12, 6))].all()
    hole_edge = boundary(ring) & disc(40, 30, 9)
    assert hole_edge.sum() > 20 and coloured(photo, colour(project, "cervix"))[hole_edge].all()
    assert coloured(photo, colour(project, "cervix"))[boundary(ring) & ~disc(40, 30, 22)].all()


def vessel_tree():
    """3 px wide vessels right of the fixture's lesions: a trunk and two branches."""
    tree = np.zeros((H, W), bool)
    tree[5:55, 62:65] = True
    tree[10:13, 52:78] = tree[45:48, 52:78] = True
    return tree


@pytest.mark.parametrize("cls", ["vessel", "drusen"])  # thin by its name (known_thin), thin by its mask's shape
def test_a_thin_class_is_outlined_1_px_just_outside_leaving_the_vessels_untouched(project, tmp_path, cls):
    """Outside trial (3504x2336 HRF photos): 12-16 px of line and edge covered the vessels they outlined."""
    if cls != "vessel":
        project.add_class(cls, (0, 120, 255))
    tree, blob = vessel_tree(), disc(30, 30, 15)  # a's lesion label
    project.save_label(cls, "a", tree)
    project.save_prediction(cls, "c", np.where(tree, 0.9, 0.1).astype(np.float32))
    export_outlines(project, ["lesion", cls], tmp_path / "out")
    for stem in ("a", "c"):
        photo, original = read_image(tmp_path / "out" / f"{stem}_outlined.png"), project.load_image(stem)
        line = coloured(photo, colour(project, cls))
        beside = cv2.dilate(tree.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~tree
        assert line.any() and not line[~beside].any()  # 1 px wide, just outside the vessels
        np.testing.assert_array_equal(photo[tree], original[tree])  # not one vessel pixel covered
        if stem == "a":  # a label: solid, all round
            assert line[boundary(beside | tree)].all()
            lesion_line = coloured(photo, colour(project, "lesion"))  # a blob class keeps its width, on the boundary
            assert lesion_line[boundary(blob)].all() and lesion_line[blob & ~boundary(blob)].any()
    assert line[boundary(beside | tree)].mean() < 0.8  # c: a prediction, dashed


def test_line_width_of_a_thin_class_is_1_px_on_any_photo():
    assert line_width((2336, 3504), thin=True) == line_width((24, 32), thin=True) == 1 < line_width((2336, 3504))


def test_a_traced_vessel_of_a_sparse_label_is_outlined_solid_just_outside():
    """Review: the thin line runs just outside the vessel, but where it is solid was read on the vessel's own pixels,
    so a sparse label's traced vessels came out half dashed (read as the model's)."""
    vessel = np.zeros((60, 200), bool)
    vessel[29:32, 20:180] = True
    photo = np.zeros((60, 200, 3), np.uint8)
    outlines.draw_outline(photo, vessel, (0, 255, 0), 1, solid=vessel.copy(), outside=True)
    line = (photo == (0, 255, 0)).all(axis=2)
    assert not (line & vessel).any() and line[28, 20:180].all() and line[32, 20:180].all()


def test_a_sparse_label_filled_by_the_prediction_is_solid_where_annotated(project, tmp_path):
    annotated = XX < 40
    project.save_label("lesion", "c", disc(40, 30, 15) & annotated, annotated)
    project.save_prediction("lesion", "c", np.where(disc(40, 30, 15), 0.9, 0.1).astype(np.float32))
    done = export_outlines(project, ["lesion"], tmp_path / "out")
    photo, on_edge = read_image(tmp_path / "out" / "c_outlined.png"), boundary(disc(40, 30, 15))
    lesion = coloured(photo, colour(project, "lesion"))
    assert lesion[on_edge & (XX < 36)].all()
    assert (photo == project.load_image("c")).all(axis=2)[on_edge & (XX > 44)].mean() > 0.15
    entries = json.loads((tmp_path / "out" / "manifest.json").read_text())["masks"]
    entry = next(m for m in entries if m["image"] == "c")
    assert entry["source"] == "label+prediction" and entry["label"] == "sparse" and entry["line"].startswith("solid")
    assert "filled in by the prediction is solid where you annotated it" in done.summary()


def test_refuses_foreign_files_and_folders_of_the_project(project, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a_outlined.png").write_bytes(b"the user's own picture")
    with pytest.raises(ProjectError, match="was not written by an export of this project"):
        export_outlines(project, ["lesion"], out)
    assert (out / "a_outlined.png").read_bytes() == b"the user's own picture"
    assert not (out / "manifest.json").exists()
    for inside in (project.root, project.image_path("a").parent, project.root / "labels" / "lesion"):
        with pytest.raises(ProjectError, match="cannot be exported into"):
            export_outlines(project, ["lesion"], inside)
    export_outlines(project, ["lesion"], tmp_path / "again")
    export_outlines(project, ["lesion"], tmp_path / "again")  # its own earlier files are replaced


def test_an_unreadable_photo_is_skipped_by_name(project, tmp_path):
    project.image_path("b").write_bytes(b"not a png")
    skipped: list[str] = []
    done = export_outlines(project, ["lesion"], tmp_path / "out", skipped=skipped)
    assert [p.name for p in done.files] == ["a_outlined.png", "g_outlined.png"]
    assert not (tmp_path / "out" / "b_outlined.png").exists()
    assert len(skipped) == 1 and skipped[0].startswith("b") and "'b.png'" in skipped[0]  # which photo, and why
    assert done.skipped == tuple(skipped)
    assert {m["image"] for m in json.loads((tmp_path / "out" / "manifest.json").read_text())["masks"]} == {"a", "g"}
    path = project.image_path("a")  # its header readable (the masks' size checks pass), its pixels not
    data = bytearray(path.read_bytes())
    data[100:400] = bytes(300)  # inside its pixel data: the size in its header and its end still read
    path.write_bytes(bytes(data))
    skipped.clear()
    done = export_outlines(project, ["lesion"], tmp_path / "out2", skipped=skipped)
    assert [p.name for p in done.files] == ["g_outlined.png"]
    assert any(s.startswith("a not exported: ") for s in skipped)


def test_progress_cancel_and_a_failed_write_say_how_far_it_got(project, tmp_path, monkeypatch):
    seen = []
    export_outlines(project, ["lesion"], tmp_path / "out", progress=seen.append)
    assert seen == [(1, 3, "a_outlined.png"), (2, 3, "b_outlined.png"), (3, 3, "g_outlined.png")]
    with pytest.raises(CancelledError, match="after 1 of 3 photos"):
        export_outlines(project, ["lesion"], tmp_path / "cut", should_stop=lambda: len(seen) > 3,
                        progress=seen.append)
    assert [m["image"] for m in json.loads((tmp_path / "cut" / "manifest.json").read_text())["masks"]] == ["a"]
    calls = []

    def full_disk(path, array):
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return path.write_bytes(b"")

    monkeypatch.setattr(outlines, "write_png", full_disk)
    with pytest.raises(WriteError, match=r"could not write photo 2 of 3 \(1 written\).*No space left"):
        export_outlines(project, ["lesion"], tmp_path / "full")


def test_line_width_grows_with_the_photo():
    assert line_width((24, 32)) == line_width((1000, 1000)) == 2
    assert line_width((3000, 4000)) > line_width((1500, 2000)) > 2


def test_an_accepted_prediction_is_drawn_dashed_and_counted_as_one(project, tmp_path):
    """A verification trial: a label that is the model's prediction taken whole (Accept prediction) was drawn solid,
    the line the legend gives the clinician's own outline, and counted among 'labels' while the manifest counted it
    apart. It is dashed, counted as an accepted prediction, and the message says why."""
    from medseg_gui.core.label_status import ACCEPTED_KEY, set_mark

    set_mark(project, "a", ACCEPTED_KEY, "lesion", True)
    out = tmp_path / "out"
    done = export_as("outlines", project, ["lesion"], out, threshold=0.5)
    on_edge = boundary(disc(30, 30, 15))
    drawn = coloured(read_image(out / "a_outlined.png"), colour(project, "lesion"))[on_edge].mean()
    assert 0.3 < drawn < 0.8  # dashed
    on_g = boundary(disc(40, 30, 12))
    assert coloured(read_image(out / "g_outlined.png"), colour(project, "lesion"))[on_g].all()
    assert "lesion on 3 (1 accepted prediction, 1 prediction, 1 label)" in done.summary
    assert "a prediction you accepted as the label is dashed too" in done.summary
    entry = next(m for m in json.loads((out / "manifest.json").read_text())["masks"] if m["image"] == "a")
    assert entry["label"] == "accepted prediction" and entry["line"].startswith("dashed")


def test_outlines_beside_a_png_export_leave_its_masks_alone(project, tmp_path):
    """Review: a one-class PNG export writes <stem>.png, and an outlines export into the same folder replaced those
    masks with photos (both were this project's exports). The photos are <stem>_outlined.png."""
    from medseg_gui.core.export import export_masks

    out = tmp_path / "out"
    export_masks(project, "lesion", out, source="labels")
    mask = (out / "a.png").read_bytes()
    export_outlines(project, ["lesion"], out)
    assert (out / "a.png").read_bytes() == mask and (out / "a_outlined.png").is_file()
    export_masks(project, "lesion", out, source="labels")  # and the other way round
    assert (out / "a_outlined.png").is_file() and (out / "a.png").read_bytes() == mask


def test_a_full_disk_says_how_far_it_got_even_when_the_manifest_cannot_be_written(project, tmp_path, monkeypatch):
    """Review: the manifest, written in a `finally`, failed on the full disk too and its error replaced the one
    saying how far the export got."""
    real = outlines.write_png

    def full(path, data):
        if path.name.startswith("b"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data)

    monkeypatch.setattr(outlines, "write_png", full)
    monkeypatch.setattr(outlines.Manifest, "write", lambda self, out: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(WriteError, match=r"could not write photo 2 of 3 \(1 written\)"):
        export_outlines(project, ["lesion"], tmp_path / "out")
