"""Editing faces in photos, measured in one run on the test split of aligned CelebA.

On the official test split (partition 2) of ../shared/data/celeba_aligned,
over the 13 AttGAN attributes, with the shipped judge:

- insertion (share of faces judged without the attribute that are judged with
  it after +t) and preservation (share of the other 12 verdicts that stay) for
  the centre-crop path (the photo centre-cropped to a square and resized to
  the model's size, model.insert, judged on that 64 px output against the
  centre crop of the original: `dfl insert --no-align`) and for the photo path
  with detail "replace", "keep" and "blend" (the edited photo and the original
  judged through the same alignment), over a t sweep, at the default
  (calibrated) strength, and at strength="auto" (and, with --distance, with
  step="distance" at the calibrated distance: path "distance");
- the ceiling ("oracle") of the photo paths: per attribute the t of the
  calibration grid with the best insertion at >= 90% preservation, chosen on
  the test photos themselves, which no calibration on other photos can beat;
- the Frechet distance in the judge's penultimate features between edited and
  unedited photos, seen the same way (one edit per photo, the attributes in turn);
- the eye error of the detector on canvases of test photos placed with known
  similarity transforms;
- latency per photo at 178x218 and at 4000x3000 (one face), detection and the
  rest, medians;
- t = 0: how many photos come back byte-identical.

Every model given is measured on the same photos, side by side.

    python benchmarks/bench_photos.py --count 400 --max-faces 50 --t 1 3  # (the recorded run)

``--realism`` measures instead what the edits look like, at the default
strength (detail "keep"), for every model and by every judge given:

- insertion and preservation by each judge (a 128 px judge sees a smudge and
  a pair of glasses apart where a 64 px one may not);
- per attribute, the realism ratio: the Frechet distance (in each judge's
  features) from the edited photos to the real test photos labelled with the
  attribute, divided by the same distance from the photos unedited. Below 1,
  the edits moved the photos towards real ones with the attribute;
- a contact sheet (``--sheet``): 6 test photos by 8 attributes, each model's
  block below the previous one's, the photos at their own size.

    python benchmarks/bench_photos.py --realism --count 925 --max-faces 100 \
        --models dfl_celeba64_vae.keras dfl_celeba64 --judges judge_celeba64 judge_celeba128 \
        --sheet docs/contact_sheet.png
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from keras.utils import Progbar

from dfl_keras import LatentAttributeModel, photos, plots, provenance
from dfl_keras.data.labels import read_attributes
from dfl_keras.evaluate import ATTGAN_ATTRIBUTES, frechet_distance, judge_features
from dfl_keras.images_io import read_image
from dfl_keras.judge import AttributeJudge
from dfl_keras.photos.calibrate import PHOTO_T_GRID, PRESERVATION_FLOOR, judged

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from photo_canvases import ALIGNED, background, mapped, place, similarity  # noqa: E402


def test_photos(count, seed):
    """`count` photos of the test split: all of it in file order, or a seeded subset."""
    rows = [line.split() for line in (ALIGNED / "list_eval_partition.txt").read_text().splitlines()
            if line.strip()]
    paths = [ALIGNED / "img_align_celeba" / name for name, part in rows if part == "2"]
    if count < len(paths):
        chosen = np.random.default_rng(seed).choice(len(paths), count, replace=False)
        paths = [paths[i] for i in np.sort(chosen)]
    return paths


class Detected:
    """The test photos with a face, detected once for every model: paths, pixels, first face."""

    def __init__(self, paths):
        self.paths, self.pixels, self.faces = [], [], []
        progress = Progbar(len(paths), unit_name="photo")
        for count, path in enumerate(paths, 1):
            pixels = photos.read_photo(path)
            found = photos.find_faces(pixels)
            if found:
                self.paths.append(path)
                self.pixels.append(pixels)
                self.faces.append(found[0])
            progress.update(count)


class Bench:
    """One model on the detected test photos, and the judge's verdicts on them, for every path."""

    def __init__(self, model, judge, detected, max_faces, seed):
        self.model, self.judge = model, judge
        self.template = photos.template_of(model)
        self.paths, self.pixels, self.faces = detected.paths, detected.pixels, detected.faces
        self.centre = np.stack([read_image(p, model.image_size) for p in self.paths])
        self.before = {"aligned": judged(judge, self.pixels, self.faces, self.template),
                       "centre": judge.predict_labels(self.centre)}
        self.columns = {n: judge.attributes.index(n) for n in ATTGAN_ATTRIBUTES}
        self.order = np.random.default_rng(seed).permutation(len(self.paths))
        self.max_faces = max_faces

    def rows(self, name, view):
        """The faces edited for `name`: up to max_faces judged without it, in a seeded order."""
        absent = ~self.before[view][self.order, self.columns[name]]
        return self.order[absent][:self.max_faces]

    def edited(self, rows, name, path, strength):
        """What the judge sees after editing: 64 px outputs (centre) or same-alignment crops,
        and the t used per face."""
        if path == "centre":
            t = self.model.attribute_info(name).get("t", 1.0) if strength is None else strength
            return self.model.insert(self.centre[rows], name, t=t), np.full(len(rows), t)
        results = photos.edit_many(self.model, [self.pixels[r] for r in rows], name,
                                   faces=[[self.faces[r]] for r in rows], strength=strength,
                                   detail="keep" if path in ("auto", "distance") else path,
                                   judge=self.judge,
                                   step="distance" if path == "distance" else "add")
        crops = np.stack([photos.align(e.photo, self.faces[r], self.template,
                                       self.judge.image_size)[0] for e, r in zip(results, rows)])
        return crops, np.array([e.faces[0].t[name] for e in results])

    def scores(self, path, strength):
        """Mean insertion, preservation and t over the 13 attributes."""
        per_attribute = [self.attribute_scores(name, path, strength) for name in ATTGAN_ATTRIBUTES]
        return tuple(float(np.mean(column)) for column in zip(*per_attribute))

    def attribute_scores(self, name, path, strength):
        """Insertion, preservation and mean t of the edits of one attribute."""
        view = "centre" if path == "centre" else "aligned"
        rows = self.rows(name, view)
        k = self.columns[name]
        others = [self.columns[n] for n in ATTGAN_ATTRIBUTES if n != name]
        seen, t = self.edited(rows, name, path, "auto" if path == "auto" else strength)
        after = self.judge.predict_labels(seen)
        kept = (after[:, others] == self.before[view][rows][:, others]).mean()
        return float(after[:, k].mean()), float(kept), float(t.mean())

    def oracle(self, path, floor=PRESERVATION_FLOOR, grid=PHOTO_T_GRID):
        """The ceiling of a path: per attribute, the best insertion of any t of `grid` that
        keeps `floor` preservation, chosen on these very photos (so no calibration can beat it).

        Preservation falls as t grows, so each attribute's sweep stops at the
        first t below the floor (the weakest t when even that one is below).
        """
        best = []
        for name in ATTGAN_ATTRIBUTES:
            allowed = []
            for t in sorted(grid):
                score = self.attribute_scores(name, path, t)
                if score[1] < floor:
                    break
                allowed.append(score)
            best.append(max(allowed, key=lambda s: s[0]) if allowed else score)
        return tuple(float(np.mean(column)) for column in zip(*best))

    def frechet(self, path, strength):
        """Frechet distance between every photo edited once (attributes in turn) and unedited."""
        edited, real = [], []
        for a, name in enumerate(ATTGAN_ATTRIBUTES):
            rows = np.arange(a, len(self.paths), len(ATTGAN_ATTRIBUTES))
            edited.append(self.edited(rows, name, path, strength)[0])
            real.append(self.centre[rows] if path == "centre" else self.aligned_crops(rows))
        features = [judge_features(self.judge, np.concatenate(x)) for x in (edited, real)]
        return frechet_distance(*features)

    def aligned_crops(self, rows):
        return np.stack([photos.align(self.pixels[r], self.faces[r], self.template,
                                      self.judge.image_size)[0] for r in rows])

    def exact_at_zero(self, detail):
        results = photos.edit_many(self.model, self.pixels, ATTGAN_ATTRIBUTES, faces=[
            [f] for f in self.faces], strength=0.0, detail=detail)
        return sum(np.array_equal(r.photo, p) for r, p in zip(results, self.pixels))


SHEET_ATTRIBUTES = ("Smiling", "Eyeglasses", "Blond_Hair", "Black_Hair", "Mustache", "Bald", "Male",
                    "Young")


def photo_labels(paths, attributes):
    """The official labels (N, K) of the photos, 0/1, for `attributes` in order."""
    labels = read_attributes(ALIGNED / "list_attr_celeba.txt")
    row = {name: i for i, name in enumerate(labels.files)}
    columns = [list(labels.names).index(name) for name in attributes]
    return labels.values[[row[path.name] for path in paths]][:, columns]


def quadrant_features(judge, images):
    """The judge's last feature map averaged over each quarter of the face, (N, 4 C): where a
    feature sits is kept coarsely, and the Frechet distance stays quick and well-conditioned on
    the few dozen real photos an attribute may have."""
    maps = judge_features(judge, images).reshape(len(images), 4, 4, -1)
    return maps.reshape(len(images), 2, 2, 2, 2, -1).mean(axis=(2, 4)).reshape(len(images), -1)


def realism(bench, judges, labels):
    """Per attribute at the default strength (detail "keep"): by each judge, insertion,
    preservation and the realism ratio (see the module docstring)."""
    table = {judge_name: {} for judge_name in judges}
    for name in ATTGAN_ATTRIBUTES:
        rows = bench.rows(name, "aligned")
        edited = [e.photo for e in photos.edit_many(
            bench.model, [bench.pixels[r] for r in rows], name,
            faces=[[bench.faces[r]] for r in rows])]
        real_rows = np.flatnonzero(labels[:, ATTGAN_ATTRIBUTES.index(name)])
        for judge_name, judge in judges.items():
            def crops(pixels, rows_of):
                return np.stack([photos.align(p, bench.faces[r], bench.template, judge.image_size)[0]
                                 for p, r in zip(pixels, rows_of)])
            before = crops([bench.pixels[r] for r in rows], rows)
            after = crops(edited, rows)
            real = crops([bench.pixels[r] for r in real_rows], real_rows) if len(real_rows) else None
            k = judge.attributes.index(name)
            others = [judge.attributes.index(n) for n in ATTGAN_ATTRIBUTES if n != name]
            seen_before, seen_after = judge.predict_labels(before), judge.predict_labels(after)
            absent = ~seen_before[:, k]
            features = [quadrant_features(judge, x) for x in (after, before, real)] \
                if len(real_rows) >= 2 else None  # a distance needs two real photos at least
            table[judge_name][name] = {
                "insertion": float(seen_after[absent, k].mean()),
                "preservation": float((seen_after[:, others] == seen_before[:, others]).mean()),
                "realism": features and frechet_distance(features[0], features[2])
                / frechet_distance(features[1], features[2]),
                "faces": len(rows), "real": len(real_rows)}
    return table


def print_realism(model_name, table):
    for judge_name, scores in table.items():
        print(f"\n## {model_name}, judged by {judge_name} (default t, keep)")
        print("attribute            insertion  preservation  realism ratio  (edited, real)")
        for name, s in scores.items():
            ratio = "-" if s["realism"] is None else f"{s['realism']:.3f}"
            print(f"{name:20s} {100 * s['insertion']:8.1f}%  {100 * s['preservation']:10.1f}%"
                  f"  {ratio:>12s}  ({s['faces']}, {s['real']})")
        means = [np.mean([s[key] for s in scores.values()])
                 for key in ("insertion", "preservation")]
        print(f"{'mean':20s} {100 * means[0]:8.1f}%  {100 * means[1]:10.1f}%", flush=True)


def contact_sheet(models, names, detected, labels, path):
    """6 test photos by SHEET_ATTRIBUTES at each model's default strength, one block per model.

    The photos are those labelled with the fewest of the 8 attributes, so each
    column shows an insertion; a cell whose photo already has its attribute is
    marked in its row label.
    """
    order = np.argsort(labels.sum(1), kind="stable")[:6]
    cells, row_labels = [], []
    for model, name in zip(models, names):
        for r in order:
            edits = [photos.edit(model, detected.pixels[r], attribute, faces=[detected.faces[r]]).photo
                     for attribute in SHEET_ATTRIBUTES]
            cells.append([detected.pixels[r]] + edits)
            has = [a for a, on in zip(SHEET_ATTRIBUTES, labels[r]) if on]
            row_labels.append(f"{name}\n{detected.paths[r].name}" + (
                f"\n(has {', '.join(has)})" if has else ""))
    figure = plots.image_grid(np.asarray(cells) / 255.0, row_labels, ["photo", *SHEET_ATTRIBUTES],
                              title="Default strength, detail keep: each block one editor",
                              cell_inches=1.78)
    info = provenance.provenance(", ".join(names), "contact sheet: " + ", ".join(SHEET_ATTRIBUTES),
                                 source="celeba_aligned test photos")
    return plots.save_figure(figure, path, info)


