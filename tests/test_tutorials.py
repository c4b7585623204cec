"""The Colab tutorials run top to bottom, on small parameters, and do what they teach.

Each notebook is executed with nbclient in a fresh python3 kernel, in a
temporary working directory, after its "parameters" cell (papermill's
convention) is followed by an injected cell of small test values. A failing
cell fails the test. The notebooks use the shipped model
(saved_models/dfl_celeba64.keras) when it exists, else a tiny model trained
here and passed through $DFL_MODEL; labelled data comes from
../shared/data/celeba_hq_64 when present, else the notebooks generate their own.
"""

import json
import os
import re
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = REPO / "tutorials"
SHIPPED = REPO / "saved_models" / "dfl_celeba64.keras"
SHARED_CELEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_hq_64"
HAS_SHARED = (SHARED_CELEBA / "list_attr_celeba.txt").is_file()
NOTEBOOKS = ["01_quickstart.ipynb", "02_attribute_vectors.ipynb", "03_train_on_celeba.ipynb",
             "04_tf_serving.ipynb", "05_edit_your_own_photo.ipynb"]
SHARED_ALIGNED = SHARED_CELEBA.parent / "celeba_aligned" / "img_align_celeba"
BADGE = "https://colab.research.google.com/github/dfl-keras/dfl_keras/blob/main/tutorials/{}"
NOTEBOOK_SECONDS = 150  # bound on each cell (a hang fails) and on each whole notebook


# ------------------------------------------------------------------ running


