"""strength="auto": per face, the smallest t at which the judge sees the attribute.

The search runs in the model's frame: each candidate t is judged on the
aligned crop with the change added under the face mask, as "keep" pastes it.
It stops before the judge's verdict on a watched attribute changes (the same
ones calibration watches: the AttGAN 13, see preserved_columns), and
at the cap when the attribute never appears.
"""

import numpy as np

from dfl_keras.evaluate import ATTGAN_ATTRIBUTES
from dfl_keras.photos.blend import face_mask

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
