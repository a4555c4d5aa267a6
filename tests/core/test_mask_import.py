"""Masks from a folder into an open project (File → Import masks…): matched by name, labels (partial files as
sparse labels) or regions of interest, never overwriting what an image has, every file accounted for."""

import numpy as np
import pytest

from medseg_gui.core.errors import ProjectError
from medseg_gui.core.file_end import ENDS_EARLY
from medseg_gui.core.images import read_mask, write_png
from medseg_gui.core.label_status import CONFIRMED_KEY, marked
from medseg_gui.core.mask_import import ROI, import_masks
from medseg_gui.core.project import Project
from tests.workers.helpers import H, W, disc, make_project


def test_labels_are_matched_by_name_kept_where_one_exists_and_bad_files_are_named(tmp_path):
    project = make_project(tmp_path / "p", n=4, labelled=1)  # the first image has a lesion label already
    first, second, third, fourth = project.stems
    before = read_mask(project.label_path("lesion", first))
    folder = tmp_path / "masks"
    folder.mkdir()
    write_png(folder / f"{first}.png", np.zeros((H, W), np.uint8))  # would empty its label: must not
    write_png(folder / f"{second}_mask.png", disc().astype(np.uint8) * 255)
    partial = np.full((H, W), 128, np.uint8)
    partial[:10] = 0
    partial[disc(r=4)] = 255
    write_png(folder / f"{third}.png", partial)
    label_map = np.zeros((H, W), np.uint8)
    label_map[:20], label_map[30:] = 1, 2
    write_png(folder / f"{fourth}.png", label_map)
    write_png(folder / "unrelated.png", np.zeros((H, W), np.uint8))
    result = import_masks(project, folder, "lesion")
    assert result.imported == (second, third) and result.kept == (first,) and result.unmatched == 1
    assert len(result.failed) == 1 and result.failed[0].startswith(f"{fourth}.png: ") and "label map" in \
        result.failed[0]
    np.testing.assert_array_equal(read_mask(project.label_path("lesion", first)), before)
    np.testing.assert_array_equal(project.load_label("lesion", second), disc())
    pixels = project.load_label_pixels("lesion", third)
    assert pixels.annotated is not None and pixels.annotated[:10].all() and not pixels.annotated[20:, :].all()
    assert not project.has_label("lesion", fourth)
    # the whole mask is confirmed complete (never doubted where a model predicts more), the partial file is not
    assert marked(project, CONFIRMED_KEY, "lesion") == {second}
    assert marked(Project.open(project.root), CONFIRMED_KEY, "lesion") == {second}  # saved
    text = result.summary(folder)
    assert text.startswith("Imported 2 'lesion' labels from ") and "1 image keeps its own 'lesion' label" in text
    assert "1 file matches no image's name" in text and "1 left out: " in text
    with pytest.raises(ProjectError):
        import_masks(project, folder, "no such class")


def test_regions_of_interest_are_imported_and_never_replaced(tmp_path):
    project = make_project(tmp_path / "p", n=2)
    first, second = project.stems
    project.save_roi(first, disc(r=20))
    folder = tmp_path / "fov"
    folder.mkdir()
    for stem in (first, second):
        write_png(folder / f"{stem}_fov.png", disc(r=15).astype(np.uint8) * 255)
    write_png(folder / "small.png", np.zeros((4, 4), np.uint8))
    result = import_masks(project, folder, ROI)
    assert result.imported == (second,) and result.kept == (first,) and result.unmatched == 1
    np.testing.assert_array_equal(project.load_roi(first), disc(r=20))
    np.testing.assert_array_equal(project.load_roi(second), disc(r=15))
    assert result.summary(folder).startswith("Imported 1 region of interest from ")
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    write_png(wrong / f"{first}.png", np.zeros((4, 4), np.uint8))
    write_png(wrong / f"{second}.png", np.zeros((4, 4), np.uint8))
    project.roi_path(second).unlink()
    result = import_masks(project, wrong, ROI)
    assert result.imported == () and len(result.failed) == 1 and "4×4" in result.failed[0]


