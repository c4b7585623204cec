"""dfl app: the page's callbacks as plain functions, the served page over HTTP (gradio_client),
and the page in a real headless browser (Chromium over the DevTools protocol)."""

import importlib.util
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from browser import CHROMIUM, Browser
from photo_canvases import aligned_photo, background, needs_aligned_photos, place, similarity
from PIL import Image
from test_photos import png_chunk

from dfl_keras import LatentAttributeModel, images_io
from dfl_keras.app import PREVIEW_SIDE, PhotoEditor
from dfl_keras.cli import main
from dfl_keras.evaluate import ATTGAN_ATTRIBUTES
from dfl_keras.inputs import STRENGTH_FACTOR
from dfl_keras.provenance import read_provenance

REPO = Path(__file__).resolve().parents[1]
# The README's screenshot is rewritten only when asked, so a test run leaves the checkout clean.
SCREENSHOT = REPO / "docs" / "app.png" if os.environ.get("DFL_UPDATE_SCREENSHOT") else None
HAS_GRADIO = importlib.util.find_spec("gradio") is not None
needs_gradio = pytest.mark.skipif(not HAS_GRADIO,
                                  reason='needs Gradio: pip install "dfl_keras[app]"')
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="needs Chromium: apt-get install chromium")
START_SECONDS = 120  # TensorFlow's import and the model's first trace, on a busy machine


@pytest.fixture(scope="module")
def model():
    return LatentAttributeModel.from_preset("dfl_celeba64")


@pytest.fixture
def editor(model, tmp_path):
    return PhotoEditor(model, "dfl_celeba64.keras (test)", tmp_path)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """A real aligned photo, a canvas of two real faces, one of none, a file that is no image."""
    folder = tmp_path_factory.mktemp("pictures")
    Image.fromarray(aligned_photo(0)).save(folder / "me.png")
    canvas = place(background(300, 420), aligned_photo(3), similarity(-15, 1.0, (20, 40)))
    canvas = place(canvas, aligned_photo(7), similarity(20, 0.8, (260, 60)))
    Image.fromarray(canvas).save(folder / "two.png")
    Image.fromarray(background(200, 260, seed=1)).save(folder / "empty.png")
    (folder / "notes.jpg").write_text("not a photo")
    return folder


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def far_from(face, shape, margin=0.6):
    """The pixels farther than `margin` box sizes from a face's box: the mask never reaches them."""
    x0, y0, x1, y1 = face.box
    pad = margin * max(x1 - x0, y1 - y0)
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    return (x < x0 - pad) | (x > x1 + pad) | (y < y0 - pad) | (y > y1 + pad)


def inside(face, shape):
    x0, y0, x1, y1 = face.box
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    return (x > x0) & (x < x1) & (y > y0) & (y < y1)


def zeros(editor):
    main, more = editor.attributes()
    return dict.fromkeys(main + more, 0.0)


# ------------------------------------------------------------------ the callbacks


def test_the_sliders_are_the_attgan_13_then_more_within_the_models_bounds(editor, model):
    main, more = editor.attributes()
    assert main == [name for name in ATTGAN_ATTRIBUTES if name in model.attribute_names]
    assert sorted(main + more) == sorted(model.attribute_names) and len(main) == 13
    for name in main + more:
        bound, calibrated = editor.slider(name)
        assert calibrated == model.attribute_info(name).get("t")
        assert abs(calibrated) <= bound <= STRENGTH_FACTOR * abs(calibrated)
        model.edit_offsets({name: -bound}, 1)  # the ends of the slider are edits the model takes


@needs_aligned_photos
def test_a_photo_is_encoded_once_and_each_slider_move_edits_its_face_only(editor, pictures):
    photo = pixels(pictures / "me.png")
    session, shown, choices, message = editor.open(pictures / "me.png")
    assert message == "me.png: 178x218, 1 face found. Move a slider to edit."
    assert choices == ["all", "1"] and shown.shape == photo.shape and (shown != photo).any()
    codes = session.encoded.codes.copy()

    before, after, message = editor.render(session, "all", "keep", zeros(editor))
    np.testing.assert_array_equal(pixels(after), photo)  # every slider at 0: the photo as it is
    assert message == "me.png: 178x218, 1 face found. Move a slider to edit."
    assert pixels(before).tolist() == photo.tolist()
    strengths = zeros(editor) | {"Smiling": 1.5}
    before, after, message = editor.render(session, "all", "keep", strengths)
    after = pixels(after)
    assert message == "every face: Smiling=+1.50" and after.shape == photo.shape
    face = session.encoded.faces[0]
    change = np.abs(after - photo).max(-1)
    assert change[inside(face, photo.shape)].mean() > 1
    assert not change[far_from(face, photo.shape, 0.3)].any()
    np.testing.assert_array_equal(session.encoded.codes, codes)  # nothing was encoded again
    for detail in ("replace", "blend"):
        assert (pixels(editor.render(session, "all", detail, strengths)[1]) != after).any()
    assert len(list(editor.workdir.rglob("after.png"))) == 2  # older previews are deleted


@needs_aligned_photos
def test_the_chosen_face_alone_is_edited(editor, pictures):
    photo = pixels(pictures / "two.png")
    session, _, choices, message = editor.open(pictures / "two.png")
    assert choices == ["all", "1", "2"] and "2 faces found" in message
    first, second = session.encoded.faces
    after = pixels(editor.render(session, "2", "keep", {"Blond_Hair": 3.0})[1])
    changed = np.any(after != photo, -1)
    assert changed[inside(second, photo.shape)].mean() > 0.5
    assert not changed[inside(first, photo.shape)].any()
    assert editor.render(session, "3", "keep", {"Blond_Hair": 3.0})[2] == (
        "there is no face '3' in the photo: choose all or 1 to 2")


@needs_aligned_photos
def test_a_large_photo_is_previewed_small_and_saved_at_full_size(editor, pictures, tmp_path):
    big = Image.fromarray(aligned_photo(0)).resize((1068, 1308), Image.Resampling.BICUBIC)
    big.save(tmp_path / "big.jpg", quality=95)
    session, shown, _, message = editor.open(tmp_path / "big.jpg")
    assert "1068x1308, 1 face found" in message
    assert shown.shape == (PREVIEW_SIDE, round(1068 * PREVIEW_SIDE / 1308), 3)
    after = pixels(editor.render(session, "all", "keep", {"Smiling": 1.5})[1])
    assert after.shape == shown.shape and (after != session.preview.photo).any()
    path, message = editor.save(session, "all", "keep", {"Smiling": 1.5, "Bald": 0.0})
    assert message == "Saved big.dfl.png: 1068x1308" and Image.open(path).size == (1068, 1308)
    info = read_provenance(path)
    assert info["Edits"] == "Smiling=+1.50" and info["Source"] == "big.jpg"
    assert info["Model"] == "dfl_celeba64.keras (test)" and info["Faces"].count("box") == 1
    assert "Not a real photograph" in info["Description"]
    marked, _ = editor.save(session, "all", "keep", {"Smiling": 1.5}, watermark=True)
    corner = (slice(-200, None), slice(-300, None))
    assert (pixels(marked)[corner] != pixels(path)[corner]).any()
    assert (pixels(marked)[:1000, :800] == pixels(path)[:1000, :800]).all()


@needs_aligned_photos
def test_bad_input_gets_one_line_in_the_page_and_the_editor_keeps_working(editor, pictures,
                                                                          tmp_path):
    size = (12000).to_bytes(4, "big") + (9000).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", size)
                                        + png_chunk(b"IEND", b""))
    expected = {
        "notes.jpg": "cannot read photo notes.jpg: not a JPEG, PNG, GIF or BMP file",
        "empty.png": "No face found in empty.png (none of at least 36 px): try a photo where "
                     "the face is larger and turned towards the camera.",
        "huge.png": "cannot read photo huge.png: 12000x9000 pixels is more than the 100 "
                    "megapixels",
    }
    for name, line in expected.items():
        path = tmp_path / name if name == "huge.png" else pictures / name
        session, shown, choices, message = editor.open(path, source=name)
        assert session is None and shown is None and choices == ["all"]
        assert message.startswith(line) and "\n" not in message and str(path) not in message
    assert editor.render(None, "all", "keep", {"Smiling": 1.0}) == (
        None, None, "Upload a photo to start.")
    assert editor.save(None, "all", "keep", {"Smiling": 1.0})[0] is None
    session = editor.open(pictures / "me.png")[0]
    assert pixels(editor.render(session, "all", "keep", {"Smiling": 1.0})[1]).shape == (218, 178, 3)
    assert "beyond" in editor.render(session, "all", "keep", {"Smiling": 1e6})[2]


