"""One exception family for everything a user can cause; messages are written for a clinician."""

from __future__ import annotations

import errno
import logging
import os

log = logging.getLogger(__name__)


class MedsegError(Exception):
    """Base class: the GUI shows str(err) in a dialog/status bar, the CLI prints it and exits 1."""


class ImageReadError(MedsegError):
    """An image (or mask) file is missing, empty, corrupt or in an unsupported format."""


class LabelReadError(ImageReadError):
    """A label, region-of-interest or other mask file is missing, empty, corrupt or unsupported."""


class MaskFormatError(LabelReadError):
    """A mask file decodes but its pixel values cannot be read as one class without guessing (a label map with
    several classes, a partial 0/128/255 label where a complete one is needed, two colours of equal brightness)."""


class LabelMapError(MaskFormatError):
    """A mask file holds several classes (a label map): one class per file is needed."""


class ProjectError(MedsegError):
    """A project folder or project.json is missing, unreadable or inconsistent."""


class ProjectFileDamagedError(ProjectError):
    """project.json is not valid JSON, or its entries are missing or invalid; it was only read, nothing changed."""


class LabelSizeError(MedsegError):
    """A label or ROI mask does not have the same width and height as its image; `size` and `image_size` are their
    (width, height) where the raiser knows them."""

    def __init__(self, message: str, size: tuple[int, int] | None = None,
                 image_size: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.size, self.image_size = size, image_size


class NoLabelsError(MedsegError):
    """Training was asked for a class that has no labelled images."""


class ModelError(MedsegError):
    """No trained model exists, or a model file is corrupt/incompatible."""


class WriteError(MedsegError):
    """A file could not be written (disk full, read-only folder, no permission); the message names the file."""


class RegionUnknownError(MedsegError):
    """A class is restricted to another class's region (`roi_class`), and that class has neither a label nor a
    prediction on this image yet; `roi_class` names it."""

    def __init__(self, message: str, roi_class: str) -> None:
        super().__init__(message)
        self.roi_class = roi_class


class CancelledError(MedsegError):
    """A long operation was cancelled by the user."""


_KNOWN_CAUSES = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO)


def write_error(what: str, err: OSError, path: object = None) -> WriteError:
    """WriteError "<what> (<path>): <reason>" for an OSError, on one line; `path` defaults to the one the OSError
    names. An error without an errno (h5py's, several lines with file descriptors and addresses) gives the known
    cause it mentions ("No space left on device"), else its text on one line."""
    where = path if path is not None else err.filename
    text = str(err)
    reason = err.strerror or next((os.strerror(c) for c in _KNOWN_CAUSES if os.strerror(c) in text),
                                  " ".join(text.split())[:300])
    return WriteError(f"{what} ({where}): {reason}" if where else f"{what}: {reason}")


def skip(skipped: list[str] | None, message: str) -> None:
    """Note an image left out: in `skipped` when the caller collects them (to list), else as a warning in the log."""
    if skipped is None:
        log.warning(message)
    else:
        skipped.append(message)