def test_a_mask_of_the_image_at_another_scale_is_resized_to_it(tmp_path):
    """A trial imported PolypGen's own masks (1350×1080) for the lesion demo's copies of their photos (640×512):
    refused as mis-sized, with nothing to say what to do. The same aspect ratio is the image at another scale."""
    import cv2

    project = make_project(tmp_path / "p", n=2)
    first, second = project.stems
    folder = tmp_path / "big"
    folder.mkdir()
    big = cv2.resize(disc(r=9).astype(np.uint8) * 255, (W * 2, H * 2), interpolation=cv2.INTER_NEAREST)
    write_png(folder / f"{first}.png", big)
    write_png(folder / f"{second}.png", np.zeros((H * 2, W * 3), np.uint8))  # another shape: refused
    result = import_masks(project, folder, "lesion")
    assert result.imported == result.resized == (first,)
    assert abs(int(project.load_label("lesion", first).sum()) - int(disc(r=9).sum())) <= 4
    assert len(result.failed) == 1 and f"it is {W * 3}×{H * 2} pixels, the image {W}×{H}" in result.failed[0]
    text = result.summary(folder)
    assert "(1 of them drawn on the image at another scale, resized to it: " in text and ".." not in text


def test_a_label_covering_nearly_all_of_its_image_is_said_to_be_perhaps_inverted(tmp_path, caplog):
    """Fault injection: a black object on a white background was imported as 98 % object without a word."""
    from medseg_gui.core.importers import import_dataset

    project = make_project(tmp_path / "p", n=2, labelled=0)
    first, second = project.stems
    folder = tmp_path / "masks"
    folder.mkdir()
    write_png(folder / f"{first}.png", np.where(disc(), 0, 255).astype(np.uint8))  # black object on white
    write_png(folder / f"{second}.png", disc().astype(np.uint8) * 255)
    result = import_masks(project, folder, "lesion")
    assert result.imported == (first, second) and result.mostly_object == (first,)
    assert f"1 covers over 90% of its image, perhaps inverted ({first})" in result.summary(folder)
    images = tmp_path / "images"
    images.mkdir()
    for stem in project.stems:
        write_png(images / f"{stem}.png", project.load_image(stem))
    import_dataset(images, tmp_path / "q", "folder", masks=folder, cls="lesion")
    said = [r.getMessage() for r in caplog.records if "of its image" in r.getMessage()]
    assert len(said) == 1 and f"{first}.png covers " in said[0] and "black background" in said[0]


def _photo(path, seed):
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8))


def test_masks_beside_the_photos_of_a_folder_project_import_from_its_own_folder(tmp_path):
    """A new-user trial chose the folder project's own folder in File → Import masks…: every listed "image" was
    matched to its own file, so the masks came in as their own labels and each photo was left out as "does not look
    like a mask". An image's own file is never its mask; a file named after another image is that image's mask."""
    import cv2

    from medseg_gui.core.project import Project

    folder = tmp_path / "clinic"
    folder.mkdir()
    write_png(folder / "a_mask.png", disc().astype(np.uint8) * 255)  # alone: listed as an image (an older project)
    old = Project.open_or_create_for_folder(folder)
    for i, name in enumerate(["a.jpg", "cervix.jpg", "scan.jpg", "scan_2.jpg", "lonely.jpg"]):
        _photo(folder / name, i + 1)
    cv2.imwrite(str(folder / "cervix_lesion_mask.jpg"), disc(r=12).astype(np.uint8) * 255)
    write_png(folder / "scan_mask.png", disc(r=5).astype(np.uint8) * 255)
    write_png(folder / "scan_2_mask.png", disc(r=7).astype(np.uint8) * 255)
    project = Project.open_or_create_for_folder(old.root)
    assert project.stems == ["a_mask", "a", "cervix", "lonely", "scan", "scan_2"]
    result = import_masks(project, folder, "lesion")
    assert sorted(result.imported) == ["a", "cervix", "scan", "scan_2"] and result.failed == ()
    assert result.unmatched == 0 and "match no image" not in result.summary(folder)
    np.testing.assert_array_equal(project.load_label("lesion", "a"), disc())
    np.testing.assert_array_equal(project.load_label("lesion", "scan"), disc(r=5))
    np.testing.assert_array_equal(project.load_label("lesion", "scan_2"), disc(r=7))
    assert abs(int(project.load_label("lesion", "cervix").sum()) - int(disc(r=12).sum())) <= 8
    assert not project.has_label("lesion", "a_mask") and not project.has_label("lesion", "lonely")


