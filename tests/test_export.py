"""export_serving: what TF Serving loads, written so a watching server never sees half of it."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from helpers import random_images, run_in_threads, tiny_model

from dfl_keras import export
from dfl_keras.export import export_serving
from dfl_keras.photos import CELEBA_HQ_TEMPLATE
from dfl_keras.serving import load_face_template
from dfl_keras.photos.edit import _resize as resize_change

NAMES = ["Smiling", "Eyeglasses", "Bald"]
SIGNATURES = [
    "serving_default",
    "insert_named",
    "encode",
    "decode",
    "reconstruct",
    "attribute_names",
    "insert_bytes",
    "reconstruct_bytes",
    "insert_uint8",
    "reconstruct_uint8",
    "edit_aligned",
    "face_template",
]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

# Runs in a fresh interpreter: only TensorFlow, never dfl_keras.
LOAD_AND_CALL = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

loaded = tf.saved_model.load(sys.argv[1])
data = np.load(sys.argv[2])

def call(name, **inputs):
    outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
    return {k: v.numpy() for k, v in outputs.items()}

images, coefficients = data["images"], data["coefficients"]
image_bytes = np.array([data["png"].tobytes()], dtype=object)
answers = {
    "serving_default": call("serving_default", images=images, coefficients=coefficients),
    "insert_named": call("insert_named", images=images, attribute=data["attribute"], t=data["t"]),
    "encode": call("encode", images=images),
    "decode": call("decode", z=data["z"]),
    "reconstruct": call("reconstruct", images=images),
    "insert_bytes": call("insert_bytes", image_bytes=image_bytes, coefficients=coefficients[:1]),
    "reconstruct_bytes": call("reconstruct_bytes", image_bytes=image_bytes),
    "insert_uint8": call("insert_uint8", images=data["pixels"], coefficients=coefficients),
    "reconstruct_uint8": call("reconstruct_uint8", images=data["pixels"]),
}
for name, outputs in answers.items():
    key = "z" if name == "encode" else "images"
    assert list(outputs) == [key], (name, list(outputs))
    np.testing.assert_allclose(outputs[key], data[name], atol=1e-5, err_msg=name)
crops = call("edit_aligned", crops=data["crops"], coefficients=coefficients[:2])
assert list(crops) == ["images"], list(crops)
np.testing.assert_allclose(crops["images"], data["edit_aligned"], atol=2e-5, err_msg="edit_aligned")
unedited = call("edit_aligned", crops=data["crops"], coefficients=0 * coefficients[:2])["images"]
np.testing.assert_array_equal(unedited, data["crops"])  # t = 0 returns the crop
template = call("face_template")["face_template"]
np.testing.assert_allclose(template, data["template"], atol=1e-6)
try:
    call("edit_aligned", crops=data["crops"][:1], coefficients=np.float32([[0, 10.5, 0]]))
    raise SystemExit("a t beyond the library's bound was accepted")
except tf.errors.InvalidArgumentError as error:
    assert "coefficients beyond the bound |t| <= 10, 10, 10" in error.message, error.message
names = call("attribute_names")["attribute_names"]
assert [n.decode() for n in names] == data["names"].tolist(), names
try:
    call("insert_named", images=images[:2], attribute=np.array(["Smiling", "Grin"]), t=[1.0, 1.0])
    raise SystemExit("an unknown attribute name was accepted")
except tf.errors.InvalidArgumentError as error:
    assert "the model has: Smiling, Eyeglasses, Bald. Received: attribute=] [Grin]" in error.message
assert "dfl_keras" not in sys.modules
print(" ".join(sorted(loaded.signatures)))
"""


KILLED_MID_EXPORT = """
import os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, sys.argv[1])
from helpers import tiny_model
from dfl_keras import export

write = export._write_saved_model

def write_then_hang(*args):
    write(*args)
    open(sys.argv[3], "w").close()
    time.sleep(120)

export._write_saved_model = write_then_hang
export.export_serving(tiny_model(), sys.argv[2])
"""


@pytest.fixture(scope="module")
def edited():
    model = tiny_model()
    rng = np.random.default_rng(1)
    for name in NAMES:
        model.set_attribute_vector(name, rng.normal(size=model.latent_dim))
    model.face_template = CELEBA_HQ_TEMPLATE
    return model


@pytest.fixture(scope="module")
def exported(edited, tmp_path_factory):
    return export_serving(edited, tmp_path_factory.mktemp("serving"), raw_images=True)


def test_layout_is_what_tf_serving_loads(exported):
    assert exported == exported.parent.parent / "dfl" / "1"
    assert sorted(os.listdir(exported.parent)) == ["1"]  # no temporary directory left
    assert (exported / "saved_model.pb").is_file() and (exported / "variables").is_dir()
    assert (exported / "assets" / "attribute_names.txt").read_text().splitlines() == NAMES
    np.testing.assert_array_equal(load_face_template(exported), CELEBA_HQ_TEMPLATE)  # exactly


