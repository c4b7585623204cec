"""dfl transition: a GIF walking the latent space from the face in one photo to another's."""

from pathlib import Path

from dfl_keras import images_io, provenance
from dfl_keras.cli import common, options, photo_faces

SUMMARY = "a GIF walking the latent space from one photo to another"


def add_arguments(parser):
    options.add_model(parser)
    options.add_watermark(parser)
    parser.add_argument("image_a", metavar="PHOTO_A", help="the largest face in it is aligned")
    parser.add_argument("image_b", metavar="PHOTO_B")
    parser.add_argument("--steps", type=options.frames, default=16)
    parser.add_argument("--spherical", action="store_true", help="slerp instead of a straight line")
    parser.add_argument("--fps", type=options.positive, default=8)
    parser.add_argument("--scale", type=options.count, default=3, help="enlarge the frames this many times")
    parser.add_argument("-o", "--output", default="transition.gif", help="(default: %(default)s)")
    options.add_overwrite(parser)
    photo_faces.add_face_options(parser, many=False)


def run(args):
    common.check_output_file(args.output, ".gif", args.overwrite,  # before any work
                             (args.image_a, args.image_b))
    model, label = common.load_model(args.model)
    images_io.check_gif(args.steps, model.image_size, args.scale, args.fps)
    photo_faces.check_files((args.image_a, args.image_b))
    a, b = (photo_faces.face_crop(model, path, args.no_align)
            for path in (args.image_a, args.image_b))
    frames = model.interpolate(a, b, steps=args.steps, spherical=args.spherical)
    info = provenance.provenance(label, f"transition in {args.steps} steps",
                                 source=f"{Path(args.image_a).name} -> {Path(args.image_b).name}")
    print(images_io.write_gif(args.output, frames, info, fps=args.fps, scale=args.scale,
                              mark=args.watermark))
