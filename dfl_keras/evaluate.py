"""Measuring how good a model is: reconstruction, vectors, and honest edit scores.

Edits are judged by an AttributeJudge, a classifier trained on real photos,
and always against the model's own reconstruction rather than the photo: the
question is what the edit changed, not what the autoencoder blurred away.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from dfl_keras.judge import AttributeJudge, load_judge

__all__ = ["ATTGAN_ATTRIBUTES", "AttributeJudge", "EditReport", "calibrate", "edit_report",
           "frechet_distance", "judge_features", "judge_scores", "load_judge",
           "reconstruction_quality", "roc_auc", "vector_auc"]

# The attributes AttGAN and STGAN edit and judge: the usual benchmark set.
ATTGAN_ATTRIBUTES = (
    "Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair", "Bushy_Eyebrows", "Eyeglasses",
    "Male", "Mouth_Slightly_Open", "Mustache", "No_Beard", "Pale_Skin", "Young",
)

# t = 1 moves a face by the average difference between faces with and without the
# attribute; beyond 4 times that, edits leave the faces the model has seen.
T_GRID = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0)


def reconstruction_quality(model, images, batch_size=256):
    """Mean PSNR (dB) and SSIM of the model's reconstructions of images in [0, 1]."""
    reconstructions = model.reconstruct(images, batch_size=batch_size)
    images = tf.convert_to_tensor(images, tf.float32)
    return {
        "psnr": float(tf.reduce_mean(tf.image.psnr(images, reconstructions, max_val=1.0))),
        "ssim": float(tf.reduce_mean(tf.image.ssim(images, reconstructions, max_val=1.0))),
    }


def roc_auc(scores, labels):
    """Area under the ROC curve: the chance that a random positive outscores a random negative.

    Computed from ranks (Mann-Whitney U), ties counted as half.
    """
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if not n_pos or not n_neg:
        raise ValueError(f"ROC AUC needs both classes; got {n_pos} positive and {n_neg} negative labels.")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    # Average the ranks of tied scores.
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.bincount(inverse, ranks) / counts)[inverse]
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def vector_auc(model, codes, labels, name):
    """ROC AUC of the score dot(z, v) for one attribute: does the vector point along the attribute?"""
    return roc_auc(np.asarray(codes) @ model.attribute_vector(name), labels)


def judge_scores(judge, dataset, batch_size=256):
    """Accuracy (at P > 0.5) and ROC AUC per attribute of a judge on labelled data.

    ``dataset`` yields (image, {name: 0/1}), batched or not. Returns
    {name: {"accuracy", "auc", "positive_rate"}}; auc is None when only one class is present.
    """
    probabilities, labels = [], []
    for images, attrs in _batches(dataset, batch_size):
        probabilities.append(judge.probabilities(images, batch_size))
        labels.append(np.stack([attrs[n] for n in judge.attributes], -1))
    probabilities, labels = np.concatenate(probabilities), np.concatenate(labels).astype(bool)
    return {
        name: {
            "accuracy": float(np.mean((probabilities[:, k] > 0.5) == labels[:, k])),
            "auc": _auc_or_none(probabilities[:, k], labels[:, k]),
            "positive_rate": float(labels[:, k].mean()),
        }
        for k, name in enumerate(judge.attributes)
    }


