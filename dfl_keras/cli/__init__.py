"""The `dfl` command: try the method, edit photos, train a model, draw its pictures.

    dfl demo                                  sampled faces, edited over a t sweep
    dfl insert photo.jpg --attr Smiling=0.8   edit your own photos
    dfl app                                   ... or in your browser, with sliders
    dfl bulk-insert 'photos/*.jpg' --attr Smiling -o edited   many photos, on Apache Beam
    dfl train DATA -o model.keras             train the autoencoder (resumable)
    dfl fit-vectors DATA --model model.keras  fit the attribute vectors into it
    dfl grid | transition | latent-map        the method's pictures
    dfl evaluate model.keras DATA             how well edits work, judged by a classifier
    dfl export model.keras                    a SavedModel for TF Serving

Every image written says in its metadata that it is synthetic, which model
made it and which edits it applies (dfl_keras.provenance). Errors print one
line on stderr and exit with status 1 (2 for a wrong option or value, refused
before any work; 130 after Ctrl-C); --verbose prints the traceback instead.
"""

import argparse
import sys
import traceback
import warnings

from dfl_keras.cli import (app, bulk_insert, demo, evaluate, export, fit_vectors, grid, insert,
                           latent_map, train, transition)
from dfl_keras.cli.errors import one_line

# Each module holds one command: SUMMARY, add_arguments(parser) and run(args), and may say
# in INTERRUPTED what to do after Ctrl-C.
COMMANDS = {
    "demo": demo,
    "insert": insert,
    "app": app,
    "bulk-insert": bulk_insert,
    "train": train,
    "fit-vectors": fit_vectors,
    "grid": grid,
    "transition": transition,
    "latent-map": latent_map,
    "evaluate": evaluate,
    "export": export,
}


def main(argv=None):
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if getattr(COMMANDS[args.command], "TAKES_PIPELINE_OPTIONS", False):
        args.pipeline_options = unknown  # e.g. Beam's --project=P, passed on as they are
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        with warnings.catch_warnings():  # restores the warnings' printer afterwards
            warnings.showwarning = print_note  # what the library warns about, one line each
            status = args.run(args)  # a status of its own, e.g. 1 if a photo had no face
    except KeyboardInterrupt:
        hint = getattr(COMMANDS[args.command], "INTERRUPTED", "")
        print(f"dfl {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as error:  # every failure ends here: one line, or the traceback on request
        if args.verbose:
            traceback.print_exc()
        else:
            print(f"dfl {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 1
    return status or 0


def print_note(message, category, filename, lineno, file=None, line=None):
    """A library warning (e.g. an edit scaled down to stay a face) as one "note:" line."""
    print(f"note: {' '.join(str(message).split())}")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the fix, not the whole usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser():
    parser = OneLineParser(
        prog="dfl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of errors")
    for name, module in COMMANDS.items():
        sub = commands.add_parser(name, help=module.SUMMARY, description=module.SUMMARY,
                                  parents=[common])
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser
