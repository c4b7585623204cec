"""Fit a model's photo defaults into its .keras file: the face template and the calibrated t.

The template comes from the model's training images; the default strength of
each attribute, a t and a distance (photos.edit's two steps), is calibrated on
the photo path (dfl_keras.photos.calibrate_photos)
on the validation split (official partition 1) of an aligned CelebA folder, so
that benchmarks on the test split (partition 2) stay honest. Each photo is
detected once. The file is rewritten atomically (written beside it, then
renamed over it), so an interrupted run leaves the old file whole. Everything
else in the model (weights, vectors, code distribution, the vectors' other
facts) is kept and checked after reloading.

Example:
    python scripts/fit_photo_defaults.py --model saved_models/dfl_celeba64.keras \
        --data ../shared/data/celeba_hq_128/images --count 300 \
        --calibration-data ../shared/data/celeba_aligned --calibration-count 300
"""

import argparse
import os
from pathlib import Path

import numpy as np
from keras.utils import Progbar

from dfl_keras import LatentAttributeModel, photos
from dfl_keras.judge import AttributeJudge

CALIBRATION_KEYS = tuple(f"{key}{suffix}" for key in ("t", "distance") for suffix in (
    "", "_success", "_preservation", "_target", "_floor", "_reached", "_fitted"))


def training_photos(folder, count):
    """The first `count` training photos (CelebA-HQ numbering: 1..27000 are the training split)."""
    files = sorted(Path(folder).glob("*.jpg"), key=lambda p: (len(p.stem), p.stem))
    files = [p for p in files if not p.stem.isdigit() or int(p.stem) <= 27000]
    if not files:
        raise SystemExit(f"no .jpg photos in {folder}")
    return files[:count]


def partition_photos(folder, partition, count):
    """The first `count` photos of an official CelebA partition (0 train, 1 validation, 2 test)."""
    listing = Path(folder) / "list_eval_partition.txt"
    if not listing.exists():
        raise SystemExit(f"no {listing}: give an official aligned CelebA folder")
    rows = [line.split() for line in listing.read_text().splitlines() if line.strip()]
    names = [name for name, part in rows if part == str(partition)][:count]
    return [Path(folder) / "img_align_celeba" / name for name in names]


def detected(paths, verbose=1):
    """(pixels, largest face) of each photo in which a face is found; each detected once."""
    pixels, faces = [], []
    progress = Progbar(len(paths), verbose=verbose, unit_name="photo")
    for count, path in enumerate(paths, 1):
        image = photos.read_photo(path)
        found = photos.find_faces(image)
        if found:
            pixels.append(image)
            faces.append(found[0])
        progress.update(count)
    return pixels, faces


def same_behaviour(before, after):
    """True when two models hold the same weights, vectors, code distribution and vector facts
    (the calibrated strength aside)."""
    weights = all(np.array_equal(a, b) for a, b in zip(before.get_weights(), after.get_weights()))
    names = before.attribute_names == after.attribute_names

    def facts(model, name):
        return {k: v for k, v in model.attribute_info(name).items() if k not in CALIBRATION_KEYS}

    vectors = names and all(np.array_equal(before.attribute_vector(n), after.attribute_vector(n))
                            and facts(before, n) == facts(after, n)
                            for n in before.attribute_names)
    pairs = zip(before.code_distribution or (), after.code_distribution or ())
    codes = all(np.array_equal(a, b) for a, b in pairs)
    return weights and vectors and codes


def print_strengths(fitted, key="t"):
    """The calibrated `key` ("t", or "distance" for step="distance") per attribute."""
    print(f"attribute      {key:>8s}  reached  insertion  preservation  faces")
    for name, info in fitted.items():
        if info is None:
            print(f"{name:20s}     -  too few faces without it: not calibrated")
            continue
        print(f"{name:20s} {info[key]:5.2f}  {'yes' if info[key + '_reached'] else 'no':7s} "
              f"{100 * info[key + '_success']:8.1f}%  {100 * info[key + '_preservation']:10.1f}%  "
              f"{info[key + '_fitted']['faces']:5d}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--data", required=True, type=Path,
                        help="folder of training photos framed like the model's data, any size")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--calibration-data", type=Path,
                        help="official aligned CelebA folder; its validation split calibrates t "
                             "(without it, the stored strengths are left as they are)")
    parser.add_argument("--calibration-count", type=int, default=300,
                        help="validation photos to detect faces in")
    parser.add_argument("--max-faces", type=int, default=64,
                        help="faces edited per attribute and t")
    parser.add_argument("--attributes", nargs="+",
                        help="calibrate only these (default: every one the judge knows)")
    parser.add_argument("--judge", type=Path, help="judge .keras file (default: the shipped one)")
    args = parser.parse_args(argv)
    model = LatentAttributeModel.from_preset(args.model)
    unknown = sorted(set(args.attributes or ()) - set(model.attribute_names))
    if unknown:
        raise SystemExit(f"--attributes {unknown}: the model has no such vectors")
    template, found = photos.fit_template(model, training_photos(args.data, args.count))
    print(f"face template from {found} photos (unit coordinates, x y):")
    for name, (x, y) in zip(photos.LANDMARKS, template):
        side = model.image_size
        print(f"  {name:12s} {x:.4f} {y:.4f}  ({x * side:.1f}, {y * side:.1f} px)")
    if args.calibration_data:
        pixels, faces = detected(partition_photos(args.calibration_data, 1,
                                                  args.calibration_count))
        print(f"calibrating t on {len(faces)} validation photos with a face")
        source = f"{args.calibration_data.name} validation split, first {len(faces)} with a face"
        judge = AttributeJudge.from_preset(args.judge or "judge_celeba64")
        for step, key in (("add", "t"), ("distance", "distance")):
            fitted = photos.calibrate_photos(model, judge, pixels, faces,
                                             attributes=args.attributes, max_faces=args.max_faces,
                                             source=source, step=step)
            print_strengths(fitted, key)
    partial = args.model.with_name(args.model.name + ".partial.keras")
    model.save(partial)
    before, after = (LatentAttributeModel.from_preset(path) for path in (args.model, partial))
    if not same_behaviour(before, after):
        partial.unlink()
        raise SystemExit("the rewritten model differs from the original; left it unchanged")
    os.replace(partial, args.model)
    print(f"wrote {args.model}")


if __name__ == "__main__":
    main()
