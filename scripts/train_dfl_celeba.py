"""Reproduce the shipped editor: train, fit all 40 vectors, measure.

    python scripts/train_dfl_celeba.py --image-size 64    # saved_models/dfl_celeba64.keras
    # a 128 px editor grown from the 64 px one (measured, not shipped: see its issue, #14)
    python scripts/train_dfl_celeba.py --image-size 128 --grow-from saved_models/dfl_celeba64.keras \
        --isotropic-epochs 6 --isotropic-learning-rate 1e-4 --perceptual-weight 0.03 \
        --out /tmp/dfl_celeba128.keras
    # the VAE-GAN decoder: the shipped editor's encoder and vectors kept, its decoder fine-tuned
    python scripts/train_dfl_celeba.py --image-size 64 --adversarial-from saved_models/dfl_celeba64.keras \
        --epochs 12 --steps-per-epoch 400 --batch-size 32 --learning-rate 1e-4 \
        --perceptual-weight 0.03 --adversarial-weight 0.5 --adversarial-start 400 \
        --out /tmp/dfl_celeba64_gan.keras

Trains the default LatentAttributeModel on CelebA-HQ images 1..27000
(../shared/data/celeba_hq_<size>) in two stages: --epochs of cosine-decayed
Adam without the covariance penalty (its noisy batch estimate slows early
learning: from scratch it cost 0.6 dB), then --isotropic-epochs with it, which
makes the codes' covariance close to the identity. --stage1 MODEL skips the
first stage and starts from a model trained that way; --grow-from SMALL skips
it too and starts from SMALL grown to twice its size (architecture "grown"). --perceptual-weight adds
the judge's feature loss to both stages. --adversarial-from EDITOR replaces both
stages by one: EDITOR's encoder frozen (so its codes, vectors and calibrations
stay valid) and its decoder fine-tuned for --epochs with a PatchGAN critic
(VAE-GAN, dfl_keras.adversarial), constant --learning-rate. Checkpoints, logs and backups live in
--work, so a killed run resumes. Then it fits the 40 attribute vectors on the
same images and measures held-out (27001..30000) PSNR/SSIM and the ROC AUC of
dot(z, v) per attribute. The numbers land in <work>/metrics.json for the model
card.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import dfl_keras as dfl  # noqa: E402
from dfl_keras import evaluate, training  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--data", default=None, help="default: ../shared/data/celeba_hq_<size>")
    parser.add_argument("--out", default=None, help="default: saved_models/dfl_celeba<size>.keras")
    parser.add_argument("--work", default=None, help="default: /tmp/dfl_train<size>")
    parser.add_argument("--epochs", type=int, default=16, help="first stage, no covariance penalty")
    parser.add_argument("--isotropic-epochs", type=int, default=3, help="second stage, with it")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--isotropic-learning-rate", type=float, default=3e-4)
    parser.add_argument("--covariance-weight", type=float, default=1e-4)
    parser.add_argument("--perceptual-weight", type=float, default=0.0,
                        help="weight of the judge's feature loss in both stages (0: off)")
    parser.add_argument("--latent-dim", type=int, default=128)
    parser.add_argument("--stage1", default=None, help="a model from the first stage: skip it")
    parser.add_argument("--grow-from", default=None,
                        help="a trained model of half the size: skip the first stage and grow it")
    parser.add_argument("--adversarial-from", default=None,
                        help="an editor whose decoder to fine-tune with a critic, encoder frozen")
    parser.add_argument("--adversarial-weight", type=float, default=0.5)
    parser.add_argument("--adversarial-start", type=int, default=400,
                        help="step at which the critic's term switches on")
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    size = args.image_size
    args.data = args.data or f"../shared/data/celeba_hq_{size}"
    args.out = args.out or f"saved_models/dfl_celeba{size}.keras"
    args.work = args.work or ("/tmp/dfl_train" if size == 64 else f"/tmp/dfl_train{size}")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)

    train = dfl.data.celeba_folder(
        args.data, "train", image_size=size, batch_size=args.batch_size, shuffle=True, seed=args.seed,
        cache="memory", drop_remainder=True,
    )
    held_out = dfl.data.celeba_folder(args.data, "test", image_size=size, batch_size=250)
    start = time.time()
    if args.adversarial_from:
        model = train_decoder(dfl.LatentAttributeModel.from_preset(args.adversarial_from), train,
                              held_out, work / "adversarial", args)
        shipped = dfl.LatentAttributeModel.from_preset(args.adversarial_from)
        shipped.decoder.set_weights(model.decoder.get_weights())  # vectors and calibrations kept
        metrics = held_out_metrics(shipped, held_out)
        metrics.update(train_minutes=round((time.time() - start) / 60, 1), args=vars(args))
        shipped.save(args.out)  # atomic
        (work / "metrics.json").write_text(json.dumps(metrics, indent=2))
        print(json.dumps({k: v for k, v in metrics.items() if k != "auc"}, indent=2))
        return
    if args.stage1:
        model = keras.saving.load_model(args.stage1)
    elif args.grow_from:
        model = dfl.LatentAttributeModel.grown_from(keras.saving.load_model(args.grow_from))
    else:
        model = dfl.LatentAttributeModel(image_size=size, latent_dim=args.latent_dim)
        train_stage(model, train, held_out, args.epochs, args.learning_rate, 0.0, work / "stage1",
                    args)
    train_stage(model, train, held_out, args.isotropic_epochs, args.isotropic_learning_rate,
                args.covariance_weight, work / "stage2", args)
    train_minutes = (time.time() - start) / 60

    # A fresh, uncompiled copy: the shipped file carries no optimizer state.
    shipped = dfl.LatentAttributeModel.from_config(model.get_config())
    shipped.set_weights(model.get_weights())
    unshuffled = dfl.data.celeba_folder(args.data, "train", image_size=size, batch_size=250)
    shipped.fit_attribute_vectors(unshuffled, dfl.data.CELEBA_ATTRIBUTES, verbose=2)
    metrics = held_out_metrics(shipped, held_out)
    metrics.update(train_minutes=round(train_minutes, 1), args=vars(args))
    shipped.save(args.out)  # atomic
    (work / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps({k: v for k, v in metrics.items() if k != "auc"}, indent=2))


def train_stage(model, train, held_out, epochs, learning_rate, covariance_weight, work, args):
    """Cosine-decayed Adam for ``epochs``, resumable from ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    steps = 27000 // args.batch_size
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule), covariance_weight=covariance_weight,
                  perceptual_weight=args.perceptual_weight)
    model.fit(train, epochs=epochs, validation_data=held_out.take(4), shuffle=False,
              callbacks=training.run_callbacks(work / "latest.keras"), verbose=2)


def train_decoder(model, train, held_out, work, args):
    """Fine-tune an editor's decoder with the critic, its encoder frozen; resumable from ``work``.
    Each epoch's checkpoint is a whole editor (vectors included)."""
    work.mkdir(parents=True, exist_ok=True)
    model.encoder.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate, beta_1=0.5, beta_2=0.9),
                  perceptual_weight=args.perceptual_weight,
                  adversarial_weight=args.adversarial_weight,
                  adversarial_start=args.adversarial_start)
    model.fit(train.repeat(), epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
              validation_data=held_out.take(4), shuffle=False,
              callbacks=training.run_callbacks(work / "latest.keras"), verbose=2)
    return model


def held_out_metrics(model, held_out):
    images, labels = [], {name: [] for name in model.attribute_names}
    for x, y in held_out:
        images.append(x.numpy())
        for name in labels:
            labels[name].append(y[name].numpy())
    images = np.concatenate(images)
    codes = model.encode(images)
    auc = {name: round(evaluate.vector_auc(model, codes, np.concatenate(v), name), 4) for name, v in labels.items()}
    return {**evaluate.reconstruction_quality(model, images), "auc": auc}


if __name__ == "__main__":
    main()
