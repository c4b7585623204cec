"""The `dfl` console script: quiet TensorFlow's start-up, then run dfl_keras.cli.

It sits outside the dfl_keras package because importing dfl_keras imports
TensorFlow (so that its Keras classes are registered), and TensorFlow must
see TF_CPP_MIN_LOG_LEVEL before it is imported. The library itself leaves
the environment and stderr alone; quieting TensorFlow is the command's job.

On a CPU machine TensorFlow logs, while it is imported, absl's "WARNING:
All log messages before absl::InitializeLog() ..." and oneDNN and CUDA-driver
notices, then a cuInit error at first use. None of it is something a user can
act on, and it buries the one line that matters, so the command quiets it
whatever TF_CPP_MIN_LOG_LEVEL the user's shell exports (many set 2 for their
own scripts): the level is 3 inside this process, which silences the later
messages, and stderr's file descriptor points at /dev/null for the import
alone, which silences those logged before TensorFlow reads the level. A
Python exception raised by the import still shows: stderr is restored before
it propagates. With --verbose the user's TF_CPP_MIN_LOG_LEVEL applies and
nothing is silenced, for debugging TensorFlow itself.

    python -m dfl_keras_cli demo     # the same as `dfl demo`
"""

import contextlib
import os
import sys

VERBOSE_FLAGS = {"-v", "--verbose"}  # show TensorFlow's logs as the user set them, and tracebacks


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not VERBOSE_FLAGS & set(argv):
        import_tensorflow_quietly()
    from dfl_keras.cli import main as run

    return run(argv)


def import_tensorflow_quietly():
    """Import TensorFlow once with its logs off, whatever TF_CPP_MIN_LOG_LEVEL was."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # this process only: the command's own choice
    if "tensorflow" in sys.modules:
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


if __name__ == "__main__":
    sys.exit(main())