@dataclasses.dataclass
class EditReport:
    """What edit_report measured: ``attributes`` {name: scores} and ``summary`` over all of them."""

    attributes: dict
    summary: dict

    def as_dict(self):
        """Plain numbers, strings and None only: ready for json.dump."""
        return {"summary": self.summary, "attributes": self.attributes}

    def table(self):
        """A fixed-width text table, one row per attribute."""
        s = self.summary
        lines = [
            f"{s['images']} images; reconstruction PSNR {s['psnr']:.2f} dB, SSIM {s['ssim']:.3f}; "
            f"code spread (RMS distance to the mean code) {s['code_spread']:.2f}",
            _row(["attribute", "t", "|tv|", "insert", "of", "remove", "of", "preserve",
                  "most changed", "pixel", "outside", "AUC", "judge"]),
        ]
        for name, r in self.attributes.items():
            worst = max(r["changed"], key=r["changed"].get, default=None)
            lines.append(_row([
                name, f"{r['t']:.2f}" + ("!" if r["t_reached"] is False else ""),
                f"{r['latent_distance']:.2f}",
                _percent(r["insertion_success"]), r["insertion_tried"],
                _percent(r["removal_success"]), r["removal_tried"], _percent(r["preservation"]),
                f"{worst} {_percent(r['changed'][worst])}" if worst else "-",
                f"{r['pixel_change']:.3f}", f"{r['pixel_change_outside']:.3f}",
                "-" if r["auc"] is None else f"{r['auc']:.3f}", _percent(r["judge_accuracy"]),
            ]))
        lines += [
            _row(["mean", "", "", _percent(s["mean_insertion_success"]), "",
                  _percent(s["mean_removal_success"]), "", _percent(s["mean_preservation"])]),
            "t!: calibration did not reach its target; insert/remove: judged success of +t / -t "
            "edits (of N tried);",
            "preserve: other judged attributes unchanged; |tv|: latent distance of the edit;",
            "pixel/outside: mean |edit - reconstruction| over the image / outside the edit region; "
            "AUC: dot(z, v) vs labels; judge: its accuracy on the reconstructions.",
        ]
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def edit_report(model, judge, dataset, attributes=None, t=None, preserve=None, edit_region=0.25,
                batch_size=64, verbose=1):
    """Judge one edit per image and attribute: does it work, and what else does it change?

    Each image is edited with +t when the judge finds the attribute absent from
    its reconstruction (an insertion) and with -t when present (a removal).
    Success is the share of edits that flip the judge's verdict on the
    attribute; preservation is the share of the other judged attributes whose
    verdict the edit leaves unchanged. Both compare the edit with the
    reconstruction, so what the autoencoder loses anyway is not blamed on the edit.

    Per attribute the report also gives how far the edit moves the face: the
    latent distance |t v|, the mean absolute pixel change, and that change
    outside the ``edit_region`` share of pixels the edit changes most on
    average (an edit adding a moustache should leave the hair alone). With
    labels in the data, it gives the ROC AUC of dot(z, v) against them and
    the judge's accuracy on the reconstructions (a judge that cannot see an
    attribute through the autoencoder's blur cannot grade its edits either).
    Deterministic: there is nothing random to seed.

    Args:
        model: a LatentAttributeModel with fitted vectors.
        judge: an AttributeJudge, or anything with ``attributes`` and
            ``predict_labels(images) -> bool (N, K)``.
        dataset: a tf.data.Dataset of images or of (image, {name: 0/1}),
            batched or not; held-out images for an honest report.
        attributes: the vectors to evaluate (default: every one the judge knows).
        t: None (each vector's calibrated t, else 1.0), a number, or {name: t}.
            Rows give "t_reached" (False, True) for a calibrated t, None otherwise.
        preserve: judged attributes that count for preservation (default: all
            the judge's attributes except the edited one).
        edit_region: share of pixels regarded as the edit's own region.

    Returns:
        an EditReport; ``print(report)`` shows the table, ``report.as_dict()`` the numbers.
    """
    attributes = list(attributes or [n for n in model.attribute_names if n in judge.attributes])
    columns = _judge_columns(judge, attributes)
    preserved = _judge_columns(judge, preserve or judge.attributes)
    strengths = _strengths(model, attributes, t)
    vectors = {name: model.attribute_vector(name) for name in attributes}
    tallies = {name: _Tally(len(judge.attributes)) for name in attributes}
    totals = {"images": 0, "psnr": 0.0, "ssim": 0.0, "code_sum": 0.0, "code_square_sum": 0.0}
    progress = keras.utils.Progbar(None, verbose=verbose, unit_name="image")
    for images, labels in _batches(dataset, batch_size):
        codes = np.asarray(model.encode(images), np.float32)
        reconstructions = model.decode(codes)
        before = judge.predict_labels(reconstructions)
        totals["images"] += len(codes)
        totals["psnr"] += float(tf.reduce_sum(tf.image.psnr(images, reconstructions, max_val=1.0)))
        totals["ssim"] += float(tf.reduce_sum(tf.image.ssim(images, reconstructions, max_val=1.0)))
        totals["code_sum"] += codes.sum(0, dtype=np.float64)
        totals["code_square_sum"] += float(np.square(codes, dtype=np.float64).sum())
        for name, k in zip(attributes, columns):
            signs = np.where(before[:, k], -1.0, 1.0).astype(np.float32)
            edits = model.decode(codes + (signs * strengths[name][0])[:, None] * vectors[name])
            change = np.abs(edits - reconstructions).mean(-1)
            tallies[name].add(k, before, judge.predict_labels(edits), change,
                              codes @ vectors[name], labels.get(name))
        progress.update(totals["images"])
    n = totals["images"]
    if not n:
        raise ValueError("The dataset is empty: no images to edit.")
    rows = {
        name: {
            "t": strengths[name][0],
            "t_reached": strengths[name][1],
            "latent_distance": float(abs(strengths[name][0]) * np.linalg.norm(vectors[name])),
            **tallies[name].scores(k, [j for j in preserved if j != k], judge.attributes,
                                   edit_region),
        }
        for name, k in zip(attributes, columns)
    }
    mean_code = totals["code_sum"] / n
    spread = np.sqrt(max(totals["code_square_sum"] / n - mean_code @ mean_code, 0.0))
    summary = {
        "images": n,
        "psnr": totals["psnr"] / n,
        "ssim": totals["ssim"] / n,
        "code_spread": float(spread),
        **{f"mean_{key}": _mean([r[key] for r in rows.values()])
           for key in ("insertion_success", "removal_success", "preservation")},
    }
    return EditReport(rows, summary)


