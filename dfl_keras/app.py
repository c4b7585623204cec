"""`dfl app`: edit your own photo in the browser, a slider per attribute (Gradio, an extra).

The page's work is done by PhotoEditor, whose methods are the page's
callbacks as plain functions (tested without a browser). Each photo is found,
aligned and encoded once (photos.encode_photo); a slider move only decodes
and pastes, into a preview of at most PREVIEW_SIDE pixels (a 12 MP photo is
shown on a screen at that size anyway). The saved PNG is edited at the
photo's full size and carries dfl insert's provenance metadata.

Safe by default: it listens on 127.0.0.1, makes no share link, sends no
analytics, refuses uploads over MAX_UPLOAD and photos over MAX_PIXELS (from
their header, before decoding), and keeps every file, uploads included, in a
temporary folder removed when it stops.
"""

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from dfl_keras import images_io, photos, provenance
from dfl_keras.evaluate import ATTGAN_ATTRIBUTES
from dfl_keras.inputs import STRENGTH_FACTOR, UNCALIBRATED_STRENGTH
from dfl_keras.photos.edit import DETAILS
from dfl_keras.photos.strength import auto_strengths
from dfl_keras.presets import DEFAULT_JUDGE

PREVIEW_SIDE = 1280  # the long side of the photo shown in the page
MAX_UPLOAD = "40mb"  # 40 MiB; a 12 MP PNG is about 20 MB
SLIDER_SPAN = 3  # a slider reaches this many times the calibrated t (within the model's bound)
SLIDER_STEP = 0.05
MIN_FACE = 36  # photos.find_faces' measured minimum face size
ALL_FACES = "all"
KEEP_SHOWN = 2  # previews kept per photo: the one shown and the one the browser may still fetch


@dataclass
class Session:
    """One uploaded photo: its faces encoded at full size, and the same faces in the preview."""

    encoded: photos.EncodedPhoto
    preview: photos.EncodedPhoto
    source: str  # the uploaded file's own name, for messages and the saved PNG
    before: str  # the preview photo as a PNG file, sent once instead of re-encoded per move
    summary: str  # what was found, e.g. "me.jpg: 178x218, 1 face found."
    shown: list = field(default_factory=list)  # the last previews sent; older ones are deleted