def _write_expected(edited, data):
    """Inputs and the Keras model's answers, for the interpreter that has no dfl_keras."""
    images, n = random_images(4), 4
    coefficients = np.random.default_rng(2).normal(size=(n, len(NAMES))).astype(np.float32)
    attribute, t = np.array(["Bald", "Smiling", "Smiling", "Eyeglasses"]), np.float32(
        [1.0, -0.5, 2.0, 0.3]
    )
    pixels = (images * 255).astype(np.uint8)
    wide = np.random.default_rng(3).integers(
        0, 256, (16, 24, 3), dtype=np.uint8
    )  # center crop: columns 4..20
    crop = wide[None, :, 4:20] / np.float32(255)
    as_dict = {name: coefficients[:, k] for k, name in enumerate(NAMES)}
    named = {name: np.where(attribute == name, t, 0) for name in NAMES}
    z = edited.encode(images)
    crops = np.random.default_rng(4).random((2, 37, 37, 3), dtype=np.float32)  # any side
    np.savez(
        data,
        images=images,
        coefficients=coefficients,
        attribute=attribute,
        t=t,
        z=z,
        pixels=pixels,
        names=np.array(NAMES),
        png=np.frombuffer(tf.io.encode_png(wide).numpy(), np.uint8),
        serving_default=edited.insert(images, as_dict),
        insert_named=edited.insert(images, named),
        encode=z,
        decode=edited.decode(z),
        reconstruct=edited.reconstruct(images),
        insert_bytes=edited.insert(crop, {k: v[:1] for k, v in as_dict.items()}),
        reconstruct_bytes=edited.reconstruct(crop),
        insert_uint8=edited.insert(pixels / np.float32(255), as_dict),
        reconstruct_uint8=edited.reconstruct(pixels / np.float32(255)),
        crops=crops,
        edit_aligned=kept_detail(edited, crops, {k: v[:2] for k, v in as_dict.items()}),
        template=np.float32(CELEBA_HQ_TEMPLATE),
    )
    return data


def kept_detail(model, crops, edits):
    """The photo path's detail="keep" (photos.edit) on aligned crops of any side."""
    small = tf.image.resize(crops, (model.image_size, model.image_size), antialias=True)
    codes = model.encode(small)
    change = np.asarray(model.decode(codes + model.edit_offsets(edits, len(crops)))) - np.asarray(
        model.decode(codes))
    return np.clip(crops + np.stack([resize_change(c, crops.shape[1]) for c in change]), 0, 1)


def _start(*command):
    return subprocess.Popen(
        command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="module")
def fresh(edited, exported, tmp_path_factory):
    """The checks in fresh interpreters, started at once: each mostly waits on importing TF."""
    work = tmp_path_factory.mktemp("fresh")
    processes = {
        "load": _start(
            sys.executable,
            "-c",
            LOAD_AND_CALL,
            str(exported),
            str(_write_expected(edited, work / "x.npz")),
        ),
        "cli": _start("saved_model_cli", "show", "--all", "--dir", str(exported)),
        "kill": _start(
            sys.executable,
            "-c",
            KILLED_MID_EXPORT,
            str(Path(__file__).parent),
            str(work),
            str(work / "written"),
        ),
    }
    yield work, processes
    for process in processes.values():
        process.kill()
        process.communicate()


def _finished(process):
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr[-3000:]
    return stdout


def test_every_signature_matches_keras_without_dfl_keras(fresh):
    assert _finished(fresh[1]["load"]).split() == sorted(SIGNATURES)


def test_saved_model_cli_lists_named_inputs_and_outputs(fresh):
    text = _finished(fresh[1]["cli"])
    blocks = {b.split("']")[0]: b for b in text.split("signature_def['")[1:]}
    expected = {
        "serving_default": (["coefficients", "images"], ["images"]),
        "insert_named": (["attribute", "images", "t"], ["images"]),
        "encode": (["images"], ["z"]),
        "decode": (["z"], ["images"]),
        "reconstruct": (["images"], ["images"]),
        "attribute_names": ([], ["attribute_names"]),
        "insert_bytes": (["coefficients", "image_bytes"], ["images"]),
        "reconstruct_bytes": (["image_bytes"], ["images"]),
        "insert_uint8": (["coefficients", "images"], ["images"]),
        "reconstruct_uint8": (["images"], ["images"]),
    }
    for name, (inputs, outputs) in expected.items():
        block = blocks[name]
        assert _keys(block, "inputs") == inputs and _keys(block, "outputs") == outputs, block
    assert (
        "shape: (-1, 16, 16, 3)" in blocks["serving_default"]
        and "shape: (-1, 3)" in blocks["serving_default"]
    )
    assert "shape: (3)" in blocks["attribute_names"]
    assert "args_0" not in text and "output_0" not in text