def alignment_errors(detected, count, seed):
    """Eye errors (px, and as a share of the eye distance) on single-face canvases."""
    rng = np.random.default_rng(seed)
    errors, relative, missed = [], [], 0
    for i in range(count):
        photo, face = detected.pixels[i], detected.faces[i]
        angle, scale = rng.uniform(-25, 25), rng.uniform(0.5, 3.0)
        corners = mapped([[0, 0], [178, 0], [0, 218], [178, 218]], similarity(angle, scale, (0, 0)))
        width, height = np.maximum(np.ceil(np.ptp(corners, 0)).astype(int) + 80, [640, 480])
        shift = rng.uniform(-corners.min(0), [width, height] - corners.max(0))
        matrix = similarity(angle, scale, shift)
        found = photos.find_faces(place(background(height, width, seed=i), photo, matrix))
        truth = mapped(face.landmarks[:2], matrix)
        if len(found) != 1:
            missed += 1
            continue
        error = np.linalg.norm(found[0].landmarks[:2] - truth, axis=1).max()
        errors.append(error)
        relative.append(error / np.linalg.norm(truth[1] - truth[0]))
    return np.array(errors), np.array(relative), missed


def latency(model, photo, repeats):
    """Median seconds: detection alone, the rest of the edit (faces given), the whole edit."""
    times = {"detect": [], "rest": [], "whole": []}
    photos.edit(model, photo, "Smiling")  # warm up the graphs
    for _ in range(repeats):
        start = time.perf_counter()
        faces = photos.find_faces(photo)
        times["detect"].append(time.perf_counter() - start)
        start = time.perf_counter()
        photos.edit(model, photo, "Smiling", faces=faces[:1])
        times["rest"].append(time.perf_counter() - start)
        start = time.perf_counter()
        photos.edit(model, photo, "Smiling", faces="largest")
        times["whole"].append(time.perf_counter() - start)
    return {key: float(np.median(value)) for key, value in times.items()}


def big_photo(photo):
    """A 4000x3000 photo with one face: a test photo scaled 6x onto a smooth background."""
    return place(background(3000, 4000, seed=7), photo, similarity(5, 6.0, (1400, 600)))


