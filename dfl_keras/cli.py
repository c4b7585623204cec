"""The `dfl` command: try the method, edit photos, train a model, draw its pictures.

    dfl demo                                  sampled faces, edited over a t sweep
    dfl insert photo.jpg --attr Smiling=0.8   edit your own photos
    dfl train DATA -o model.keras             train the autoencoder (resumable)
    dfl fit-vectors DATA --model model.keras  fit the attribute vectors into it
    dfl grid | transition | latent-map        the method's pictures
    dfl evaluate model.keras DATA             how well edits work, judged by a classifier
    dfl export model.keras                    a SavedModel for TF Serving

Every image written says in its metadata that it is synthetic, which model
made it and which edits it applies (dfl_keras.provenance). Errors print one
line on stderr and exit with status 1; --verbose prints the traceback instead.
"""

import argparse
import importlib.util
import json
import re
import sys
import traceback
from pathlib import Path

from dfl_keras.quiet import import_tensorflow

import_tensorflow()  # before anything below imports it

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dfl_keras import data as datasets  # noqa: E402
from dfl_keras import images_io, plots, pretrained, provenance  # noqa: E402
from dfl_keras.data.celeba import LABEL_FILES  # noqa: E402
from dfl_keras.data.labels import check_names  # noqa: E402
from dfl_keras.model import LatentAttributeModel  # noqa: E402