def _keys(block, kind):
    return [
        line.split("['")[1].split("']")[0]
        for line in block.splitlines()
        if line.strip().startswith(f"{kind}['")
    ]


def test_concurrent_calls_answer_like_one_thread(exported):
    insert = tf.saved_model.load(str(exported)).signatures["serving_default"]
    images = tf.constant(random_images(4))
    coefficients = tf.constant(np.random.default_rng(4).normal(size=(4, len(NAMES))), tf.float32)
    expected = insert(images=images, coefficients=coefficients)["images"].numpy()
    mismatches = []

    def client():
        for _ in range(50):
            answer = insert(images=images, coefficients=coefficients)["images"].numpy()
            mismatches.append(not np.array_equal(answer, expected))

    errors = run_in_threads(client, threads=8)
    assert not errors and len(mismatches) == 400 and not any(mismatches)


def _fake_write(content, before_publish=None):
    """A fast stand-in for the SavedModel writer, to test how versions are claimed."""

    def write(model, path, raw_images=False):
        path.mkdir()
        (path / "saved_model.pb").write_text(content)
        if before_publish:
            before_publish()

    return write


def test_next_version_follows_the_highest_integer(monkeypatch, tmp_path):
    monkeypatch.setattr(export, "_write_saved_model", _fake_write("new"))
    for entry in ("1", "3", ".tmp-abc", "notes"):
        (tmp_path / "dfl" / entry).mkdir(parents=True)
    assert export_serving(None, tmp_path) == tmp_path / "dfl" / "4"
    assert export_serving(None, tmp_path, name="other", version=7) == tmp_path / "other" / "7"
    assert export_serving(None, tmp_path, name="other") == tmp_path / "other" / "8"


def test_a_model_without_vectors_inserts_nothing(tmp_path):
    model = tiny_model()
    signatures = tf.saved_model.load(str(export_serving(model, tmp_path))).signatures
    assert signatures["attribute_names"]()["attribute_names"].shape == (0,)
    images = random_images(2)
    inserted = signatures["serving_default"](
        images=images, coefficients=np.zeros((2, 0), np.float32)
    )["images"]
    np.testing.assert_allclose(inserted, model.reconstruct(images), atol=1e-5)


@pytest.mark.parametrize("version", [-1, "2", 1.5, True])
def test_version_must_be_a_non_negative_integer(edited, tmp_path, version):
    with pytest.raises(ValueError, match="non-negative integer"):
        export_serving(edited, tmp_path, version=version)


def test_existing_version_is_kept_unless_overwrite(monkeypatch, tmp_path):
    monkeypatch.setattr(export, "_write_saved_model", _fake_write("first"))
    target = export_serving(None, tmp_path, version=2)
    monkeypatch.setattr(export, "_write_saved_model", _fake_write("second"))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_serving(None, tmp_path, version=2)
    assert (target / "saved_model.pb").read_text() == "first"
    assert export_serving(None, tmp_path, version=2, overwrite=True) == target
    assert (target / "saved_model.pb").read_text() == "second"
    assert sorted(os.listdir(tmp_path / "dfl")) == ["2"]


def test_a_failed_write_leaves_no_version_and_no_temporary_directory(monkeypatch, tmp_path):
    def write_half_then_fail(model, path, raw_images=False):
        (path / "variables").mkdir(parents=True)
        (path / "saved_model.pb").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(export, "_write_saved_model", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_serving(None, tmp_path)
    assert os.listdir(tmp_path / "dfl") == []


def test_concurrent_exports_claim_distinct_versions(monkeypatch, tmp_path):
    everyone_written = threading.Barrier(8)
    monkeypatch.setattr(export, "_write_saved_model", _fake_write("x", everyone_written.wait))
    claimed = []
    threads = [
        threading.Thread(target=lambda: claimed.append(export_serving(None, tmp_path)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(int(path.name) for path in claimed) == list(range(1, 9))
    assert sorted(os.listdir(tmp_path / "dfl"), key=int) == [str(v) for v in range(1, 9)]


def test_an_export_killed_mid_write_publishes_nothing(fresh):
    work, processes = fresh
    process, deadline = processes["kill"], time.monotonic() + 180
    while (
        not (work / "written").exists() and process.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert (work / "written").exists(), (
        process.stderr.read()[-3000:] if process.poll() is not None else "timed out"
    )
    process.send_signal(signal.SIGKILL)
    process.communicate()
    (left,) = (work / "dfl").iterdir()  # only the staging directory, which a server ignores
    assert left.name.startswith(".tmp-") and (left / "saved_model" / "saved_model.pb").is_file()
