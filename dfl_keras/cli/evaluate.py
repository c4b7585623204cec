"""dfl evaluate: judge edits on labelled faces with an AttributeJudge."""

import json
from pathlib import Path

from dfl_keras import evaluate
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
    parser.add_argument("--t", type=float, help="strength (default: each vector's calibrated t, "
                        "else 1)")
    parser.add_argument("--judge", default=DEFAULT_JUDGE, help="an AttributeJudge preset or "
                        ".keras file (default: %(default)s)")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")


def run(args):
    model = LatentAttributeModel.from_preset(args.model)
    names = args.attrs or [name for name in evaluate.ATTGAN_ATTRIBUTES
                           if name in model.attribute_names]
    check_attributes(names, model.attribute_names, "the model")
    data = common.open_data(args, model.image_size, split="test", batch_size=64)
    judge = AttributeJudge.from_preset(args.judge)
    report = evaluate.edit_report(model, judge, data, names, t=args.t)
    print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2))
        print(f"Saved the report to {args.json}")
