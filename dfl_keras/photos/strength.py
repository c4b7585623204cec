"""Per-face strengths: step="distance" (every code moved to one signed distance along the
vector) and strength="auto" (per face, the smallest t at which the judge sees the attribute).

The search runs in the model's frame: each candidate t is judged on the
aligned crop with the change added under the face mask, as "keep" pastes it.
It stops before the judge's verdict on a watched attribute changes (the same
ones calibration watches: the AttGAN 13, see preserved_columns), and
at the cap when the attribute never appears.
"""

import numpy as np

from dfl_keras.evaluate import ATTGAN_ATTRIBUTES
from dfl_keras.photos.blend import face_mask

STEPS = ("add", "distance")  # what a strength means: t added to every code, or a distance
AUTO_STEP = 0.25  # t is searched on multiples of this, up to the cap
AUTO_CAP = 2.0  # times the calibrated t (1.0 for an uncalibrated vector)


def preserved_columns(judge, name, preserve=ATTGAN_ATTRIBUTES):
    """The judge's columns watched for preservation when editing `name`: `preserve` but `name`.

    The AttGAN 13 by default, as benchmarks judge: many of the other CelebA
    attributes (Attractive, Heavy_Makeup, Oval_Face...) are judged unreliably
    and move with almost any edit, so watching them would forbid every edit.
    """
    return [judge.attributes.index(n) for n in preserve if n in judge.attributes and n != name]


def auto_cap(model, name):
    """The largest t "auto" tries: AUTO_CAP times the vector's calibrated t (or times 1)."""
    return AUTO_CAP * float(model.attribute_info(name).get("t", 1.0))


def auto_grid(cap):
    """The t tried, ascending: multiples of AUTO_STEP below the cap, then the cap."""
    steps = np.arange(1, int(np.floor(cap / AUTO_STEP + 1e-9)) + 1) * AUTO_STEP
    return np.unique(np.round(np.append(steps[steps < cap], cap), 6))


def calibrated_strength(model, name, step):
    """The default strength of `name` for `step`: its calibrated t ("add") or distance
    ("distance"); a distance never calibrated is the calibrated t (the mean face then
    moves as far as it does at t), and a t never calibrated is 1.0."""
    info = model.attribute_info(name)
    t = float(info.get("t", 1.0))
    return float(info.get("distance", t)) if step == "distance" else t


def signed_distances(model, codes, name):
    """Where codes (n, d) sit along the vector v of `name`: (z - mean code) . v / |v|^2.

    In units of t: the mean code of the data the vectors were fitted on is at 0,
    and adding t v moves a code by t.
    """
    if model.code_distribution is None:
        raise ValueError("step='distance' measures from the mean code, which this model lacks: "
                         "fit its vectors with fit_attribute_vectors, or use step='add'.")
    vector = model.attribute_vector(name).astype(np.float64)
    mean = np.asarray(model.code_distribution[0], np.float64)
    return (np.asarray(codes, np.float64) - mean) @ vector / (vector @ vector)


def distance_strengths(model, codes, distances):
    """{name: (n,) t} that move each code to the signed distance distances[name] (InterFaceGAN's
    per-image step): a face far from the attribute gets more, one near it less.

    A code already past the distance is left where it is (t = 0): an insertion
    never takes an attribute away, nor a removal (a negative distance) adds one.

    Example:
        >>> from dfl_keras import LatentAttributeModel
        >>> model = LatentAttributeModel(image_size=16, latent_dim=2, filters=(8,))
        >>> model.set_attribute_vector("Smiling", np.array([2.0, 0.0]))
        >>> model.code_distribution = (np.zeros(2), np.eye(2))
        >>> codes = np.array([[-2.0, 5.0], [0.0, 1.0], [4.0, 0.0]])  # at -1, 0 and 2
        >>> distance_strengths(model, codes, {"Smiling": 1.5})["Smiling"].tolist()
        [2.5, 1.5, 0.0]
    """
    chosen = {}
    for name, distance in distances.items():
        t = float(distance) - signed_distances(model, codes, name)
        chosen[name] = np.maximum(t, 0) if distance >= 0 else np.minimum(t, 0)
    return chosen


def auto_strengths(model, judge, crops, codes, names, template, region="face"):
    """{name: (n,) t} for n aligned crops (n, S, S, 3) and their codes (n, d).

    A face the judge already sees with the attribute gets t = 0. When a watched
    attribute's verdict changes at some t before the attribute appears, the face
    gets the t before it (0 at the first step). Each attribute is searched on its
    own, the others unedited.
    """
    if judge is None:
        raise ValueError("strength='auto' needs a judge: pass "
                         "judge=AttributeJudge.from_preset('judge_celeba64').")
    missing = [name for name in names if name not in judge.attributes]
    if missing:
        raise ValueError(f"The judge does not know {missing}; strength='auto' cannot choose t.")
    mask = face_mask(template, model.image_size, region=region)[..., None]
    before = judge.predict_labels(crops)
    plain = np.asarray(model.decode(codes), np.float32)
    chosen = {}
    for name in names:
        k = judge.attributes.index(name)
        watched = preserved_columns(judge, name)
        vector = model.attribute_vector(name)
        grid = auto_grid(auto_cap(model, name))
        t = np.where(before[:, k], 0.0, grid[-1])
        searching = ~before[:, k]
        previous = np.zeros(len(codes))
        for value in grid:
            if not searching.any():
                break
            rows = np.flatnonzero(searching)
            edited = np.asarray(model.decode(codes[rows] + value * vector), np.float32)
            seen = judge.predict_labels(np.clip(crops[rows] + mask * (edited - plain[rows]), 0, 1))
            drifted = (seen[:, watched] != before[rows][:, watched]).any(1)
            found = seen[:, k] & ~drifted
            t[rows[found]] = value
            t[rows[drifted]] = previous[rows[drifted]]
            searching[rows[found | drifted]] = False
            previous[rows] = value
        chosen[name] = t
    return chosen
