"""Does the data pipeline keep training fed?

Measures, in one run, how many images per second `celeba_folder` delivers
(CelebA-HQ 64 train split, 64 px, batches of 64, shuffled) and how many a
training step of `LatentAttributeModel` consumes on a cached batch, and prints
the medians and their ratio. The pipeline should deliver at least 3x what
training eats, so it never becomes the bottleneck.

    python benchmarks/bench_pipeline.py --seconds 20
"""

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dfl_keras  # noqa: E402
from dfl_keras.data import celeba_folder  # noqa: E402

SHARED_CELEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_hq_64"
WARMUP_STEPS = 2


def step_times(step, seconds):
    """Seconds taken by each call of `step` during `seconds`, after a few warm-up calls."""
    for _ in range(WARMUP_STEPS):
        step()
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def report(name, times, batch_size):
    """Prints and returns (median, overall) images/s; overall counts slow stragglers too."""
    median, overall = batch_size / statistics.median(times), batch_size * len(times) / sum(times)
    print(f"{name:>9}: {median:7.0f} images/s median, {overall:7.0f} overall "
          f"({len(times)} batches of {batch_size})")
    return median, overall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_CELEBA)
    parser.add_argument("--seconds", type=float, default=20.0, help="timing per side")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()

    ds = celeba_folder(
        args.data, "train", image_size=args.image_size, batch_size=args.batch_size,
        shuffle=True, seed=0, drop_remainder=True,
    )
    batches = iter(ds.repeat())
    pipeline = report("pipeline", step_times(lambda: next(batches), args.seconds), args.batch_size)

    model = dfl_keras.LatentAttributeModel(image_size=args.image_size)
    model.compile(optimizer="adam")
    images, _ = next(batches)
    training = report("training", step_times(lambda: model.train_on_batch(images), args.seconds),
                      args.batch_size)
    print(f"    ratio: {pipeline[0] / training[0]:7.1f}x median, {pipeline[1] / training[1]:7.1f}x "
          "overall, pipeline/training (target >= 3x)")


if __name__ == "__main__":
    main()