@needs_aligned_photos
def test_auto_sets_the_moved_sliders_to_the_judges_strength_for_the_face(editor, pictures):
    session = editor.open(pictures / "two.png")[0]
    strengths = zeros(editor) | {"Blond_Hair": 1.0, "Eyeglasses": -2.0}
    updated, message = editor.auto(session, "2", strengths)
    assert message.startswith("auto, for face 2: Blond_Hair=")
    assert {n for n, t in updated.items() if t != strengths[n]} <= {"Blond_Hair", "Eyeglasses"}
    for name in ("Blond_Hair", "Eyeglasses"):
        t = updated[name]
        assert 0 <= t <= 2 * editor.model.attribute_info(name)["t"] + 1e-6 and f"{name}=" in message
    assert editor.auto(session, "all", zeros(editor)) == (zeros(editor), (
        "Upload a photo and move the sliders you want first: auto then picks their strength "
        "for the face."))


def test_a_wrong_port_is_refused_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["app", "--port", "70000"])
    assert exit.value.code == 2
    assert capsys.readouterr().err == ("dfl app: error: argument --port: expected a port from 1 "
                                       "to 65535, got 70000; see dfl app --help\n")


@needs_gradio
def test_a_port_in_use_is_refused_before_the_model_loads(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 1
    assert capsys.readouterr().err == (
        f"dfl app: error: cannot listen on 127.0.0.1:{port} (Address already in use): choose "
        "another --port, or a --host of this computer\n")


def test_without_gradio_dfl_app_says_in_one_line_what_to_install(monkeypatch, capsys):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "gradio" else find_spec(name, *args))
    assert main(["app"]) == 1
    assert capsys.readouterr().err == (
        'dfl app: error: dfl app needs Gradio, an optional extra: pip install "dfl_keras[app]"\n')


