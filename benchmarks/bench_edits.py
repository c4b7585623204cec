"""How well each direction method edits held-out CelebA-HQ faces, judged by the AttributeJudge.

    nice -n 5 python benchmarks/bench_edits.py saved_models/dfl_celeba64.keras --json edits.json

Vectors are fitted on the training images (1-27000). For each method, t is
calibrated per attribute (judged insertion success >= --target) on held-out
images 27001-28000, and the report uses 28001-30000, which neither the
fitting nor the calibration saw. "balanced" and "conditional" keep each
attribute's --conditions most correlated attributes (on the training labels,
among --attrs and the 13 AttGAN attributes) unchanged, or the --condition-on
list. Use --fit-images, --calibration-images and --images for quick runs.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dfl_keras import AttributeJudge, LatentAttributeModel, data, directions, evaluate  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a LatentAttributeModel .keras file (64 px)")
    parser.add_argument("--data", default="../shared/data/celeba_hq_64")
    parser.add_argument("--judge", default="judge_celeba64", help="an AttributeJudge preset or "
                        "file (default: %(default)s)")
    parser.add_argument("--attrs", nargs="+", default=list(evaluate.ATTGAN_ATTRIBUTES))
    parser.add_argument("--methods", nargs="+", default=list(directions.METHODS),
                        choices=directions.METHODS)
    parser.add_argument("--conditions", type=int, default=2,
                        help="condition each attribute on its N most correlated others")
    parser.add_argument("--condition-on", nargs="+", default=None,
                        help="condition every attribute on these instead (e.g. Male)")
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--fit-images", type=int, default=None,
                        help="training images for the vectors (default: all)")
    parser.add_argument("--calibration-images", type=int, default=1000)
    parser.add_argument("--images", type=int, default=2000, help="held-out images in the report")
    parser.add_argument("--json", default=None, help="write every number here")
    args = parser.parse_args()
    start = time.time()

    model = LatentAttributeModel.from_preset(args.model)
    judge = AttributeJudge.from_preset(args.judge)
    size, n_calibration = model.image_size, args.calibration_images
    train = data.celeba_folder(args.data, "train", image_size=size, take=args.fit_images)
    n_held_out = n_calibration + args.images
    held_out = data.celeba_folder(args.data, "test", image_size=size, take=n_held_out)
    images, labels = next(iter(held_out.batch(n_held_out)))
    calibration = tf.data.Dataset.from_tensor_slices(images[:n_calibration]).batch(64)
    report_labels = {name: values[n_calibration:] for name, values in labels.items()}
    report_data = tf.data.Dataset.from_tensor_slices((images[n_calibration:], report_labels))
    report_data = report_data.batch(64)

    print(f"Fitting {len(args.methods)} kinds of vectors for {len(args.attrs)} attributes "
          "on the training split")
    fitted = fit_all(model, train, args)
    results = {}
    for method, vectors in fitted.items():
        print(f"\n== {method}: calibrating t on {n_calibration} held-out images, "
              f"reporting on {args.images} others")
        for name, (vector, info) in vectors.items():
            model.set_attribute_vector(name, vector, **info)
        t = evaluate.calibrate(model, judge, calibration, args.attrs, target=args.target)
        report = evaluate.edit_report(model, judge, report_data, args.attrs)
        print(report)
        conditions = {name: info["conditions"] for name, (_, info) in vectors.items()}
        results[method] = {"conditions": conditions, "t": t, **report.as_dict()}

    print(f"\n== Judged insertion success / preservation at calibrated t "
          f"(target {args.target:.0%}), {args.images} held-out images, model {args.model}")
    print(comparison(results, args.attrs))
    print(f"\ntotal {(time.time() - start) / 60:.1f} min")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "settings": vars(args), "methods": results}, f,
                      indent=1)


def fit_all(model, train, args):
    """{method: {name: (vector, info)}}; one encoding pass for the centroids, one for the rest."""
    fitted = {}
    if "centroid" in args.methods:
        model.fit_attribute_vectors(train, args.attrs)
        fitted["centroid"] = {
            name: (model.attribute_vector(name),
                   {**model.attribute_info(name), "method": "centroid", "conditions": []})
            for name in args.attrs
        }
    others = [m for m in args.methods if m != "centroid"]
    if not others:
        return fitted
    names = list(data.CELEBA_ATTRIBUTES)
    batches = directions.encoded_batches(model, train, names)
    codes, labels = (np.concatenate(parts) for parts in zip(*batches))
    pool = list(dict.fromkeys([*args.attrs, *evaluate.ATTGAN_ATTRIBUTES]))
    correlation = np.corrcoef(labels[:, [names.index(n) for n in pool]].T)
    for method in others:
        fitted[method] = {}
        for i, name in enumerate(args.attrs):
            ranked = [pool[j] for j in np.argsort(-np.abs(correlation[i])) if j != i]
            if args.condition_on:
                ranked = [n for n in args.condition_on if n != name] or ranked
            conditions = ranked[: args.conditions] if method in ("balanced", "conditional") else []
            columns = [names.index(n) for n in [name, *conditions]]
            fitted[method][name] = directions.direction_from_codes(
                [(codes, labels[:, columns])], method, [name, *conditions])
    return fitted


def comparison(results, attributes):
    """Insertion success / preservation per attribute and method, then the judged Male changes."""
    methods = list(results)
    header = f"{'attribute':<20}" + "".join(f"{m:>22}" for m in methods)
    rows = [header]
    for name in attributes:
        cells = [f"{_percent(r['insertion_success'])} / {_percent(r['preservation'])}"
                 for r in (results[m]["attributes"][name] for m in methods)]
        rows.append(f"{name:<20}" + "".join(f"{c:>22}" for c in cells))
    cells = [f"{_percent(s['mean_insertion_success'])} / {_percent(s['mean_preservation'])}"
             for s in (results[m]["summary"] for m in methods)]
    rows += [f"{'mean':<20}" + "".join(f"{c:>22}" for c in cells), "",
             "Share of edited images whose judged Male changes (ratio to centroid)", header]
    for name in attributes:
        shares = [results[m]["attributes"][name]["changed"].get("Male") for m in methods]
        base = shares[methods.index("centroid")] if "centroid" in methods else None
        cells = [_percent(s) + (f" ({s / base:.2f})" if base and s is not None else "")
                 for s in shares]
        rows.append(f"{name:<20}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(rows)


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


if __name__ == "__main__":
    main()
