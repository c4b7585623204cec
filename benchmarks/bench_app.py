"""dfl app's latency, with its per-photo cache and without it, side by side in one run.

For a real 178x218 aligned CelebA photo and a 12 MP photo (4000x3000: the
same photo upscaled 8x, padded on a plain background), both as JPEG files as
a user uploads them:

- first result: the upload (read, find, align, encode: PhotoEditor.open) and
  the first edit shown; without the cache it is one whole edit, as a move;
- a slider move with the cache: PhotoEditor.render (decode and paste into the
  preview of at most PREVIEW_SIDE px);
- a slider move without it: the whole photos.edit on the full photo (find,
  align, encode, decode, paste), then the preview made from it;
- over HTTP (when Gradio is installed): the page's /render round trip through
  gradio_client, which adds the preview's PNG, the transfer and the client's
  download.

Medians over --moves slider moves (each a new t). The targets (issue 21): a
move in at most 0.5 s at 178x218 and 1.5 s at 12 MP on 2 cores.

    python benchmarks/bench_app.py --moves 7
"""

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from dfl_keras import LatentAttributeModel, photos
from dfl_keras.app import PREVIEW_SIDE, PhotoEditor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from photo_canvases import ALIGNED, aligned_photo, background  # noqa: E402

ATTRIBUTE = "Smiling"


def photo_files(folder):
    """{label: JPEG path}: a real aligned photo, and it upscaled 8x and padded to 4000x3000."""
    small = aligned_photo(0)
    Image.fromarray(small).save(folder / "small.jpg", quality=95)
    face = Image.fromarray(small).resize((178 * 8, 218 * 8), Image.Resampling.BICUBIC)
    canvas = Image.fromarray(background(3000, 4000))
    canvas.paste(face, (1300, 600))
    canvas.save(folder / "12mp.jpg", quality=95)
    return {"178x218": folder / "small.jpg", "4000x3000 (12 MP)": folder / "12mp.jpg"}


def timed(work):
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def without_cache(model, path, t):
    """What a page without the cache does per move: the whole edit, then the preview of it."""
    edited = photos.edit(model, path, ATTRIBUTE, strength=t).photo
    scale = min(1.0, PREVIEW_SIDE / max(edited.shape[:2]))
    if scale < 1:
        size = (round(edited.shape[1] * scale), round(edited.shape[0] * scale))
        edited = np.asarray(Image.fromarray(edited).resize(size, Image.Resampling.LANCZOS))
    return edited


def http_client(model, label):
    """A served page in this process and a gradio_client for it, or None without Gradio."""
    if importlib.util.find_spec("gradio") is None:
        return None
    from gradio_client import Client

    from dfl_keras import app

    page = app.serve(model, label, port=int(os.environ.get("BENCH_PORT", 7899)), block=False)
    return page, Client(page.local_url, verbose=False,
                        download_files=tempfile.mkdtemp(prefix="bench_app_"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="dfl_celeba64")
    parser.add_argument("--moves", type=int, default=7, help="slider moves timed per case")
    args = parser.parse_args()
    if not (ALIGNED / "img_align_celeba").is_dir():
        sys.exit(f"needs {ALIGNED} (real photos to time)")
    model = LatentAttributeModel.from_preset(args.model)
    folder = Path(tempfile.mkdtemp(prefix="bench_app_"))
    editor = PhotoEditor(model, args.model, folder)
    files = photo_files(folder)
    editor.render(editor.open(files["178x218"])[0], "all", "keep", {ATTRIBUTE: 1.0})  # warm-up
    without_cache(model, files["178x218"], 1.0)
    served = http_client(model, args.model)
    names = [n for group in editor.attributes() for n in group]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{args.moves} moves per case; {ATTRIBUTE} at t = 0.5, 0.75, ...")
    for label, path in files.items():
        ts = [0.5 + 0.25 * k for k in range(args.moves)]
        firsts = []
        for _ in range(3):
            first_seconds, (session, *_) = timed(lambda: editor.open(path))
            render = timed(lambda: editor.render(session, "all", "keep", {ATTRIBUTE: 1.0}))[0]
            firsts.append(first_seconds + render)
        cached = [timed(lambda: editor.render(session, "all", "keep", {ATTRIBUTE: t}))[0]
                  for t in ts]
        uncached = [timed(lambda: without_cache(model, path, t))[0] for t in ts]
        cached_move, uncached_move = statistics.median(cached), statistics.median(uncached)
        print(f"\n{label}: preview {session.preview.photo.shape[1]}x"
              f"{session.preview.photo.shape[0]}")
        print(f"  first result (upload + first edit)  {statistics.median(firsts):7.3f} s (median)")
        print(f"  first result, without the cache     {uncached_move:7.3f} s (a whole edit)")
        print(f"  slider move, with the cache         {cached_move:7.3f} s (median)")
        print(f"  slider move, without it             {uncached_move:7.3f} s (median)")
        print(f"  without / with                      {uncached_move / cached_move:7.1f}x")
        if served:
            page, client = served
            from gradio_client import handle_file

            values = dict.fromkeys(names, 0.0)

            def move(t):
                values[ATTRIBUTE] = t
                return client.predict("all", "keep", *values.values(), api_name="/render")

            upload, _ = timed(lambda: client.predict(handle_file(str(path)), api_name="/open"))
            first_http = upload + timed(lambda: move(1.0))[0]
            print(f"  first result over HTTP (upload + first edit)    {first_http:7.3f} s")
            over_http = statistics.median(timed(lambda: move(t))[0] for t in ts)
            print(f"  slider move over HTTP (page round trip, cached) {over_http:7.3f} s (median)")
    if served:
        served[0].close()


if __name__ == "__main__":
    main()