@pytest.mark.parametrize("mask, hint", [
    ("21_TRAINING.png", "1 differs from an image's name only in upper/lower case (like 21_TRAINING.png)"),
    ("21_manual1.png", "names like 21_training.jpg and 21_manual1.png share only their first part: rename the masks "
                       "<image>_mask.*"),
    ("mask_21_training.png", "mask_21_training.png puts a word before its image's name: rename the masks "
                             "21_training_mask.png (the image's name first)"),  # a trial's clinic folder
])
def test_the_summary_names_a_file_that_matches_no_image_and_why(tmp_path, mask, hint):
    """The window said only "1 file matches no image's name"; the log already knew the likely cause."""
    from medseg_gui.core.project import Project

    _photo(tmp_path / "photos" / "21_training.jpg", 0)
    project = Project.open_or_create_for_folder(tmp_path / "photos")
    folder = tmp_path / "masks"
    write_png(folder / mask, disc().astype(np.uint8) * 255)
    result = import_masks(project, folder, "lesion")
    text = result.summary(folder)
    assert result.imported == () and result.unmatched == 1
    assert f"1 file matches no image's name, like {mask} (a mask is NAME.png" in text and hint in text


def test_replace_copies_each_replaced_label_first_and_never_replaces_an_unreadable_one(tmp_path):
    """An ophthalmologist's trial: File → Import masks… of six expert masks imported none, each image keeping a few
    sketched strokes, and nothing but erasing by hand could replace them. Asked to, the import replaces a label after
    copying it byte for byte into the project's replaced-labels/<time>/<class>/; an unreadable label stays."""
    from medseg_gui.core.export import check_export_target
    from medseg_gui.core.images import subfolder_images
    from medseg_gui.core.label_status import ACCEPTED_KEY, CONFIRMED_KEY, marked
    from medseg_gui.core.mask_import import labelled_matches, scan_masks
    from medseg_gui.core.project import Project
    from medseg_gui.core.project_format import REPLACED_LABELS

    project = make_project(tmp_path / "p", n=4, labelled=1)
    complete, sketched, damaged, bare = project.stems
    project.set_state(complete, CONFIRMED_KEY, ["lesion"])
    project.set_state(complete, ACCEPTED_KEY, ["lesion"])  # (its label was a prediction accepted as it was)
    annotated = disc(r=6) | disc(cx=50, r=4)
    project.save_label("lesion", sketched, disc(r=3), annotated)  # a few strokes (0/128/255)
    project.label_path("lesion", damaged).write_bytes(b"not a png")
    old = {stem: project.label_path("lesion", stem).read_bytes() for stem in (complete, sketched, damaged)}
    folder = tmp_path / "expert"
    folder.mkdir()
    for stem in project.stems:
        write_png(folder / f"{stem}_expert.png", disc(r=12).astype(np.uint8) * 255)
    scan = scan_masks(project, folder)
    assert labelled_matches(project, scan, "lesion") == (complete, sketched, damaged)
    result = import_masks(project, scan, "lesion", replace=True)
    assert result.imported == (complete, sketched, bare) and result.replaced == (complete, sketched)
    assert result.kept == () and len(result.not_replaced) == 1 and result.not_replaced[0].startswith(f"{damaged}: ")
    backup = result.backup
    assert backup.parent.parent == project.root / REPLACED_LABELS and backup.name == "lesion"
    assert sorted(p.name for p in backup.iterdir()) == [f"{complete}.png", f"{sketched}.png"]
    assert all((backup / f"{stem}.png").read_bytes() == old[stem] for stem in (complete, sketched))
    for stem in (complete, sketched, bare):
        pixels = project.load_label_pixels("lesion", stem)
        assert pixels.annotated is None and np.array_equal(pixels.mask, disc(r=12))
    assert project.label_path("lesion", damaged).read_bytes() == old[damaged]  # never replaced
    assert marked(project, CONFIRMED_KEY, "lesion") == {complete, sketched, bare}  # the whole masks, not as before
    assert marked(project, ACCEPTED_KEY, "lesion") == set()  # an expert's mask, no model's: validates again
    text = result.summary(folder)
    assert f"2 of them replaced images' own 'lesion' labels ({complete}, {sketched}), first copied to {backup}" in text
    assert f"1 'lesion' label was not replaced: the app cannot read it, so it stays as it is ({damaged}: " in text
    same = import_masks(project, folder, "lesion", replace=True)  # the labels are these masks now: nothing to do
    assert same.unchanged == (complete, sketched, bare) and same.replaced == same.imported == () and not same.backup
    assert "3 labels were left as they were: already the same as their masks" in same.summary(folder)
    for stem in project.stems:
        write_png(folder / f"{stem}_expert.png", disc(r=10).astype(np.uint8) * 255)
    again = import_masks(project, folder, "lesion", replace=True)  # within the same second: a folder of its own
    assert again.backup != backup and again.replaced == (complete, sketched, bare)
    assert (backup / f"{complete}.png").read_bytes() == old[complete]
    reopened = Project.open(project.root)  # the backups are neither images nor labels of the project
    assert reopened.stems == project.stems and subfolder_images(project.root) == {}
    assert reopened.labelled_stems("lesion") == project.stems
    with pytest.raises(ProjectError, match=REPLACED_LABELS):
        check_export_target(reopened, project.root / REPLACED_LABELS / "export")


