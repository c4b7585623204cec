import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import (SIZE, assert_serialization_round_trip, labelled_dataset, random_images,
                     tiny_model)

import dfl_keras as dfl
from dfl_keras.errors import UnknownAttributeError


def test_fit_tracks_every_loss_term_and_lowers_the_loss():
    model = tiny_model(edge_weight=0.1)
    images = random_images(64)
    history = model.fit(tf.data.Dataset.from_tensor_slices(images).batch(16), epochs=3, verbose=0, shuffle=False)
    assert set(history.history) == {
        "loss", "reconstruction_loss", "kl_loss", "edge_loss", "covariance_loss", "psnr"}
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_fit_accepts_image_attribute_pairs_and_validation_data():
    model = tiny_model()
    _, _, ds = labelled_dataset(32)
    history = model.fit(ds.batch(8), validation_data=ds.batch(8), epochs=1, verbose=0, shuffle=False)
    assert "val_psnr" in history.history
    results = model.evaluate(ds.batch(8), verbose=0, return_dict=True)
    assert np.isfinite(results["reconstruction_loss"])


def test_plain_autoencoder_has_no_kl_term():
    model = tiny_model(variational=False)
    history = model.fit(random_images(16), epochs=1, batch_size=8, verbose=0, shuffle=False)
    assert "kl_loss" not in history.history
    assert model.encode(random_images(2)).shape == (2, 8)


def test_covariance_penalty_is_an_unbiased_distance_to_the_identity():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(6, 6))
    covariance = mixing @ mixing.T / 6
    batches = rng.multivariate_normal(np.zeros(6), covariance, size=(1000, 32)).astype(np.float32)
    estimates = [float(dfl.losses.covariance_penalty(tf.constant(b))) for b in batches]
    assert np.mean(estimates) == pytest.approx(np.sum(np.square(covariance - np.eye(6))), rel=0.05)
    assert float(dfl.losses.covariance_penalty(tf.constant(batches[0, :3]))) == 0.0


def test_covariance_penalty_pulls_the_code_covariance_towards_the_identity():
    images = random_images(256)

    def distance_to_identity(weight):
        keras.utils.set_random_seed(0)
        model = tiny_model(covariance_weight=weight)
        model.fit(images, epochs=20, batch_size=32, verbose=0)
        return np.linalg.norm(np.cov(model.encode(images).T) - np.eye(8))

    assert distance_to_identity(1.0) < 0.5 * distance_to_identity(0.0)


