"""Writing files so a reader only ever finds the old whole file or the new whole file.

A file is written under a temporary name in the same folder, flushed to disk
(fsync), then renamed over its final name; a rename within one file system is
atomic. A SIGKILL, a full disk or a second writer at any instant therefore
leaves the previous version intact, plus at most a stray temporary file.
"""

import contextlib
import errno
import glob
import os
import secrets
from pathlib import Path

TEMPORARY_MARK = ".partial-"


@contextlib.contextmanager
def replacing(path, suffix=""):
    """Yields a temporary path to write; on success it becomes `path`, on error it is removed.

    Args:
        path: the final file.
        suffix: ending the temporary name must keep (Keras checks ".keras", ".weights.h5").

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
        >>> with replacing(target) as temporary:
        ...     _ = temporary.write_text("whole")
        >>> target.read_text()
        'whole'
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: no folder {folder}; create it first")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {path}: the folder {folder} is not writable; "
                              "choose another output folder or change its permissions")
    temporary = folder / f".{path.name}{TEMPORARY_MARK}{os.getpid()}-{secrets.token_hex(4)}{suffix}"
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # umask applies
    try:
        yield temporary
        sync(temporary)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if error.errno == errno.ENOSPC:
            raise OSError(error.errno, f"no space left to write {path}: free some disk space "
                          "or write elsewhere; the previous file, if any, is intact") from error
        raise
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync(folder)
    _remove_abandoned(path)


def write_bytes(path, data):
    """Atomically replace `path` with the bytes `data`."""
    with replacing(path) as temporary:
        Path(temporary).write_bytes(data)
    return Path(path)


def _remove_abandoned(path):
    """Delete temporary files of `path` left by writers that were killed (their process is gone)."""
    for stray in path.parent.glob(f".{glob.escape(path.name)}{TEMPORARY_MARK}*"):
        pid = stray.name[len(path.name) + 1 + len(TEMPORARY_MARK):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            stray.unlink(missing_ok=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sync(path):
    """Flush the file or folder `path` to disk (before a rename, and its folder after it)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
