"""The halo of hair-colour edits: how much of the change spills onto a plain background,
with the change upsampled smoothly and along the photo's edges (photos.edit's guide).

On test photos of ../shared/data/celeba_aligned (partition 2) whose top corners
are one plain colour, the background is every pixel within 25 grey levels of
that colour, the head every other one, both above the eyes. The halo is the
mean absolute change (grey levels) in a ring of RING pixels of background
around the head, against the same in a ring of RING pixels of head inside its
edge; their ratio (lower: less spill for the same edit) is printed per
attribute and setting, and the latency of a 4000x3000 photo's edit with and
without the guide, beside its detection, medians.

    python benchmarks/bench_halo.py --count 40
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from dfl_keras import LatentAttributeModel, photos

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_photos import big_photo, test_photos  # noqa: E402

RING = 8  # pixels, at 178x218
CORNER = 20  # side of the corner patches that must be plain


def background_colour(pixels, spread=8, mismatch=15):
    """The colour of a plain background (both top corners flat and alike), else None."""
    corners = [pixels[:CORNER, :CORNER], pixels[:CORNER, -CORNER:]]
    corners = [c.reshape(-1, 3).astype(float) for c in corners]
    if max(c.std(0).max() for c in corners) > spread:
        return None
    if np.abs(corners[0].mean(0) - corners[1].mean(0)).max() > mismatch:
        return None
    return (corners[0].mean(0) + corners[1].mean(0)) / 2


def dilate(mask, radius):
    pooled = tf.nn.max_pool2d(tf.constant(mask[None, ..., None], tf.float32), 2 * radius + 1, 1,
                              "SAME")
    return pooled[0, ..., 0].numpy() > 0


def rings(pixels, face, colour):
    """(outside, inside): background pixels near the head, head pixels near the background."""
    background = np.abs(pixels.astype(float) - colour).max(-1) < 25
    upper = np.arange(pixels.shape[0])[:, None] < face.landmarks[:2, 1].mean()
    upper = np.broadcast_to(upper, background.shape)
    return (background & dilate(~background, RING) & upper,
            ~background & dilate(background, RING) & upper)


def halo(model, chosen, name, guide):
    """Mean change outside and inside the head's edge (grey levels), over the photos."""
    results = photos.edit_many(model, [c[0] for c in chosen], name,
                               faces=[[c[1]] for c in chosen], guide=guide)
    outside, inside = [], []
    for (pixels, face, (ring_out, ring_in)), result in zip(chosen, results):
        change = np.abs(result.photo.astype(float) - pixels).mean(-1)
        outside.append(change[ring_out].mean())
        inside.append(change[ring_in].mean())
    return float(np.mean(outside)), float(np.mean(inside))


def latency(model, photo, repeats):
    """Median seconds: detection, and the edit given the face, without and with the guide."""
    faces = photos.find_faces(photo)[:1]
    times = {"detect": [], False: [], True: []}
    for guide in (False, True):
        photos.edit(model, photo, "Blond_Hair", faces=faces, guide=guide)  # warm up
    for _ in range(repeats):
        start = time.perf_counter()
        photos.find_faces(photo)
        times["detect"].append(time.perf_counter() - start)
        for guide in (False, True):
            start = time.perf_counter()
            photos.edit(model, photo, "Blond_Hair", faces=faces, guide=guide)
            times[guide].append(time.perf_counter() - start)
    return {key: float(np.median(value)) for key, value in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dfl_celeba64")
    parser.add_argument("--count", type=int, default=40, help="plain-background photos")
    parser.add_argument("--attributes", nargs="+", default=["Blond_Hair", "Black_Hair"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    model = LatentAttributeModel.from_preset(args.model)
    chosen = []
    for path in test_photos(10**6, 0):
        pixels = photos.read_photo(path)
        colour = background_colour(pixels)
        found = photos.find_faces(pixels) if colour is not None else []
        if found:
            ring_out, ring_in = rings(pixels, found[0], colour)
            if ring_out.sum() >= 30 and ring_in.sum() >= 30:
                chosen.append((pixels, found[0], (ring_out, ring_in)))
        if len(chosen) == args.count:
            break
    print(f"{len(chosen)} test photos with a plain background; rings of {RING} px above the eyes")
    print("attribute      upsampling  outside  inside  outside/inside")
    for name in args.attributes:
        for guide in (False, True):
            outside, inside = halo(model, chosen, name, guide)
            print(f"{name:14s} {'guided' if guide else 'smooth':10s} {outside:7.2f} {inside:7.2f}"
                  f"  {outside / inside:10.3f}")
    measured = latency(model, big_photo(chosen[0][0]), args.repeats)
    print(f"4000x3000: detection {measured['detect']:.3f} s; edit (face given) smooth "
          f"{measured[False]:.3f} s, guided {measured[True]:.3f} s; whole edit "
          f"{(measured['detect'] + measured[False]) / measured['detect']:.2f}x / "
          f"{(measured['detect'] + measured[True]) / measured['detect']:.2f}x detection")


if __name__ == "__main__":
    main()
