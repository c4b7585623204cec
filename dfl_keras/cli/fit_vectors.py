"""dfl fit-vectors: fit attribute vectors from labelled data into a model file."""

from pathlib import Path

from dfl_keras.cli import common, options
from dfl_keras.errors import check_attributes
from dfl_keras.model import LatentAttributeModel

SUMMARY = "fit attribute vectors from labelled data into a model"


def add_arguments(parser):
    options.add_data(parser)
    parser.add_argument("--model", required=True, help="the .keras file; updated in place "
                        "unless -o")
    parser.add_argument("--attrs", nargs="+", metavar="NAME",
                        help="attributes to fit (default: all the data has)")
    parser.add_argument("-o", "--output", help="write the model here instead")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing -o file")
    parser.add_argument("--batch-size", type=options.count, default=64)


def run(args):
    target = Path(args.output or args.model)
    if args.output:
        same = Path(args.model).is_file() and target.exists() and target.samefile(args.model)
        common.check_output_file(target, ".keras", overwrite=args.overwrite or same)
    model = LatentAttributeModel.from_preset(args.model)
    data = common.open_data(args, model.image_size, attributes=args.attrs,
                            batch_size=args.batch_size)
    available = common.labelled_names(data, args.data)
    names = args.attrs or available
    check_attributes(names, available, args.data)
    model.fit_attribute_vectors(data, names, batch_size=args.batch_size)
    print()  # the progress bar of an unknown length leaves its line open
    model.save(target)  # atomic
    for name in names:
        info = model.attribute_info(name)
        print(f"{name}: {info['n_with']} with, {info['n_without']} without")
    print(f"Saved {len(names)} attribute vectors into {target}")
