"""The default strength of photo edits (calibrate_photos) and strength="auto", on a tiny model
with stub judges whose verdicts are known functions of how far a crop moved."""

import warnings

import numpy as np
import pytest
from helpers import tiny_model

from dfl_keras import LatentAttributeModel, photos
from dfl_keras.photos import strength
from dfl_keras.photos.calibrate import _choose

FRAME_SIDE, FRAME_AT = 96, np.array([40.0, 30.0])
FACE = photos.Face.from_landmarks(photos.CELEBA_HQ_TEMPLATE * FRAME_SIDE + FRAME_AT)


def random_photo(seed):
    return np.random.default_rng(seed).integers(0, 256, (180, 200, 3), dtype=np.uint8)


@pytest.fixture
def model():
    model = tiny_model()
    model.face_template = photos.CELEBA_HQ_TEMPLATE.astype(np.float32)
    model.set_attribute_vector("Smiling", np.random.default_rng(0).normal(0, 3, model.latent_dim),
                               t=1.0)
    return model


class DistanceJudge:
    """Sees Smiling once a crop is `smile_at` (mean absolute difference) from the nearest
    reference crop, flips Male (watched) at `male_at`, Attractive (not watched) at any change."""

    attributes = ["Smiling", "Male", "Attractive"]

    def __init__(self, references, smile_at, male_at=np.inf):
        self.references = np.asarray(references, np.float32)
        self.image_size = self.references.shape[1]
        self.smile_at, self.male_at = smile_at, male_at

    def distance(self, images):
        images = np.asarray(images, np.float32)
        return np.abs(images[:, None] - self.references[None]).mean((2, 3, 4)).min(1)

    def predict_labels(self, images):
        d = self.distance(images)
        return np.stack([d > self.smile_at, d > self.male_at, d > 1e-6], 1)


def aligned(model, photo):
    crop, _ = photos.align(photo, FACE, model.face_template, model.image_size)
    return crop


def distances(model, crop, grid):
    """How far the auto search moves a crop at each t: the keep change under Smiling's mask."""
    mask = photos.face_mask(model.face_template, model.image_size,
                            region=photos.mask_region(["Smiling"]))[..., None]
    code = np.asarray(model.encode(crop[None]), np.float32)
    plain = np.asarray(model.decode(code), np.float32)[0]
    vector = model.attribute_vector("Smiling")
    moved = [np.asarray(model.decode(code + t * vector))[0] for t in grid]
    return np.array([np.abs(np.clip(crop + mask * (m - plain), 0, 1) - crop).mean() for m in moved])


def test_auto_grid_steps_up_to_a_cap_of_twice_the_calibrated_t(model):
    np.testing.assert_allclose(strength.auto_grid(strength.auto_cap(model, "Smiling")),
                               np.arange(1, 9) * 0.25)
    model.set_attribute_vector("Smiling", model.attribute_vector("Smiling"), t=1.6)
    assert strength.auto_grid(strength.auto_cap(model, "Smiling"))[-2:].tolist() == [3.0, 3.2]


def test_auto_takes_per_face_the_first_t_at_which_the_judge_sees_the_attribute(model):
    pair = [random_photo(1), random_photo(2)]
    crops = [aligned(model, p) for p in pair]
    grid = strength.auto_grid(2.0)
    moved = np.stack([distances(model, c, grid) for c in crops])
    assert (np.diff(moved, axis=1) > 0).all(), "the test needs the change to grow with t"
    smile_at = (moved[0, 2] + moved[0, 3]) / 2  # face 0 shows it from grid[3] = 1.0 on
    expected = [grid[np.argmax(row > smile_at)] for row in moved]
    assert expected[0] == 1.0
    judge = DistanceJudge(crops, smile_at)  # Attractive flips at once, but is not watched
    results = photos.edit_many(model, pair, "Smiling", faces=[FACE], strength="auto", judge=judge)
    assert [r.faces[0].t["Smiling"] for r in results] == expected
    for result, photo, t in zip(results, pair, expected):
        alone = photos.edit(model, photo, "Smiling", faces=[FACE], strength=t)
        assert np.abs(result.photo.astype(int) - alone.photo).max() <= 1


