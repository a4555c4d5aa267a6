"""`medseg import PROJECT --masks DIR [--replace]`: masks into an existing project, as File → Import masks… does;
a label is replaced only with --replace, after a copy of it is kept in the project."""

import numpy as np
import pytest

from medseg_gui import cli
from medseg_gui.core.file_end import ENDS_EARLY
from medseg_gui.core.images import write_png
from medseg_gui.core.project import Project
from medseg_gui.core.project_format import REPLACED_LABELS
from tests.workers.helpers import disc, make_project


def test_masks_replace_the_labels_of_an_existing_project_only_with_replace(tmp_path, capsys):
    project = make_project(tmp_path / "p", n=3, labelled=2)
    first, second, third = project.stems
    sketch = project.label_path("lesion", first).read_bytes()
    folder = tmp_path / "expert"
    folder.mkdir()
    for stem in project.stems:
        write_png(folder / f"{stem}_manual.png", disc(r=12).astype(np.uint8) * 255)
    args = ["import", str(project.root), "--masks", str(folder), "--class", "lesion"]
    assert cli.main(args) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Imported 1 'lesion' label from ") and "2 images keep their own" in out
    assert "--replace replaces the labels kept" in err
    assert project.label_path("lesion", first).read_bytes() == sketch
    assert cli.main([*args, "--replace"]) == 0
    out, _err = capsys.readouterr()
    backups = list((project.root / REPLACED_LABELS).glob("*/lesion"))
    assert len(backups) == 1 and (backups[0] / f"{first}.png").read_bytes() == sketch
    assert f"2 of them replaced images' own 'lesion' labels ({first}, {second}), first copied to " in out
    assert f"1 label was left as it was: already the same as its mask ({third})" in out  # imported by the first
    assert all(np.array_equal(project.load_label("lesion", s), disc(r=12)) for s in project.stems)


@pytest.mark.parametrize("extra, says", [
    ([], "nothing to import"),
    (["--masks", "m", "--layout", "folder"], "--layout goes with SRC PROJECT"),
    (["--roi", "m", "--replace"], "--replace replaces labels"),
    (["new", "--layout", "folder", "--replace"], "--replace is for masks imported into an existing project"),
    (["new"], "--layout is needed"),
])
def test_import_arguments_that_do_not_fit_together_are_refused(tmp_path, capsys, extra, says):
    with pytest.raises(SystemExit) as stop:
        cli.main(["import", str(tmp_path), *extra])
    assert stop.value.code == 2 and says in capsys.readouterr().err


def test_a_new_project_whose_masks_match_no_image_says_plainly_that_none_were_imported(tmp_path, capsys):
    """An outside tester's masks were all misnamed: the project is still made (the images are useful), and the last
    line says no masks came in, not only '(0 with 'vessel' labels)'."""
    from tests.workers.helpers import make_images

    make_images(tmp_path / "img", n=2)
    (tmp_path / "badnames").mkdir()
    write_png(tmp_path / "badnames" / "other.png", disc().astype(np.uint8) * 255)
    assert cli.main(["import", str(tmp_path / "img"), str(tmp_path / "p"), "--layout", "folder", "--masks",
                     str(tmp_path / "badnames")]) == 0
    out, err = capsys.readouterr()
    assert "match no image (like other.png)" in err and out.startswith("Imported 2 images")
    assert out.strip().splitlines()[-1] == (f"No masks ('vessel' labels) were imported: none of the files in "
                                            f"{tmp_path / 'badnames'} is a readable mask named after an image "
                                            "(NAME.png or NAME_anything.png for the image NAME).")



def test_a_new_project_counts_a_mask_two_photos_share_as_left_out(tmp_path, capsys):
    """Review 2 #3: scan.png, scan.jpg and scan_mask.png: the folder import dropped the mask with a log line and
    said none of the files was a mask named after an image (exit 0); `medseg import PROJECT --masks` counts it as
    left out (exit 1). Both do now, with the same reason."""
    from PIL import Image

    src, masks = tmp_path / "src", tmp_path / "masks"
    src.mkdir()
    masks.mkdir()
    write_png(src / "scan.png", np.full((16, 16, 3), 90, np.uint8))
    Image.fromarray(np.full((16, 16, 3), 60, np.uint8)).save(src / "scan.jpg")
    write_png(masks / "scan_mask.png", disc()[:16, :16])
    assert cli.main(["import", str(src), str(tmp_path / "p"), "--layout", "folder", "--masks", str(masks),
                     "--class", "lesion"]) == 1
    out, err = capsys.readouterr()
    why = "scan.jpg and scan.png share the name 'scan', so it could be either's (rename one)"
    assert f"scan_mask.png was not imported: {why}" in err
    assert f"No masks ('lesion' labels) were imported from {masks}: 1 left out (listed above)" in err
    assert "none of the files" not in out
    assert cli.main(["import", str(tmp_path / "p"), "--masks", str(masks), "--class", "lesion"]) == 1
    assert f"1 left out: scan_mask.png: {why}" in capsys.readouterr().out