def print_model(name, result, count):
    """One model's table, printed as soon as it is measured."""
    print(f"\n## {name}\ndefault t: " + ", ".join(
        f"{n} {t:.2f}" if t is not None else f"{n} -" for n, t in result["default_t"].items()))
    print("path     strength   mean t  insertion  preservation  Frechet (judge features)")
    for path, strength, mean_t, insertion, kept, distance in result["table"]:
        label = "default" if strength is None else str(strength)
        fd = "" if distance is None else f"{distance:10.2f}"
        print(f"{path:8s} {label:8s} {mean_t:7.2f} {100 * insertion:9.1f}%  {100 * kept:10.1f}%"
              f"  {fd}")
    print(f"replace  0 (the reconstruction)                       "
          f"{result['reconstruction']:10.2f}")
    print(f"t = 0 byte-identical photos: keep {result['exact']['keep']}/{count}, "
          f"blend {result['exact']['blend']}/{count}")
    for label, measured in zip(("178x218", "4000x3000"), result["latency"]):
        print(f"latency {label:9s}: detection {measured['detect']:.3f} s, rest "
              f"{measured['rest']:.3f} s, whole edit {measured['whole']:.3f} s "
              f"({measured['whole'] / measured['detect']:.2f}x detection)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["dfl_celeba64"],
                        help="presets or .keras files, measured side by side")
    parser.add_argument("--count", type=int, default=925, help="test photos (925: all)")
    parser.add_argument("--max-faces", type=int, default=150,
                        help="faces edited per attribute and setting")
    parser.add_argument("--t", type=float, nargs="+", default=[1.0, 2.0, 3.0])
    parser.add_argument("--oracle", nargs="*", default=["keep"],
                        help="paths whose ceiling to measure: the best t per attribute on the "
                        "test photos themselves")
    parser.add_argument("--distance", action="store_true",
                        help="also the keep path with step='distance' (every face moved to the "
                        "calibrated distance along the vector) at the default strength")
    parser.add_argument("--canvases", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--realism", action="store_true",
                        help="measure realism at the default strength instead (see above)")
    parser.add_argument("--judges", nargs="+", default=["judge_celeba64"],
                        help="with --realism: the judges, presets or .keras files")
    parser.add_argument("--sheet", default=None, help="with --realism: the contact sheet's PNG")
    args = parser.parse_args(argv)
    judge = AttributeJudge.from_preset("judge_celeba64")
    detected = Detected(test_photos(args.count, args.seed))
    print(f"\n{len(detected.paths)} test photos with a face (of {args.count} asked, celeba_aligned "
          f"partition 2); up to {args.max_faces} faces edited per attribute and setting, "
          f"13 AttGAN attributes", flush=True)
    if args.realism:
        judges = {Path(name).stem: AttributeJudge.from_preset(name) for name in args.judges}
        models = [LatentAttributeModel.from_preset(name) for name in args.models]
        for model, name in zip(models, args.models):
            print_realism(name, realism(Bench(model, judge, detected, args.max_faces, args.seed),
                                        judges, photo_labels(detected.paths, ATTGAN_ATTRIBUTES)))
        if args.sheet:
            print(contact_sheet(models, [Path(n).stem for n in args.models], detected,
                                photo_labels(detected.paths, SHEET_ATTRIBUTES), args.sheet))
        return
    settings = [(path, t) for t in args.t for path in ("centre", "replace", "keep", "blend")]
    settings += [(path, None) for path in ("centre", "replace", "keep", "blend")]
    settings.append(("auto", "auto"))
    if args.distance:
        settings.append(("distance", None))
    for name in args.models:
        model = LatentAttributeModel.from_preset(name)
        bench = Bench(model, judge, detected, args.max_faces, args.seed)
        progress = Progbar(len(settings), unit_name="setting")
        table = []
        for i, (path, strength) in enumerate(settings):
            insertion, kept, mean_t = bench.scores(path, strength)
            distance = bench.frechet(path, strength) if strength is None else None
            table.append((path, strength, mean_t, insertion, kept, distance))
            progress.update(i + 1)
        for path in args.oracle:
            insertion, kept, mean_t = bench.oracle(path)
            table.append((path, "oracle", mean_t, insertion, kept, None))
        result = {
            "default_t": {n: model.attribute_info(n).get("t") for n in ATTGAN_ATTRIBUTES},
            "table": table, "reconstruction": bench.frechet("replace", 0.0),
            "exact": {detail: bench.exact_at_zero(detail) for detail in ("keep", "blend")},
            "latency": [latency(model, photo, args.repeats)
                        for photo in (bench.pixels[0], big_photo(bench.pixels[0]))],
        }
        print_model(name, result, len(detected.pixels))
    errors, relative, missed = alignment_errors(detected, min(args.canvases, len(detected.paths)),
                                                args.seed)
    print(f"\neye error on {len(errors)} canvases (rotation +-25 deg, scale 0.5-3x; {missed} "
          f"without exactly one face): median {np.median(errors):.2f} px, max {errors.max():.2f} "
          f"px; median {100 * np.median(relative):.1f}% of the eye distance, "
          f"max {100 * relative.max():.1f}%")


if __name__ == "__main__":
    main()
