"""The one line a failed command prints: the error's message, with the fix where the system's
own text has none."""

import errno
import os
import re

import tensorflow as tf

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
