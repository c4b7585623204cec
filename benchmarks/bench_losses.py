"""Which perceptual-loss weight to train with: fine-tune one editor with each, side by side.

    nice -n 5 python benchmarks/bench_losses.py --weights 0 0.05 0.3 --steps 200
    python benchmarks/bench_losses.py --grow --weights 0 0.01 0.03 0.1 --steps 150 \
        --learning-rate 3e-4 --images 500          # the 128 px editor's weight

Every arm starts from the same weights (a preset or a .keras file, or with
--grow that model grown to twice its size, as the 128 px editor starts), sees the
same batches of CelebA-HQ training images (1..27000) and trains the same
number of steps with the shipped loss plus ``perceptual_weight`` times the
judge's feature loss. Then each is measured on held-out images 27001..: PSNR,
the Laplacian-variance ratio of reconstructions to photos (fine detail; the
judge plays no part in it), the Frechet distance in the judge's penultimate
features (flattered by the feature loss, which uses the same judge) and the
judge's accuracy on the 13 AttGAN attributes of the reconstructions. Weight 0
is the control: fine-tuning alone.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from bench_resolution import held_out, measure  # noqa: E402
from dfl_keras import LatentAttributeModel, data  # noqa: E402
from dfl_keras.judge import AttributeJudge  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dfl_celeba64", help="a preset or a .keras file")
    parser.add_argument("--data", default="../shared/data/celeba_hq_{size}")
    parser.add_argument("--weights", nargs="+", type=float, default=[0.0, 0.05, 0.3])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--images", type=int, default=1000, help="held-out images measured")
    parser.add_argument("--grow", action="store_true",
                        help="start every arm from the model grown to twice its size")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    def starting_model():
        model = LatentAttributeModel.from_preset(args.model)
        return LatentAttributeModel.grown_from(model) if args.grow else model

    start = starting_model()
    root = args.data.format(size=start.image_size)
    train = data.celeba_folder(root, "train", image_size=start.image_size,
                               take=args.steps * args.batch_size, batch_size=args.batch_size,
                               shuffle=True, seed=0, cache="memory")
    images, labels = held_out(root, start.image_size, args.images)
    judge = AttributeJudge.from_preset("judge_celeba64")
    results = {"start": measure(start, judge, images, labels)}
    for weight in args.weights:
        began = time.time()
        model = starting_model()
        keras.utils.set_random_seed(0)
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), perceptual_weight=weight)
        model.fit(train.map(lambda x, y: x), epochs=1, shuffle=False, verbose=0)
        arm = f"w={weight:g}"
        results[arm] = {**measure(model, judge, images, labels),
                        "train_images_per_second": round(len(train) * args.batch_size / (time.time() - began), 1)}
        print(arm, json.dumps(results[arm]), flush=True)
    print("| arm | PSNR | Laplacian ratio | Frechet | judge accuracy, reconstructions | images/s |")
    print("|---|---|---|---|---|---|")
    for arm, r in results.items():
        print(f"| {arm} | {r['psnr']:.2f} | {r['laplacian_ratio']:.3f} | {r['frechet']:.1f} | "
              f"{r['judge_accuracy_reconstructions']:.4f} | {r.get('train_images_per_second', '-')} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
