"""Callbacks for training concerns."""

import time

import keras


class TimeBudget(keras.callbacks.Callback):
    """Stop training once a wall-clock budget is spent (checked after every batch).

    Comparing architectures for a fixed time, not a fixed number of epochs, is
    what matters on a CPU: a cheaper network sees more images.
    """

    def __init__(self, seconds):
        super().__init__()
        self.seconds = float(seconds)

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if time.perf_counter() - self.start >= self.seconds:
            self.model.stop_training = True

    @property
    def elapsed(self):
        return time.perf_counter() - self.start
