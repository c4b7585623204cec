"""dfl export: write a model as a SavedModel for TF Serving."""

from dfl_keras.cli import options
from dfl_keras.export import export_serving
from dfl_keras.model import LatentAttributeModel

SUMMARY = "write a model as a SavedModel for TF Serving"


def add_arguments(parser):
    parser.add_argument("model", metavar="MODEL", help="a preset name or a .keras model file")
    parser.add_argument("--base", default="saved_models/serving", help="(default: %(default)s)")
    parser.add_argument("--name", type=options.plain_name, default="dfl",
                        help="the served model's name (default: dfl)")
    parser.add_argument("--version", type=options.natural,
                        help="default: one more than the highest there")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing version")
    parser.add_argument("--raw-images", action="store_true",
                        help="also add signatures that take encoded image bytes")


def run(args):
    model = LatentAttributeModel.from_preset(args.model)
    print(export_serving(model, args.base, name=args.name, version=args.version,
                         overwrite=args.overwrite, raw_images=args.raw_images))