def test_replaced_labels_of_a_folder_project_are_not_listed_as_its_images(tmp_path):
    """A plain folder of photos opened as a project lists every image in its own folder: the backups stay out."""
    from medseg_gui.core.project import Project

    folder = tmp_path / "clinic"
    for i in range(2):
        _photo(folder / f"fundus{i}.jpg", i)
    project = Project.open_or_create_for_folder(folder)
    for stem in project.stems:
        project.save_label("lesion", stem, disc(r=3))
    masks = tmp_path / "expert"
    masks.mkdir()
    for stem in project.stems:
        write_png(masks / f"{stem}.png", disc(r=10).astype(np.uint8) * 255)
    assert import_masks(project, masks, "lesion", replace=True).replaced == tuple(project.stems)
    assert Project.open_or_create_for_folder(folder).stems == ["fundus0", "fundus1"]


def _damaged(path):
    """A mask PNG cut in half (a copy that did not finish): its header reads, its pixels do not."""
    write_png(path, disc().astype(np.uint8) * 255)
    path.write_bytes(path.read_bytes()[:60])


@pytest.mark.parametrize("listed", [True, False])
def test_a_damaged_mask_beside_its_photo_is_named_by_every_import(tmp_path, caplog, listed):
    """Fault injection: a truncated s3_mask.png beside s3.png was listed as an image "s3_mask" and File → Import
    masks… from the folder said "Imported 4" without a word of it, while importing the folder into a new project
    said why s3 came in without its label. An unreadable file named after a photo is a mask by its name: each import
    names it with the reason (`listed`: a project made before, which lists it as an image, keeps listing it)."""
    import logging

    from medseg_gui.core.importers import import_dataset
    from medseg_gui.core.project import Project

    folder = tmp_path / "clinic"
    folder.mkdir()
    if listed:  # alone it names no other image: listed (as a project made before this rule did)
        _damaged(folder / "s3_mask.png")
        Project.open_or_create_for_folder(folder)
    for i in range(1, 4):
        _photo(folder / f"s{i}.png", i)
    for i in (1, 2):
        write_png(folder / f"s{i}_mask.png", disc().astype(np.uint8) * 255)
    if not listed:
        _damaged(folder / "s3_mask.png")
    project = Project.open_or_create_for_folder(folder)
    assert ("s3_mask" in project.stems) is listed
    why = f"s3_mask.png: Lesion label file 's3_mask.png' {ENDS_EARLY}"  # the more helpful "not readable"
    result = import_masks(project, folder, "lesion")
    assert sorted(result.imported) == ["s1", "s2"] and result.failed == (why,)
    assert result.summary(folder).endswith(f"; 1 left out: {why}")
    with caplog.at_level(logging.WARNING):
        import_dataset(folder, tmp_path / "new", "folder", cls="lesion", masks=folder)
    assert f"s3.png imported without its label s3_mask.png: Label file 's3_mask.png' {ENDS_EARLY}" in caplog.text


def test_the_summary_joins_the_reasons_without_doubled_punctuation(tmp_path):
    """Fault injection: "…(corrupt or unsupported format).; p3.png …": each reason's full stop before the "; "."""
    project = make_project(tmp_path / "p", n=4)
    folder = tmp_path / "masks"
    folder.mkdir()
    for stem in project.stems:
        _damaged(folder / f"{stem}.png")
    text = import_masks(project, folder, "lesion").summary(folder)
    unreadable = [f"{s}.png: Lesion label file '{s}.png' {ENDS_EARLY.rstrip('.')}" for s in project.stems]
    assert text.endswith("; 4 left out: " + "; ".join(unreadable[:3]) + "; ….") and ".;" not in text


