"""Options several commands share, and the parsing of their values.

Every number a command takes is read by one of the type functions below, so a
nonsensical value (--epochs 0, --batch-size -1, --t nan) is refused by the
argument parser, in one line, before TensorFlow does any work.
"""

import argparse
import math

from dfl_keras import plots


def add_model(parser):
    parser.add_argument("--model", help="a preset name or a .keras model file (default: "
                        "$DFL_MODEL, else the dfl_celeba64 preset)")


def add_watermark(parser):
    parser.add_argument("--watermark", action="store_true", help="also mark the images visibly")


def add_overwrite(parser):
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files "
                        "that dfl_keras did not write (its own are always replaced)")


def add_edits(parser):
    parser.add_argument("--attrs", nargs="+", type=combo, metavar="COMBO", help="edits, one row "
                        "each: a name, or names joined by + (e.g. Smiling Smiling+Bald)")
    parser.add_argument("--t", nargs="+", type=finite, default=list(plots.DEFAULT_T),
                        help="strengths, one column each (default: %(default)s)")


def add_data(parser):
    """DATA and how to read it. The defaults of --split and --limit are the commands' own
    (see common.open_data): argparse's set_defaults on one command would change them for all."""
    parser.add_argument("data", metavar="DATA", help="a CelebA folder (official, Kaggle or "
                        "CelebA-HQ layout), a folder of images, or tfds:celeb_a")
    parser.add_argument("--split", choices=("train", "validation", "test", "all"),
                        help="CelebA split: train, validation, test or all "
                        "(default: test for evaluate, train otherwise)")
    parser.add_argument("--labels", metavar="CSV", help="attribute labels for a plain image folder")
    parser.add_argument("--crop", choices=("center", "celeba"),
                        help="centre square, or CelebA's face box (default: the source's own)")
    parser.add_argument("--limit", type=count, metavar="N", help="read only the first N images "
                        "(default: all; 2000 for latent-map)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip damaged or unlabelled images of a folder (each is logged)")


def edit(text):
    """NAME=T (or NAME alone, for the vector's default strength) from --attr."""
    name, equals, value = text.partition("=")
    if name and equals and not value:
        raise argparse.ArgumentTypeError(f"{text!r} has no t after =: give one (Bald=1.2), or "
                                         f"drop the = for the calibrated t ({name})")
    if name:
        try:
            return name, finite(value) if value else None
        except argparse.ArgumentTypeError:
            pass
    raise argparse.ArgumentTypeError(f"expected NAME=T with T a finite number, such as "
                                     f"Bald=1.2; got {text!r}")


def count(text):
    """A whole number of at least 1: epochs, batch size, image size, faces, steps, --limit...

    Example:
        >>> count("3")
        3
    """
    return _whole(text, minimum=1)


def frames(text):
    """Frames of a transition: a whole number of at least 2 (its two ends)."""
    return _whole(text, minimum=2)


def natural(text):
    """A whole number of at least 0: seeds and export versions."""
    return _whole(text, minimum=0)


def _whole(text, minimum):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, "
                                         f"got {value}")
    return value


def finite(text):
    """A finite number (not nan or inf): strengths t.

    Example:
        >>> finite("-0.5")
        -0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive(text):
    """A finite number above 0: learning rates, frames per second."""
    value = finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def non_negative(text):
    """A finite number of at least 0: loss weights (0 turns a term off)."""
    value = finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {text!r}")
    return value


def plain_name(text):
    """A file or folder name without a path (--name of export): it must stay inside --base."""
    if not text or text in (".", "..") or "/" in text or "\\" in text:
        raise argparse.ArgumentTypeError(f"expected a plain name without / (such as dfl), "
                                         f"got {text!r}")
    return text


def combo(text):
    """Smiling+Bald -> ["Smiling", "Bald"]."""
    names = text.split("+")
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected a name or names joined by +, such as "
                                         f"Smiling+Bald; got {text!r}")
    return names
