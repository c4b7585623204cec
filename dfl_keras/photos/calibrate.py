"""The default strength of photo edits: per attribute, a t calibrated on the photo path itself.

A t fitted on the model's own crops is too weak for photos: adding only the
change psi(z + t v) - psi(z) under a soft mask shows less of an attribute than
pasting the decoded face. So the default t is measured where it is used: the
edited photo, seen by the judge through the same alignment as the original.
"""

import keras
import numpy as np

from dfl_keras.evaluate import ATTGAN_ATTRIBUTES, _smallest_reaching
from dfl_keras.photos.align import align
from dfl_keras.photos.edit import edit_many
from dfl_keras.photos.strength import preserved_columns
from dfl_keras.photos.template import template_of

# t = 1 is the mean latent distance between faces with and without the attribute; the
# change-only photo path needs more, and past 6 decoded faces leave the ones the model knows.
PHOTO_T_GRID = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)
INSERTION_TARGET = 0.85  # the targets for the default strength
PRESERVATION_FLOOR = 0.9


def judged(judge, pixels, faces, template):
    """The judge's verdicts (N, K) on the faces' aligned crops at the judge's size."""
    crops = np.stack([align(p, f, template, judge.image_size)[0] for p, f in zip(pixels, faces)])
    return judge.predict_labels(crops)


def calibrate_photos(model, judge, pixels, faces, attributes=None, preserve=ATTGAN_ATTRIBUTES,
                     target=INSERTION_TARGET, floor=PRESERVATION_FLOOR, grid=PHOTO_T_GRID,
                     max_faces=64, min_faces=20, detail="keep", source="", store=True,
                     verbose=1, step="add"):
    """Per attribute, the smallest t of `grid` whose photo edits reach `target` insertion while
    keeping `floor` preservation; where none does, the strongest t that keeps `floor`.

    With step="distance" the grid holds distances (photos.edit's step) and the
    same rule picks one distance per attribute.

    Insertion: among faces the judge sees without the attribute, the share it
    sees with it after editing the photo at t (both judged on the same-alignment
    crop). Preservation: the share of the `preserve` verdicts (the edited
    attribute left out) that stay. Insertion is taken to grow and preservation
    to fall with t, so both searches bisect the grid (evaluate's calibration).
    Calibrate on photos neither the model nor any benchmark uses.

    Args:
        pixels: uint8 photos; faces: one Face per photo (detected once, by the caller).
        max_faces: faces edited per attribute (the first ones without it).
        min_faces: fewer faces without the attribute than this: not calibrated (None).
        source: where the photos came from, stored in the info "t_fitted".
        store: save t with the vector (info "t", "t_success", "t_preservation",
            "t_target", "t_floor", "t_reached", "t_fitted"; for step="distance" the
            same keys with "distance" for "t"), so photo edits (and model.insert,
            for t) use it when no strength is given.
        step: "add" calibrates t, "distance" the distance (see photos.edit).

    Returns:
        {name: info dict, or None where too few faces lack the attribute}.

    Example:
        >>> faces = [photos.find_faces(p)[0] for p in held_out]  # doctest: +SKIP
        >>> calibrate_photos(model, judge, held_out, faces)["Smiling"]["t"]  # doctest: +SKIP
    """
    template = template_of(model)
    attributes = list(attributes or [n for n in model.attribute_names if n in judge.attributes])
    before = judged(judge, pixels, faces, template)
    progress = keras.utils.Progbar(len(attributes), verbose=verbose, unit_name="attribute")
    fitted = {}
    for i, name in enumerate(attributes):
        k = judge.attributes.index(name)
        rows = np.flatnonzero(~before[:, k])[:max_faces]
        fitted[name] = None
        if len(rows) >= min_faces:
            others = preserved_columns(judge, name, preserve)
            measure = _measurer(model, judge, [pixels[r] for r in rows], [faces[r] for r in rows],
                                before[rows], name, k, others, detail, template, step)
            t = _choose(sorted(float(t) for t in grid), measure, target, floor)
            insertion, preservation = measure(t)
            key = "t" if step == "add" else "distance"
            fitted[name] = {
                key: t, f"{key}_success": insertion, f"{key}_preservation": preservation,
                f"{key}_target": float(target), f"{key}_floor": float(floor),
                f"{key}_reached": bool(insertion >= target and preservation >= floor),
                f"{key}_fitted": {"path": f"photos, detail={detail}", "faces": int(len(rows)),
                                  "source": source,
                                  "preserve": [judge.attributes[j] for j in others]},
            }
            if store:
                info = {**model.attribute_info(name), **fitted[name]}
                model.set_attribute_vector(name, model.attribute_vector(name), **info)
        progress.update(i + 1)
    return fitted


def _measurer(model, judge, pixels, faces, before, name, k, others, detail, template, step):
    """t -> (insertion, preservation) of photo edits at t, each t measured once."""
    known = {}

    def measure(t):
        if t not in known:
            edited = edit_many(model, pixels, name, faces=[[f] for f in faces], strength=t,
                               detail=detail, step=step)
            after = judged(judge, [e.photo for e in edited], faces, template)
            known[t] = (float(after[:, k].mean()),
                        float((after[:, others] == before[:, others]).mean()) if others else 1.0)
        return known[t]

    return measure


def _choose(grid, measure, target, floor):
    """The calibration rule on an ascending grid (see calibrate_photos)."""
    t, _ = _smallest_reaching(grid, lambda t: measure(t)[0], target)
    if measure(t)[1] >= floor:
        return t  # reaches the target, or the strongest t tried keeps the floor
    allowed = grid[:grid.index(t) + 1]
    first_failing, _ = _smallest_reaching(allowed, lambda t: float(measure(t)[1] < floor), 1.0)
    index = allowed.index(first_failing)
    return allowed[max(index - 1, 0)]  # no t keeps the floor: the weakest tried
