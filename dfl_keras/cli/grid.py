"""dfl grid: a t-sweep grid of edits, on your photos or on sampled faces."""

from pathlib import Path

import numpy as np

from dfl_keras import plots, provenance
from dfl_keras.cli import common, options, photo_faces

SUMMARY = "a t-sweep grid of edits, on your photos or on sampled faces"


def add_arguments(parser):
    options.add_model(parser)
    options.add_watermark(parser)
    options.add_edits(parser)
    parser.add_argument("images", nargs="*", metavar="IMAGE",
                        help="photos: the largest face of each, aligned (default: sampled faces)")
    parser.add_argument("-o", "--output", default="dfl_grid.png", help="(default: %(default)s)")
    parser.add_argument("--faces", type=options.count, default=2,
                        help="how many sampled faces, without IMAGE")
    parser.add_argument("--seed", type=options.natural, default=0, help="which faces are sampled")
    options.add_overwrite(parser)
    photo_faces.add_face_options(parser, many=False)


def run(args):
    common.check_output_file(args.output, ".png", args.overwrite, args.images)  # before any work
    model, label = common.load_model(args.model)
    combos = args.attrs or common.default_combos(model)
    common.check_combos(model, combos)
    if args.images:
        photo_faces.check_files(args.images)
        faces = np.stack([photo_faces.face_crop(model, path, args.no_align)
                          for path in args.images])
        names = [Path(path).name for path in args.images]
        source = ", ".join(map(str, args.images))
    else:
        faces, names = np.asarray(model.sample(args.faces, seed=args.seed)), None
        source = f"sampled faces (seed {args.seed})"
    figure = plots.t_sweep_grid(model, faces, combos, args.t, names)
    info = provenance.provenance(label, common.sweep(combos, args.t), source)
    print(plots.save_figure(figure, args.output, info, args.watermark))