DEMO_COMBOS = ("Smiling", "Eyeglasses", "Bald", "Smiling+Bald")
EXPECTED_ERRORS = (ValueError, TypeError, KeyError, OSError, ImportError)
ASSERTION = re.compile(r"assertion failed: \[(.*?)\]")  # a check inside a tf.data pipeline


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except KeyboardInterrupt:
        print(f"dfl {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # every failure ends here: one line, or the traceback on request
        if args.verbose:
            traceback.print_exc()
        else:
            print(f"dfl {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 1
    return 0


def one_line(error):
    """The error's message on one line; unexpected kinds of error also name their type."""
    expected = isinstance(error, EXPECTED_ERRORS)
    if isinstance(error, tf.errors.OpError):
        found = ASSERTION.search(error.message)  # e.g. the data pipeline naming a bad image
        message, expected = (found.group(1), True) if found else (error.message, False)
    elif isinstance(error, KeyError) and error.args:  # str() would quote it
        message = error.args[0]
    else:
        message = str(error)
    message = " ".join(str(message).split()) or type(error).__name__
    if not expected:
        message = f"{type(error).__name__}: {message} (--verbose shows the traceback)"
    return message


# --------------------------------------------------------------------- commands


def demo(args):
    model, label = load_model(args.model)
    combos = args.attrs or default_combos(model)
    check_combos(model, combos)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    faces = np.asarray(model.sample(args.faces, seed=args.seed))
    sampled = f"sampled faces (seed {args.seed})"
    grid_info = provenance.provenance(label, f"{sampled}; {sweep(combos, args.t)}")
    grid_path = plots.save_figure(plots.t_sweep_grid(model, faces, combos, args.t),
                                  out / "grid.png", grid_info, args.watermark)
    frames = model.interpolate(faces[0], faces[-1], steps=args.steps)
    gif_info = provenance.provenance(label, f"transition between two {sampled}")
    gif_path = images_io.write_gif(out / "transition.gif", frames, gif_info, scale=3,
                                   mark=args.watermark)
    print(f"{grid_path}: {len(faces)} sampled faces x {len(combos)} edits, "
          f"t = {args.t[0]:g} ... {args.t[-1]:g}")
    print(f"{gif_path}: a walk through the latent space from face 1 to face {len(faces)}")
    print("The faces were sampled from the model: they are no one's photo. "
          "Both files say in their metadata that they are synthetic.")


def insert(args):
    model, label = load_model(args.model)
    check_names([name for name, _ in args.attr], model.attribute_names, "the model")
    edits = {name: model.attribute_info(name).get("t", 1.0) if t is None else t
             for name, t in args.attr}
    photos = np.stack([images_io.read_image(path, model.image_size) for path in args.images])
    edited = np.asarray(model.insert(photos, edits))
    for path, image in zip(map(Path, args.images), edited):
        folder = Path(args.output) if args.output else path.parent
        folder.mkdir(parents=True, exist_ok=True)
        info = provenance.provenance(label, edits, source=path.name)
        print(images_io.write_png(folder / f"{path.stem}.dfl.png", image, info, args.watermark))


def train(args):
    from dfl_keras import distribute

    output = Path(args.output)
    if output.suffix != ".keras":
        raise ValueError(f"the model file must end in .keras, got {output.name}")
    backup, log = output.with_suffix(".backup"), output.with_suffix(".log.csv")
    if backup.exists() and not args.resume:
        raise FileExistsError(f"an interrupted run left {backup}: add --resume to continue it, "
                              "or delete it to start over")
    if args.resume and not backup.exists():
        raise FileNotFoundError(f"nothing to resume: no {backup} (deleted when a run finishes)")
    if output.exists() and not (args.resume or args.overwrite):
        raise FileExistsError(f"{output} exists: choose another -o, or add --overwrite")
    if args.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ImportError("--tensorboard needs TensorBoard: pip install tensorboard")
    strategy = distribute.strategy_from_name(args.strategy)
    images = open_data(args, args.image_size, batch_size=args.batch_size, shuffle=True,
                       seed=args.seed)
    images = distribute.shard_by_data(images_only(images))
    keras.utils.set_random_seed(args.seed)
    with strategy.scope():
        model = LatentAttributeModel(image_size=args.image_size, latent_dim=args.latent_dim,
                                     filters=args.filters, covariance_weight=args.covariance_weight)
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    callbacks = []
    if strategy.extended.should_checkpoint:  # the chief, or the only worker, writes files
        output.parent.mkdir(parents=True, exist_ok=True)
        callbacks += [keras.callbacks.CSVLogger(str(log), append=args.resume),
                      keras.callbacks.ModelCheckpoint(str(output))]
        if args.tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(args.tensorboard))
    # Last, so a backup exists only once its epoch is logged and checkpointed.
    callbacks.append(distribute.BackupAndRestore(str(backup), double_checkpoint=True))
    model.fit(images, epochs=args.epochs, callbacks=callbacks, shuffle=False, verbose=1)
    print(f"Saved {output} after {args.epochs} epochs; the losses of each epoch are in {log}.")
    print(f"Next: dfl fit-vectors {args.data} --model {output}")


def fit_vectors(args):
    model, _ = load_model(args.model)
    data = open_data(args, model.image_size, attributes=args.attrs, batch_size=args.batch_size)
    available = list(data.element_spec[1]) if isinstance(data.element_spec, tuple) else []
    if not available:
        raise ValueError(f"{args.data} has no attribute labels: "
                         "pass --labels CSV for a plain image folder")
    names = args.attrs or available
    check_names(names, available, args.data)
    model.fit_attribute_vectors(data, names, batch_size=args.batch_size)
    print()  # the progress bar of an unknown length leaves its line open
    target = Path(args.output or args.model)
    save_atomically(model, target)
    for name in names:
        info = model.attribute_info(name)
        print(f"{name}: {info['n_with']} with, {info['n_without']} without")
    print(f"Saved {len(names)} attribute vectors into {target}")


def grid(args):
    model, label = load_model(args.model)
    combos = args.attrs or default_combos(model)
    check_combos(model, combos)
    if args.images:
        faces = np.stack([images_io.read_image(path, model.image_size) for path in args.images])
        names = [Path(path).name for path in args.images]
        source = ", ".join(map(str, args.images))
    else:
        faces, names = np.asarray(model.sample(args.faces, seed=args.seed)), None
        source = f"sampled faces (seed {args.seed})"
    figure = plots.t_sweep_grid(model, faces, combos, args.t, names)
    info = provenance.provenance(label, sweep(combos, args.t), source)
    print(plots.save_figure(figure, args.output, info, args.watermark))


def transition(args):
    model, label = load_model(args.model)
    a, b = (images_io.read_image(path, model.image_size) for path in (args.image_a, args.image_b))
    frames = model.interpolate(a, b, steps=args.steps, spherical=args.spherical)
    info = provenance.provenance(label, f"transition in {args.steps} steps",
                                 source=f"{Path(args.image_a).name} -> {Path(args.image_b).name}")
    print(images_io.write_gif(args.output, frames, info, fps=args.fps, scale=args.scale,
                              mark=args.watermark))


def latent_map(args):
    model, label = load_model(args.model)
    data = open_data(args, model.image_size, attributes=[args.attr], limit=2000, batch_size=256)
    if not isinstance(data.element_spec, tuple) or args.attr not in data.element_spec[1]:
        raise ValueError(f"{args.data} has no {args.attr!r} labels: "
                         "pass --labels CSV for a plain image folder")
    codes, labels = [], []
    for images, attributes in data:
        codes.append(np.asarray(model.encode(images)))
        labels.append(attributes[args.attr].numpy())
    figure = plots.latent_map(np.concatenate(codes), np.concatenate(labels), args.attr,
                              args.method, args.seed)
    info = provenance.provenance(label, source=str(args.data))
    print(plots.save_figure(figure, args.output, info))


def evaluate_edits(args):
    from dfl_keras import evaluate

    model = pretrained.load_model(args.model)
    names = args.attrs or [name for name in evaluate.ATTGAN_ATTRIBUTES if name in model.attribute_names]
    check_names(names, model.attribute_names, "the model")
    data = open_data(args, model.image_size, split="test", batch_size=64)
    report = evaluate.edit_report(model, evaluate.load_judge(args.judge), data, names, t=args.t)
    print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2))
        print(f"Saved the report to {args.json}")


