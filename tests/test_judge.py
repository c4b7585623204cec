import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import SHARED_CELEBA, needs_shared_data
from helpers import SIZE, assert_serialization_round_trip, tiny_model

from dfl_keras import data, evaluate, losses
from dfl_keras.errors import UnknownAttributeError
from dfl_keras.judge import AttributeJudge
from dfl_keras.presets import presets_dir


def planted_faces(n, seed):
    """Noisy images whose "Bright" (overall level) and "Red" (red shift) attributes are known."""
    rng = np.random.default_rng(seed)
    level, red = rng.uniform(0.2, 0.8, n), rng.uniform(-0.15, 0.15, n)
    images = level[:, None, None, None] + rng.uniform(-0.1, 0.1, (n, SIZE, SIZE, 3))
    images[..., 0] += red[:, None, None]
    labels = {"Bright": (level > 0.5).astype(np.int32), "Red": (red > 0).astype(np.int32)}
    return tf.data.Dataset.from_tensor_slices((np.clip(images, 0, 1).astype(np.float32), labels))


def tiny_judge(**kwargs):
    return AttributeJudge(["Bright", "Red"], image_size=SIZE, filters=(8, 16), seed=0, **kwargs)


def test_the_judge_learns_planted_attributes_and_is_scored_on_held_out_data():
    judge = tiny_judge()
    judge.compile(optimizer=keras.optimizers.Adam(3e-3))
    train = judge.targets(planted_faces(1024, 0)).batch(32)
    history = judge.fit(train, epochs=12, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    scores = evaluate.judge_scores(judge, planted_faces(256, 1))
    assert set(scores) == {"Bright", "Red"}
    for s in scores.values():
        assert s["accuracy"] >= 0.9 and s["auc"] >= 0.95 and 0.3 < s["positive_rate"] < 0.7


def test_save_and_load_keep_the_verdicts(tmp_path):
    judge = tiny_judge(dropout=0.1)
    images = np.random.default_rng(0).random((5, SIZE, SIZE, 3), dtype=np.float32)
    loaded = assert_serialization_round_trip(judge, tmp_path / "judge.keras")
    assert isinstance(AttributeJudge.from_preset(tmp_path / "judge.keras"), AttributeJudge)
    np.testing.assert_allclose(loaded.probabilities(images), judge.probabilities(images), atol=1e-6)
    verdicts = loaded.predict_labels(images)
    assert verdicts.dtype == bool and verdicts.shape == (5, 2)


def test_other_image_sizes_are_resized_to_the_judge():
    judge = tiny_judge()
    assert judge.probabilities(np.zeros((2, 2 * SIZE, 2 * SIZE, 3), np.float32)).shape == (2, 2)


def test_from_preset_rejects_other_models_in_one_line(tmp_path):
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]).save(tmp_path / "model.keras")
    with pytest.raises(TypeError, match="holds a model of class Sequential, not AttributeJudge"):
        AttributeJudge.from_preset(tmp_path / "model.keras")
    tiny_model().save(tmp_path / "editor.keras")
    with pytest.raises(TypeError, match="holds a model of class LatentAttributeModel, not AttributeJudge"):
        AttributeJudge.from_preset(tmp_path / "editor.keras")


def test_an_unknown_attribute_raises_the_library_wide_error():
    judge = tiny_judge()
    images = np.zeros((4, SIZE, SIZE, 3), np.float32)
    with pytest.raises(UnknownAttributeError, match="unknown attribute 'Bright'; the dataset has: Smile"):
        evaluate.judge_scores(judge, tf.data.Dataset.from_tensor_slices(
            (images, {"Smile": np.zeros(4, np.int32)})).batch(2))


def test_an_image_size_the_strides_cannot_halve_is_refused():
    with pytest.raises(ValueError, match="divisible"):
        AttributeJudge(image_size=20, filters=(8, 16, 32))


def test_the_shipped_judge_loads_without_a_path():
    path = presets_dir() / "judge_celeba64.keras"
    assert path.exists() and path.stat().st_size < 5e6
    judge = AttributeJudge.from_preset("judge_celeba64")
    assert judge.attributes == list(data.CELEBA_ATTRIBUTES) and judge.image_size == 64
    assert AttributeJudge.from_preset(path).get_config() == judge.get_config()


@needs_shared_data
def test_the_shipped_judge_is_accurate_on_held_out_faces():
    held_out = data.celeba_folder(SHARED_CELEBA, "test", image_size=64, take=300, batch_size=100)
    scores = evaluate.judge_scores(AttributeJudge.from_preset("judge_celeba64"), held_out)
    # 0.932 on all 3000 held-out faces (JUDGE_CARD.md); 300 of them vary more.
    assert np.mean([scores[n]["accuracy"] for n in evaluate.ATTGAN_ATTRIBUTES]) >= 0.88


def test_feature_maps_follow_the_judge_and_take_any_size():
    judge = AttributeJudge(attributes=["Smiling"], image_size=16, filters=(4, 8))
    maps = judge.feature_maps(scales=2)
    images = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    shapes = [tuple(m.shape) for m in maps(images)]
    assert shapes == [(2, 16, 16, 4), (2, 8, 8, 8)]
    assert not maps.trainable_weights
    with pytest.raises(ValueError, match="Received: scales=3"):
        judge.feature_maps(scales=3)


def test_feature_loss_is_zero_for_the_same_images_and_grows_with_the_difference():
    judge = AttributeJudge(attributes=["Smiling"], image_size=16, filters=(4, 8))
    maps = judge.feature_maps(scales=2)
    images = np.random.default_rng(1).random((3, 16, 16, 3)).astype("float32")
    loss = losses.FeatureLoss(maps)
    same, near, far = (loss(images, x).numpy() for x in (images, 0.9 * images, 0.5 * images))
    np.testing.assert_allclose(same, 0.0, atol=1e-7)
    assert np.all(near > 0) and np.all(far > near)