def calibrate(model, judge, dataset, attributes=None, target=0.9, t_grid=T_GRID, store=True,
              batch_size=64, verbose=1):
    """Per attribute, the smallest t in ``t_grid`` at which ``target`` of the insertions succeed.

    Success is measured as in edit_report: among images the judge finds
    without the attribute on their reconstruction, the share it finds with
    it after inserting at t. Calibrate on images that neither the model nor
    the judge trained on, and report on others: a t picked on the report's own
    images flatters it.

    Success is taken to grow with t (as it does when the vector points along
    the attribute), so the grid is bisected: about log2(len(t_grid)) + 1
    evaluations per attribute. When even the largest t misses the target, the
    largest is taken, the strongest edit tried (info "t_reached" is False).

    The codes of ``dataset`` are kept in memory (N x d) so that each t costs
    only decoding and judging; use a few thousand images.

    Args:
        store: save t with the vector (info "t", "t_success", "t_target",
            "t_reached"), so ``model.insert(images, name)`` uses it.

    Returns:
        {name: t}.
    """
    attributes = list(attributes or [n for n in model.attribute_names if n in judge.attributes])
    columns = _judge_columns(judge, attributes)
    codes, before = [], []
    for images, _ in _batches(dataset, batch_size):
        codes.append(np.asarray(model.encode(images), np.float32))
        before.append(judge.predict_labels(model.decode(codes[-1])))
    if not codes:
        raise ValueError("The dataset is empty: no images to calibrate on.")
    codes, before = np.concatenate(codes), np.concatenate(before)
    progress = keras.utils.Progbar(len(attributes), verbose=verbose, unit_name="attribute")
    chosen = {}
    for i, (name, k) in enumerate(zip(attributes, columns)):
        candidates = codes[~before[:, k]]
        if not len(candidates):
            raise ValueError(f"The judge finds {name!r} in every reconstruction: "
                             "no image to insert it into.")
        vector = model.attribute_vector(name)

        def success(t):
            edits = model.decode(candidates + np.float32(t) * vector)
            return float(judge.predict_labels(edits)[:, k].mean())

        t, t_success = _smallest_reaching(sorted(float(t) for t in t_grid), success, target)
        chosen[name] = t
        if store:
            info = {**model.attribute_info(name), "t": t, "t_success": t_success,
                    "t_target": float(target), "t_reached": t_success >= target}
            model.set_attribute_vector(name, vector, **info)
        progress.update(i + 1)
    return chosen


def _smallest_reaching(grid, success, target):
    """(t, success(t)) for the first t of the ascending grid with success >= target, by bisection.

    The last t when none reaches it.
    """
    low, high = 0, len(grid) - 1
    known = {high: success(grid[high])}
    if known[high] < target:
        return grid[high], known[high]
    while low < high:
        middle = (low + high) // 2
        known[middle] = success(grid[middle])
        if known[middle] >= target:
            high = middle
        else:
            low = middle + 1
    return grid[high], known[high]


