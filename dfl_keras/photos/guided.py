"""Upsampling a decoded change along the photo's own edges: a fast guided filter (He et al.).

The decoder draws its change at the model's size, and smooth upsampling lets
it spill across the photo's edges: a hair colour runs past the hair onto the
background (a halo). Here the change is fitted, window by window at the
model's size, as a linear function of the photo (q = a I + b); a and b are
smooth, so they are upsampled and applied to the photo at the finer size,
where I carries the edges (He and Sun 2015, "Fast guided filter"). Where the
change does not vary with the photo inside a window, it is left as the
window's mean: so a step the change already has at one of the photo's edges
becomes sharp, but what the decoder spilled onto a flat background is only
spread, not removed (benchmarks/bench_halo.py measures it).
"""

import numpy as np
import tensorflow as tf

GUIDE_RADIUS = 2  # window radius at the model's size (a 5x5 window)
GUIDE_EPS = 1e-3  # regularisation: guide variance (in [0, 1] units) below this counts as flat


def box_mean(image, radius):
    """The mean of each (2 radius + 1)^2 window, (h, w, c), windows cut by the border shrink.

    Example:
        >>> box_mean(np.ones((4, 4, 1), np.float32), 1)[..., 0].tolist()[0]
        [1.0, 1.0, 1.0, 1.0]
    """
    image = tf.convert_to_tensor(image, tf.float32)[None]
    size = 2 * radius + 1
    means = tf.nn.avg_pool2d(image, size, 1, "SAME")  # TF averages over the inside pixels only
    return means[0].numpy()


def guided_upsample(change, guide, fine_guide, radius=GUIDE_RADIUS, eps=GUIDE_EPS):
    """The change (n, n, c) brought to fine_guide's size (m, m, g) so that it follows its edges.

    Args:
        change: the decoded change at the model's size, (n, n, c).
        guide: the photo's aligned crop at that size, (n, n, g) in [0, 1].
        fine_guide: the same crop at the output size, (m, m, g) in [0, 1].
        radius, eps: the guided filter's window radius (at n) and regularisation.

    Returns:
        float32 (m, m, c). Where the photo is flat the change is smoothed; where
        the change follows an edge of the photo, it keeps to that edge.

    Example:
        >>> guide = np.zeros((8, 8, 1), np.float32); guide[:, 4:] = 1  # an edge
        >>> change = guide * 0.5 + 0.1  # a change that follows it, blurred or not
        >>> fine = np.repeat(np.repeat(guide, 4, 0), 4, 1)
        >>> out = guided_upsample(change, guide, fine, radius=1, eps=1e-4)
        >>> out.shape, round(float(out[0, 16, 0] - out[0, 15, 0]), 2)  # the step at the edge
        ((32, 32, 1), 0.37)
        >>> smooth = tf.image.resize(change, (32, 32)).numpy()  # bilinear: a ramp
        >>> round(float(smooth[0, 16, 0] - smooth[0, 15, 0]), 2)
        0.12
    """
    change = np.asarray(change, np.float32)
    guide = np.asarray(guide, np.float32)
    channels, guides = change.shape[-1], guide.shape[-1]
    products = [(guide[..., :, None] * other[..., None, :]).reshape(guide.shape[:2] + (-1,))
                for other in (change, guide)]  # I p and I I^T, per pixel
    stacked = np.concatenate([guide, change, *products], -1)
    means = box_mean(stacked, radius)
    mean_i, mean_p = means[..., :guides], means[..., guides:guides + channels]
    split = guides + channels + guides * channels
    cross = means[..., guides + channels:split].reshape(guide.shape[:2] + (guides, channels))
    second = means[..., split:].reshape(guide.shape[:2] + (guides, guides))
    covariance = cross - mean_i[..., :, None] * mean_p[..., None, :]
    variance = second - mean_i[..., :, None] * mean_i[..., None, :] + eps * np.eye(guides)
    a = np.linalg.solve(variance, covariance)  # (n, n, g, c): the change per unit of guide
    b = mean_p - np.einsum("...g,...gc->...c", mean_i, a)
    coefficients = box_mean(np.concatenate([a.reshape(a.shape[:2] + (-1,)), b], -1), radius)
    side = fine_guide.shape[0]
    coefficients = tf.image.resize(coefficients, (side, side), method="bilinear").numpy()
    fine_a = coefficients[..., :guides * channels].reshape((side, side, guides, channels))
    return (np.einsum("...g,...gc->...c", np.asarray(fine_guide, np.float32), fine_a)
            + coefficients[..., guides * channels:]).astype(np.float32)
