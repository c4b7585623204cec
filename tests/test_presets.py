"""Presets by name, old files, clear refusals, and a library that changes nothing on import."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import tensorflow as tf
from helpers import SIZE, assert_serialization_round_trip, random_images, tiny_model

import dfl_keras as dfl
from dfl_keras import evaluate, presets
from dfl_keras.errors import UnknownAttributeError

SHIPPED_EDITOR = presets.presets_dir() / presets.PRESETS["dfl_celeba64"]["file"]
needs_shipped = pytest.mark.skipif(not SHIPPED_EDITOR.is_file(),
                                   reason=f"the shipped editor {SHIPPED_EDITOR} is not there")


def test_every_preset_names_its_class_and_a_shipped_file():
    for name, entry in presets.PRESETS.items():
        assert entry["class"] in ("LatentAttributeModel", "AttributeJudge"), name
        assert (presets.presets_dir() / entry["file"]).is_file(), name


@needs_shipped
def test_from_preset_loads_the_shipped_editor_by_name_and_by_path():
    model = dfl.LatentAttributeModel.from_preset("dfl_celeba64")
    assert model.image_size == 64 and len(model.attribute_names) == 40
    assert model.code_distribution is not None
    again = dfl.LatentAttributeModel.from_preset(SHIPPED_EDITOR)
    np.testing.assert_array_equal(again.attribute_vector("Smiling"),
                                  model.attribute_vector("Smiling"))


@pytest.mark.parametrize("name", [name for name, entry in presets.PRESETS.items()
                                  if entry["class"] == "LatentAttributeModel"])
def test_every_shipped_editor_carries_what_photo_edits_need(name):
    model = dfl.LatentAttributeModel.from_preset(name)
    assert len(model.attribute_names) == 40 and model.code_distribution is not None
    assert model.face_template.shape == (5, 2)
    assert all("t" in model.attribute_info(n) and "t_fitted" in model.attribute_info(n)
               for n in model.attribute_names)
    faces = np.asarray(model.sample(2, seed=0))
    assert faces.shape == (2, model.image_size, model.image_size, 3)
    assert np.abs(np.asarray(model.reconstruct(faces)) - faces).mean() < 0.05  # trained weights


@needs_shipped
def test_an_old_file_with_loss_weights_in_its_config_still_loads_with_its_weights(tmp_path):
    old = tmp_path / "old.keras"  # the shipped file as written before the weights moved to compile()
    with zipfile.ZipFile(SHIPPED_EDITOR) as source, zipfile.ZipFile(old, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "config.json":
                config = json.loads(content)
                config["config"].update(beta=4e-6, edge_weight=0.0, covariance_weight=1e-4,
                                        reconstruction_loss="mse")
                content = json.dumps(config).encode()
            target.writestr(item, content)
    model = dfl.LatentAttributeModel.from_preset(old)
    assert set(model.get_config()) & set(dfl.model.LOSS_WEIGHTS) == set()
    shipped = dfl.LatentAttributeModel.from_preset("dfl_celeba64")
    for restored, expected in zip(model.get_weights(), shipped.get_weights()):
        np.testing.assert_array_equal(restored, expected)
    faces = np.asarray(model.sample(2, seed=0))
    reconstructed = np.asarray(model.reconstruct(faces))
    assert np.abs(reconstructed - faces).mean() < 0.05  # trained weights, not random ones


def test_get_config_is_the_constructor_arguments_and_the_loss_weights_follow_compile(tmp_path):
    model = tiny_model(beta=1e-3, edge_weight=0.2, covariance_weight=0.0)
    config = model.get_config()
    assert {"image_size", "latent_dim", "variational", "architecture", "filters"} <= set(config)
    assert not set(config) & set(dfl.model.LOSS_WEIGHTS)
    assert [m.name for m in model.metrics] == ["loss", "reconstruction_loss", "psnr", "kl_loss",
                                               "edge_loss"]
    model.fit(random_images(8), epochs=1, batch_size=4, verbose=0)  # compiled, with optimizer
    loaded = assert_serialization_round_trip(model, tmp_path / "m.keras")
    assert loaded.loss_config == model.loss_config
    assert [m.name for m in loaded.metrics] == [m.name for m in model.metrics]


@pytest.mark.parametrize("content", [b"not a zip", None])
def test_a_damaged_file_is_not_a_valid_keras_file(tmp_path, content):
    path = tmp_path / "broken.keras"
    if content is None:  # a real file cut short, as an interrupted copy leaves it
        tiny_model().save(tmp_path / "whole.keras")
        content = (tmp_path / "whole.keras").read_bytes()[:2000]
    path.write_bytes(content)
    with pytest.raises(ValueError, match="broken.keras is not a valid .keras file"):
        dfl.LatentAttributeModel.from_preset(path)


def test_a_name_that_is_neither_preset_nor_file_lists_the_presets():
    with pytest.raises(FileNotFoundError, match="no preset or model file dfl_celeba65; presets: "
                       "dfl_celeba64"):
        dfl.LatentAttributeModel.from_preset("dfl_celeba65")


def test_the_judge_preset_where_an_editor_is_expected_names_the_class_found():
    with pytest.raises(TypeError) as error:
        dfl.LatentAttributeModel.from_preset("judge_celeba64")
    message = str(error.value)
    assert "holds a model of class AttributeJudge, not LatentAttributeModel" in message
    assert "\n" not in message and "config" not in message


def test_an_unknown_attribute_is_one_exception_type_everywhere():
    model = tiny_model()
    model.set_attribute_vector("A", np.ones(8))
    labelled = tf.data.Dataset.from_tensor_slices((random_images(4), {"A": np.arange(4) % 2}))
    judge = dfl.AttributeJudge(["A"], image_size=SIZE, filters=(8, 16))
    calls = [
        lambda: model.insert(random_images(1), "B", 1.0),
        lambda: model.fit_attribute_vectors(labelled, ["B"], verbose=0),
        lambda: dfl.data.celeba_tfds(attributes=["Smile"]),
        lambda: evaluate.edit_report(model, judge, labelled, ["A"], preserve=["B"]),
    ]
    for call in calls:
        with pytest.raises(UnknownAttributeError, match="unknown attribute '(B|Smile)'"):
            call()


def test_importing_the_library_changes_no_environment_variable_and_keeps_stderr():
    script = ("import os, sys; before = dict(os.environ); import dfl_keras; "
              "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items()); "
              "print('ok', dfl_keras.__version__); sys.stderr.write('still here')")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok ") and result.stdout.split()[1] != "unknown"
    assert result.stderr.endswith("still here")