class PhotoEditor:
    """What the page does, without the page: open a photo, edit it as sliders move, pick strengths
    per face (auto), save the PNG.

    Every method returns a one-line message for the page instead of raising,
    so bad input never shows a traceback and the app keeps serving.

    Args:
        model: a LatentAttributeModel with attribute vectors and a face template.
        label: the model's provenance label (provenance.model_label).
        workdir: the folder for the preview and saved files (a temporary one).
        judge: the AttributeJudge preset (or file) of the auto button, loaded on first use.

    Example:
        >>> from dfl_keras import LatentAttributeModel
        >>> model = LatentAttributeModel.from_preset("dfl_celeba64")
        >>> editor = PhotoEditor(model, "dfl_celeba64", tempfile.mkdtemp())
        >>> editor.attributes()[0][:3]
        ['Bald', 'Bangs', 'Black_Hair']
        >>> session, faces, choices, message = editor.open("me.jpg")  # doctest: +SKIP
        >>> edits = {"Smiling": 1.5}
        >>> before, after, message = editor.render(session, "all", "keep", edits)  # doctest: +SKIP
    """

    def __init__(self, model, label, workdir, judge=DEFAULT_JUDGE):
        photos.template_of(model)  # a model that cannot align faces is refused before serving
        if not model.attribute_names:
            raise ValueError("the model has no attribute vectors yet: run dfl fit-vectors first")
        self.model, self.label, self.workdir = model, label, Path(workdir)
        self.judge_name, self._judge = judge, None

    def attributes(self):
        """(the AttGAN 13 the model has, the rest of its vectors): the sliders in view and under
        "more"."""
        names = self.model.attribute_names
        main = [name for name in ATTGAN_ATTRIBUTES if name in names]
        return main, [name for name in names if name not in main]

    def slider(self, name):
        """(bound, calibrated t or None) of an attribute's slider, which runs from -bound to
        bound: SLIDER_SPAN times the calibrated t, within the model's own bound."""
        calibrated = self.model.attribute_info(name).get("t")
        if calibrated:
            bound = min(SLIDER_SPAN, STRENGTH_FACTOR) * abs(calibrated)
        else:
            bound = min(SLIDER_SPAN, UNCALIBRATED_STRENGTH)
        return float(np.floor(bound / SLIDER_STEP) * SLIDER_STEP), calibrated

    def open(self, path, source=None):
        """A new photo: (Session or None, the preview with the faces found numbered, the face
        choices, message). source names the file in messages (an upload's own name)."""
        source = source or Path(path).name
        try:
            encoded = photos.encode_photo(self.model, str(path), min_size=MIN_FACE)
        except photos.NoFaceError:
            return None, None, [ALL_FACES], (
                f"No face found in {source} (none of at least {MIN_FACE} px): try a photo where "
                "the face is larger and turned towards the camera.")
        except (ValueError, OSError) as error:  # not an image, damaged, too many pixels
            return None, None, [ALL_FACES], " ".join(str(error).replace(str(path), source).split())
        height, width = encoded.photo.shape[:2]
        scale = min(1.0, PREVIEW_SIDE / max(height, width))
        preview = encoded.scaled(scale) if scale < 1 else encoded
        before = self._write_preview(preview.photo, "before")
        count = len(encoded.faces)
        summary = f"{source}: {width}x{height}, {count} face{'s' * (count != 1)} found."
        session = Session(encoded, preview, source, before, summary)
        choices = [ALL_FACES] + [str(k) for k in range(1, count + 1)]
        shown = photos.draw_faces(preview.photo, preview.faces)
        return session, shown, choices, f"{summary} Move a slider to edit."

    def render(self, session, face, detail, strengths):
        """(before, after, message): the preview before and after the edits {name: t}, as PNG
        files; with every slider at 0 both are the photo as it is."""
        if session is None:
            return None, None, "Upload a photo to start."
        edits = _nonzero(strengths)
        if not edits:
            return session.before, session.before, f"{session.summary} Move a slider to edit."
        try:
            result = _chosen(session.preview, face).edit(self.model, edits, detail)
        except ValueError as error:
            return session.before, session.before, " ".join(str(error).split())
        session.shown.append(self._write_preview(result.photo, "after"))
        while len(session.shown) > KEEP_SHOWN:
            shutil.rmtree(Path(session.shown.pop(0)).parent, ignore_errors=True)
        message = f"{_faces_text(face)}: {provenance.format_edits(edits)}"
        return session.before, session.shown[-1], message

    def auto(self, session, face, strengths):
        """({name: t}, message): the sliders that are not at 0 set to the smallest t at which the
        judge sees the attribute on the face (the largest face when all are edited)."""
        names = list(_nonzero(strengths))
        if session is None or not names:
            return dict(strengths), ("Upload a photo and move the sliders you want first: auto "
                                     "then picks their strength for the face.")
        try:
            encoded = _chosen(session.encoded, face)
        except ValueError as error:
            return dict(strengths), str(error)
        j = 0  # the chosen face, or the largest
        template = encoded.alignments[j].template
        region = photos.mask_region(names)
        try:
            chosen = auto_strengths(self.model, self.judge(), encoded.crops[j:j + 1],
                                    encoded.codes[j:j + 1], names, template, region)
        except ValueError as error:
            return dict(strengths), " ".join(str(error).split())
        updated = dict(strengths)
        updated.update({name: round(float(t[0]), 2) for name, t in chosen.items()})
        edits = {name: updated[name] for name in names}
        which = "face 1" if face == ALL_FACES else f"face {face}"
        return updated, f"auto, for {which}: {provenance.format_edits(edits)}"

    def save(self, session, face, detail, strengths, watermark=False):
        """(path of the edited PNG at the photo's full size, or None; message). The PNG carries the
        provenance metadata dfl insert writes, and a visible mark when `watermark`."""
        edits = _nonzero(strengths)
        if session is None or not edits:
            return None, "Nothing to save yet: upload a photo and move a slider."
        try:
            result = _chosen(session.encoded, face).edit(self.model, edits, detail)
        except ValueError as error:
            return None, " ".join(str(error).split())
        info = provenance.provenance(self.label, edits, source=session.source,
                                     faces=result.faces)
        folder = Path(tempfile.mkdtemp(dir=self.workdir))  # one per save: the name stays plain
        path = images_io.write_png(folder / f"{Path(session.source).stem}.dfl.png",
                                   result.photo / np.float32(255), info, mark=watermark)
        return str(path), f"Saved {path.name}: {result.photo.shape[1]}x{result.photo.shape[0]}"

    def judge(self):
        if self._judge is None:
            from dfl_keras.judge import AttributeJudge

            self._judge = AttributeJudge.from_preset(self.judge_name)
        return self._judge

    def _write_preview(self, pixels, kind):
        """A preview as a PNG file the page sends as it is (fast compression: it stays local)."""
        folder = Path(tempfile.mkdtemp(dir=self.workdir))
        path = folder / f"{kind}.png"
        Image.fromarray(pixels).save(path, compress_level=1)
        return str(path)


