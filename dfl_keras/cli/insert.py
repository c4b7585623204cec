"""dfl insert: edit your own photos."""

from pathlib import Path

import numpy as np

from dfl_keras import images_io, provenance
from dfl_keras.cli import common, options
from dfl_keras.errors import check_attributes

SUMMARY = "edit your photos: insert attributes with strengths t"


def add_arguments(parser):
    options.add_model(parser)
    options.add_watermark(parser)
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="photos of any size: cropped "
                        "to their centre square, then resized to the model's size")
    parser.add_argument("--attr", action="append", type=options.edit, required=True,
                        metavar="NAME=T", help="an attribute and its strength (negative removes "
                        "it); repeatable")
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="folder for the results (default: beside each photo, as NAME.dfl.png)")


def run(args):
    model, label = common.load_model(args.model)
    check_attributes([name for name, _ in args.attr], model.attribute_names, "the model")
    edits = {name: model.attribute_info(name).get("t", 1.0) if t is None else t
             for name, t in args.attr}
    photos = np.stack([images_io.read_image(path, model.image_size) for path in args.images])
    edited = np.asarray(model.insert(photos, edits))
    for path, image in zip(map(Path, args.images), edited):
        folder = Path(args.output) if args.output else path.parent
        folder.mkdir(parents=True, exist_ok=True)
        info = provenance.provenance(label, edits, source=path.name)
        print(images_io.write_png(folder / f"{path.stem}.dfl.png", image, info, args.watermark))
