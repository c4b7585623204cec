"""strength="auto": per face, the smallest t at which the judge sees the attribute.

The search runs in the model's frame: each candidate t is judged on the
aligned crop with the change added under the face mask, as "keep" pastes it.
It stops before the judge's verdict on another attribute changes, and at the
cap when the attribute never appears.
"""

import numpy as np

from dfl_keras.photos.blend import face_mask

AUTO_GRID = np.round(np.arange(0.25, 3.001, 0.25), 2)  # the cap is the last value


def auto_strengths(model, judge, crops, codes, names, template, grid=AUTO_GRID):
    """{name: (n,) t} for n aligned crops (n, S, S, 3) and their codes (n, d).

    A face the judge already sees with the attribute gets t = 0; the other
    attributes are edited one at a time during the search.
    """
    if judge is None:
        raise ValueError("strength='auto' needs a judge: pass judge=dfl_keras.judge.load_judge().")
    missing = [name for name in names if name not in judge.attributes]
    if missing:
        raise ValueError(f"The judge does not know {missing}; strength='auto' cannot choose t.")
    mask = face_mask(template, model.image_size)[..., None]
    before = judge.predict_labels(crops)
    plain = np.asarray(model.decode(codes), np.float32)
    chosen = {}
    for name in names:
        k = judge.attributes.index(name)
        others = np.arange(len(judge.attributes)) != k
        vector = model.attribute_vector(name)
        t = np.where(before[:, k], 0.0, grid[-1])
        searching = ~before[:, k]
        previous = np.zeros(len(codes))
        for value in grid:
            if not searching.any():
                break
            rows = np.flatnonzero(searching)
            edited = np.asarray(model.decode(codes[rows] + value * vector), np.float32)
            seen = judge.predict_labels(np.clip(crops[rows] + mask * (edited - plain[rows]), 0, 1))
            drifted = (seen[:, others] != before[rows][:, others]).any(1)
            found = seen[:, k] & ~drifted
            t[rows[found]] = value
            t[rows[drifted]] = previous[rows[drifted]]
            searching[rows[found | drifted]] = False
            previous[rows] = value
        chosen[name] = t
    return chosen