def export(args):
    from dfl_keras.export import export_serving

    model = pretrained.load_model(args.model)
    print(export_serving(model, args.base, name=args.name, version=args.version,
                         overwrite=args.overwrite, raw_images=args.raw_images))


# ---------------------------------------------------------------------- helpers


def load_model(path):
    """The model (the shipped one when path is None) and its provenance label."""
    path = pretrained.shipped_model_path() if path is None else path
    return pretrained.load_model(path), provenance.model_label(path)


def default_combos(model):
    """DeepFakeLab's demo edits if the model has their vectors, else its first two vectors."""
    names = model.attribute_names
    combos = [combo.split("+") for combo in DEMO_COMBOS if set(combo.split("+")) <= set(names)]
    if not combos:
        if not names:
            raise ValueError("the model has no attribute vectors yet: run dfl fit-vectors first")
        combos = [[name] for name in names[:2]] + ([names[:2]] if len(names) > 1 else [])
    return combos


def check_combos(model, combos):
    names = [name for combo in combos for name in combo]
    check_names(names, model.attribute_names, "the model")


def sweep(combos, t_values):
    """Smiling; Smiling+Bald at t = 0.2, 0.5: the edits of a grid, for its provenance."""
    return (f"{'; '.join('+'.join(combo) for combo in combos)} "
            f"at t = {', '.join(f'{t:g}' for t in t_values)}")


def save_atomically(model, path):
    """Save beside `path`, then rename onto it: a crash mid-save never leaves a broken model."""
    partial = path.with_name(f".{path.stem}.partial.keras")
    try:
        model.save(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def open_data(args, image_size, attributes=None, split="train", limit=None, **options):
    """DATA as a dataset: tfds:celeb_a, a CelebA folder (any layout) or a plain image folder.

    `split` and `limit` are the command's defaults for --split and --limit. (The
    data options are shared by several commands, so their defaults live here:
    argparse's set_defaults on one command would change them for all.)
    """
    split = args.split or split
    options.update(image_size=image_size, take=args.limit or limit)
    if args.crop:
        options["crop"] = args.crop
    if args.data.startswith("tfds:"):
        if args.data != "tfds:celeb_a":
            raise ValueError(f"only tfds:celeb_a is supported, got {args.data}")
        return datasets.celeba_tfds(split, attributes=attributes, **options)
    root = Path(args.data)
    if not root.is_dir():
        raise FileNotFoundError(f"no data folder {root}")
    options["skip_bad"] = args.skip_bad
    if any((root / name).is_file() for name in LABEL_FILES):
        return datasets.celeba_folder(root, split, attributes=attributes, **options)
    return datasets.image_folder(root, args.labels, **options)


def images_only(dataset):
    if isinstance(dataset.element_spec, tuple):
        return dataset.map(lambda image, labels: image)
    return dataset


def edit(text):
    """NAME=T (or NAME alone, for the vector's default strength) from --attr."""
    name, _, value = text.partition("=")
    if name:
        try:
            return name, float(value) if value else None
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"expected NAME=T such as Bald=1.2, got {text!r}")