# ------------------------------------------------------------------ the served page


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`dfl app` on a free port, its temporary files confined to a folder of its own."""
    if not HAS_GRADIO:
        pytest.skip('needs Gradio: pip install "dfl_keras[app]"')
    port = free_port()
    temporary, workdir = tmp_path_factory.mktemp("tmp"), tmp_path_factory.mktemp("cwd")
    env = dict(os.environ, TMPDIR=str(temporary), PYTHONPATH=str(REPO))
    process = subprocess.Popen([sys.executable, "-m", "dfl_keras_cli", "app", "--port", str(port)],
                               cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"dfl app did not start: {process.communicate()}")
            time.sleep(0.5)
    yield {"url": url, "port": port, "process": process, "temporary": temporary,
           "workdir": workdir}
    if process.poll() is None:
        process.kill()
        process.wait()


@needs_aligned_photos
def test_the_served_page_edits_a_photo_over_http(served, editor, pictures, tmp_path):
    import httpx
    from gradio_client import Client, handle_file

    client = Client(served["url"], verbose=False, download_files=str(tmp_path))
    photo = pixels(pictures / "me.png")
    shown, choices, message = client.predict(handle_file(str(pictures / "me.png")),
                                             api_name="/open")
    assert message == "me.png: 178x218, 1 face found. Move a slider to edit."
    assert [value for value, _ in choices["choices"]] == ["all", "1"]
    values = zeros(editor)
    (before, after), message = client.predict("all", "keep", *values.values(),
                                              api_name="/render")
    np.testing.assert_array_equal(pixels(after), photo)  # a slider at 0: the photo unchanged
    values["Smiling"] = 1.5
    (before, after), message = client.predict("all", "keep", *values.values(),
                                              api_name="/render")
    assert message == "every face: Smiling=+1.50"
    edited = pixels(after)
    assert edited.shape == photo.shape
    change = np.abs(edited - photo).max(-1)
    ys, xs = np.nonzero(np.any(pixels(shown) != photo, -1))  # the face's box, as the page drew it
    face = SimpleNamespace(box=(xs.min(), ys.min(), xs.max(), ys.max()))
    assert change[inside(face, photo.shape)].mean() > 1
    assert not change[far_from(face, photo.shape, 0.3)].any()
    too_big = io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(45_000_000))  # over MAX_UPLOAD, 40 MiB
    refused = httpx.post(f"{served['url']}gradio_api/upload", files={"files": ("big.png", too_big)})
    assert refused.status_code == 413 and "maximum allowed size" in refused.text
    saved, message = client.predict("all", "keep", False, *values.values(), api_name="/save")
    assert message == "Saved me.dfl.png: 178x218"
    assert read_provenance(saved)["Edits"] == "Smiling=+1.50"
    assert Image.open(saved).size == (178, 218)
    size = (12000).to_bytes(4, "big") + (9000).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", size)
                                        + png_chunk(b"IEND", b""))
    shown, _, message = client.predict(handle_file(str(tmp_path / "huge.png")), api_name="/open")
    assert shown is None and message.startswith("cannot read photo huge.png: 12000x9000 pixels")
    assert client.predict(handle_file(str(pictures / "me.png")), api_name="/open")[2] == (
        "me.png: 178x218, 1 face found. Move a slider to edit.")  # and the page still works


@needs_chromium
def test_the_page_in_a_browser_edits_an_uploaded_photo(served, model, tmp_path):
    """On two faces the model generates (no one's photo: the screenshot goes in the README)."""
    y, x = np.mgrid[0:330, 0:560] / 560
    canvas = (np.array([90, 120, 150]) + 80 * x[..., None] - 40 * y[..., None]).astype(np.uint8)
    for face, (left, side) in zip(np.asarray(model.sample(2, seed=4)), [(40, 250), (330, 200)]):
        big = Image.fromarray(images_io.to_uint8(face)).resize((side, side),
                                                               Image.Resampling.BICUBIC)
        canvas[40:40 + side, left:left + side] = np.asarray(big)
    Image.fromarray(canvas).save(tmp_path / "two_generated_faces.png")
    images = "document.querySelectorAll('#result img')"
    with Browser(tmp_path / "profile", height=1080) as browser:
        browser.page("Page.navigate", url=served["url"])
        browser.wait_for("document.querySelectorAll('input[type=range]').length >= 13")
        browser.set_files("#photo input[type=file]", [tmp_path / "two_generated_faces.png"])
        browser.wait_for(f"{images}.length == 2")
        assert "2 faces found" in browser.evaluate("document.querySelector('#status').innerText")
        before = browser.evaluate(f"{images}[1].src")
        moved = browser.evaluate("""(() => {
            const range = document.querySelector('#slider-Blond_Hair input[type=range]');
            const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
            set.call(range, '3');
            range.dispatchEvent(new Event('input', {bubbles: true}));
            range.dispatchEvent(new Event('change', {bubbles: true}));
            return range.value; })()""")
        assert moved == "3"
        after = browser.wait_for(f"(src => src !== {before!r} && src)({images}[1].src)")
        browser.wait_for(f"[...{images}].every(image => image.complete)")
        assert browser.evaluate("document.querySelector('#status').innerText") == (
            "every face: Blond_Hair=+3.00")
        screenshot = SCREENSHOT or tmp_path / "app.png"
        browser.screenshot(screenshot)
        hosts = {urlsplit(url).netloc for url in browser.requested
                 if urlsplit(url).scheme not in ("data", "blob")}  # data and blob: in the page
    with urllib.request.urlopen(after) as response:
        edited = np.asarray(Image.open(io.BytesIO(response.read())).convert("RGB")).astype(int)
    assert edited.shape == canvas.shape
    changed = np.any(edited != canvas, -1)
    assert changed[40:290, 40:290].mean() > 0.2 and changed[240:330, 290:330].sum() == 0
    assert hosts == {f"127.0.0.1:{served['port']}"}, browser.requested  # nothing from elsewhere
    assert Image.open(screenshot).size == (1360, 1080)


def test_stopping_the_server_removes_every_file_it_wrote(served):
    process = served["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert list(served["temporary"].iterdir()) == [] and list(served["workdir"].iterdir()) == []