def test_a_new_project_and_an_open_one_fit_masks_of_another_size_by_one_rule(tmp_path, caplog):
    """Fault injection: a 100×100 mask of a 256×256 image (or one twice its image's size) was resized by File →
    Import masks… and `medseg import PROJECT --masks`, but refused by `medseg import SRC NEWPROJECT --masks`. Both
    resize a mask of the image's aspect ratio alike and refuse another one naming both sizes."""
    import logging

    from medseg_gui.core.importers import import_dataset

    project = make_project(tmp_path / "p", n=3)
    double, odd, other = project.stems  # masks at twice the size, at 100×75 (64×48 → 4:3), of another shape
    folder = tmp_path / "masks"
    folder.mkdir()
    for stem, (w, h) in zip(project.stems, [(W * 2, H * 2), (100, 75), (W, W)]):
        write_png(folder / f"{stem}_mask.png", (np.indices((h, w)).sum(0) < (h + w) // 2).astype(np.uint8) * 255)
    resized: list[str] = []
    with caplog.at_level(logging.WARNING):
        new = import_dataset(project.root / "images", tmp_path / "new", "folder", cls="lesion", masks=folder,
                             resized=resized)
    result = import_masks(project, folder, "lesion")
    assert resized == list(result.resized) == [double, odd] and new.labelled_stems("lesion") == [double, odd]
    for stem in (double, odd):
        np.testing.assert_array_equal(new.load_label("lesion", stem), project.load_label("lesion", stem))
    size = f"it is {W}×{W} pixels, the image {W}×{H} (width×height), and not the image at another scale"
    assert result.failed == (f"{other}_mask.png: {size}",)
    assert f"{other}.png imported without its label {other}_mask.png: {size}" in caplog.text


def test_labels_that_mostly_cover_their_images_are_said_to_look_like_fields_of_view(tmp_path):
    """Outside trial (HRF fundus photos): 8 solid field-of-view discs, ~70 % of each photo, would have been imported
    as 'vessel' labels without a word (under the 90 % of 'perhaps inverted'). When most of an import's labels cover
    over half their image, the summary says they look like fields of view or inverted, and what to do."""
    project = make_project(tmp_path / "p", n=3, labelled=0)
    fov = disc(cy=24, cx=32, r=30)  # clipped top and bottom, like a fundus camera's field of view
    assert 0.5 < fov.mean() < 0.9
    folder = tmp_path / "fov_masks"
    folder.mkdir()
    for stem in project.stems[:2]:
        write_png(folder / f"{stem}_mask.png", fov.astype(np.uint8) * 255)
    write_png(folder / f"{project.stems[2]}_mask.png", disc().astype(np.uint8) * 255)
    result = import_masks(project, folder, "vessel")
    text = result.summary(folder)
    assert result.wide == tuple(project.stems[:2]) and result.mostly_object == ()
    assert f"2 of them cover over 50% of their image ({', '.join(project.stems[:2])}): they look like fields of " \
           "view or inverted masks, not 'vessel' outlines" in text
    assert "labels/vessel/ of the project away and import the folder again as Regions of interest" in text
    lesions = tmp_path / "lesions"  # one wide label among three: a large lesion, no word
    lesions.mkdir()
    for i, stem in enumerate(project.stems):
        write_png(lesions / f"{stem}.png", (fov if i == 0 else disc(r=4)).astype(np.uint8) * 255)
    result = import_masks(project, lesions, "lesion")
    assert result.wide == () and "field" not in result.summary(lesions)
    assert import_masks(project, folder, ROI).wide == ()  # regions of interest are meant to be wide


def test_each_mask_is_counted_as_it_is_done_kept_and_unreadable_ones_too(tmp_path):
    """An outside trial's 250 masks took 8 s with no count in the status bar: the import reports (done, total, mask
    file) after each mask it matched, whatever became of it."""
    project = make_project(tmp_path / "p", n=3, labelled=1)
    first, second, third = project.stems
    folder = tmp_path / "masks"
    folder.mkdir()
    write_png(folder / f"{first}.png", disc().astype(np.uint8) * 255)  # kept: it has a label
    write_png(folder / f"{second}_mask.png", disc().astype(np.uint8) * 255)
    (folder / f"{third}.png").write_bytes(b"not a png")
    counts = []
    result = import_masks(project, folder, "lesion", progress=counts.append)
    assert result.imported == (second,) and result.kept == (first,) and len(result.failed) == 1
    assert [c[:2] for c in counts] == [(1, 3), (2, 3), (3, 3)]
    assert {c[2] for c in counts} == {f"{first}.png", f"{second}_mask.png", f"{third}.png"}


def test_the_summary_says_which_masks_of_turned_photos_to_check(tmp_path, caplog):
    """Trial: File → Import masks… turned a sideways photo's mask upright, or took a 180° photo's as drawn upright,
    and said so only in the log; the summary says it like the masks it left out."""
    import logging

    from PIL import Image

    from medseg_gui.core.importers import import_dataset

    src = tmp_path / "src"
    src.mkdir()
    for name, orientation in (("side.jpg", 6), ("flip.jpg", 3)):
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(src / name, exif=exif)
    project = import_dataset(src, tmp_path / "p", "folder", cls="lesion")
    folder = tmp_path / "masks"
    for stem in ("side", "flip"):
        write_png(folder / f"{stem}.png", disc())  # H x W: the stored pixels' size
    with caplog.at_level(logging.WARNING):
        result = import_masks(project, folder, "lesion")
    side = "side.png fits side.jpg only as stored before the photo's EXIF rotation: turned upright like the photo"
    flip = ("flip.jpg is stored turned (EXIF orientation 3, 180°): its mask flip.png was taken as drawn on the photo "
            "as shown; if it was drawn on the stored pixels, it is upside down - check it in the window")
    assert sorted(result.imported) == ["flip", "side"] and sorted(result.turned) == [flip, side]
    assert f"; {flip}; {side}." in result.summary(folder) or f"; {side}; {flip}." in result.summary(folder)
    assert side in caplog.text and flip in caplog.text  # the CLI's `medseg: warning:` lines


class _Killed(BaseException):
    """The window killed (SIGKILL): nothing after it runs, no `except MedsegError` either."""


def test_a_kill_after_a_replaced_label_is_written_leaves_no_accepted_mark_on_the_imported_mask(tmp_path, monkeypatch):
    """A crash trial: killing the window during File → Import masks… with Replace them, as the 2nd label was written,
    left the expert's mask marked in project.json as the model's accepted prediction (listed "✓ accepted", never
    validated on). The marks are written first: killed after the label file, project.json already says what it is."""
    from medseg_gui.core.label_status import ACCEPTED_KEY, has_mark

    project = make_project(tmp_path / "p", n=3, labelled=3)
    for stem in project.stems:
        project.set_state(stem, ACCEPTED_KEY, ["lesion"])  # each label a prediction accepted as it was
    folder = tmp_path / "expert"
    folder.mkdir()
    for stem in project.stems:
        write_png(folder / f"{stem}.png", disc(r=12).astype(np.uint8) * 255)
    save_label, save, written = project.save_label, project.save, []

    def killed_after_second(cls, stem, *pixels):
        save_label(cls, stem, *pixels)
        written.append(stem)
        if len(written) == 2:
            raise _Killed

    def saved_json():
        if len(written) >= 2:
            raise _Killed  # (no project.json write after the kill either)
        save()

    monkeypatch.setattr(project, "save_label", killed_after_second)
    monkeypatch.setattr(project, "save", saved_json)
    with pytest.raises(_Killed):
        import_masks(project, folder, "lesion", replace=True)
    reopened = Project.open(project.root)
    for stem in written:
        assert np.array_equal(reopened.load_label("lesion", stem), disc(r=12))  # the expert's mask …
        assert not has_mark(reopened, stem, ACCEPTED_KEY, "lesion")  # … never marked as the model's prediction
        assert not has_mark(reopened, stem, CONFIRMED_KEY, "lesion")  # set once saved: first, a kill earlier would
        # have left the OLD label confirmed complete (review)
    again = import_masks(reopened, folder, "lesion", replace=True)  # imported again: the rest, as uninterrupted
    assert again.unchanged == tuple(written) and again.replaced == tuple(s for s in reopened.stems if s not in written)
    assert marked(reopened, ACCEPTED_KEY, "lesion") == set()
    assert marked(reopened, CONFIRMED_KEY, "lesion") == set(reopened.stems)


def test_importing_a_mask_equal_to_the_label_clears_an_accepted_mark_left_by_a_killed_import(tmp_path):
    """Importing again after such a kill said "2 labels were left as they were: already the same as their masks" and
    kept the wrong mark; a label holding its mask's pixels gets an import's marks still (no copy, nothing rewritten)."""
    from medseg_gui.core.label_status import ACCEPTED_KEY, NONE_KEY

    project = make_project(tmp_path / "p", n=3, labelled=3)
    stale, negative, fine = project.stems
    project.set_state(stale, ACCEPTED_KEY, ["lesion"])  # what the killed import left
    project.set_state(negative, NONE_KEY, ["lesion"])
    folder = tmp_path / "expert"
    folder.mkdir()
    for stem in project.stems:
        write_png(folder / f"{stem}.png", project.load_label("lesion", stem).astype(np.uint8) * 255)
    before = {stem: project.label_path("lesion", stem).read_bytes() for stem in project.stems}
    result = import_masks(project, folder, "lesion", replace=True)
    assert result.unchanged == (stale, negative, fine) and result.imported == () and result.backup is None
    assert result.remarked == (stale, negative)
    assert all(project.label_path("lesion", stem).read_bytes() == before[stem] for stem in project.stems)
    reopened = Project.open(project.root)
    assert marked(reopened, ACCEPTED_KEY, "lesion") == marked(reopened, NONE_KEY, "lesion") == set()
    assert marked(reopened, CONFIRMED_KEY, "lesion") == set(project.stems)
    assert (f"2 of them were still marked as an accepted prediction or “no lesion here”: no longer, as imported masks "
            f"({stale}, {negative})") in result.summary(folder)


def test_a_replaced_label_that_cannot_be_saved_keeps_its_marks(tmp_path, monkeypatch):
    """The marks are written before the label; the label not saved (a full disk), they are put back as they were."""
    from medseg_gui.core.label_status import ACCEPTED_KEY

    project = make_project(tmp_path / "p", n=1, labelled=1)
    stem = project.stems[0]
    project.set_state(stem, ACCEPTED_KEY, ["lesion"])
    old = project.label_path("lesion", stem).read_bytes()
    folder = tmp_path / "expert"
    folder.mkdir()
    write_png(folder / f"{stem}.png", disc(r=12).astype(np.uint8) * 255)

    def full_disk(cls, stem, *pixels):
        raise ProjectError(f"Could not save {project.label_path(cls, stem)}: no space left on device.")

    monkeypatch.setattr(project, "save_label", full_disk)
    with pytest.raises(ProjectError, match="no space left"):
        import_masks(project, folder, "lesion", replace=True)
    reopened = Project.open(project.root)
    assert reopened.label_path("lesion", stem).read_bytes() == old
    assert marked(reopened, ACCEPTED_KEY, "lesion") == {stem} and marked(reopened, CONFIRMED_KEY, "lesion") == set()


def test_a_kill_before_a_replaced_label_is_written_leaves_the_old_label_unconfirmed(tmp_path, monkeypatch):
    """Review: the import's marks went to project.json before the label file, "confirmed complete" too, so a kill in
    between left the OLD label (a sparse sketch, a prediction) confirmed complete: never doubted again."""
    from medseg_gui.core.label_status import ACCEPTED_KEY, has_mark

    project = make_project(tmp_path / "p", n=2, labelled=2)
    stem = project.stems[0]
    project.set_state(stem, ACCEPTED_KEY, ["lesion"])
    folder = tmp_path / "expert"
    folder.mkdir()
    write_png(folder / f"{stem}.png", disc(r=12).astype(np.uint8) * 255)

    def killed(cls, stem, *pixels):
        raise _Killed

    monkeypatch.setattr(project, "save_label", killed)
    with pytest.raises(_Killed):
        import_masks(project, folder, "lesion", replace=True)
    reopened = Project.open(project.root)
    assert not has_mark(reopened, stem, CONFIRMED_KEY, "lesion")
    assert not has_mark(reopened, stem, ACCEPTED_KEY, "lesion")  # the old label is no longer said to be the model's
