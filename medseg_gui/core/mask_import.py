"""Masks from a folder into an open project: each matched to an image by its name (core.mask_files.find_masks:
`<stem>.*`, else `<stem>_<anything>.*`; never an image itself: its own file or a copy of its photo), saved as a class's
label (a 0/128/255 partial file as a sparse label) or as the image's region of interest (e.g. a fundus photo's field
of view). Nothing is overwritten unless asked: an image that already has a label of that class (or a region of
interest) keeps it, and the result says which. (A new-user trial with fundus photos and their field-of-view masks found
no way to bring either into a project from the window.) Asked to `replace` (labels only: an expert's masks over a
few sketched strokes, an ophthalmologist's trial), each replaced label is first copied, byte for byte, to
`<project>/replaced-labels/<YYYYmmdd-HHMMSS>/<class>/`; a label the app cannot read is never replaced."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medseg_gui.core.atomic import untaken
from medseg_gui.core.errors import CancelledError, ImageReadError, LabelSizeError, MedsegError
from medseg_gui.core.label_encoding import LIKE_FIELD_OF_VIEW, MOSTLY_OBJECT, LabelPixels, inverted_note, object_share
from medseg_gui.core.label_status import (ACCEPTED_KEY, CONFIRMED_KEY, NONE_KEY, has_mark, record_mark, set_mark,
                                          set_marks)
from medseg_gui.core.mask_files import find_masks, image_files, read_fitted, reasons_text, resized_note, unmatched_hint
from medseg_gui.core.names import shown_name
from medseg_gui.core.project_format import REPLACED_LABELS

log = logging.getLogger(__name__)

ROI = None  # `cls` of an import of regions of interest
IMPORT_KEYS = (ACCEPTED_KEY, NONE_KEY, CONFIRMED_KEY)  # the marks an imported label sets (`_mark_imported`)


@dataclass(frozen=True)
class MasksImported:
    """What `import_masks` did: images given a mask, images that kept the one they had, one line per mask left out
    (unreadable, wrong size, a label map), and how many files in the folder matched no image (the first such file and
    mask_files.unmatched_hint's likely cause)."""

    cls: str | None
    imported: tuple[str, ...]
    kept: tuple[str, ...]
    failed: tuple[str, ...]
    unmatched: int
    resized: tuple[str, ...] = ()  # imported at their image's size: the masks were the image at another scale
    mostly_object: tuple[str, ...] = ()  # labels covering most of their image: maybe inverted (label_encoding)
    unmatched_first: str = ""  # the first file that matches no image, by name
    unmatched_hint: str = ""  # mask_files.unmatched_hint: "; 1 differs from an image's name only …", or ""
    replaced: tuple[str, ...] = ()  # imported over the image's own label (replace), which was copied to `backup`
    backup: Path | None = None  # <project>/replaced-labels/<time>/<class>: the replaced labels, as they were
    not_replaced: tuple[str, ...] = ()  # "<stem>: why" of labels the app could not read, left as they are
    unchanged: tuple[str, ...] = ()  # asked to replace, the label held these very pixels already (no backup made)
    wide: tuple[str, ...] = ()  # most whole labels imported cover over LIKE_FIELD_OF_VIEW: these, fields of view?
    photos: tuple[str, ...] = ()  # files in the folder that are images of the project (or copies): never masks
    turned: tuple[str, ...] = ()  # mask_files.upright's notes: masks of photos stored turned (EXIF), to check
    remarked: tuple[str, ...] = ()  # of `unchanged`: marked an accepted prediction or "no <class> here", cleared

    def summary(self, folder: Path) -> str:
        what = "region of interest" if self.cls is None else f"'{self.cls}' label"
        n = len(self.imported)
        many = "regions of interest" if self.cls is None else f"{what}s"
        text = f"Imported {n} {what if n == 1 else many} from {shown_name(str(folder))}"
        if self.resized:
            text += f" ({resized_note(self.resized)})"
        if self.kept:
            k = len(self.kept)
            text += (f"; {k} image{' keeps its' if k == 1 else 's keep their'} own {what} (nothing was overwritten: "
                     f"{', '.join(self.kept[:3])}{', …' if k > 3 else ''})")
        if self.replaced:
            r, whose = len(self.replaced), "an image's" if len(self.replaced) == 1 else "images'"
            text += (f"; {r} of them replaced {whose} own {what}{'' if r == 1 else 's'} ("
                     f"{', '.join(self.replaced[:3])}{', …' if r > 3 else ''}), first copied to "
                     f"{shown_name(str(self.backup))} (to undo, copy {'it' if r == 1 else 'them'} back into "
                     f"labels/{self.cls}/ of the project)")
        if self.unchanged:
            u = len(self.unchanged)
            text += (f"; {u} label{' was' if u == 1 else 's were'} left as {'it was' if u == 1 else 'they were'}: "
                     f"already the same as {'its mask' if u == 1 else 'their masks'} ("
                     f"{', '.join(self.unchanged[:3])}{', …' if u > 3 else ''})")
        if self.remarked:
            r = len(self.remarked)
            text += (f"; {r} of them {'was' if r == 1 else 'were'} still marked as an accepted prediction or “no "
                     f"{self.cls} here”: no longer, as {'an imported mask' if r == 1 else 'imported masks'} ("
                     f"{', '.join(self.remarked[:3])}{', …' if r > 3 else ''})")
        if self.not_replaced:
            u = len(self.not_replaced)
            text += (f"; {u} {what}{' was' if u == 1 else 's were'} not replaced: the app cannot read "
                     f"{'it, so it stays as it is' if u == 1 else 'them, so they stay as they are'} ("
                     f"{reasons_text(self.not_replaced)})")
        if self.unmatched:
            like = f", like {self.unmatched_first}" if self.unmatched_first else ""
            text += (f"; {self.unmatched} file{' matches' if self.unmatched == 1 else 's match'} no image's name"
                     f"{like} (a mask is NAME.png or NAME_anything.png for the image NAME){self.unmatched_hint}")
        if self.photos:
            p, names = len(self.photos), f"{', '.join(self.photos[:3])}{', …' if len(self.photos) > 3 else ''}"
            text += (f"; 1 file is an image's own photo ({names}), not its mask" if p == 1 else
                     f"; {p} files are the images' own photos ({names}), not their masks")
        if self.wide:
            text += _wide_note(self.wide, self.cls)
        elif self.mostly_object:
            m = len(self.mostly_object)
            text += (f"; {m} cover{'s' if m == 1 else ''} over {MOSTLY_OBJECT:.0%} of {'its' if m == 1 else 'their'} "
                     f"image, perhaps inverted ({', '.join(self.mostly_object[:3])}{', …' if m > 3 else ''}): the "
                     "brighter value is read as the object; if it is the dark part, save the masks with a black "
                     f"background, move these images' files in labels/{self.cls}/ of the project away and import "
                     "again")
        if self.turned:
            text += f"; {reasons_text(self.turned)}"
        if self.failed:
            text += f"; {len(self.failed)} left out: {reasons_text(self.failed)}"
        return text.rstrip(".") + "."


@dataclass(frozen=True)
class MaskScan:
    """A masks folder read once (`scan_masks`): File → Import masks… asks keep or replace (`labelled_matches`) and
    then imports from the same scan, so the folder is not read, nor its unmatched files logged, twice."""

    folder: Path  # resolved: its files compare equal to the project's image paths (a resolved root)
    images: dict[Path, str]  # image file → project stem
    by_stem: dict[str, Path]  # project stem → its mask
    unclaimed: tuple[Path, ...]  # the files no image claims
    files: tuple[Path, ...]  # every image file in the folder
    photos: tuple[Path, ...] = ()  # files that are images of the project (or byte copies): never their own masks
    shared: dict[Path, str] = field(default_factory=dict)  # mask → why neither of two images of one name gets it


def scan_masks(project, folder: Path) -> MaskScan:
    """Which mask in `folder` is which image's of `project` (mask_files.find_masks, which logs what matches no
    image). Reads the folder: call it off the GUI thread."""
    folder = Path(folder).resolve()
    images = {project.image_path(stem): stem for stem in project.stems}
    found = find_masks(list(images), folder)
    return MaskScan(folder, images, {images[image]: mask for image, mask in found.masks.items()},
                    tuple(found.unclaimed), tuple(image_files(folder)), tuple(found.photos), found.shared)


def import_masks(project, masks: Path | MaskScan, cls: str | None, should_stop: Callable[[], bool] = lambda: False,
                 replace: bool = False,
                 progress: Callable[[tuple[int, int, str]], None] = lambda _p: None) -> MasksImported:
    """The masks in a folder (or its `scan_masks` scan) as labels of `cls` (ROI: regions of interest) of the images
    of `project` they match; CancelledError between images when `should_stop()`; `(done, total, mask file name)`
    reported after each mask. With `replace` (labels only) an image's own `cls` label is replaced by its mask, first
    copied to <project>/replaced-labels/<time>/<cls>/ (one that cannot be read stays); one holding its mask's pixels
    already is left as it is, with an imported label's marks (`_mark_imported`)."""
    if cls is not ROI:
        project.class_spec(cls)  # ProjectError for an unknown class before anything is read
    scan = masks if isinstance(masks, MaskScan) else scan_masks(project, masks)
    folder, images, by_stem, unclaimed = scan.folder, scan.images, scan.by_stem, scan.unclaimed
    imported, kept, resized, mostly, replaced, not_replaced, unchanged, turned = [], [], [], [], [], [], [], []
    remarked: list[str] = []  # unchanged labels still marked an accepted prediction or "no <class> here"
    failed = [f"{shown_name(mask.name)}: {why}" for mask, why in scan.shared.items()]  # could be either image's
    backup: Path | None = None
    complete: list[str] = []  # labels imported whole (not 0/128/255 partial files)
    wide: list[str] = []  # whole labels covering over LIKE_FIELD_OF_VIEW of their image
    for stem, path in _counted(by_stem.items(), progress):
        if should_stop():
            raise CancelledError("Import cancelled.")
        exists = project.roi_path(stem).exists() if cls is ROI else project.has_label(cls, stem)
        if exists and (cls is ROI or not replace):
            kept.append(stem)
            continue
        try:
            pixels, scaled, note = read_fitted(path, "region of interest" if cls is ROI else f"{cls} label",
                                               project.image_path(stem), project.image_size(stem), cls is not ROI)
        except (ImageReadError, LabelSizeError) as err:  # LabelReadError and MaskFormatError are ImageReadErrors
            failed.append(f"{shown_name(path.name)}: {err}")
            continue
        if exists:
            own = _own_label(project, cls, stem)
            if isinstance(own, str):
                not_replaced.append(f"{stem}: {own}")
                continue
            if _same(own, pixels):  # the label is this mask already: nothing to replace, nothing to back up, but
                unchanged.append(stem)  # marked as imported (repairs an import killed after writing the label)
                if _mark_imported(project, stem, cls, not pixels.sparse):
                    remarked.append(stem)
                continue
            backup = backup or _backup_folder(project.root, cls)
            project.copy_label(cls, stem, backup / project.label_path(cls, stem).name)
            replaced.append(stem)
        if scaled:
            resized.append(stem)
        if note:
            turned.append(note)
        if cls is ROI:
            project.save_roi(stem, pixels.mask)
        else:
            _save_marked(project, cls, stem, pixels, exists)
            if inverted_note(pixels) is not None:
                mostly.append(stem)
            if not pixels.sparse:
                complete.append(stem)
            if (object_share(pixels) or 0.0) > LIKE_FIELD_OF_VIEW:
                wide.append(stem)
        imported.append(stem)
    # a complete mask file is complete as given: not doubted where a model predicts more (trial, session 41)
    set_marks(project, complete, CONFIRMED_KEY, cls, True)
    log.info("imported %d mask(s) of %s from %s (%d kept, %d replaced, %d left out)", len(imported),
             "regions of interest" if cls is ROI else cls, folder, len(kept), len(replaced), len(failed))
    used = set(by_stem.values())
    unused = [f for f in scan.files if f not in used and f not in images and f not in scan.photos  # nor a photo
              and f not in scan.shared]
    return MasksImported(cls, tuple(imported), tuple(kept), tuple(failed), len(unused), tuple(resized), tuple(mostly),
                         shown_name(unclaimed[0].name) if unclaimed else "",
                         unmatched_hint(list(images), list(unclaimed)) if unclaimed else "",
                         tuple(replaced), backup, tuple(not_replaced), tuple(unchanged),
                         tuple(wide) if 2 * len(wide) > len(complete) else (),
                         tuple(shown_name(p.name) for p in scan.photos), tuple(turned), tuple(remarked))


def _counted(matches: Collection[tuple[str, Path]], progress: Callable[[tuple[int, int, str]], None]
             ) -> Iterator[tuple[str, Path]]:
    """Each (stem, mask) of `matches`; `(done, total, mask file name)` reported once the loop is done with it (it
    asks for the next, `continue` included; not after an exception)."""
    for done, (stem, path) in enumerate(matches, start=1):
        yield stem, path
        progress((done, len(matches), shown_name(path.name)))


def _wide_note(stems: tuple[str, ...], cls: str | None) -> str:
    """Most labels of an import cover over LIKE_FIELD_OF_VIEW of their image: what they may be (an outside trial
    imported 8 solid field-of-view discs, ~70 % of each fundus photo, as 'vessel' labels without a word)."""
    n, names = len(stems), f"{', '.join(stems[:3])}{', …' if len(stems) > 3 else ''}"
    one = n == 1
    its, it, marks = ("its", "it", "it marks") if one else ("their", "them", "they mark")
    looks = (f"it looks like a field of view or an inverted mask, not a '{cls}' outline" if one else
             f"they look like fields of view or inverted masks, not '{cls}' outlines")
    return (f"; {n} of them cover{'s' if one else ''} over {LIKE_FIELD_OF_VIEW:.0%} of {its} image ({names}): "
            f"{looks}. If {marks} where the images are trained and scored, move these images' files in "
            f"labels/{cls}/ of the project away and import the folder again as Regions of interest; if the object is "
            f"the dark part, save {it} with a black background, move the files away and import again")


def labelled_matches(project, scan: MaskScan, cls: str) -> tuple[str, ...]:
    """The images of `project` that have a mask in `scan` and a `cls` label already: what `import_masks` keeps, or
    with `replace` replaces (File → Import masks… asks which). Checks label files: call it off the GUI thread."""
    project.class_spec(cls)
    return tuple(stem for stem in scan.by_stem if project.has_label(cls, stem))


def _save_marked(project, cls: str, stem: str, pixels: LabelPixels, replacing: bool) -> None:
    """Save `pixels` as `stem`'s `cls` label; one `replacing` another is first given an imported label's marks
    (`_mark_imported`), as a journal is written first: a kill between the two writes leaves these marks beside the old
    label, which importing again replaces, never an expert's mask marked as the model's accepted prediction (a crash
    trial: Retrain never validated on it, and importing again kept the mark). "Confirmed complete" waits for the
    save (the import's end sets it): set first, a kill would leave the OLD label confirmed (review). Not saved, the
    marks are put back where project.json can still be written (else logged)."""
    if not replacing:
        project.save_label(cls, stem, *pixels)
        return
    before = {key: has_mark(project, stem, key, cls) for key in IMPORT_KEYS}
    _mark_imported(project, stem, cls, complete=False)
    try:
        project.save_label(cls, stem, *pixels)
    except MedsegError:
        for key, on in before.items():
            if not record_mark(project, stem, key, cls, on):
                log.warning("could not put back the '%s' mark of %s (%s) after its label failed to save", key, stem,
                            cls)
        raise


def _mark_imported(project, stem: str, cls: str, complete: bool) -> bool:
    """Give `stem`'s `cls` label an imported mask's marks in project.json: no accepted prediction, not "no <class>
    here" (said of the label it replaced, if any), confirmed complete when `complete` (a whole mask is complete as
    given). Whether it was marked an accepted prediction or "no <class> here"; MedsegError when not saved."""
    was = has_mark(project, stem, ACCEPTED_KEY, cls) or has_mark(project, stem, NONE_KEY, cls)
    for key in IMPORT_KEYS:
        set_mark(project, stem, key, cls, complete and key == CONFIRMED_KEY)
    return was


def _own_label(project, cls: str, stem: str) -> LabelPixels | str:
    """`stem`'s own `cls` label, or why the app cannot read it (damaged, mis-sized, a label map): such a file is
    never replaced (the window's rule for unreadable labels: kept, never overwritten)."""
    try:
        return project.load_label_pixels(cls, stem)
    except (ImageReadError, LabelSizeError) as err:
        return str(err).rstrip(".")


def _same(a: LabelPixels, b: LabelPixels) -> bool:
    """Whether two labels hold the same pixels (objects, and which are annotated)."""
    if (a.annotated is None) != (b.annotated is None):
        return False
    return bool(np.array_equal(a.mask, b.mask) and (a.annotated is None or np.array_equal(a.annotated, b.annotated)))


def _backup_folder(root: Path, cls: str) -> Path:
    """<root>/replaced-labels/<YYYYmmdd-HHMMSS>/<cls>, the time with -2, -3 … when an import in the same second
    took it (created by the first copy into it)."""
    base = root / REPLACED_LABELS / time.strftime("%Y%m%d-%H%M%S")
    return untaken(base, lambda n: f"{base.name}-{n}") / cls

