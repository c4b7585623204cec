"""LatentAttributeModel: an autoencoder that edits faces with attribute vectors.

The DeepFakeLab method in three steps:

1. train an autoencoder, encoder phi(x) = z and decoder psi(z);
2. fit a vector per attribute C: v = mean(phi(x) | C=1) - mean(phi(x) | C=0);
3. insert: psi(phi(x) + sum_i t_i v_i).

Editing always uses the deterministic code z = z_mean: a sampled z would make
every edit noisy.
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dfl_keras import (adversarial, atomic, directions, distribute, export, inputs, losses,
                       networks, photos, presets, vectors)
from dfl_keras.errors import check_attributes
from dfl_keras.judge import AttributeJudge


LOSS_WEIGHTS = ("beta", "edge_weight", "covariance_weight", "reconstruction_loss",
                "adversarial_weight", "adversarial_start")  # compile()'s


@keras.saving.register_keras_serializable(package="dfl_keras")
class LatentAttributeModel(keras.Model):
    """A (variational) autoencoder for square RGB faces plus named attribute vectors.

    The architecture is set here; the loss weights are training concerns and go
    to ``compile()``, so changing one needs no rebuilt model. Why these defaults
    (measured on CelebA-HQ) is in saved_models/MODEL_CARD.md. Load the shipped
    editor with ``LatentAttributeModel.from_preset("dfl_celeba64")``; a plain
    ``keras.saving.load_model`` needs ``import dfl_keras`` first, which
    registers the class.

    Args:
        image_size: side of the square input images (a power of two, e.g. 64, 128).
        latent_dim: size of the code z.
        variational: a VAE (True) or a plain autoencoder (False).
        architecture: "strided" (default), "grown" (a strided model of half the
            size plus one up-block, see ``grown_from``) or "original"
            (DeepFakeLab's network).
        filters: filters per resolution block; by default 32, 64, ... capped at 256.

    Example:

    >>> import numpy as np
    >>> model = LatentAttributeModel(image_size=16, latent_dim=8, filters=(8, 16))
    >>> model.compile(optimizer="adam", covariance_weight=0.0)
    >>> images = np.random.default_rng(0).random((8, 16, 16, 3), dtype=np.float32)
    >>> _ = model.fit(images, epochs=1, batch_size=4, verbose=0)
    >>> model.encode(images).shape
    (8, 8)
    """

    def __init__(self, image_size=64, latent_dim=128, variational=True, architecture="strided",
                 filters=None, **kwargs):
        super().__init__(**kwargs)
        networks.check_image_size(image_size)
        self.image_size = int(image_size)
        self.latent_dim = int(latent_dim)
        self.variational = bool(variational)
        self.architecture = architecture
        self.filters = tuple(filters or networks.default_filters(image_size, architecture))
        self.encoder = networks.build_encoder(
            self.image_size, self.latent_dim, self.filters, self.variational, architecture
        )
        self.decoder = networks.build_decoder(self.image_size, self.latent_dim, self.filters, architecture)
        self.trackers = {}  # set by compile(), which knows the loss terms
        self.adversary = None  # set by compile() with an adversarial weight; never saved
        self._vectors = {}  # name -> {"vector": (d,) float32, plus fitting facts}
        self.code_distribution = None  # (mean, covariance) of the codes seen when fitting vectors
        self.face_template = None  # (5, 2) unit landmark positions in the training framing (photos)
        self.built = True

    @classmethod
    def from_preset(cls, name_or_path):
        """A shipped editor by name (see dfl_keras.presets.PRESETS) or a .keras file.

        Example:

        >>> model = LatentAttributeModel.from_preset("dfl_celeba64")
        >>> model.image_size, "Smiling" in model.attribute_names
        (64, True)
        """
        return presets.load_preset(name_or_path, cls)

    @classmethod
    def grown_from(cls, small):
        """A model of twice ``small``'s size that starts out drawing ``small``'s faces.

        Its encoder and decoder hold ``small``'s weights, and the new up-block
        adds no detail until trained, so training at the larger size starts from
        a trained face model (``networks``, "grown"). Vectors are not copied:
        they are fitted again after training.

        Example:

        >>> small = LatentAttributeModel(image_size=16, latent_dim=8, filters=(8, 16))
        >>> large = LatentAttributeModel.grown_from(small)
        >>> large.image_size, large.architecture
        (32, 'grown')
        """
        if small.architecture != "strided":
            raise ValueError("Only a strided model can grow. "
                             f"Received: architecture={small.architecture!r}")
        large = cls(image_size=2 * small.image_size, latent_dim=small.latent_dim,
                    variational=small.variational, architecture="grown", filters=small.filters)
        for part in ("encoder", "decoder"):
            old = [layer for layer in getattr(small, part).layers if layer.weights]
            new = [layer for layer in getattr(large, part).layers if layer.weights]
            for source, target in zip(old, new):
                target.set_weights(source.get_weights())
        large.face_template = small.face_template
        return large

    # ----------------------------------------------------------------- training

    def compile(self, optimizer="adam", beta=4e-6, edge_weight=0.0, covariance_weight=1e-4,
                reconstruction_loss="mse", perceptual_weight=0.0, perceptual_judge="judge_celeba64",
                adversarial_weight=0.0, adversarial_start=0, **kwargs):
        """Set the optimizer and the loss: reconstruction + beta KL + edge + covariance + perceptual
        (+ adversarial).

        Args:
            optimizer: a Keras optimizer or its name.
            beta: weight of the KL term (VAE only), per latent dimension against
                a pixel-mean reconstruction loss: small values keep faces sharp.
            edge_weight: weight of the Sobel edge loss (0 turns it off).
            covariance_weight: weight of the penalty pulling the covariance of the
                deterministic codes over a batch towards the identity (0 turns it
                off). It makes dot(z, v) a good attribute score; under tf.distribute
                each replica estimates it on its own share of the batch.
            reconstruction_loss: "mse" (pixel-mean squared error) or "bce".
            perceptual_weight: weight of the feature loss (0 turns it off): the
                squared difference of the judge's first three scales of feature
                maps between photo and reconstruction (DFC-VAE's idea, with a
                CelebA-trained judge in place of ImageNet's VGG, which cannot be
                downloaded here). Pixels forgive blur; features that see
                frames, teeth and hair edges do not.
            perceptual_judge: the AttributeJudge whose features it uses, a
                preset name or a .keras file (a name, so the setting is saved).
            adversarial_weight: scale of the PatchGAN critic's term (0 turns it
                off), relative to the reconstruction terms' gradient norm at
                the decoder's last layer (``dfl_keras.adversarial``). A VAE-GAN
                decoder draws edges and texture where a pixel loss draws a
                smear. To fine-tune only the decoder, so that codes and vectors
                stay valid, set ``model.encoder.trainable = False`` first.
            adversarial_start: the optimizer step at which the critic is
                switched on; before it the decoder trains on the other terms.

        Example:

        >>> model = LatentAttributeModel(image_size=16, latent_dim=8, filters=(8, 16))
        >>> model.encoder.trainable = False
        >>> model.compile(optimizer="adam", adversarial_weight=0.5, adversarial_start=100)
        >>> sorted(model.trackers)[:3]
        ['adversarial_loss', 'adversarial_weight', 'covariance_loss']
        """
        if reconstruction_loss not in losses.RECONSTRUCTION_LOSSES:
            raise ValueError(f"reconstruction_loss must be one of {losses.RECONSTRUCTION_LOSSES}. "
                             f"Received: reconstruction_loss={reconstruction_loss!r}")
        super().compile(optimizer=optimizer, **kwargs)
        self.loss_config = {"beta": float(beta), "edge_weight": float(edge_weight),
                            "covariance_weight": float(covariance_weight),
                            "reconstruction_loss": reconstruction_loss,
                            "perceptual_weight": float(perceptual_weight),
                            "perceptual_judge": str(perceptual_judge),
                            "adversarial_weight": float(adversarial_weight),
                            "adversarial_start": int(adversarial_start)}
        self.adversary = adversarial.Adversary(self.image_size) if adversarial_weight else None
        judge = AttributeJudge.from_preset(perceptual_judge) if perceptual_weight else None
        self._feature_loss = losses.FeatureLoss(judge.feature_maps()) if judge else None
        trackers = ["loss", "reconstruction_loss", "psnr"]
        trackers += ["kl_loss"] if self.variational else []
        trackers += ["edge_loss"] if edge_weight else []
        trackers += ["covariance_loss"] if covariance_weight else []
        trackers += ["perceptual_loss"] if perceptual_weight else []
        trackers += ["adversarial_loss", "adversarial_weight", "discriminator_loss"] \
            if adversarial_weight else []
        self.trackers = {name: keras.metrics.Mean(name=name) for name in trackers}

    def get_compile_config(self):
        """The optimizer and the loss weights, so a model saved while training resumes as it was."""
        config = super().get_compile_config()
        return {**config, **self.loss_config} if self.compiled else config

    def compile_from_config(self, config):
        """What Keras does for a model with the stock compile(), which it skips for a custom one."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        return self.decoder(self.latent_code(images, training), training=training)

    def train_step(self, data):
        images = self._training_images(data)
        share = distribute.batch_share(images)
        last_kernel = [layer for layer in self.decoder.layers if layer.weights][-1].kernel.value
        with tf.GradientTape() as tape:
            with tf.GradientTape(persistent=True, watch_accessed_variables=False) as last:
                last.watch(last_kernel)
                terms, reconstructions = self._loss_terms(images, training=True)
                if self.adversary:
                    terms["adversarial_loss"] = adversarial.generator_loss(
                        self.adversary.discriminator(reconstructions, training=False))
            if self.adversary:
                switched_on = tf.cast(
                    self.optimizer.iterations >= self.loss_config["adversarial_start"], tf.float32)
                terms["adversarial_weight"] = switched_on * adversarial.adaptive_weight(
                    last.gradient(terms["loss"], last_kernel),
                    last.gradient(terms["adversarial_loss"], last_kernel),
                    self.loss_config["adversarial_weight"])
                terms["loss"] += terms["adversarial_weight"] * terms["adversarial_loss"]
            loss = terms["loss"] * share
        del last
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        if self.adversary:
            terms["discriminator_loss"] = self._critic_step(images, reconstructions, share)
        return self._update_trackers(terms, images)

    def _critic_step(self, images, reconstructions, share):
        """One step of the critic on real images against the decoder's drawings."""
        critic = self.adversary.discriminator
        with tf.GradientTape() as tape:
            loss = adversarial.discriminator_hinge_loss(
                critic(images, training=True), critic(tf.stop_gradient(reconstructions), training=True))
            scaled = loss * share
        grads = tape.gradient(scaled, critic.trainable_variables)
        self.adversary.optimizer.apply_gradients(zip(grads, critic.trainable_variables))
        return loss

    def test_step(self, data):
        images = self._training_images(data)
        terms, _ = self._loss_terms(images, training=False)
        return self._update_trackers(terms, images)

    def _loss_terms(self, images, training):
        """Batch means of every loss term, and the reconstructions. Training samples z;
        evaluation uses z_mean."""
        if self.variational:
            z_mean, z_log_var = self.encoder(images, training=training)
            z = z_mean
            if training:
                z = z_mean + tf.exp(0.5 * z_log_var) * tf.random.normal(tf.shape(z_mean))
        else:
            z = z_mean = self.encoder(images, training=training)
        reconstructions = self.decoder(z, training=training)
        weights = self.loss_config
        terms = {
            "reconstruction_loss": tf.reduce_mean(
                losses.reconstruction_loss(images, reconstructions, weights["reconstruction_loss"])
            ),
            "psnr": tf.reduce_mean(losses.psnr(images, reconstructions)),
        }
        total = terms["reconstruction_loss"]
        if self.variational:
            terms["kl_loss"] = tf.reduce_mean(losses.kl_divergence(z_mean, z_log_var))
            total += weights["beta"] * terms["kl_loss"]
        if weights["edge_weight"]:
            terms["edge_loss"] = tf.reduce_mean(losses.edge_loss(images, reconstructions))
            total += weights["edge_weight"] * terms["edge_loss"]
        if weights["covariance_weight"]:
            terms["covariance_loss"] = losses.covariance_penalty(z_mean)
            total += weights["covariance_weight"] * terms["covariance_loss"]
        if weights["perceptual_weight"]:
            terms["perceptual_loss"] = tf.reduce_mean(
                self._feature_loss(images, reconstructions))
            total += weights["perceptual_weight"] * terms["perceptual_loss"]
        terms["loss"] = total
        return terms, reconstructions

    def _update_trackers(self, terms, images):
        """Epoch metrics are means over examples, so they do not depend on how batches are split."""
        trackers = {name: tracker for name, tracker in self.trackers.items()
                    if name in terms}  # evaluation has no critic
        for name, tracker in trackers.items():
            tracker.update_state(terms[name], sample_weight=tf.shape(images)[0])
        # Across workers Keras averages metric values along axis 0, which a scalar lacks.
        shape = [1] if distribute.spans_workers(self.distribute_strategy) else []
        return {name: tf.reshape(tracker.result(), shape) for name, tracker in trackers.items()}

    def _training_images(self, data):
        """Images from a batch of images or of (image, attributes) pairs, checked."""
        images = data[0] if isinstance(data, (tuple, list)) else data
        if images.dtype != tf.float32:
            raise TypeError(
                f"Training images must be float32 in [0, 1], got {images.dtype.name}. "
                "Map the dataset with tf.image.convert_image_dtype(image, tf.float32)."
            )
        inputs.check_image_spec(images.shape, self.image_size)
        tf.debugging.assert_greater_equal(tf.reduce_min(images), 0.0, "Training images must be in [0, 1].")
        tf.debugging.assert_less_equal(tf.reduce_max(images), 1.0, "Training images must be in [0, 1].")
        return images

    def latent_code(self, images, training=False):
        """The deterministic code of a batch of images (z_mean for a VAE), as a tensor in graphs."""
        z = self.encoder(images, training=training)
        return z[0] if self.variational else z

    # ------------------------------------------------------------ encode/decode

    def encode(self, images, batch_size=256):
        """Deterministic codes z_mean, (N, latent_dim) or (latent_dim,) for one image."""
        batch, single = inputs.as_image_batch(images, self.image_size)
        return inputs.to_user_form(self._in_chunks(self._encode_graph, batch_size, batch), single, images)

    def decode(self, z, batch_size=256):
        """Images in [0, 1] for codes (N, latent_dim) or one code (latent_dim,)."""
        codes = tf.convert_to_tensor(inputs.check_finite("z", z), tf.float32)
        single = codes.shape.rank == 1
        codes = codes[None] if single else codes
        if codes.shape.rank != 2 or codes.shape[-1] != self.latent_dim:
            raise ValueError(f"Codes must have shape (N, {self.latent_dim}), got {tuple(np.shape(z))}.")
        return inputs.to_user_form(self._in_chunks(self._decode_graph, batch_size, codes), single, z)

    def reconstruct(self, images, batch_size=256):
        """psi(phi(x)): what the model makes of the images without any edit."""
        batch, single = inputs.as_image_batch(images, self.image_size)
        zero = tf.zeros((batch.shape[0], self.latent_dim))
        return inputs.to_user_form(self._in_chunks(self._edit_graph, batch_size, batch, zero), single, images)

    @tf.function(reduce_retracing=True)
    def _encode_graph(self, images):
        return self.latent_code(images)

    @tf.function(reduce_retracing=True)
    def _decode_graph(self, z):
        return self.decoder(z, training=False)

    @tf.function(reduce_retracing=True)
    def _edit_graph(self, images, delta):
        return self.decoder(self.latent_code(images) + delta, training=False)

    @staticmethod
    def _in_chunks(fn, batch_size, *tensors):
        """fn over slices of at most batch_size rows, so memory stays bounded."""
        inputs.check_batch_size(batch_size)
        n = tensors[0].shape[0]
        parts = [fn(*(t[i : i + batch_size] for t in tensors)) for i in range(0, n, batch_size)]
        return tf.concat(parts, 0)

    # -------------------------------------------------------- attribute vectors

    @property
    def attribute_names(self):
        """Names of the fitted attribute vectors, in fitting order."""
        return list(self._vectors)

    def attribute_vector(self, name):
        """The vector of one attribute as a float32 array (latent_dim,)."""
        return self._entry(name)["vector"].copy()

    def attribute_info(self, name):
        """How a vector was fitted: examples used per class, balancing, calibrated t."""
        return {k: v for k, v in self._entry(name).items() if k != "vector"}

    def set_attribute_vector(self, name, vector, **info):
        """Store a vector under a name (e.g. one computed elsewhere)."""
        vector = inputs.check_finite(f"Vector {name!r}", vector).astype(np.float32)
        if vector.shape != (self.latent_dim,):
            raise ValueError(f"Vector {name!r} must have shape ({self.latent_dim},), got {vector.shape}.")
        self._vectors[name] = {"vector": vector, **info}

    def remove_attribute_vector(self, name):
        self._entry(name)
        del self._vectors[name]

    def fit_attribute_vector(self, data, label, balance=True, seed=0, batch_size=64, verbose=1,
                             method="centroid", conditions=()):
        """fit_attribute_vectors for one label; returns its vector."""
        return self.fit_attribute_vectors(data, [label], balance, seed, batch_size, verbose,
                                          method, conditions)[label]

    def fit_attribute_vectors(self, data, labels, balance=True, seed=0, batch_size=64, verbose=1,
                              method="centroid", conditions=()):
        """Fit and store a vector for every label: v = centroid(with) - centroid(without).

        The centroids of all labels come from one streaming pass (distributed
        under the model's strategy), which also fits the Gaussian of the codes
        that ``sample`` draws from.

        Args:
            data: a tf.data.Dataset of (image, {name: 0/1}) or (image, 0/1),
                batched or not, or a tuple (images, labels) of numpy arrays.
            labels: attribute names to fit.
            balance: undersample the larger class to the size of the smaller one
                (seeded, see dfl_keras.vectors); False uses every example.
            seed: seed of the undersampling.
            batch_size: batch size for unbatched data.
            verbose: 1 shows a progress bar, 0 nothing.
            method: "centroid", the original method; "balanced", "conditional"
                or "linear" (see dfl_keras.directions) fix the entanglement of
                correlated attributes, one pass over the data per label.
            conditions: for "balanced" and "conditional", the attributes the
                vectors must leave unchanged, e.g. ["Male"] for "Bald".

        Returns:
            dict name -> vector. Vectors are stored only if every label could be
            fitted, so a failure leaves the model as it was.

        Example:

        >>> import numpy as np, tensorflow as tf
        >>> model = LatentAttributeModel(image_size=16, latent_dim=8, filters=(8, 16))
        >>> images = np.random.default_rng(0).random((32, 16, 16, 3), dtype=np.float32)
        >>> labels = {"Smiling": np.arange(32) % 2}
        >>> data = tf.data.Dataset.from_tensor_slices((images, labels))
        >>> vectors = model.fit_attribute_vectors(data, ["Smiling"], verbose=0)
        >>> vectors["Smiling"].shape, model.attribute_names
        ((8,), ['Smiling'])
        """
        labels = [labels] if isinstance(labels, str) else list(labels)
        directions.check_method(method, conditions)
        distribution = self.code_distribution
        if method == "centroid":
            fitted, distribution = self._centroid_vectors(data, labels, balance, seed, batch_size,
                                                          verbose)
        else:
            fitted = {label: directions.fit_direction(self, data, label, method, conditions,
                                                      batch_size, verbose) for label in labels}
        for name, (vector, info) in fitted.items():
            self.set_attribute_vector(name, vector, **info)
        self.code_distribution = distribution
        return {name: self.attribute_vector(name) for name in labels}

    def _centroid_vectors(self, data, labels, balance, seed, batch_size, verbose):
        """({name: (vector, info)}, code distribution) from one streaming pass; nothing stored."""
        strategy = self.distribute_strategy

        def with_bins(seen, batch):
            # A keyed hash of each example's position: bins as random as the seed, and the same
            # whatever the batching or strategy.
            n = tf.shape(batch[1], out_type=tf.int64)[0]
            return seen + n, (*batch, vectors.example_bins(seen + tf.range(n), seed))

        batches = inputs.labelled_batches(data, labels, self.image_size, batch_size)
        batches = batches.scan(tf.constant(0, tf.int64), with_bins)
        shape = (len(labels), 2, vectors.NUM_BINS)
        totals = [np.zeros(shape + (self.latent_dim,)), np.zeros(shape), np.zeros(self.latent_dim),
                  np.zeros((self.latent_dim,) * 2), 0.0]
        progress = keras.utils.Progbar(None, verbose=verbose, unit_name="image")
        local = strategy.experimental_local_results
        for images, y, bins in strategy.experimental_distribute_dataset(distribute.shard_by_data(batches)):
            for local_images, local_y in zip(local(images), local(y)):
                if local_y.shape[0]:
                    inputs.check_batch(local_images, local_y.numpy(), labels)
            totals = [total + t.numpy() for total, t in zip(totals, self._accumulate_graph(images, y, bins))]
            progress.update(int(totals[-1]))
        return vectors.fitted_vectors(labels, totals, balance)

    @tf.function(reduce_retracing=True)
    def _accumulate_graph(self, images, labels, bins):
        """Sums and counts over one global batch: per replica, then added up so each example counts once."""

        def replica_sums(images, labels, bins):
            # A replica gets no examples when the last batch is smaller than the replica count,
            # and TF's CPU convolution fails on an empty batch.
            z = tf.cond(tf.size(labels) > 0, lambda: self.latent_code(images), lambda: tf.zeros((0, self.latent_dim)))
            return vectors.running_sums(z, labels, bins)

        strategy = self.distribute_strategy
        return [strategy.reduce("SUM", t, axis=None) for t in strategy.run(replica_sums, (images, labels, bins))]

    # ------------------------------------------------------------------ editing

    def insert(self, images, attributes, t=None, batch_size=256):
        """psi(phi(x) + sum_i t_i v_i).

        Args:
            images: (H, W, 3) or (N, H, W, 3) floats in [0, 1], numpy or tensor.
            attributes: a vector name, or a dict {name: t} for several at once.
            t: strength for a single name: a scalar or one value per image;
                negative removes the feature. Defaults to the calibrated t
                stored with the vector, or 1.0.

        Returns:
            Edited images in the same form as ``images``.

        Example:

        >>> import numpy as np
        >>> model = LatentAttributeModel(image_size=16, latent_dim=8, filters=(8, 16))
        >>> model.set_attribute_vector("Smiling", np.ones(8))
        >>> faces = np.random.default_rng(0).random((2, 16, 16, 3), dtype=np.float32)
        >>> model.insert(faces, "Smiling", t=0.5).shape
        (2, 16, 16, 3)
        >>> model.insert(faces[0], {"Smiling": -1.0}).shape
        (16, 16, 3)
        """
        batch, single = inputs.as_image_batch(images, self.image_size)
        if isinstance(attributes, str):
            attributes = {attributes: self._entry(attributes).get("t", 1.0) if t is None else t}
        elif t is not None:
            raise ValueError("Give t inside the dict ({name: t}) when inserting several attributes.")
        delta = self.edit_offsets(attributes, batch.shape[0])
        codes = self._in_chunks(self._encode_graph, batch_size, batch)
        delta, scales = self.bound_edit(codes, delta)
        vectors.warn_bounded(scales, attributes)
        edited = self._in_chunks(self._decode_graph, batch_size, codes + delta)
        return inputs.to_user_form(edited, single, images)

    def bound_edit(self, codes, offsets):
        """(offsets, scales): each offset shortened, if need be, so that the edited code stays
        within vectors.EDIT_LIMIT standard deviations of the training codes along its direction,
        where codes still decode to faces; scales (N,) is the share of each offset kept.

        Strengths each within their own bound can still add up to codes that decode black
        or posterised; the model's code distribution says where faces stop. A model without
        one (no vectors fitted on data yet) keeps every offset.
        """
        offsets = np.asarray(offsets, np.float32)
        if self.code_distribution is None:
            return offsets, np.ones(len(offsets))
        mean, covariance = self.code_distribution
        scales = vectors.edit_scales(codes, offsets, mean, vectors.whitening(covariance))
        return (offsets * scales[:, None]).astype(np.float32), scales

    def edit_offsets(self, attributes, n):
        """(n, latent_dim) offsets sum_i t_i v_i for a dict {name: scalar t or (n,) t}.

        Each |t| is bounded by inputs.check_strength (10x the calibrated strength, or 10).
        """
        if not isinstance(attributes, dict):
            raise TypeError("attributes must be a name or a dict {name: t}; Received: "
                            f"{type(attributes).__name__} {attributes!r}.")
        if not attributes:
            raise ValueError("No attributes given; name at least one, e.g. {'Smiling': 1.0}.")
        names = list(attributes)
        stacked = np.stack([self._entry(name)["vector"] for name in names])
        columns = []
        for name in names:
            t = inputs.check_finite(f"t for {name!r}", attributes[name])
            inputs.check_strength(name, t, self._entry(name).get("t"))
            if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != n):
                raise ValueError(f"t for {name!r} must be a scalar or have one value per image ({n}), "
                                 f"got shape {t.shape}.")
            columns.append(np.broadcast_to(t, (n,)))
        coefficients = tf.constant(np.stack(columns, 1), tf.float32)
        return vectors.combined_delta(tf.constant(stacked), coefficients)

    def interpolate(self, image_a, image_b, steps=8, spherical=False):
        """Decoded faces along the latent path from image_a to image_b (a transition)."""
        if not isinstance(steps, (int, np.integer)) or steps < 2:
            raise ValueError(
                f"steps must be a whole number of at least 2; Received: steps={steps!r}.")
        pair, _ = inputs.as_image_batch(np.stack([np.asarray(image_a), np.asarray(image_b)]), self.image_size)
        a, b = tf.unstack(self._encode_graph(pair))
        fractions = tf.linspace(0.0, 1.0, steps)
        codes = vectors.slerp(a, b, fractions) if spherical else a + fractions[:, None] * (b - a)
        return inputs.to_user_form(self._decode_graph(codes), False, image_a)

    def sample(self, n, seed=None):
        """Decode n codes drawn from the Gaussian fitted to the codes seen by fit_attribute_vectors.

        These faces belong to no one: they are not reconstructions of photos.
        """
        inputs.check_count("n", n)
        if self.code_distribution is None:
            raise ValueError("No code distribution yet: call fit_attribute_vectors on your data first.")
        mean, cov = self.code_distribution
        codes = np.random.default_rng(seed).multivariate_normal(mean, cov, size=n, method="eigh")
        return self.decode(codes.astype(np.float32))

    def edit_photo(self, photo, edits, **options):
        """Edit the faces in a photo, the rest untouched (dfl_keras.photos.edit)."""
        return photos.edit(self, photo, edits, **options)

    def export_serving(self, base, name="dfl", version=None, **options):
        """Write a TF Serving SavedModel to <base>/<name>/<version>/ (see dfl_keras.export)."""
        return export.export_serving(self, base, name, version, **options)

    def save(self, filepath, overwrite=True, **kwargs):
        """keras.Model.save, atomically: a kill, a full disk or a second save leaves no half file.

        The file is written beside `filepath` and renamed over it (dfl_keras.atomic),
        so ModelCheckpoint and the CLI always leave the previous or the new model.
        """
        if not str(filepath).endswith(".keras") or (Path(filepath).exists() and not overwrite):
            return super().save(filepath, overwrite=overwrite, **kwargs)  # Keras' own errors
        with atomic.replacing(filepath, suffix=".keras") as temporary:
            super().save(str(temporary), **kwargs)

    def _entry(self, name):
        check_attributes([name], self._vectors, "the model")
        return self._vectors[name]

    # ------------------------------------------------------------ serialization

    def get_config(self):
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "latent_dim": self.latent_dim,
            "variational": self.variational,
            "architecture": self.architecture,
            "filters": list(self.filters),
        }

    @classmethod
    def from_config(cls, config):
        """Also reads files saved before the loss weights moved to compile() (they are dropped)."""
        return cls(**{k: v for k, v in config.items() if k not in LOSS_WEIGHTS})

    def save_own_variables(self, store):
        """Fitted state (vectors, their facts, the code distribution) travels in the weights file."""
        names = self.attribute_names
        facts = [{"name": n, **self.attribute_info(n)} for n in names]
        store["attribute_facts"] = np.frombuffer(json.dumps(facts).encode(), np.uint8)
        store["attribute_vectors"] = np.stack([self._vectors[n]["vector"] for n in names]) if names else (
            np.zeros((0, self.latent_dim), np.float32))
        if self.code_distribution is not None:
            store["code_mean"], store["code_covariance"] = self.code_distribution
        if self.face_template is not None:
            store["face_template"] = np.asarray(self.face_template, np.float32)

    def load_own_variables(self, store):
        facts = json.loads(bytes(np.asarray(store["attribute_facts"])).decode())
        stacked = np.asarray(store["attribute_vectors"])
        self._vectors = {}
        for fact, vector in zip(facts, stacked):
            name = fact.pop("name")
            self._vectors[name] = {"vector": vector.astype(np.float32), **fact}
        if "code_mean" in store:
            self.code_distribution = (np.asarray(store["code_mean"]), np.asarray(store["code_covariance"]))
        if "face_template" in store:
            self.face_template = np.asarray(store["face_template"], np.float32)
