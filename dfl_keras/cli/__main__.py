"""python -m dfl_keras.cli: the dfl command (without quieting TensorFlow's start-up logs:
``python -m dfl_keras_cli`` does that, as the `dfl` script does)."""

import sys

from dfl_keras.cli import main

sys.exit(main())
