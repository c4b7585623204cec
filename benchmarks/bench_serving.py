"""Insert latency: the exported SavedModel versus the in-process Keras call.

Both run in this process on the same numpy inputs, interleaved call by call so
background load hits them alike. The target is a SavedModel single-image p50
of at most 1.5x ``model.insert``'s: serving should not cost more than the
library. Uses the shipped model (saved_models/*.keras) when there is one, else
a fresh default ``LatentAttributeModel(image_size=64)`` with random vectors.

    nice -n 5 python benchmarks/bench_serving.py
"""

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import dfl_keras as dfl  # noqa: E402
from dfl_keras import presets  # noqa: E402
from dfl_keras.export import export_serving  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.5


def editor():
    """The model to measure and a line saying which one it is."""
    if (presets.presets_dir() / presets.PRESETS["dfl_celeba64"]["file"]).is_file():
        model, source = dfl.LatentAttributeModel.from_preset("dfl_celeba64"), "preset dfl_celeba64"
    else:
        model, source = (
            dfl.LatentAttributeModel(image_size=64),
            "fresh LatentAttributeModel(image_size=64)",
        )
    if not model.attribute_names:
        rng = np.random.default_rng(0)
        for name in ("Smiling", "Eyeglasses", "Bald", "Male"):
            model.set_attribute_vector(name, rng.normal(size=model.latent_dim))
        source += " with random attribute vectors"
    return model, source


def interleaved_medians(calls, repeats):
    """Median milliseconds of each call, timed in alternating order after a warm-up."""
    times = {name: [] for name in calls}
    for fn in calls.values():
        fn()
    for i in range(repeats):
        for name, fn in (list(calls.items()) if i % 2 else reversed(calls.items())):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: 1000 * float(np.median(t)) for name, t in times.items()}


def main():
    model, source = editor()
    names, size = model.attribute_names, model.image_size
    print(f"{source}: {size} px, latent {model.latent_dim}, {len(names)} attributes")
    with tempfile.TemporaryDirectory() as base:
        insert = tf.saved_model.load(str(export_serving(model, base))).signatures["serving_default"]
    rng = np.random.default_rng(1)
    results = {}
    for batch, repeats in ((1, 100), (64, 10)):
        images = rng.random((batch, size, size, 3), dtype=np.float32)
        coefficients = rng.normal(size=(batch, len(names))).astype(np.float32)
        edits = {name: coefficients[:, k] for k, name in enumerate(names)}
        np.testing.assert_allclose(
            insert(images=images, coefficients=coefficients)["images"].numpy(),
            model.insert(images, edits),
            atol=1e-5,
        )
        results[batch] = interleaved_medians(
            {
                "keras": lambda: model.insert(images, edits),
                "saved_model": lambda: insert(images=images, coefficients=coefficients)[
                    "images"
                ].numpy(),
            },
            repeats,
        )
    for batch, ms in results.items():
        ratio = ms["saved_model"] / ms["keras"]
        print(
            f"batch {batch:>2}: model.insert p50 {ms['keras']:7.2f} ms, "
            f"SavedModel p50 {ms['saved_model']:7.2f} ms, ratio {ratio:.2f}"
        )
    ratio = results[1]["saved_model"] / results[1]["keras"]
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"target single-image ratio <= {TARGET}: {verdict} ({ratio:.2f})")


if __name__ == "__main__":
    main()
