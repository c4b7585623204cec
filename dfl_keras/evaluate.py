"""Measuring how good a model is: reconstruction quality and vector quality."""

import numpy as np
import tensorflow as tf


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