def build_page(editor):
    """The Gradio page over a PhotoEditor: upload, faces found, sliders, before/after, save."""
    import gradio as gr

    main, more = editor.attributes()
    with gr.Blocks(title="dfl_keras: edit a photo", analytics_enabled=False) as page:
        gr.Markdown("## dfl_keras: edit your own photo\nDrop a photo, then move the sliders. "
                    "Every face found is edited where it is; the rest of the photo is untouched. "
                    "Edit only photos of people who agreed to it; the saved PNG says it is "
                    "synthetic.")
        session = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                photo = gr.Image(label="Your photo", sources=["upload", "webcam", "clipboard"],
                                 type="filepath", height=230, elem_id="photo")
                faces = gr.Image(label="Faces found", interactive=False, format="png",
                                 height=230, elem_id="faces")
            with gr.Column(scale=2):
                status = gr.Markdown("Upload a photo to start.", elem_id="status")
                result = gr.ImageSlider(label="Before / after", type="filepath", format="png",
                                        interactive=False, max_height=480, elem_id="result")
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                face = gr.Radio([ALL_FACES], value=ALL_FACES, label="Edit which face",
                                elem_id="face")
                detail = gr.Radio(list(DETAILS), value="keep", label="Detail", info="keep: the "
                                  "photo's own detail; replace: the decoded face; blend: between")
                auto = gr.Button("auto: strengths for this face", elem_id="auto")
                watermark = gr.Checkbox(label="visible watermark in the saved PNG", value=False)
                save = gr.Button("Save PNG", variant="primary", elem_id="save")
                saved = gr.File(label="Edited photo (PNG with provenance)", elem_id="saved")
            with gr.Column(scale=3):
                sliders = _slider_grid(gr, editor, main)
                with gr.Accordion("more", open=False):
                    sliders += _slider_grid(gr, editor, more)
        names = main + more

        def as_dict(values):
            return dict(zip(names, values))

        def on_open(payload):
            if not payload:
                return None, None, gr.update(choices=[ALL_FACES], value=ALL_FACES), \
                    "Upload a photo to start."
            state, picture, choices, message = editor.open(payload["path"],
                                                           payload.get("orig_name"))
            return state, picture, gr.update(choices=choices, value=ALL_FACES), message

        def on_render(state, which, how, *values):
            before, after, message = editor.render(state, which, how, as_dict(values))
            return (before, after) if after is not None else None, message

        def on_auto(state, which, *values):
            updated, message = editor.auto(state, which, as_dict(values))
            return [updated[name] for name in names] + [message]

        def on_save(state, which, how, mark, *values):
            return editor.save(state, which, how, as_dict(values), mark)

        edit_inputs = [session, face, detail, *sliders]
        photo.change(on_open, photo, [session, faces, face, status], preprocess=False,
                     api_name="open").then(on_render, edit_inputs, [result, status],
                                           api_visibility="private")
        gr.on([s.change for s in sliders] + [face.change, detail.change], on_render, edit_inputs,
              [result, status], trigger_mode="always_last", show_progress="hidden",
              api_name="render")
        auto.click(on_auto, [session, face, *sliders], [*sliders, status], api_name="auto")
        save.click(on_save, [session, face, detail, watermark, *sliders], [saved, status],
                   api_name="save")
    return page


def serve(model, label, host="127.0.0.1", port=7860, judge=DEFAULT_JUDGE, inline=False,
          block=True):
    """Serve the page at http://host:port/ until Ctrl-C (or, with block=False, in the background,
    for a notebook; inline shows it in the notebook's output). port=None takes the first free
    one from 7860.

    Files (uploads, previews, saved PNGs) go to a temporary folder that is removed when the
    server stops, or at exit with block=False.
    """
    workdir = tempfile.mkdtemp(prefix="dfl_app_")
    os.environ["GRADIO_TEMP_DIR"] = workdir  # before gradio is imported: it reads it then
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        page = build_page(PhotoEditor(model, label, workdir, judge))
        page.launch(server_name=host, server_port=port, share=False, inline=inline,
                    inbrowser=False, max_file_size=MAX_UPLOAD, show_error=False, quiet=True,
                    prevent_thread_lock=not block, footer_links=[])
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    if not block:
        atexit.register(shutil.rmtree, workdir, True)
        return page
    shutil.rmtree(workdir, ignore_errors=True)
    return None


def _slider_grid(gr, editor, names, columns=3):
    """A slider per attribute, `columns` to a row."""
    sliders = []
    for first in range(0, len(names), columns):
        with gr.Row():
            sliders += [_slider(gr, editor, name) for name in names[first:first + columns]]
    return sliders


def _slider(gr, editor, name):
    bound, calibrated = editor.slider(name)
    label = f"{name} (calibrated t = {calibrated:g})" if calibrated else name
    return gr.Slider(-bound, bound, value=0.0, step=SLIDER_STEP, label=label,
                     elem_id=f"slider-{name}")


def _nonzero(strengths):
    return {name: float(t) for name, t in strengths.items() if t}


def _chosen(encoded, face):
    """The faces to edit: all, or the one numbered `face` (from 1, largest first)."""
    if face == ALL_FACES:
        return encoded
    count = len(encoded.faces)
    if not (str(face).isdigit() and 1 <= int(face) <= count):
        raise ValueError(f"there is no face {face!r} in the photo: choose all or 1 to {count}")
    return encoded.select([int(face) - 1])


def _faces_text(face):
    return "every face" if face == ALL_FACES else f"face {face}"
