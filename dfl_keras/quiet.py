"""Importing TensorFlow without its start-up chatter on stderr.

On a CPU machine TensorFlow 2.21 logs, while it is imported, absl's "WARNING:
All log messages before absl::InitializeLog() ..." and oneDNN and CUDA-driver
notices, then a cuInit error at first use. None of it is something a user can
act on, and it buries the one line that matters. TF_CPP_MIN_LOG_LEVEL=3
silences the later messages but not those logged before TensorFlow reads it,
so stderr's file descriptor points at /dev/null for the import alone. A Python
exception raised by the import still shows: stderr is restored before it
propagates.
"""

import contextlib
import os
import sys


def import_tensorflow():
    """Import TensorFlow once, quietly, unless the user chose a TF_CPP_MIN_LOG_LEVEL below 3.

    Set TF_CPP_MIN_LOG_LEVEL=0 before importing dfl_keras to see all of TensorFlow's logs.
    """
    if os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3") != "3" or "tensorflow" in sys.modules:
        return
    with _stderr_silenced():
        import tensorflow  # noqa: F401


@contextlib.contextmanager
def _stderr_silenced():
    """File descriptor 2 points at /dev/null inside the block (when there is one to redirect)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