def combo(text):
    """Smiling+Bald -> ["Smiling", "Bald"]."""
    return text.split("+")


# ----------------------------------------------------------------------- parser


def build_parser():
    parser = argparse.ArgumentParser(
        prog="dfl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of errors")
    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--model", help="a .keras model file (default: the shipped model, "
                       "or $DFL_MODEL)")
    mark = argparse.ArgumentParser(add_help=False)
    mark.add_argument("--watermark", action="store_true", help="also mark the images visibly")
    edits = argparse.ArgumentParser(add_help=False)
    edits.add_argument("--attrs", nargs="+", type=combo, metavar="COMBO", help="edits, one row "
                       "each: a name, or names joined by + (e.g. Smiling Smiling+Bald)")
    edits.add_argument("--t", nargs="+", type=float, default=list(plots.DEFAULT_T),
                       help="strengths, one column each (default: %(default)s)")
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("data", metavar="DATA", help="a CelebA folder (official, Kaggle or "
                      "CelebA-HQ layout), a folder of images, or tfds:celeb_a")
    data.add_argument("--split", help="CelebA split: train, validation, test or all "
                      "(default: test for evaluate, train otherwise)")
    data.add_argument("--labels", metavar="CSV", help="attribute labels for a plain image folder")
    data.add_argument("--crop", choices=("center", "celeba"),
                      help="centre square, or CelebA's face box (default: the source's own)")
    data.add_argument("--limit", type=int, metavar="N", help="read only the first N images "
                      "(default: all; 2000 for latent-map)")
    data.add_argument("--skip-bad", action="store_true",
                      help="skip damaged or unlabelled images of a folder (each is logged)")

    def command(name, run, summary, *parents):
        sub = commands.add_parser(name, help=summary, description=summary,
                                  parents=[common, *parents])
        sub.set_defaults(run=run)
        return sub

    sub = command("demo", demo, "sample faces from the model and edit them: a t-sweep grid "
                  "and a GIF", model, mark, edits)
    sub.add_argument("-o", "--output", default="dfl_demo", help="folder (default: %(default)s)")
    sub.add_argument("--seed", type=int, default=0, help="which faces are sampled")
    sub.add_argument("--faces", type=int, default=2, help="how many faces (default: 2)")
    sub.add_argument("--steps", type=int, default=16, help="frames of the transition")

    sub = command("insert", insert, "edit your photos: insert attributes with strengths t",
                  model, mark)
    sub.add_argument("images", nargs="+", metavar="IMAGE", help="photos of any size: cropped to "
                     "their centre square, then resized to the model's size")
    sub.add_argument("--attr", action="append", type=edit, required=True, metavar="NAME=T",
                     help="an attribute and its strength (negative removes it); repeatable")
    sub.add_argument("-o", "--output", metavar="DIR",
                     help="folder for the results (default: beside each photo, as NAME.dfl.png)")

    sub = command("train", train, "train the autoencoder on images; resumable if killed", data)
    sub.add_argument("-o", "--output", required=True,
                     help="the model file (.keras), saved after every epoch")
    sub.add_argument("--image-size", type=int, default=64, help="square side (default: 64)")
    sub.add_argument("--latent-dim", type=int, default=128, help="size of z (default: 128)")
    sub.add_argument("--filters", type=int, nargs="+",
                     help="filters per resolution block (default: 32, 64, ... up to 256)")
    sub.add_argument("--covariance-weight", type=float, default=1e-4,
                     help="pull the codes' covariance towards the identity, so dot(z, v) scores "
                     "attributes well; 0 turns it off (default: %(default)s)")
    sub.add_argument("--epochs", type=int, default=10)
    sub.add_argument("--batch-size", type=int, default=64)
    sub.add_argument("--learning-rate", type=float, default=1e-3)
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--resume", action="store_true", help="continue a killed run from its last "
                     "finished epoch: the same command plus --resume")
    sub.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    sub.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs there")
    sub.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                     default="default", help="tf.distribute strategy (default: one device)")

    sub = command("fit-vectors", fit_vectors, "fit attribute vectors from labelled data into a "
                  "model", data)
    sub.add_argument("--model", required=True, help="the .keras file; updated in place unless -o")
    sub.add_argument("--attrs", nargs="+", metavar="NAME",
                     help="attributes to fit (default: all the data has)")
    sub.add_argument("-o", "--output", help="write the model here instead")
    sub.add_argument("--batch-size", type=int, default=64)

    sub = command("grid", grid, "a t-sweep grid of edits, on your photos or on sampled faces",
                  model, mark, edits)
    sub.add_argument("images", nargs="*", metavar="IMAGE", help="photos (default: sampled faces)")
    sub.add_argument("-o", "--output", default="dfl_grid.png", help="(default: %(default)s)")
    sub.add_argument("--faces", type=int, default=2, help="how many sampled faces, without IMAGE")
    sub.add_argument("--seed", type=int, default=0, help="which faces are sampled")

    sub = command("transition", transition, "a GIF walking the latent space from one photo to "
                  "another", model, mark)
    sub.add_argument("image_a", metavar="IMAGE_A")
    sub.add_argument("image_b", metavar="IMAGE_B")
    sub.add_argument("--steps", type=int, default=16)
    sub.add_argument("--spherical", action="store_true", help="slerp instead of a straight line")
    sub.add_argument("--fps", type=float, default=8)
    sub.add_argument("--scale", type=int, default=3, help="enlarge the frames this many times")
    sub.add_argument("-o", "--output", default="transition.gif", help="(default: %(default)s)")

    sub = command("latent-map", latent_map, "a 2-D map of the codes of DATA coloured by an "
                  "attribute (of the first 2000 images unless --limit)", model, data)
    sub.add_argument("--attr", required=True, help="the attribute that colours the points")
    sub.add_argument("--method", choices=("pca", "tsne"), default="pca",
                     help="pca (default) or tsne (needs scikit-learn)")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("-o", "--output", default="latent_map.png", help="(default: %(default)s)")

    positional_model = argparse.ArgumentParser(add_help=False)
    positional_model.add_argument("model", metavar="MODEL", help="the .keras model file")
    sub = command("evaluate", evaluate_edits, "judge edits on labelled faces: insertion and "
                  "removal success, preservation, PSNR/SSIM, vector AUC", positional_model, data)
    sub.add_argument("--attrs", nargs="+", help="attributes to edit (default: the 13 of AttGAN "
                     "that the model has)")
    sub.add_argument("--t", type=float, help="strength (default: each vector's calibrated t, else 1)")
    sub.add_argument("--judge", help="an AttributeJudge .keras file (default: the shipped one)")
    sub.add_argument("--json", metavar="FILE", help="also write the report as JSON")

    sub = command("export", export, "write a model as a SavedModel for TF Serving")
    sub.add_argument("model", metavar="MODEL", help="the .keras model file")
    sub.add_argument("--base", default="saved_models/serving", help="(default: %(default)s)")
    sub.add_argument("--name", default="dfl", help="the served model's name (default: dfl)")
    sub.add_argument("--version", type=int, help="default: one more than the highest there")
    sub.add_argument("--overwrite", action="store_true", help="replace an existing version")
    sub.add_argument("--raw-images", action="store_true",
                     help="also add signatures that take encoded image bytes")
    return parser


if __name__ == "__main__":
    sys.exit(main())