def test_bce_reconstruction_loss_trains():
    history = tiny_model(reconstruction_loss="bce").fit(random_images(16), epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("size", [64, 128])
def test_default_architecture_sizes(size):
    model = dfl.LatentAttributeModel(image_size=size, latent_dim=32)
    assert model.encoder.output_shape == [(None, 32), (None, 32)]
    assert model.decoder.output_shape == (None, size, size, 3)


def test_original_architecture_builds():
    model = dfl.LatentAttributeModel(image_size=64, latent_dim=100, architecture="original")
    assert model.reconstruct(random_images(2, size=64)).shape == (2, 64, 64, 3)


def test_a_grown_model_starts_by_drawing_the_small_models_faces_at_twice_the_size(tmp_path):
    small = tiny_model()
    small.face_template = np.full((5, 2), 0.5, np.float32)
    small.decoder.layers[-1].bias.assign([0.3, -0.2, 0.1])  # a bias survives being grown
    large = dfl.LatentAttributeModel.grown_from(small)
    assert (large.image_size, large.architecture, large.filters) == (2 * SIZE, "grown", small.filters)
    images = random_images(4, size=2 * SIZE)
    half = tf.image.resize(images, (SIZE, SIZE), method="area").numpy()
    np.testing.assert_allclose(large.encode(images), small.encode(half), atol=1e-5)
    z = small.encode(half)
    small_faces = np.clip(small.decode(z), 1e-6, 1 - 1e-6)
    logits = tf.image.resize(np.log(small_faces / (1 - small_faces)), (2 * SIZE, 2 * SIZE),
                             method="bilinear")
    np.testing.assert_allclose(large.decode(z), tf.sigmoid(logits), atol=1e-4)
    np.testing.assert_array_equal(large.face_template, small.face_template)
    large.compile(optimizer="adam", covariance_weight=0.0)
    large.fit(images, epochs=1, batch_size=4, verbose=0)
    assert not np.allclose(large.decoder.get_layer("detail").get_weights()[0], 0)
    assert_serialization_round_trip(large, tmp_path / "grown.keras")


def test_only_a_strided_model_grows():
    small = dfl.LatentAttributeModel(image_size=64, latent_dim=8, architecture="original")
    with pytest.raises(ValueError, match="Only a strided model can grow"):
        dfl.LatentAttributeModel.grown_from(small)


def test_encode_is_deterministic_and_keeps_the_input_form():
    model = tiny_model()
    images = random_images(5)
    z = model.encode(images)
    assert isinstance(z, np.ndarray) and z.shape == (5, 8)
    np.testing.assert_array_equal(z, model.encode(images))
    assert isinstance(model.encode(tf.constant(images)), tf.Tensor)
    single = model.encode(images[0])
    np.testing.assert_allclose(single, z[0], atol=1e-6)
    assert model.decode(single).shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(model.reconstruct(images), model.decode(z), atol=1e-6)


def test_chunked_and_whole_batches_agree():
    model = tiny_model()
    images = random_images(7)
    np.testing.assert_allclose(model.reconstruct(images, batch_size=2), model.reconstruct(images), atol=1e-6)


def test_centroid_vector_without_balancing_is_the_mean_difference():
    model = tiny_model()
    images, labels, ds = labelled_dataset(40)
    vector = model.fit_attribute_vector(ds, "A", balance=False, verbose=0)
    z = model.encode(images)
    expected = z[labels["A"] == 1].mean(0) - z[labels["A"] == 0].mean(0)
    np.testing.assert_allclose(vector, expected, atol=1e-5)
    assert model.attribute_info("A")["n_used_with"] == 20


def test_balancing_undersamples_the_larger_class():
    model = tiny_model()
    images = random_images(400)
    labels = (np.arange(400) < 100).astype(np.int32)  # 100 with, 300 without
    model.fit_attribute_vector((images, labels), "few", seed=3, verbose=0)
    info = model.attribute_info("few")
    assert info["n_with"] == 100 and info["n_without"] == 300
    assert info["n_used_with"] == 100
    # At least as many as the smaller class, at most one bin (~300/256 examples) more.
    assert 100 <= info["n_used_without"] <= 110


def test_many_vectors_in_one_pass_equal_one_at_a_time():
    images, labels, ds = labelled_dataset(48)
    model = tiny_model()
    together = model.fit_attribute_vectors(ds.batch(8), ["A", "B"], verbose=0)
    np.testing.assert_allclose(together["B"], model.fit_attribute_vector(ds, "B", verbose=0), atol=1e-6)
    assert model.attribute_names == ["A", "B"]


def test_unnamed_label_dataset_and_numpy_input_agree():
    images, labels, _ = labelled_dataset(32)
    model = tiny_model()
    from_numpy = model.fit_attribute_vector((images, labels["A"]), "A", verbose=0)
    pairs = tf.data.Dataset.from_tensor_slices((images, labels["A"]))
    np.testing.assert_allclose(model.fit_attribute_vector(pairs, "A", verbose=0), from_numpy, atol=1e-6)
    from_dict = model.fit_attribute_vector((images, labels), "A", verbose=0)
    np.testing.assert_allclose(from_dict, from_numpy, atol=1e-6)


def test_vectors_can_be_listed_read_and_removed():
    model = tiny_model()
    model.set_attribute_vector("Up", np.ones(8))
    assert model.attribute_names == ["Up"]
    np.testing.assert_array_equal(model.attribute_vector("Up"), np.ones(8, np.float32))
    model.remove_attribute_vector("Up")
    assert model.attribute_names == []
    with pytest.raises(UnknownAttributeError, match="unknown attribute 'Up'; the model has: none yet"):
        model.remove_attribute_vector("Up")


def test_insert_adds_t_times_the_vector_in_latent_space():
    model = tiny_model()
    images = random_images(3)
    model.set_attribute_vector("a", np.linspace(-1, 1, 8))
    model.set_attribute_vector("b", np.ones(8))
    z = model.encode(images)
    t = np.array([0.0, 1.0, -2.0])
    expected = model.decode(z + t[:, None] * model.attribute_vector("a") + 0.5 * model.attribute_vector("b"))
    np.testing.assert_allclose(model.insert(images, {"a": t, "b": 0.5}), expected, atol=1e-5)
    np.testing.assert_allclose(model.insert(images, "a", t=0.0), model.reconstruct(images), atol=1e-6)
    assert model.insert(images[0], "a", t=1.0).shape == (SIZE, SIZE, 3)
    assert isinstance(model.insert(tf.constant(images), "a", t=1.0), tf.Tensor)


def test_interpolate_starts_and_ends_at_the_reconstructions():
    model = tiny_model()
    a, b = random_images(2)
    for spherical in (False, True):
        frames = model.interpolate(a, b, steps=5, spherical=spherical)
        assert frames.shape == (5, SIZE, SIZE, 3)
        np.testing.assert_allclose(frames[[0, -1]], model.reconstruct(np.stack([a, b])), atol=1e-5)


def test_sample_decodes_codes_from_the_fitted_gaussian():
    model = tiny_model()
    _, _, ds = labelled_dataset(32)
    with pytest.raises(ValueError, match="fit_attribute_vectors"):
        model.sample(2)
    model.fit_attribute_vectors(ds, ["A"], verbose=0)
    np.testing.assert_array_equal(model.sample(4, seed=1), model.sample(4, seed=1))


def test_save_and_load_round_trip_weights_config_and_vectors(tmp_path):
    model = tiny_model(beta=1e-3, edge_weight=0.2)
    images, _, ds = labelled_dataset(32)
    model.fit(ds.batch(8), epochs=1, verbose=0, shuffle=False)
    model.fit_attribute_vectors(ds, ["A", "B"], verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode stays on
    assert isinstance(loaded, dfl.LatentAttributeModel)
    assert loaded.get_config() == model.get_config()
    assert loaded.attribute_names == ["A", "B"]
    assert loaded.attribute_info("A") == model.attribute_info("A")
    np.testing.assert_array_equal(loaded.attribute_vector("B"), model.attribute_vector("B"))
    np.testing.assert_allclose(loaded.insert(images, "A", 1.0), model.insert(images, "A", 1.0), atol=1e-6)
    np.testing.assert_allclose(loaded.code_distribution[1], model.code_distribution[1])


def test_a_model_without_vectors_round_trips(tmp_path):
    model = tiny_model()
    model.save(tmp_path / "empty.keras")
    assert keras.models.load_model(tmp_path / "empty.keras").attribute_names == []


def test_fitting_memory_does_not_grow_with_the_dataset():
    import tracemalloc

    model = tiny_model(latent_dim=64)

    def peak_bytes(n):
        ds = tf.data.Dataset.range(n).map(
            lambda i: (tf.random.uniform((SIZE, SIZE, 3), seed=1), {"A": tf.cast(i % 2, tf.int32)})
        )
        tracemalloc.start()
        model.fit_attribute_vector(ds, "A", verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    peak_bytes(64)  # trace the graphs first
    small, large = peak_bytes(640), peak_bytes(6400)
    # Keeping every code would add 6400 * 64 * 4 bytes (1.6 MB) at the large size.
    assert large < 1.5 * small + 200_000, (small, large)


def test_fit_attribute_vector_dispatches_to_the_direction_methods():
    images, labels, ds = labelled_dataset(48)
    model = tiny_model()
    conditional = model.fit_attribute_vector(ds, "A", method="conditional", conditions=["B"], verbose=0)
    assert model.attribute_info("A")["method"] == "conditional"
    z = model.encode(images)
    b_centroid = z[labels["B"] == 1].mean(0) - z[labels["B"] == 0].mean(0)
    cosine = conditional @ b_centroid / (np.linalg.norm(conditional) * np.linalg.norm(b_centroid))
    assert abs(cosine) < 1e-4
    with pytest.raises(ValueError, match="needs conditions"):
        model.fit_attribute_vector(ds, "A", method="balanced", verbose=0)


def test_the_perceptual_term_adds_the_judges_feature_loss_and_is_saved(tmp_path):
    judge = dfl.AttributeJudge(attributes=["A"], image_size=SIZE, filters=(4, 8, 8))
    judge.save(tmp_path / "judge.keras")
    model = dfl.LatentAttributeModel(image_size=SIZE, latent_dim=8, filters=(8, 16))
    model.compile(optimizer="adam", beta=0.0, covariance_weight=0.0, perceptual_weight=0.5,
                  perceptual_judge=str(tmp_path / "judge.keras"))
    images = random_images(16)
    logs = model.evaluate(images, batch_size=16, verbose=0, return_dict=True)
    assert logs["perceptual_loss"] > 0
    np.testing.assert_allclose(logs["loss"], logs["reconstruction_loss"] + 0.5 * logs["perceptual_loss"],
                               rtol=1e-5)
    weights = [w.path for w in model.weights]
    model.fit(images, epochs=1, batch_size=8, verbose=0, shuffle=False)
    assert [w.path for w in model.weights] == weights  # the judge is neither trained nor saved
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert restored.loss_config["perceptual_weight"] == 0.5
    assert "perceptual_loss" in [m.name for m in restored.metrics]
