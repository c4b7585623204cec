"""Attribute directions beyond the plain centroid difference.

The centroid vector v = mean(z | C=1) - mean(z | C=0) also carries every
attribute correlated with C: in CelebA most bald people are men, so the Bald
vector also adds "Male". Three remedies:

- "balanced" (bias-corrected, after Tom White's "Sampling Generative
  Networks"): compare codes with and without C only within cells of equal
  values of the named correlated attributes, so those cancel out;
- "conditional" (after InterFaceGAN): remove from v its component in the span
  of the named attributes' centroid vectors (fitted on the same data), so
  moving along v leaves their scores dot(z, v_j) unchanged;
- "linear": the normal of a logistic regression fitted on the codes, the
  direction that best separates the classes rather than joins their means.

Every method returns a vector on the centroid's scale: the centroid gap
measured along the method's direction (for "balanced", the within-cell gap).
So t = 1 means "move a code by the average difference between faces with and
without C" for every method, and t values can be compared across methods.
"centroid" and the gaps of "conditional" come from dfl_keras.vectors, the sums
that LatentAttributeModel.fit_attribute_vectors streams; here every example is
used, where fit_attribute_vectors undersamples the larger class by default
(the same expectation).

Fitting streams over the data once. Centroid, balanced and conditional keep
only sums of codes; linear keeps every code in memory (N x d float64, about
28 MB for 27,000 faces at d = 128), because logistic regression has no small
sufficient statistics and re-encoding the data for each Newton step would
cost more than the memory.
"""

import itertools

import keras
import numpy as np

from dfl_keras import inputs, vectors

METHODS = ("centroid", "balanced", "conditional", "linear")
MAX_BALANCED_CONDITIONS = 10  # 2**10 cells


def fit_direction(model, data, label, method="centroid", conditions=(), batch_size=64, verbose=1):
    """Fit the direction of one label in a model's code space; nothing is stored on the model.

    Args:
        model: a LatentAttributeModel (anything with ``encode`` and ``image_size``).
        data: a tf.data.Dataset of (image, {name: 0/1}), batched or not, or a
            tuple (images, {name: labels}) of numpy arrays.
        label: the attribute to fit.
        method: one of METHODS.
        conditions: attribute names to keep unchanged ("balanced", "conditional").

    Returns:
        (vector (d,) float32, info dict) ready for
        ``model.set_attribute_vector(label, vector, **info)``.
    """
    check_method(method, conditions)
    names = [label, *conditions]
    batches = encoded_batches(model, data, names, batch_size, verbose)
    return direction_from_codes(batches, method, names)


def check_method(method, conditions=()):
    """Raise early (before any encoding) on an unknown method or misplaced conditions."""
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {METHODS}.")
    conditions = list(conditions)
    if conditions and method in ("centroid", "linear"):
        raise ValueError(f"Method {method!r} takes no conditions; use 'balanced' or 'conditional' "
                         f"to keep {conditions} unchanged.")
    if not conditions and method in ("balanced", "conditional"):
        raise ValueError(f"Method {method!r} needs conditions: the attributes to keep "
                         "unchanged, e.g. ['Male'].")
    if method == "balanced" and len(conditions) > MAX_BALANCED_CONDITIONS:
        raise ValueError(f"'balanced' over {len(conditions)} conditions needs "
                         f"2**{len(conditions)} cells; use at most {MAX_BALANCED_CONDITIONS}, "
                         "or method='conditional'.")


def encoded_batches(model, data, names, batch_size=64, verbose=1):
    """Yield (codes (B, d) float64, labels (B, K) int32) for the named labels, showing progress."""
    progress = keras.utils.Progbar(None, verbose=verbose, unit_name="image")
    seen = 0
    for images, labels in inputs.labelled_batches(data, names, model.image_size, batch_size):
        labels = labels.numpy()
        inputs.check_batch(images, labels, names)
        yield np.asarray(model.encode(images), np.float64), labels
        seen += len(labels)
        progress.update(seen)


def direction_from_codes(batches, method, names):
    """The direction from codes and labels: column 0 is the label, the others its conditions.

    Args:
        batches: an iterable of (codes (B, d), labels (B, K) 0/1).
        method: one of METHODS.
        names: the K label names, for messages and the returned info.

    Returns:
        (vector (d,) float32, info dict).
    """
    names, k = list(names), len(names)
    check_method(method, names[1:])
    batches = iter(batches)
    first = next(batches, None)
    if first is None:
        raise ValueError("The dataset is empty: no examples to fit a direction from.")
    batches = itertools.chain([first], batches)
    info = {"method": method, "conditions": names[1:]}
    if method == "linear":
        codes, labels = (np.concatenate(parts) for parts in zip(*batches))
        n_with = int(labels[:, 0].sum())
        counts = _class_counts(len(labels) - n_with, n_with, names[0])
        return _float32(linear_direction(codes, labels[:, 0])), {**info, **counts}
    if method == "balanced":
        sums, counts = _cell_sums(batches, k - 1)
        totals = _class_counts(*counts.sum(1), names[0])
        vector, cells = balanced_direction(sums, counts)
        return _float32(vector), {**info, **totals, "cells_used": cells}
    sums, counts = _class_sums(batches)
    info.update(_class_counts(*counts[0].sum(1), names[0]))
    for j, name in enumerate(names[1:], 1):
        _class_counts(*counts[j].sum(1), name)
    gaps = []
    for j in range(k):
        without_c, with_c, _ = vectors.undersampled_centroids(sums[j], counts[j], balance=False)
        gaps.append(with_c - without_c)
    vector = gaps[0] if method == "centroid" else conditional_direction(gaps[0], gaps[1:])
    return _float32(vector), info


