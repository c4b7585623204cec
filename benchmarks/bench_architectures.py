"""The default architecture against the original DeepFakeLab network, same budget, one run.

    python benchmarks/bench_architectures.py --data ../shared/data/celeba_hq_64 --minutes 12

Each arm trains for the same wall-clock budget on CelebA-HQ 64 px images
1..27000 (decoded once into memory, shared by both arms), then is measured on
the held-out images 27001..30000: reconstruction PSNR/SSIM, and the ROC AUC of
dot(z, v) for four attributes with v fitted on the training images. Printed:
training images/s, the share of the CPU's peak FLOP/s that it is, and ratios.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import dfl_keras as dfl  # noqa: E402
from dfl_keras import evaluate  # noqa: E402

ATTRIBUTES = ["Smiling", "Male", "Eyeglasses", "Bald"]
ARMS = {  # (model arguments, compile arguments)
    "default": ({}, {}),
    # The DeepFakeLab notebook's VAE at 64 px: latent 100 and its Sobel edge loss.
    "original": ({"architecture": "original", "latent_dim": 100}, {"edge_weight": 0.1}),
}


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


def forward_macs(model):
    """Multiply-adds of one image through the encoder and decoder (conv and dense layers)."""
    total = 0
    for net in (model.encoder, model.decoder):
        for layer in net.layers:
            if isinstance(layer, keras.layers.Dense):
                total += layer.kernel.shape[0] * layer.kernel.shape[1]
            elif isinstance(layer, keras.layers.Conv2DTranspose):
                h, w, c_in = layer.input.shape[1:]
                total += h * w * c_in * np.prod(layer.kernel_size) * layer.filters
            elif isinstance(layer, keras.layers.Conv2D):
                h, w = layer.output.shape[1:3]
                total += h * w * np.prod(layer.kernel.shape)
    return int(total)


def peak_flops():
    """Cores x clock x 32 fp32 FLOP per cycle (two 8-wide FMA pipes, as on AVX2/Zen-4 AVX-512)."""
    with open("/proc/cpuinfo") as f:
        mhz = max(float(line.split(":")[1]) for line in f if line.startswith("cpu MHz"))
    return os.cpu_count() * mhz * 1e6 * 32


def load_split(data, split):
    images, labels = [], {name: [] for name in ATTRIBUTES}
    for x, y in dfl.data.celeba_folder(data, split, image_size=64, attributes=ATTRIBUTES, batch_size=500):
        images.append(x.numpy())
        for name in ATTRIBUTES:
            labels[name].append(y[name].numpy())
    return np.concatenate(images), {k: np.concatenate(v) for k, v in labels.items()}


def run_arm(name, options, train_images, train_labels, test_images, test_labels, seconds, batch_size):
    keras.utils.set_random_seed(0)
    architecture, loss = options
    model = dfl.LatentAttributeModel(image_size=64, **architecture)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), **loss)
    train = (
        tf.data.Dataset.from_tensor_slices(train_images)
        .shuffle(len(train_images), seed=0)
        .batch(batch_size, drop_remainder=True)
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )
    budget = TimeBudget(seconds)
    model.fit(train, epochs=10_000, steps_per_epoch=50, callbacks=[budget], verbose=0)
    images_per_second = budget.batches * batch_size / budget.elapsed
    model.fit_attribute_vectors((train_images, train_labels), ATTRIBUTES, batch_size=500, verbose=0)
    codes = model.encode(test_images)
    macs = forward_macs(model)
    return {
        "arm": name,
        "images/s": images_per_second,
        "GMAC/image": macs / 1e9,
        "peak share": images_per_second * 3 * 2 * macs / peak_flops(),
        "images seen": budget.batches * batch_size,
        **evaluate.reconstruction_quality(model, test_images),
        **{f"AUC {a}": evaluate.vector_auc(model, codes, test_labels[a], a) for a in ATTRIBUTES},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/celeba_hq_64")
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    args = parser.parse_args()
    start = time.time()
    train_images, train_labels = load_split(args.data, "train")
    test_images, test_labels = load_split(args.data, "test")
    print(f"decoded {len(train_images)} + {len(test_images)} images in {time.time() - start:.0f} s")
    rows = []
    for arm in args.arms:
        rows.append(run_arm(arm, ARMS[arm], train_images, train_labels, test_images, test_labels,
                            args.minutes * 60, args.batch_size))
        print(" | ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in rows[-1].items()),
              flush=True)
    if len(rows) == 2:
        a, b = rows
        print(f"\n{a['arm']}/{b['arm']}: images/s x{a['images/s'] / b['images/s']:.2f}, "
              f"PSNR {a['psnr'] - b['psnr']:+.2f} dB, SSIM {a['ssim'] - b['ssim']:+.3f}")


if __name__ == "__main__":
    main()