def test_auto_stops_before_a_watched_attribute_changes(model):
    photo = random_photo(1)
    crop = aligned(model, photo)
    grid = strength.auto_grid(2.0)
    moved = distances(model, crop, grid)
    judge = DistanceJudge([crop], smile_at=(moved[4] + moved[5]) / 2,
                          male_at=(moved[1] + moved[2]) / 2)  # Male flips at grid[2] = 0.75
    result = photos.edit(model, photo, "Smiling", faces=[FACE], strength="auto", judge=judge)
    assert result.faces[0].t == {"Smiling": 0.5}
    judge.male_at = moved[0] / 2  # already at the first step: nothing is safe, t = 0
    result = photos.edit(model, photo, "Smiling", faces=[FACE], strength="auto", judge=judge)
    assert result.faces[0].t == {"Smiling": 0.0} and np.array_equal(result.photo, photo)


def test_auto_caps_t_and_keeps_what_is_already_there(model):
    photo = random_photo(1)
    crop = aligned(model, photo)
    with pytest.raises(ValueError, match="needs a judge"):
        photos.edit(model, photo, "Smiling", faces=[FACE], strength="auto")
    never = DistanceJudge([crop], smile_at=np.inf)
    capped = photos.edit(model, photo, "Smiling", faces=[FACE], strength="auto", judge=never)
    assert capped.faces[0].t == {"Smiling": 2.0}
    already = DistanceJudge([crop], smile_at=-1.0)
    kept = photos.edit(model, photo, "Smiling", faces=[FACE], strength="auto", judge=already)
    assert kept.faces[0].t == {"Smiling": 0.0}


GRID = [0.5, 1.0, 2.0, 3.0, 4.0]


def table(insertion, preservation):
    def measure(t):
        return insertion[GRID.index(t)], preservation[GRID.index(t)]

    return measure


@pytest.mark.parametrize("insertion, preservation, t", [
    ([0.2, 0.5, 0.86, 0.9, 0.95], [0.99, 0.97, 0.93, 0.9, 0.8], 2.0),  # reached at 2
    ([0.2, 0.5, 0.86, 0.9, 0.95], [0.99, 0.95, 0.85, 0.8, 0.7], 1.0),  # floor breaks first
    ([0.1, 0.2, 0.3, 0.4, 0.5], [0.99, 0.98, 0.97, 0.96, 0.95], 4.0),  # never: strongest kept
    ([0.1, 0.2, 0.3, 0.4, 0.5], [0.99, 0.98, 0.97, 0.89, 0.8], 2.0),  # never: last within floor
    ([0.1, 0.2, 0.3, 0.4, 0.5], [0.8, 0.7, 0.6, 0.5, 0.4], 0.5),  # nothing keeps it: weakest
])
def test_the_calibration_rule(insertion, preservation, t):
    assert _choose(GRID, table(insertion, preservation), 0.85, 0.9) == t


def test_calibrate_photos_stores_t_and_how_it_was_fitted(model, tmp_path):
    pixels = [random_photo(seed) for seed in range(6)]
    faces = [FACE] * 6
    crops = np.stack([photos.align(p, FACE, model.face_template, 16)[0] for p in pixels])
    # Smiling appears once a face moves as far as the median face does at t = 1.
    moved = [distances(model, aligned(model, p), [1.0])[0] for p in pixels]
    judge = DistanceJudge(crops, smile_at=float(np.median(moved)) * 0.999)
    fitted = photos.calibrate_photos(model, judge, pixels, faces, grid=GRID, min_faces=3,
                                     source="six random photos", verbose=0)
    info = fitted["Smiling"]
    assert info["t"] in GRID and info["t_fitted"]["faces"] == 6
    assert info["t_fitted"]["preserve"] == ["Male"] and info["t_fitted"]["source"] == \
        "six random photos"
    assert info["t_reached"] == (info["t_success"] >= 0.85 and info["t_preservation"] >= 0.9)
    model.save(tmp_path / "m.keras")
    assert LatentAttributeModel.from_preset(tmp_path / "m.keras").attribute_info("Smiling")["t"] == info["t"]
    too_few = photos.calibrate_photos(model, judge, pixels, faces, grid=GRID, min_faces=7,
                                      verbose=0)
    assert too_few == {"Smiling": None}