class _Tally:
    """Running counts of one attribute's edits over the batches."""

    def __init__(self, judged):
        # [insertions, removals]
        self.tried, self.flipped = np.zeros(2, np.int64), np.zeros(2, np.int64)
        self.changed = np.zeros(judged, np.int64)
        self.change_map = 0.0
        self.projections, self.verdicts, self.labels = [], [], []

    def add(self, k, before, after, pixel_change, projections, labels):
        flipped = before != after
        for removal in (0, 1):
            rows = before[:, k] == bool(removal)
            self.tried[removal] += rows.sum()
            self.flipped[removal] += flipped[rows, k].sum()
        self.changed += flipped.sum(0)
        self.change_map = self.change_map + pixel_change.sum(0)
        self.projections.append(projections)
        self.verdicts.append(before[:, k])
        if labels is not None:
            self.labels.append(labels)

    def scores(self, k, others, names, edit_region):
        n = int(self.tried.sum())
        success = [float(f / t) if t else None for f, t in zip(self.flipped, self.tried)]
        change = np.sort(np.ravel(self.change_map / n))
        kept = max(1, int(round(change.size * (1 - edit_region))))
        labels = np.concatenate(self.labels).astype(bool) if self.labels else None
        labelled = len(self.labels) == len(self.projections)
        return {
            "insertion_success": success[0], "insertion_tried": int(self.tried[0]),
            "removal_success": success[1], "removal_tried": int(self.tried[1]),
            "preservation": float(1 - self.changed[others].mean() / n) if others else None,
            "changed": {names[j]: float(self.changed[j] / n) for j in others},
            "pixel_change": float(change.mean()),
            "pixel_change_outside": float(change[:kept].mean()),
            "auc": _auc_or_none(np.concatenate(self.projections), labels) if labelled else None,
            "judge_accuracy": float(np.mean(np.concatenate(self.verdicts) == labels))
            if labelled else None,
        }


def _batches(dataset, batch_size):
    """(images, {name: numpy labels}) batches from a dataset of images or (image, {name: 0/1})."""
    spec = dataset.element_spec
    if (spec[0] if isinstance(spec, tuple) else spec).shape.rank == 3:
        dataset = dataset.batch(batch_size)
    for element in dataset:
        images, labels = element if isinstance(element, tuple) else (element, {})
        yield images, {name: np.asarray(values) for name, values in dict(labels).items()}


def _judge_columns(judge, names):
    unknown = [n for n in names if n not in judge.attributes]
    if unknown:
        raise ValueError(f"The judge cannot judge {unknown}; it knows {list(judge.attributes)}.")
    return [list(judge.attributes).index(n) for n in names]


def _strengths(model, attributes, t):
    """{name: (t, t_reached)}: t given, else calibrated (and whether it met its target), else 1."""
    given = t if isinstance(t, dict) else dict.fromkeys(attributes, t)
    strengths = {}
    for name in attributes:
        info = model.attribute_info(name)
        stored = given.get(name) is None
        strengths[name] = (float(info.get("t", 1.0) if stored else given[name]),
                           info.get("t_reached") if stored else None)
    return strengths


def _auc_or_none(scores, labels):
    labels = np.asarray(labels).astype(bool)
    return roc_auc(scores, labels) if 0 < labels.sum() < labels.size else None


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def _row(cells):
    """One table line: text columns (name, most changed) left-aligned, numbers right-aligned."""
    widths = (20, 5, 6, 7, 5, 7, 5, 8, 27, 6, 7, 5, 6)
    return " ".join(f"{c:<{w}}" if w in (20, 27) else f"{c:>{w}}"
                    for c, w in zip(map(str, cells), widths)).rstrip()


def judge_features(judge, images, batch_size=256):
    """The judge's penultimate features (N, F): what it reads before deciding on attributes.

    A CelebA-trained stand-in for the Inception features of FID: no ImageNet
    network can be downloaded here, and these features see faces the way the
    edits are judged. Images of another size are resized to the judge's input.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    if tuple(images.shape[1:3]) != (judge.image_size,) * 2:
        images = tf.image.resize(images, (judge.image_size,) * 2, antialias=True)
    parts = [judge.features(images[i:i + batch_size]).numpy()
             for i in range(0, images.shape[0], batch_size)]
    return np.concatenate(parts)


def frechet_distance(features_a, features_b):
    """Frechet distance between Gaussians fitted to two feature sets (the FID formula).

    ||mu_a - mu_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)); the trace of the
    square root comes from the eigenvalues of C_a^(1/2) C_b C_a^(1/2), which
    are real and non-negative, so no complex matrix square root is needed.

    Example:
        >>> a = np.random.default_rng(0).normal(size=(500, 4))
        >>> round(frechet_distance(a, a), 6)
        0.0
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError("frechet_distance needs two (N, F) feature arrays with the same F and "
                         f"N >= 2. Received: shapes {a.shape} and {b.shape}.")
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    mean_term = np.sum((a.mean(0) - b.mean(0)) ** 2)
    return float(mean_term + np.trace(cov_a) + np.trace(cov_b) - 2 * np.sqrt(np.clip(cross, 0, None)).sum())
