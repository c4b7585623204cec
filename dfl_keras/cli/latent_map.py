"""dfl latent-map: a 2-D map of the codes of DATA, coloured by an attribute."""

import numpy as np

from dfl_keras import plots, provenance
from dfl_keras.cli import common, options
from dfl_keras.errors import check_attributes

SUMMARY = ("a 2-D map of the codes of DATA coloured by an attribute (of the first 2000 images "
           "unless --limit)")


def add_arguments(parser):
    options.add_model(parser)
    options.add_data(parser)
    parser.add_argument("--attr", required=True, help="the attribute that colours the points")
    parser.add_argument("--method", choices=("pca", "tsne"), default="pca",
                        help="pca (default) or tsne (needs scikit-learn)")
    parser.add_argument("--seed", type=options.natural, default=0)
    parser.add_argument("-o", "--output", default="latent_map.png", help="(default: %(default)s)")
    options.add_overwrite(parser)


def run(args):
    common.check_output_file(args.output, ".png", args.overwrite)
    model, label = common.load_model(args.model)
    data = common.open_data(args, model.image_size, attributes=[args.attr], limit=2000,
                            batch_size=256)
    check_attributes([args.attr], common.labelled_names(data, args.data), args.data)
    codes, labels = [], []
    for images, attributes in data:
        codes.append(np.asarray(model.encode(images)))
        labels.append(attributes[args.attr].numpy())
    figure = plots.latent_map(np.concatenate(codes), np.concatenate(labels), args.attr,
                              args.method, args.seed)
    info = provenance.provenance(label, source=str(args.data))
    print(plots.save_figure(figure, args.output, info))
