"""Insertion and preservation of photo edits with detail "keep", "replace" and "blend".

On real aligned CelebA photos (official validation split), the shipped judge
grades the edited photo against the original, both seen through the same
alignment to the model's framing at the judge's size. Insertion: share of
faces the judge saw without the attribute that it sees with it after +t.
Preservation: share of the other judged AttGAN attributes whose verdict stays.

    python benchmarks/bench_photo_details.py --count 150 --t 1 1.5 3
"""

import argparse
from pathlib import Path

import numpy as np
from keras.utils import Progbar

from dfl_keras import photos
from dfl_keras.judge import load_judge
from dfl_keras.pretrained import load_model

ATTGAN = ["Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair", "Bushy_Eyebrows", "Eyeglasses",
          "Male", "Mouth_Slightly_Open", "Mustache", "No_Beard", "Pale_Skin", "Young"]
ALIGNED = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_aligned"


def validation_photos(count):
    lines = (ALIGNED / "list_eval_partition.txt").read_text().split("\n")
    names = [line.split()[0] for line in lines if line.strip() and line.split()[1] == "1"]
    return [ALIGNED / "img_align_celeba" / name for name in names[:count]]


def judged_crops(photos_, faces, template, size):
    return np.stack([photos.align(p, f, template, size)[0] for p, f in zip(photos_, faces)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150)
    parser.add_argument("--t", type=float, nargs="+", default=[1.0, 1.5, 3.0])
    parser.add_argument("--details", nargs="+", default=["keep", "replace", "blend"])
    args = parser.parse_args(argv)
    model, judge = load_model(), load_judge()
    template = photos.template_of(model)
    pixels, faces = [], []
    for path in validation_photos(args.count):
        found = photos.find_faces(path)
        if found:
            pixels.append(photos.read_photo(path))
            faces.append(found[0])
    columns = {name: judge.attributes.index(name) for name in ATTGAN}
    before = judge.predict_labels(judged_crops(pixels, faces, template, judge.image_size))
    print(f"{len(pixels)} validation photos with a face")
    progress = Progbar(len(args.t) * len(args.details) * len(ATTGAN))
    table = {}
    for t in args.t:
        for detail in args.details:
            scores = []
            for name in ATTGAN:
                k = columns[name]
                absent = np.flatnonzero(~before[:, k])
                if not len(absent):
                    continue
                edited = photos.edit_many(model, [pixels[i] for i in absent], name,
                                          faces=[[faces[i]] for i in absent], strength=t,
                                          detail=detail)
                after = judge.predict_labels(judged_crops([e.photo for e in edited],
                                                          [faces[i] for i in absent], template,
                                                          judge.image_size))
                others = [columns[n] for n in ATTGAN if n != name]
                kept = (after[:, others] == before[absent][:, others]).mean()
                scores.append((after[:, k].mean(), kept, len(absent)))
                progress.add(1)
            table[(t, detail)] = np.mean([s[0] for s in scores]), np.mean([s[1] for s in scores])
    print("\n   t  detail   insertion  preservation  (mean over the 13 AttGAN attributes)")
    for (t, detail), (insertion, kept) in table.items():
        print(f"{t:4.1f}  {detail:8s} {100 * insertion:8.1f}%  {100 * kept:10.1f}%")


if __name__ == "__main__":
    main()
