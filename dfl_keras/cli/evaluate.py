"""dfl evaluate: judge edits on labelled faces with an AttributeJudge."""

import json

from dfl_keras import atomic, evaluate
from dfl_keras.cli import common, options
from dfl_keras.errors import check_attributes
from dfl_keras.judge import AttributeJudge
from dfl_keras.model import LatentAttributeModel
from dfl_keras.presets import DEFAULT_JUDGE

SUMMARY = ("judge edits on labelled faces: insertion and removal success, preservation, "
           "PSNR/SSIM, vector AUC")


def add_arguments(parser):
    parser.add_argument("model", metavar="MODEL", help="a preset name or a .keras model file")
    options.add_data(parser)
    parser.add_argument("--attrs", nargs="+", help="attributes to edit (default: the 13 of AttGAN "
                        "that the model has)")
    parser.add_argument("--t", type=options.finite,
                        help="strength (default: each vector's calibrated t, "
                        "else 1)")
    parser.add_argument("--judge", default=DEFAULT_JUDGE, help="an AttributeJudge preset or "
                        ".keras file (default: %(default)s)")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")


def run(args):
    if args.json:
        common.check_output_file(args.json, ".json")
    model = LatentAttributeModel.from_preset(args.model)
    data = common.open_data(args, model.image_size, split="test", batch_size=64)
    labelled = common.labelled_names(data, args.data)
    names = args.attrs or [name for name in evaluate.ATTGAN_ATTRIBUTES
                           if name in model.attribute_names and name in labelled]
    if not names:
        raise ValueError(f"the model and {args.data} share none of AttGAN's 13 attributes: "
                         "name the ones to judge with --attrs")
    check_attributes(names, model.attribute_names, "the model")
    check_attributes(names, labelled, args.data)
    judge = AttributeJudge.from_preset(args.judge)
    report = evaluate.edit_report(model, judge, data, names, t=args.t)
    print(report)
    if args.json:
        atomic.write_bytes(args.json, json.dumps(report.as_dict(), indent=2).encode())
        print(f"Saved the report to {args.json}")