def test_a_new_project_resizes_a_mask_of_the_image_at_another_scale_and_says_so(tmp_path, capsys):
    """Fault injection: `medseg import SRC NEWPROJECT --masks DIR` refused a 100×100 mask of a 256×256 image ("is
    100×100 pixels but the image is 256×256") that `medseg import PROJECT --masks DIR` and the window resized."""
    from tests.workers.helpers import H, W, make_images

    images = make_images(tmp_path / "img", n=3)
    masks = tmp_path / "masks"
    masks.mkdir()
    for image, (w, h) in zip(images, [(W * 2, H * 2), (W // 2, H // 2), (W, W)]):
        write_png(masks / f"{image.stem}_mask.png", np.full((h, w), 255, np.uint8))
    assert cli.main(["import", str(tmp_path / "img"), str(tmp_path / "p"), "--layout", "folder", "--masks",
                     str(masks), "--class", "lesion"]) == 0
    out, err = capsys.readouterr()
    a, b, c = (image.stem for image in images)
    assert out.startswith(f"Imported 3 images (2 with 'lesion' labels; 2 of them drawn on the image at another "
                          f"scale, resized to it: {a}, {b}) into ")
    assert (f"{c}.png imported without its label {c}_mask.png: it is {W}×{W} pixels, the image {W}×{H} "
            "(width×height), and not the image at another scale") in err


def test_a_damaged_mask_beside_its_photo_in_a_project_is_named(tmp_path, capsys):
    """Fault injection: `medseg import projF --masks projF` said "Imported 4 …" of a folder project whose truncated
    s3_mask.png beside s3.png it had listed as an image, without a word of that file."""
    from tests.workers.helpers import folder_with_damaged_mask

    folder = tmp_path / "projF"
    assert folder_with_damaged_mask(folder, n=3).stems == ["img2_mask", "img0", "img1", "img2"]  # as opened
    assert cli.main(["import", str(folder), "--masks", str(folder), "--class", "lesion"]) == 0
    out, err = capsys.readouterr()
    assert f"medseg: warning: img2_mask.png: Lesion label file 'img2_mask.png' {ENDS_EARLY}" in err
    assert out.startswith("Imported 1 'lesion' label from ")
    assert out.rstrip().endswith(f"; 1 left out: img2_mask.png: Lesion label file 'img2_mask.png' {ENDS_EARLY}")


def _unreadable_masks(folder, stems):
    folder.mkdir()
    for stem in stems:
        (folder / f"{stem}_mask.png").write_bytes(b"not a png")
    return folder


def test_masks_into_a_project_none_of_which_could_be_read_is_an_error_naming_each(tmp_path, capsys):
    """Trial: `medseg import P --masks DIR` that imported nothing (every mask unreadable) exited 0, the masks named
    on stdout only (README: unreadable inputs get `medseg: warning:` lines)."""
    project = make_project(tmp_path / "p", n=2)
    masks = _unreadable_masks(tmp_path / "m", project.stems)
    assert cli.main(["import", str(project.root), "--masks", str(masks), "--class", "lesion"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1:3] for line in err[:2]] == [[" warning", f" {s}_mask.png"] for s in project.stems]
    assert err[2] == f"medseg: error: No masks ('lesion' labels) were imported from {masks}: 2 left out (listed above)."


def test_a_new_project_none_of_whose_masks_could_be_read_is_made_but_exits_1(tmp_path, capsys):
    """The same for `medseg import SRC NEW --masks DIR`: the project is made with its images, the status says the
    masks named were not imported."""
    from tests.workers.helpers import make_images

    images = make_images(tmp_path / "img", n=2)
    masks = _unreadable_masks(tmp_path / "m", [p.stem for p in images])
    assert cli.main(["import", str(tmp_path / "img"), str(tmp_path / "p"), "--layout", "folder", "--masks",
                     str(masks), "--class", "lesion"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert all(line.startswith("medseg: warning: ") and "_mask.png" in line for line in err[:2])
    assert err[2] == (f"medseg: error: No masks ('lesion' labels) were imported from {masks}: 2 left out (listed "
                      "above); the project was made with its 2 images.")
    assert len(Project.open(tmp_path / "p").stems) == 2


def test_masks_of_a_class_the_project_lacks_say_how_to_add_it(tmp_path, capsys):
    """A trial read only "Class 'lesion' is not in cli_proj; classes: cervix." and had to find `medseg classes`."""
    project = make_project(tmp_path / "p", n=1, labelled=0)
    masks = tmp_path / "masks"
    masks.mkdir()
    assert cli.main(["import", str(project.root), "--masks", str(masks), "--class", "polyp"]) != 0
    err = capsys.readouterr().err
    assert "Class 'polyp' is not in" in err and f"Add it first: medseg classes {project.root} --add polyp" in err


def _masks_beside_photos(folder, stems):
    """`x_mask.png` beside each photo `x.png` already in `folder` (a trial's photo folder of masks beside photos)."""
    for stem in stems:
        write_png(folder / f"{stem}_mask.png", disc(r=12).astype(np.uint8) * 255)
    return folder


def test_masks_beside_the_photos_a_project_was_made_from_import_into_it(tmp_path, capsys):
    """Outside CLI trial: `medseg import PROJECT --masks PHOTOS --replace` from the folder the project's photos came
    from took each photo as its own mask ('using mask x.jpg, not x_mask.jpg'), refused it as a photo and said no mask
    was imported; a new project from that folder imported them. No image is ever its own mask, by either path."""
    project = make_project(tmp_path / "p", n=3)
    photos = _masks_beside_photos(tmp_path / "p_src", project.stems)  # make_project's photos: p_src/img*.png
    assert cli.main(["import", str(project.root), "--masks", str(photos), "--class", "lesion", "--replace"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Imported 3 'lesion' labels from ") and "match no image" not in out + err
    assert "3 files are the images' own photos (img0.png, img1.png, img2.png), not their masks." in out
    assert "using mask" not in err and "does not look like a mask" not in err
    assert all(np.array_equal(project.load_label("lesion", s), disc(r=12)) for s in project.stems)


def test_a_new_project_takes_no_copy_of_a_photo_in_the_masks_folder_as_its_mask(tmp_path, capsys):
    """The same rule for `medseg import SRC NEW --masks DIR` where DIR holds copies of the photos beside masks."""
    import shutil

    from tests.workers.helpers import make_images

    images = make_images(tmp_path / "img", n=2)
    copies = tmp_path / "copies"
    shutil.copytree(tmp_path / "img", copies)
    _masks_beside_photos(copies, [p.stem for p in images])
    assert cli.main(["import", str(tmp_path / "img"), str(tmp_path / "new"), "--layout", "folder", "--masks",
                     str(copies), "--class", "lesion"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Imported 2 images (2 with 'lesion' labels) into ") and "using mask" not in err
    project = Project.open(tmp_path / "new")
    assert all(np.array_equal(project.load_label("lesion", s), disc(r=12)) for s in project.stems)


def test_a_copy_of_a_photo_beside_it_is_named_as_the_photo_by_a_new_project(tmp_path, capsys):
    """Fault injection: `medseg import SRC NEW --layout folder --masks SRC` where SRC holds `img0_mask.png`, a byte
    copy of the photo `img0.png`: neither an image nor a mask, and the warning says it is the photo."""
    import shutil

    from tests.workers.helpers import make_images

    make_images(tmp_path / "img", n=2)
    shutil.copyfile(tmp_path / "img" / "img0.png", tmp_path / "img" / "img0_mask.png")
    assert cli.main(["import", str(tmp_path / "img"), str(tmp_path / "new"), "--layout", "folder", "--masks",
                     str(tmp_path / "img"), "--class", "lesion"]) == 0
    _out, err = capsys.readouterr()
    assert Project.open(tmp_path / "new").stems == ["img0", "img1"]
    assert "1 file(s) in " in err and "img are the images' own photos (like img0_mask.png), never their masks" in err
