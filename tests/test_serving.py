"""REST requests from dfl_keras.serving, answered by the exported SavedModel as TF Serving would."""

import base64
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import random_images, tiny_model

from dfl_keras import serving
from dfl_keras.errors import UnknownAttributeError, check_attributes
from dfl_keras.export import export_serving
from dfl_keras.serving import (
    FORMATS,
    bytes_request,
    decode_request,
    insert_named_request,
    load_attribute_names,
    parse_response,
    predict_request,
)

NAMES = ["Smiling", "Eyeglasses", "Bald"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    model = tiny_model()
    rng = np.random.default_rng(5)
    for name in NAMES:
        model.set_attribute_vector(name, rng.normal(size=model.latent_dim))
    version = export_serving(model, tmp_path_factory.mktemp("serving"), raw_images=True)
    return model, tf.saved_model.load(str(version)), load_attribute_names(version)


def tf_serving_predict(loaded, request):
    """What TF Serving's REST predict does with a request body: the JSON response.

    Row format: every instance is an object with one key per named input, and
    each input is batched over the instances. Columnar format: one value per
    input. {"b64": ...} becomes bytes. A single output comes back unnamed.
    """
    request = json.loads(json.dumps(request))  # only what survives the wire
    signature = loaded.signatures[request.get("signature_name", "serving_default")]
    specs = signature.structured_input_signature[1]
    if "instances" in request:
        assert all(set(row) == set(specs) for row in request["instances"])
        columns = {name: [row[name] for row in request["instances"]] for name in specs}
    else:
        columns = request["inputs"]
        assert set(columns) == set(specs)
    tensors = {
        name: tf.constant(_from_base64(columns[name]), spec.dtype) for name, spec in specs.items()
    }
    (output,) = signature(**tensors).values()
    return {"predictions" if "instances" in request else "outputs": output.numpy().tolist()}


def _from_base64(value):
    if isinstance(value, dict):
        return base64.b64decode(value["b64"])
    return [_from_base64(v) for v in value] if isinstance(value, list) else value


def answer(loaded, request):
    return parse_response(json.dumps(tf_serving_predict(loaded, request)))


@pytest.mark.parametrize("format", FORMATS)
def test_insert_by_name_matches_keras(served, format):
    model, loaded, names = served
    images = random_images(3)
    edits = {"Bald": [1.0, -0.5, 2.0], "Smiling": 0.7}
    request = predict_request(images, edits, attribute_names=names, format=format)
    if format == "instances":
        assert [sorted(row) for row in request["instances"]] == [["coefficients", "images"]] * 3
        assert request["instances"][1]["coefficients"] == pytest.approx(
            [0.7, 0.0, -0.5]
        )  # the model's order, 0 if not named
    else:
        assert np.shape(request["inputs"]["coefficients"]) == (3, 3)
    np.testing.assert_allclose(answer(loaded, request), model.insert(images, edits), atol=1e-5)


def test_coefficients_as_array_and_uint8_pixels(served):
    model, loaded, names = served
    images = random_images(2, seed=1)
    pixels = (images * 255).astype(np.uint8)
    t = np.float32([0.5, -1.0, 0.25])
    expected = model.insert(pixels / np.float32(255), dict(zip(names, t)))
    np.testing.assert_allclose(
        answer(loaded, predict_request(pixels, t, signature="insert_uint8")), expected, atol=1e-5
    )
    rows = np.stack([t, 2 * t])
    request = predict_request(images, rows, attribute_names=names, format="inputs")
    expected = model.insert(images, {name: rows[:, k] for k, name in enumerate(names)})
    np.testing.assert_allclose(answer(loaded, request), expected, atol=1e-5)


@pytest.mark.parametrize("format", FORMATS)
def test_encode_decode_reconstruct(served, format):
    model, loaded, _ = served
    images = random_images(2, seed=2)
    z = answer(loaded, predict_request(images, signature="encode", format=format))
    np.testing.assert_allclose(z, model.encode(images), atol=1e-5)
    np.testing.assert_allclose(
        answer(loaded, decode_request(z, format)), model.decode(z), atol=1e-5
    )
    one = answer(loaded, predict_request(images[0], signature="reconstruct", format=format))
    np.testing.assert_allclose(one, model.reconstruct(images[:1]), atol=1e-5)


def test_insert_named_one_name_or_one_per_image(served):
    model, loaded, names = served
    images = random_images(2, seed=3)
    request = insert_named_request(
        images, ["Eyeglasses", "Bald"], t=[1.5, -1.0], attribute_names=names
    )
    expected = model.insert(images, {"Eyeglasses": [1.5, 0.0], "Bald": [0.0, -1.0]})
    np.testing.assert_allclose(answer(loaded, request), expected, atol=1e-5)
    request = insert_named_request(images, "Smiling", t=0.5, format="inputs")
    np.testing.assert_allclose(
        answer(loaded, request), model.insert(images, "Smiling", t=0.5), atol=1e-5
    )


@pytest.mark.parametrize("format", FORMATS)
def test_encoded_files_are_cropped_like_training(served, tmp_path, format):
    model, loaded, names = served
    wide = np.random.default_rng(6).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    png = tf.io.encode_png(wide).numpy()
    (tmp_path / "face.png").write_bytes(png)
    crop = wide[None, :, 4:20] / np.float32(255)
    request = bytes_request([tmp_path / "face.png", png], format=format)
    assert request["signature_name"] == "reconstruct_bytes"
    np.testing.assert_allclose(
        answer(loaded, request), np.repeat(model.reconstruct(crop), 2, 0), atol=1e-5
    )
    request = bytes_request(png, {"Smiling": -1.0}, attribute_names=names, format=format)
    np.testing.assert_allclose(
        answer(loaded, request), model.insert(crop, "Smiling", t=-1.0), atol=1e-5
    )


def test_bad_requests_fail_in_the_client_with_the_fix(served):
    names = served[2]
    images = random_images(2)
    with pytest.raises(ValueError, match=r"shape \(S, S, 3\) or \(N, S, S, 3\).*\(16, 16\)"):
        predict_request(images[0, ..., 0], [0, 0, 0])
    with pytest.raises(ValueError, match="shape"):
        predict_request(np.zeros((2, 16, 16, 4), np.float32), [0, 0, 0])
    with pytest.raises(
        ValueError, match="unknown attribute 'Grin'; the model has: Smiling, Eyeglasses, Bald"
    ) as client:
        predict_request(images, {"Grin": 1.0}, attribute_names=names)
    with pytest.raises(UnknownAttributeError) as library:
        check_attributes(["Grin"], names, "the model")
    assert str(client.value) == str(library.value)  # the same message as the library's check
    with pytest.raises(ValueError, match="unknown attribute 'Grin'"):
        insert_named_request(images, "Grin", attribute_names=names)
    with pytest.raises(
        ValueError, match="Too many coefficients: got 4 per image, the model has 3 attributes"
    ):
        predict_request(images, [1, 0, 0, 0], attribute_names=names)
    with pytest.raises(ValueError, match=r"\(K,\) or \(2, K\) for 2 images"):
        predict_request(images, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="need attribute_names"):
        predict_request(images, {"Smiling": 1.0})
    with pytest.raises(ValueError, match="needs coefficients"):
        predict_request(images)
    with pytest.raises(ValueError, match="takes no coefficients"):
        predict_request(images, [1, 0, 0], signature="encode")
    with pytest.raises(ValueError, match=r"lie in \[0, 1\].*divide by 255"):
        predict_request(images * 255, [1, 0, 0])
    with pytest.raises(TypeError, match="divide uint8 pixels by 255"):
        predict_request((images * 255).astype(np.uint8), [1, 0, 0])
    with pytest.raises(ValueError, match="one per image"):
        insert_named_request(images, "Smiling", t=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="format must be one of"):
        predict_request(images, [1, 0, 0], format="rows")
    with pytest.raises(RuntimeError, match="TF Serving rejected the request: Missing 'inputs'"):
        parse_response("{\"error\": \"Missing 'inputs' or 'instances' key\"}")


def test_the_signatures_reject_what_the_client_cannot_check(served):
    _, loaded, _ = served
    images = random_images(2)
    unchecked = insert_named_request(
        images, ["Smiling", "Grin"]
    )  # no attribute_names: the server decides
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"the model has: Smiling, Eyeglasses, Bald. Received: attribute=\] \[Grin\]",
    ):
        tf_serving_predict(loaded, unchecked)
    mismatched = {
        "signature_name": "serving_default",
        "inputs": {"images": images.tolist(), "coefficients": [[1.0, 0.0, 0.0]]},
    }
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="coefficients must have one entry per image in images"
    ):
        tf_serving_predict(loaded, mismatched)


def test_the_client_module_needs_no_tensorflow():
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('serving', {serving.__file__!r})\n"
        "serving = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(serving)\n"
        "import numpy as np\n"  # the photo helpers run too
        "photo = np.full((120, 100, 3), 90, np.uint8)\n"
        "points = [[35, 50], [65, 50], [50, 65], [38, 80], [62, 80]]\n"
        "template = [[.38, .47], [.62, .48], [.5, .63], [.39, .73], [.61, .72]]\n"
        "crop, matrix = serving.align_face(photo, points, template)\n"
        "assert serving.paste_face(photo, crop, crop + 0.1, matrix, template).max() == 116\n"
        "serving.edit_aligned_request(crop, [1.0])\n"
        "assert 'tensorflow' not in sys.modules and 'dfl_keras' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
