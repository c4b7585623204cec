"""The 64 px and 128 px editors side by side on the same held-out CelebA-HQ faces.

    nice -n 5 python benchmarks/bench_resolution.py --models dfl_celeba64 my128.keras \
        --json resolution.json

(No 128 px editor ships yet: give one, e.g. from scripts/train_dfl_celeba.py --image-size 128.)

For each model, on images 27001..30000 at its own resolution (the same faces
at 64 and 128 px): reconstruction PSNR, the ratio of the Laplacian variance
(fine detail) of the reconstructions to the photos', the Frechet distance
between reconstructions and photos in the judge's penultimate features
(everything resized to the judge's 64 px input), the judge's accuracy on the 13
AttGAN attributes of the photos and of the reconstructions, and the ROC AUC of
dot(z, v) for Smiling, Male and Eyeglasses. One run, so the ratios compare
like with like.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dfl_keras import LatentAttributeModel, data, evaluate  # noqa: E402
from dfl_keras.judge import AttributeJudge  # noqa: E402

AUC_ATTRIBUTES = ("Smiling", "Male", "Eyeglasses")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["dfl_celeba64"],
                        help="presets or .keras files")
    parser.add_argument("--data", default="../shared/data/celeba_hq_{size}")
    parser.add_argument("--images", type=int, default=3000, help="held-out images (from 27001)")
    parser.add_argument("--json", default=None, help="write every number here")
    args = parser.parse_args()
    judge = AttributeJudge.from_preset("judge_celeba64")
    results = {}
    for name in args.models:
        start = time.time()
        model = LatentAttributeModel.from_preset(name)
        images, labels = held_out(args.data.format(size=model.image_size), model.image_size, args.images)
        results[name] = measure(model, judge, images, labels)
        results[name]["seconds"] = round(time.time() - start, 1)
        print(name, json.dumps(results[name]), flush=True)
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


def held_out(root, image_size, n):
    """The first n held-out images (numpy) and their labels {name: (n,) 0/1}."""
    images, labels = next(iter(data.celeba_folder(root, "test", image_size=image_size, take=n).batch(n)))
    return images.numpy(), {name: values.numpy() for name, values in labels.items()}


def measure(model, judge, images, labels):
    """Everything this benchmark reports for one model on labelled images."""
    reconstructions = np.asarray(model.reconstruct(images))
    codes = np.asarray(model.encode(images))
    photo_features = evaluate.judge_features(judge, images)
    fake_features = evaluate.judge_features(judge, reconstructions)
    truth = np.stack([labels[a] for a in evaluate.ATTGAN_ATTRIBUTES], 1).astype(bool)
    columns = [judge.attributes.index(a) for a in evaluate.ATTGAN_ATTRIBUTES]
    accuracy = {kind: float(np.mean(judge.predict_labels(x)[:, columns] == truth))
                for kind, x in (("photos", images), ("reconstructions", reconstructions))}
    return {
        "image_size": model.image_size,
        **evaluate.reconstruction_quality(model, images),
        "laplacian_ratio": laplacian_variance(reconstructions) / laplacian_variance(images),
        "frechet": evaluate.frechet_distance(fake_features, photo_features),
        "judge_accuracy_photos": accuracy["photos"],
        "judge_accuracy_reconstructions": accuracy["reconstructions"],
        "auc": {a: evaluate.vector_auc(model, codes, labels[a], a)
                for a in AUC_ATTRIBUTES if a in model.attribute_names},  # none before vectors
    }


def laplacian_variance(images):
    """Mean over images of the variance of the Laplacian of the grey image: how much fine detail."""
    grey = tf.image.rgb_to_grayscale(tf.convert_to_tensor(images, tf.float32))
    kernel = tf.constant([[0, 1, 0], [1, -4, 1], [0, 1, 0]], tf.float32)[:, :, None, None]
    laplacian = tf.nn.conv2d(grey, kernel, 1, "VALID")
    return float(tf.reduce_mean(tf.math.reduce_variance(laplacian, axis=[1, 2, 3])))


def print_table(results):
    names = list(results)
    rows = [("PSNR (dB)", "psnr", "{:.2f}"), ("SSIM", "ssim", "{:.3f}"),
            ("Laplacian variance ratio", "laplacian_ratio", "{:.3f}"),
            ("Frechet distance (judge features)", "frechet", "{:.1f}"),
            ("judge accuracy, photos", "judge_accuracy_photos", "{:.4f}"),
            ("judge accuracy, reconstructions", "judge_accuracy_reconstructions", "{:.4f}")]
    print("| | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for label, key, fmt in rows:
        print(f"| {label} | " + " | ".join(fmt.format(results[n][key]) for n in names) + " |")
    for a in AUC_ATTRIBUTES:
        print(f"| AUC {a} | " + " | ".join(f"{results[n]['auc'][a]:.3f}" for n in names) + " |")
    if len(names) == 2:
        a, b = (results[n]["frechet"] for n in names)
        print(f"Frechet ratio {names[1]} / {names[0]}: {b / a:.3f}")


if __name__ == "__main__":
    main()
