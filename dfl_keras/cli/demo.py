"""dfl demo: faces sampled from the model, edited over a t sweep, and a transition GIF."""

from pathlib import Path

import numpy as np

from dfl_keras import images_io, plots, provenance
from dfl_keras.cli import common, options

DEMO_SCALE = 3  # the GIF's frames are enlarged this many times
SUMMARY = "sample faces from the model and edit them: a t-sweep grid and a GIF"


def add_arguments(parser):
    options.add_model(parser)
    options.add_watermark(parser)
    options.add_edits(parser)
    parser.add_argument("-o", "--output", default="dfl_demo", help="folder (default: %(default)s)")
    parser.add_argument("--seed", type=options.natural, default=0, help="which faces are sampled")
    parser.add_argument("--faces", type=options.count, default=2,
                        help="how many faces (default: 2)")
    parser.add_argument("--steps", type=options.frames, default=16, help="frames of the transition")
    options.add_overwrite(parser)


def run(args):
    out = Path(args.output)
    for name in ("grid.png", "transition.gif"):  # before any work
        common.check_replaceable(out / name, args.overwrite)
    model, label = common.load_model(args.model)
    combos = args.attrs or common.default_combos(model)
    common.check_combos(model, combos)
    images_io.check_gif(args.steps, model.image_size, DEMO_SCALE)
    out.mkdir(parents=True, exist_ok=True)
    faces = np.asarray(model.sample(args.faces, seed=args.seed))
    sampled = f"sampled faces (seed {args.seed})"
    grid_info = provenance.provenance(label, f"{sampled}; {common.sweep(combos, args.t)}")
    grid_path = plots.save_figure(plots.t_sweep_grid(model, faces, combos, args.t),
                                  out / "grid.png", grid_info, args.watermark)
    frames = model.interpolate(faces[0], faces[-1], steps=args.steps)
    gif_info = provenance.provenance(label, f"transition between two {sampled}")
    gif_path = images_io.write_gif(out / "transition.gif", frames, gif_info, scale=DEMO_SCALE,
                                   mark=args.watermark)
    print(f"{grid_path}: {len(faces)} sampled faces x {len(combos)} edits, "
          f"t = {args.t[0]:g} ... {args.t[-1]:g}")
    print(f"{gif_path}: a walk through the latent space from face 1 to face {len(faces)}")
    print("The faces were sampled from the model: they are no one's photo. "
          "Both files say in their metadata that they are synthetic.")
