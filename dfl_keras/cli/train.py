"""dfl train: train the autoencoder on images, resumable if killed."""

import importlib.util
import warnings
from pathlib import Path

import keras

from dfl_keras import distribute, training
from dfl_keras.cli import common, options
from dfl_keras.model import LatentAttributeModel

SUMMARY = "train the autoencoder on images; resumable if killed"
INTERRUPTED = "; the same command plus --resume continues from the last finished epoch"


def add_arguments(parser):
    options.add_data(parser)
    parser.add_argument("-o", "--output", required=True,
                        help="the model file (.keras), saved after every epoch")
    parser.add_argument("--image-size", type=options.count, default=64,
                        help="square side (default: 64)")
    parser.add_argument("--latent-dim", type=options.count, default=128,
                        help="size of z (default: 128)")
    parser.add_argument("--filters", type=options.count, nargs="+",
                        help="filters per resolution block (default: 32, 64, ... up to 256)")
    parser.add_argument("--covariance-weight", type=options.non_negative, default=1e-4,
                        help="pull the codes' covariance towards the identity, so dot(z, v) "
                        "scores attributes well; 0 turns it off (default: %(default)s)")
    parser.add_argument("--epochs", type=options.count, default=10)
    parser.add_argument("--batch-size", type=options.count, default=64)
    parser.add_argument("--learning-rate", type=options.positive, default=1e-3)
    parser.add_argument("--seed", type=options.natural, default=0)
    parser.add_argument("--resume", action="store_true", help="continue a killed run from its "
                        "last finished epoch: the same command plus --resume")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    parser.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs there")
    parser.add_argument("--strategy", choices=distribute.STRATEGIES, default="default",
                        help="tf.distribute strategy (default: one device)")


def run(args):
    output = Path(args.output)
    training.check_run(output, args.resume, args.overwrite)
    if args.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ImportError("--tensorboard needs TensorBoard: pip install tensorboard")
    strategy = distribute.strategy_from_name(args.strategy)
    images = common.open_data(args, args.image_size, batch_size=args.batch_size, shuffle=True,
                              seed=args.seed)
    if isinstance(images.element_spec, tuple):
        images = images.map(lambda image, labels: image)
    images = distribute.shard_by_data(images)
    keras.utils.set_random_seed(args.seed)
    with strategy.scope():
        model = LatentAttributeModel(image_size=args.image_size, latent_dim=args.latent_dim,
                                     filters=args.filters)
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                      covariance_weight=args.covariance_weight)
    callbacks = training.run_callbacks(output, args.tensorboard, strategy)
    with warnings.catch_warnings():
        # --skip-bad makes the number of batches unknown until the first epoch ends, which
        # Keras 3 reports as "Your input ran out of data" although nothing is wrong.
        warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
        model.fit(images, epochs=args.epochs, callbacks=callbacks, shuffle=False, verbose=1)
    log = training.run_files(output)[1]
    print(f"Saved {output} after {args.epochs} epochs; the losses of each epoch are in {log}.")
    print(f"Next: dfl fit-vectors {args.data} --model {output}")