def balanced_direction(sums, counts):
    """Within-cell centroid gaps, averaged over the cells that hold both classes.

    A correlated attribute is constant inside a cell, so it cannot contribute
    to any cell's gap. Cells are weighted by n1 n0 / (n1 + n0), the inverse
    variance of their gap: a cell with a handful of examples (bald women, say)
    would otherwise add mostly noise.

    Args:
        sums: (2, C, d) code sums per class (0 without, 1 with) and cell; counts (2, C).

    Returns:
        (vector (d,), number of cells used).
    """
    sums, counts = np.asarray(sums, np.float64), np.asarray(counts, np.float64)
    both = (counts > 0).all(axis=0)
    if not both.any():
        raise ValueError("No cell of the conditions holds examples both with and without the "
                         "label; the label cannot be separated from its conditions in this data.")
    n0, n1 = counts[0, both], counts[1, both]
    gaps = sums[1, both] / n1[:, None] - sums[0, both] / n0[:, None]
    weights = n1 * n0 / (n1 + n0)
    return weights @ gaps / weights.sum(), int(both.sum())


def conditional_direction(vector, condition_vectors):
    """vector minus its least-squares fit by the condition vectors: orthogonal to all of them.

    Least squares (rather than Gram-Schmidt) copes with condition vectors that
    are nearly parallel to each other.
    """
    basis = np.asarray(condition_vectors, np.float64).reshape(-1, np.shape(vector)[0]).T
    coefficients = np.linalg.lstsq(basis, vector, rcond=None)[0]
    return vector - basis @ coefficients


def linear_direction(codes, labels, l2=0.1, max_iterations=50):
    """The normal of a class-balanced, L2-regularised logistic regression, on the centroid's scale.

    Newton's method on all codes at once: exact and deterministic for the
    small d of a latent space. The classes get equal total weight, as the
    centroid's undersampling gives them, so a rare attribute is not ignored.
    The penalty, l2 times the mean code variance (so the code scale does not
    matter), moves the normal between two ends: a strong one gives the
    centroid direction; a weak one the sharpest separator, which leans on
    small consistent code differences that the decoder barely draws.

    Returns the centroid gap projected on the unit normal w: (gap . w) w.
    """
    codes, labels = np.asarray(codes, np.float64), np.asarray(labels).astype(bool)
    n, d = codes.shape
    x = np.hstack([codes, np.ones((n, 1))])
    y = labels.astype(np.float64)
    sample_weights = np.where(labels, 0.5 / labels.sum(), 0.5 / (~labels).sum())
    strength = l2 * codes.var(0).mean()
    penalty = np.diag(np.r_[np.full(d, strength), 0.0])  # the intercept is not penalised
    beta = np.zeros(d + 1)
    for _ in range(max_iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        gradient = x.T @ (sample_weights * (p - y)) + penalty @ beta
        hessian = (x.T * (sample_weights * p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    normal = beta[:d] / np.linalg.norm(beta[:d])
    gap = codes[labels].mean(0) - codes[~labels].mean(0)
    return (gap @ normal) * normal


def _class_sums(batches):
    """Code sums (K, 2, 1, d) and counts (K, 2, 1) per label column and class, in one bin."""
    sums = counts = 0.0
    for codes, labels in batches:
        codes = np.asarray(codes, np.float64)
        no_bins = np.zeros(len(codes), np.int32)
        batch_sums, batch_counts = vectors.binned_sums(codes, np.asarray(labels, np.int32),
                                                       no_bins, num_bins=1)
        sums, counts = sums + batch_sums.numpy(), counts + batch_counts.numpy()
    return sums, counts


def _cell_sums(batches, m):
    """Code sums (2, 2**m, d) and counts (2, 2**m) per class of column 0 and cell of the rest."""
    sums = counts = None
    for codes, labels in batches:
        labels = np.asarray(labels).astype(np.int64)
        cells = labels[:, 1:] @ (2 ** np.arange(m)) + labels[:, 0] * 2**m
        if sums is None:
            sums, counts = np.zeros((2 * 2**m, codes.shape[1])), np.zeros(2 * 2**m)
        np.add.at(sums, cells, codes)
        counts += np.bincount(cells, minlength=2 * 2**m)
    return sums.reshape(2, 2**m, -1), counts.reshape(2, 2**m)


def _class_counts(n_without, n_with, name):
    """The counts as info, once both classes are known to be there."""
    vectors.check_both_classes(name, n_without, n_with)
    return {"n_with": int(n_with), "n_without": int(n_without)}


def _float32(vector):
    return np.asarray(vector, np.float32)
