"""Fit a model's photo defaults (the face template) from its training images, into its .keras file.

The file is rewritten atomically (written beside it, then renamed over it), so
an interrupted run leaves the old file whole. Everything else in the model
(weights, vectors, code distribution) is kept and checked after reloading.

Example:
    python scripts/fit_photo_defaults.py --model saved_models/dfl_celeba64.keras \
        --data ../shared/data/celeba_hq_128/images --count 300
"""

import argparse
import os
from pathlib import Path

import numpy as np

from dfl_keras import photos
from dfl_keras.pretrained import load_model


def training_photos(folder, count):
    """The first `count` training photos (CelebA-HQ numbering: 1..27000 are the training split)."""
    files = sorted(Path(folder).glob("*.jpg"), key=lambda p: (len(p.stem), p.stem))
    files = [p for p in files if not p.stem.isdigit() or int(p.stem) <= 27000]
    if not files:
        raise SystemExit(f"no .jpg photos in {folder}")
    return files[:count]


def same_behaviour(before, after):
    """True when two models hold the same weights, vectors and code distribution."""
    weights = all(np.array_equal(a, b) for a, b in zip(before.get_weights(), after.get_weights()))
    names = before.attribute_names == after.attribute_names
    vectors = names and all(np.array_equal(before.attribute_vector(n), after.attribute_vector(n))
                            and before.attribute_info(n) == after.attribute_info(n)
                            for n in before.attribute_names)
    pairs = zip(before.code_distribution or (), after.code_distribution or ())
    codes = all(np.array_equal(a, b) for a, b in pairs)
    return weights and vectors and codes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path,
                        help="folder of training photos framed like the model's data, any size")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args(argv)
    model = load_model(args.model)
    template, found = photos.fit_template(model, training_photos(args.data, args.count))
    print(f"face template from {found} photos (unit coordinates, x y):")
    for name, (x, y) in zip(photos.LANDMARKS, template):
        side = model.image_size
        print(f"  {name:12s} {x:.4f} {y:.4f}  ({x * side:.1f}, {y * side:.1f} px)")
    partial = args.model.with_name(args.model.name + ".partial.keras")
    model.save(partial)
    if not same_behaviour(load_model(args.model), load_model(partial)):
        partial.unlink()
        raise SystemExit("the rewritten model differs from the original; left it unchanged")
    os.replace(partial, args.model)
    print(f"wrote {args.model}")


if __name__ == "__main__":
    main()