def run_notebook(name, overrides, workdir, monkeypatch, env):
    """Execute a notebook with `overrides` injected after its parameters cell.

    `env` sets the kernel's environment variables (None removes one).
    Returns (notebook with outputs, all text it printed, seconds it took).
    """
    nb = nbformat.read(TUTORIALS / name, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in overrides.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(at + 1, injected)
    for key, value in env.items():  # the kernel inherits this process's environment
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    start = time.monotonic()
    NotebookClient(nb, timeout=NOTEBOOK_SECONDS, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    seconds = time.monotonic() - start
    text = "".join(
        out.get("text", "") + out.get("data", {}).get("text/plain", "")
        for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    print(f"{name}: {seconds:.1f} s")
    return nb, text, seconds


def number(pattern, text):
    """The float captured by `pattern` in `text` (fails the test if it is absent)."""
    found = re.search(pattern, text)
    assert found, f"no match for {pattern!r} in the notebook's output:\n{text[-3000:]}"
    return float(found.group(1))


def images_shown(nb):
    outputs = [out for c in nb.cells if c.cell_type == "code" for out in c.outputs]
    return sum("image/png" in out.get("data", {}) for out in outputs)


# ------------------------------------------------------------------ fixtures


def train_tiny_model(path):
    """A small 64 px model with all 40 CelebA vectors, for when the shipped one is not there."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import dfl_keras.data
    from dfl_keras import LatentAttributeModel

    keras.utils.set_random_seed(0)
    model = LatentAttributeModel(image_size=64, latent_dim=32, filters=(16, 32, 64, 64))
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    if HAS_SHARED:
        train = dfl_keras.data.celeba_folder(SHARED_CELEBA, "train", take=1024, batch_size=64,
                                             cache="memory")
        model.fit(train.map(lambda x, y: x), epochs=2, shuffle=False, verbose=0)
        labelled = dfl_keras.data.celeba_folder(SHARED_CELEBA, "train", take=2048, batch_size=256)
    else:
        rng = np.random.default_rng(0)
        images = rng.random((256, 64, 64, 3), dtype=np.float32)
        model.fit(images, epochs=1, batch_size=64, verbose=0)
        names = dfl_keras.data.CELEBA_ATTRIBUTES
        labels = {n: (rng.random(256) < 0.3).astype(np.int32) for n in names}
        labelled = (images, labels)
    model.fit_attribute_vectors(labelled, list(dfl_keras.data.CELEBA_ATTRIBUTES), verbose=0)
    model.save(path)
    return path


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """The shipped model, or a tiny stand-in (its path then goes to the notebooks as $DFL_MODEL)."""
    if SHIPPED.is_file():
        print(f"tutorial tests use the shipped model {SHIPPED}")
        return SHIPPED
    path = train_tiny_model(tmp_path_factory.mktemp("model") / "tiny.keras")
    print(f"tutorial tests use a tiny model trained here ({SHIPPED} is absent)")
    return path


@pytest.fixture(scope="module")
def model_env(model_file):
    """The notebooks find the shipped model themselves; a stand-in is named by $DFL_MODEL."""
    stand_in = None if model_file == SHIPPED else str(model_file)
    return {"DFL_MODEL": stand_in, "TF_CPP_MIN_LOG_LEVEL": "3"}


def data_dir():
    """The notebooks' DATA_DIR: the shared CelebA-HQ 64 folder, or a path that is absent."""
    return str(SHARED_CELEBA) if HAS_SHARED else "no-such-folder"


# ------------------------------------------------------------------ structure


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_clean_with_badge_install_and_parameters(name):
    nb = nbformat.read(TUTORIALS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    clean = all(not c.outputs and c.execution_count is None for c in code)
    assert clean, f"{name} has outputs: clear them"
    assert BADGE.format(name) in nb.cells[0].source, "the first cell opens the notebook in Colab"
    install = code[0].source
    assert 'find_spec("dfl_keras") is None' in install and "%pip install" in install
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_readme_lists_every_notebook_with_its_badge():
    readme = (TUTORIALS / "README.md").read_text()
    for name in NOTEBOOKS:
        assert BADGE.format(name) in readme
    assert "dfl-keras" in readme and "placeholder" in readme


# ------------------------------------------------------------------ execution


def test_01_quickstart_edits_sweeps_transitions_and_saves_with_provenance(
        model_file, model_env, tmp_path, monkeypatch):
    held_out = [SHARED_CELEBA / "images" / f"{k}.jpg" for k in (27001, 27002)]
    photos = [str(p) for p in held_out] if HAS_SHARED else []
    nb, text, seconds = run_notebook(
        "01_quickstart.ipynb",
        {"N_FACES": 3, "T_VALUES": [0.5, 1.0, 1.5], "TRANSITION_STEPS": 5, "PHOTOS": photos},
        tmp_path, monkeypatch, model_env)
    origin = ("the shipped model" if model_file == SHIPPED
              else "named by $DFL_MODEL, instead of the shipped model")
    assert f"Model: {model_file} ({origin})" in text
    out = tmp_path / "dfl_quickstart"
    written = {p.name for p in out.iterdir()}
    assert {"face1_edited.png", "t_sweep.png", "transition.gif"} <= written
    assert all(f"{Path(p).stem}.dfl.png" in written for p in photos)
    from dfl_keras.provenance import read_provenance

    for name in ("face1_edited.png", "t_sweep.png", "transition.gif"):
        info = read_provenance(out / name)
        assert "Not a real photograph" in info["Description"]
        assert info["Model"].startswith(model_file.name)
    assert read_provenance(out / "face1_edited.png")["Edits"] == "Smiling=+1.00, Eyeglasses=+1.00"
    assert number(r"t = \+1: mean absolute pixel change ([\d.]+)", text) > 0
    assert images_shown(nb) >= 5 + len(photos)
    assert seconds < NOTEBOOK_SECONDS


def test_02_attribute_vectors_fits_compares_directions_and_reports(
        model_file, model_env, tmp_path, monkeypatch):
    nb, text, seconds = run_notebook(
        "02_attribute_vectors.ipynb",
        {"DATA_DIR": data_dir(), "N_FIT": 1500, "N_HELD_OUT": 160, "N_MAP": 500, "RESAMPLES": 3,
         "T_GRID": (1.0, 2.0)},
        tmp_path, monkeypatch, model_env)
    assert ("Data: real labelled faces" in text) == HAS_SHARED
    # The API's vector is the equation computed by hand.
    by_hand = r"largest difference from model\.fit_attribute_vector: ([\d.e+-]+)"
    assert number(by_hand, text) < 1e-4
    # Removing interference: the conditional Bald direction no longer moves the Male score.
    centroid = number(r"centroid\s+cos\(v, v_Male\) = ([-+\d.]+)", text)
    conditional = number(r"conditional\s+cos\(v, v_Male\) = ([-+\d.]+)", text)
    assert abs(conditional) < 1e-4 < abs(centroid)
    assert re.search(r"calibrated Smiling: t = [12], \d+% of insertions succeed", text)
    flips = {m: number(rf"Bald via {m}\s+t = [\d.]+: insertion success [\d.-]+%?, "
                       r"Male verdict changed on ([\d.]+)%", text)
             for m in ("centroid", "balanced", "conditional")}
    if model_file == SHIPPED:  # a trained model: the judge sees the interference, and its removal
        assert flips["conditional"] < flips["centroid"] and flips["balanced"] < flips["centroid"]
    assert "insertion success" in text.lower()
    assert images_shown(nb) >= 3
    assert seconds < NOTEBOOK_SECONDS


def test_03_train_on_celeba_trains_distributed_fits_and_saves(tmp_path, monkeypatch):
    nb, text, seconds = run_notebook(
        "03_train_on_celeba.ipynb",
        {"DATA_DIR": data_dir(), "USE_TFDS": False, "N_TRAIN": 256, "N_HELD_OUT": 64, "EPOCHS": 2,
         "LATENT_DIM": 32, "FILTERS": [16, 32, 64, 64], "STRATEGY": "mirrored",
         "CPU_REPLICAS": 2, "ATTRIBUTES": ["Smiling", "Eyeglasses", "Male"]},
        tmp_path, monkeypatch, {"TF_CPP_MIN_LOG_LEVEL": "3", "DFL_MODEL": None})
    assert ("Data: real labelled faces" in text) == HAS_SHARED
    assert "Strategy: MirroredStrategy with 2 replica(s)" in text
    saved = tmp_path / "dfl_training" / "my_editor.keras"
    assert saved.is_file()
    import keras

    import dfl_keras  # noqa: F401  (registers the model class)

    model = keras.saving.load_model(saved)
    assert model.attribute_names == ["Smiling", "Eyeglasses", "Male"]
    reloaded = r"reloaded model edits identically: largest difference ([\d.e+-]+)"
    assert number(reloaded, text) < 1e-5
    psnr = number(r"held-out PSNR ([\d.]+) dB", text)
    assert 5 < psnr < 60
    assert seconds < NOTEBOOK_SECONDS


def test_04_tf_serving_exports_and_answers_rest_requests_like_the_model(
        model_env, tmp_path, monkeypatch):
    nb, text, seconds = run_notebook("04_tf_serving.ipynb", {"N_FACES": 2}, tmp_path, monkeypatch,
                                     model_env)
    base = tmp_path / "serving" / "dfl"
    assert (base / "1" / "saved_model.pb").is_file() and (base / "2" / "saved_model.pb").is_file()
    # Answered as TF Serving maps the JSON, every signature agrees with the model itself.
    for signature in ("serving_default", "insert_named", "insert_bytes"):
        pattern = rf"{signature} vs model\.insert: largest difference ([\d.e+-]+)"
        assert number(pattern, text) < 1e-4
    assert number(r"largest difference from model\.encode ([\d.e+-]+)", text) < 1e-4
    assert "TF Serving rejected the request" in text  # an unknown name, refused by the server
    request = json.loads((tmp_path / "request.json").read_text())
    assert request["signature_name"] == "serving_default" and len(request["instances"]) == 2
    assert "docker run" in text and "tensorflow/serving" in text
    assert seconds < NOTEBOOK_SECONDS


@pytest.mark.parametrize("faces", ["real", "generated"])
def test_05_edit_your_own_photo_finds_aligns_sweeps_and_writes_the_photo(
        faces, model_file, model_env, tmp_path, monkeypatch):
    """On a demo photo of two real aligned CelebA faces (when the shared data is there) or of
    two faces the model generates; in Colab the user uploads a photo instead."""
    if faces == "real" and not SHARED_ALIGNED.is_dir():
        pytest.skip(f"needs {SHARED_ALIGNED} (the generated-face run covers its absence)")
    demo = str(SHARED_ALIGNED) if faces == "real" else "no-such-folder"
    nb, text, seconds = run_notebook(
        "05_edit_your_own_photo.ipynb", {"DEMO_FACES": demo, "SWEEP": [0.0, 1.0, 2.0]},
        tmp_path, monkeypatch, model_env)
    assert "PHOTO = None" in text  # the upload cell does nothing outside Colab
    expected = "two real aligned CelebA faces" if faces == "real" else "two faces generated by"
    assert f"Demo photo: {expected}" in text
    found = number(r"Faces found: (\d+)", text)
    if faces == "real":
        assert found == 2, text
    else:  # the detector may miss a generated face: then the known landmarks are passed
        assert found == 2 or "passing their known landmarks with Face.from_landmarks" in text
    assert "t = 0 returns the photo exactly: True" in text
    assert number(r"Edited (\d+) faces", text) == 2
    assert number(r"([\d.]+)% of the pixels changed", text) > 0
    written = tmp_path / "dfl_photo" / "demo.dfl.png"
    from dfl_keras.provenance import read_provenance

    info = read_provenance(written)
    assert "Not a real photograph" in info["Description"] and info["Faces"].count("box") == 2
    from PIL import Image

    assert Image.open(written).size == (520, 360)
    assert images_shown(nb) == 4  # the faces found, the aligned crops, the sweep, the result
    assert seconds < NOTEBOOK_SECONDS
