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
import errno
import os
import re
import sys
import traceback

import tensorflow as tf

from dfl_keras.cli import (app, bulk_insert, demo, evaluate, export, fit_vectors, grid, insert,
                           latent_map, train, transition)

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
EXPECTED_ERRORS = (ValueError, TypeError, OSError, ImportError)
# What to do about the operating system's errors, which name a path but not the fix.
OS_ERROR_FIXES = {
    errno.EEXIST: "{path} already exists, so it cannot be created: choose another path, or "
                  "move it away",
    errno.ENOTDIR: "{path}: part of this path is a file, not a folder: choose another path",
    errno.EISDIR: "{path} is a folder, not a file: name a file (inside it, for an output)",
    errno.ENOENT: "{path} does not exist: check the path, or create the folder first",
    errno.EACCES: "no permission to use {path}: choose a folder you can write, or change "
                  "its permissions",
    errno.EPERM: "no permission to use {path}: choose a folder you can write, or change "
                 "its permissions",
    errno.EROFS: "{path} is on a read-only file system: write elsewhere",
    errno.ENOSPC: "no space left on the disk of {path}: free some disk space or write "
                  "elsewhere",
    errno.ENAMETOOLONG: "the path {path} is too long: choose a shorter name",
}
ASSERTION = re.compile(r"assertion failed: \[(.*?)\]")  # a check inside a tf.data pipeline


def main(argv=None):
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if getattr(COMMANDS[args.command], "TAKES_PIPELINE_OPTIONS", False):
        args.pipeline_options = unknown  # e.g. Beam's --project=P, passed on as they are
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        status = args.run(args)  # a command may end with a status, e.g. 1 when a photo had no face
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


def one_line(error):
    """The error's message on one line; unexpected kinds of error also name their type."""
    expected = isinstance(error, EXPECTED_ERRORS)
    message = os_error_sentence(error) if isinstance(error, OSError) else str(error)
    if isinstance(error, tf.errors.OpError):
        found = ASSERTION.search(error.message)  # e.g. the data pipeline naming a bad image
        message, expected = (found.group(1), True) if found else (error.message, False)
    message = " ".join(str(message).split()) or type(error).__name__
    if not expected:
        message = f"{type(error).__name__}: {message} (--verbose shows the traceback)"
    return message


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the fix, not the whole usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def os_error_sentence(error):
    """An OSError as a sentence naming the path and the fix, where the system's text has neither.

    Our own OSErrors already say what to do (their text is not the system's strerror).
    """
    raw = error.errno is not None and error.strerror == os.strerror(error.errno)
    if not raw:
        return error.strerror if error.errno is not None and error.strerror else str(error)
    path = error.filename if error.filename is not None else "a file"
    fix = OS_ERROR_FIXES.get(error.errno, "{path}: " + error.strerror.lower())
    return fix.format(path=path)


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