def test_fit_photo_defaults_lets_only_the_calibrated_strength_change(model):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import fit_photo_defaults

    vector = model.attribute_vector("Smiling")
    other = tiny_model()
    other.set_weights(model.get_weights())
    other.set_attribute_vector("Smiling", vector, t=3.5, t_reached=False, t_fitted={"faces": 9})
    assert fit_photo_defaults.same_behaviour(model, other)
    other.set_attribute_vector("Smiling", vector, t=1.0, n_with=5)
    assert not fit_photo_defaults.same_behaviour(model, other)


def test_step_distance_moves_every_face_to_the_same_distance(model):
    mean = -model.attribute_vector("Smiling")  # the faces sit about 1 past the mean code
    model.code_distribution = (mean, np.eye(model.latent_dim))
    pair = [random_photo(1), random_photo(2)]
    codes = np.asarray(model.encode(np.stack([aligned(model, p) for p in pair])), np.float32)
    where = strength.signed_distances(model, codes, "Smiling")
    assert abs(where[0] - where[1]) > 1e-3, "the test needs faces at different distances"
    target = float(where.max()) + 0.5
    results = photos.edit_many(model, pair, "Smiling", faces=[FACE], strength=target,
                               step="distance")
    t = [r.faces[0].t["Smiling"] for r in results]
    np.testing.assert_allclose(t, target - where, rtol=1e-5)
    moved = strength.signed_distances(model, codes + np.array(t)[:, None]
                                      * model.attribute_vector("Smiling"), "Smiling")
    np.testing.assert_allclose(moved, target, rtol=1e-4)  # both faces end where asked
    for result, photo, one_t in zip(results, pair, t):
        alone = photos.edit(model, photo, "Smiling", faces=[FACE], strength=one_t)
        assert np.abs(result.photo.astype(int) - alone.photo).max() <= 1
    assert where[0] > 0.9
    behind = photos.edit(model, pair[0], "Smiling", faces=[FACE], strength=0.5, step="distance")
    assert behind.faces[0].t == {"Smiling": 0.0} and np.array_equal(behind.photo, pair[0])


def test_step_distance_defaults_to_the_calibrated_distance_else_the_calibrated_t(model):
    model.code_distribution = (np.zeros(model.latent_dim, np.float32), np.eye(model.latent_dim))
    assert strength.calibrated_strength(model, "Smiling", "distance") == 1.0  # t = 1.0
    pixels = [random_photo(seed) for seed in range(6)]
    crops = np.stack([photos.align(p, FACE, model.face_template, 16)[0] for p in pixels])
    moved = [distances(model, aligned(model, p), [1.0])[0] for p in pixels]
    judge = DistanceJudge(crops, smile_at=float(np.median(moved)) * 0.999)
    fitted = photos.calibrate_photos(model, judge, pixels, [FACE] * 6, grid=GRID, min_faces=3,
                                     verbose=0, step="distance")
    info = fitted["Smiling"]
    assert info["distance"] in GRID and info["distance_fitted"]["faces"] == 6 and "t" not in info
    assert model.attribute_info("Smiling")["t"] == 1.0  # t is left as it was
    assert strength.calibrated_strength(model, "Smiling", "distance") == info["distance"]
    code = np.asarray(model.encode(crops[:1]), np.float32)
    expected = max(info["distance"] - strength.signed_distances(model, code, "Smiling")[0], 0)
    _, kept = model.bound_edit(code, model.edit_offsets({"Smiling": expected}, 1))
    expected *= kept[0]  # the t recorded is the t applied, within the model's edit bound
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bound's warning, when it shortens the edit
        result = photos.edit(model, pixels[0], "Smiling", faces=[FACE], step="distance")
    assert result.faces[0].t["Smiling"] == pytest.approx(expected, rel=1e-5)


def test_step_distance_is_refused_where_it_cannot_work(model):
    with pytest.raises(ValueError, match="lacks: fit its vectors"):
        photos.edit(model, random_photo(1), "Smiling", faces=[FACE], step="distance")
    with pytest.raises(ValueError, match="Unknown step 'far'"):
        photos.edit(model, random_photo(1), "Smiling", faces=[FACE], step="far")
    with pytest.raises(ValueError, match="use it with step='add'"):
        photos.edit(model, random_photo(1), "Smiling", faces=[FACE], strength="auto",
                    step="distance")
