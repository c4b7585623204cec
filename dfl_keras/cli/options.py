"""Options several commands share, and the parsing of their values."""

import argparse

from dfl_keras import plots


def add_model(parser):
    parser.add_argument("--model", help="a preset name or a .keras model file (default: "
                        "$DFL_MODEL, else the dfl_celeba64 preset)")


def add_watermark(parser):
    parser.add_argument("--watermark", action="store_true", help="also mark the images visibly")


def add_edits(parser):
    parser.add_argument("--attrs", nargs="+", type=combo, metavar="COMBO", help="edits, one row "
                        "each: a name, or names joined by + (e.g. Smiling Smiling+Bald)")
    parser.add_argument("--t", nargs="+", type=float, default=list(plots.DEFAULT_T),
                        help="strengths, one column each (default: %(default)s)")


def add_data(parser):
    """DATA and how to read it. The defaults of --split and --limit are the commands' own
    (see common.open_data): argparse's set_defaults on one command would change them for all."""
    parser.add_argument("data", metavar="DATA", help="a CelebA folder (official, Kaggle or "
                        "CelebA-HQ layout), a folder of images, or tfds:celeb_a")
    parser.add_argument("--split", help="CelebA split: train, validation, test or all "
                        "(default: test for evaluate, train otherwise)")
    parser.add_argument("--labels", metavar="CSV", help="attribute labels for a plain image folder")
    parser.add_argument("--crop", choices=("center", "celeba"),
                        help="centre square, or CelebA's face box (default: the source's own)")
    parser.add_argument("--limit", type=int, metavar="N", help="read only the first N images "
                        "(default: all; 2000 for latent-map)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip damaged or unlabelled images of a folder (each is logged)")


def edit(text):
    """NAME=T (or NAME alone, for the vector's default strength) from --attr."""
    name, _, value = text.partition("=")
    if name:
        try:
            return name, float(value) if value else None
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"expected NAME=T such as Bald=1.2, got {text!r}")


def combo(text):
    """Smiling+Bald -> ["Smiling", "Bald"]."""
    return text.split("+")
