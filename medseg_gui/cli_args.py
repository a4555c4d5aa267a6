"""Argument checks for `medseg`: a value that would run but give a useless result (a threshold of 1.5 writes empty
masks, --minutes 0 stores a one-step model) is refused before anything starts, as one `medseg: error:` line."""

from __future__ import annotations

import argparse
import math
import sys
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, `medseg: error: ...`, exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"medseg: error: {message} (see: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def probability(text: str) -> float:
    """A threshold in [0, 1]."""
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def positive_number(text: str) -> float:
    """A finite number > 0 (e.g. minutes of training)."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1 (epochs, steps, sizes)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def colour(text: str) -> tuple[int, int, int]:
    """'#ff8000', 'ff8000' or '255,128,0' (as `medseg classes` lists it) → (255, 128, 0)."""
    hex_text = text.removeprefix("#")
    try:
        if len(hex_text) == 6 and "," not in text:
            return tuple(int(hex_text[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
        rgb = tuple(int(v) for v in text.split(","))
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise argparse.ArgumentTypeError(f"expected a colour such as #ff8000 or 255,128,0, got '{text}'")
    return rgb  # type: ignore[return-value]


class ColourOf(argparse.Action):
    """`--recolour NAME COLOUR` → (NAME, (r, g, b)); a bad colour is a usage error like any other."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        name, text = values
        try:
            setattr(namespace, self.dest, (name, colour(text)))
        except argparse.ArgumentTypeError as err:
            raise argparse.ArgumentError(self, str(err)) from None


def import_usage(args: argparse.Namespace) -> str | None:
    """Why `medseg import`'s arguments do not fit together, or None: SRC PROJECT --layout L creates a project;
    PROJECT alone (an existing project) takes --masks and/or --roi, and --replace."""
    if args.project is not None:
        if args.layout is None:
            return "--layout is needed to create a project (drive, chase, stare, folder or labelme)"
        if args.replace:
            return ("--replace is for masks imported into an existing project: medseg import PROJECT --masks DIR "
                    "--class CLASS --replace")
        return None
    if args.layout is not None:
        return ("--layout goes with SRC PROJECT (a new project); to import into an existing project: medseg import "
                "PROJECT --masks DIR")
    if args.masks is None and args.roi is None:
        return "nothing to import into the project: give --masks DIR (labels of --class) and/or --roi DIR"
    if args.replace and args.masks is None:
        return "--replace replaces labels (--masks DIR); a region of interest an image has is never replaced"
    return None


def remove_usage(args: argparse.Namespace) -> str | None:
    """Why `medseg remove`'s arguments do not fit together, or None: IMAGEs to remove, or --restore, or
    --list-removed."""
    given = sum((bool(args.stems), args.restore is not None, args.list_removed))
    if given == 0:
        return "name the IMAGEs to remove, or --restore IMAGE to bring one back, or --list-removed"
    if given > 1:
        return "IMAGEs to remove, --restore and --list-removed go one at a time"
    return None


def classes_usage(args: argparse.Namespace) -> str | None:
    """Why `medseg classes`' arguments do not fit together, or None: --colour is the colour of a class --add adds."""
    if args.colour is not None and args.add is None:
        return "--colour goes with --add (to change an existing class's colour: --recolour NAME COLOUR)"
    return None


def models_usage(args: argparse.Namespace) -> str | None:
    """Why `medseg models`' arguments do not fit together, or None: --predict predicts with the model --use makes
    current."""
    if args.predict and args.use is None:
        return "--predict re-predicts with the model chosen by --use MODEL; give both (or run `medseg predict`)"
    return None


def usage_problem(args: argparse.Namespace) -> str | None:
    """Why a command's arguments do not fit together (a usage error: exit status 2, as argparse's own), or None."""
    checks = {"import": import_usage, "remove": remove_usage, "classes": classes_usage, "models": models_usage}
    check = checks.get(args.command)
    return None if check is None else check(args)
