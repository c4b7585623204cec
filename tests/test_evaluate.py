import json

import numpy as np
import pytest
import tensorflow as tf
from helpers import SIZE, labelled_dataset, random_images, tiny_model

from dfl_keras import evaluate

# Brightness levels 0.01, 0.03, ..., 0.99: none sits on a threshold used below.
LEVELS = (np.arange(50) + 0.5) / 50


class BrightnessModel:
    """A 1-d "autoencoder": the code is the mean brightness, decoding paints a flat image."""

    image_size, latent_dim = SIZE, 1

    def __init__(self, **vectors):
        self.vectors = {name: (np.array([v], np.float32), {}) for name, v in vectors.items()}

    @property
    def attribute_names(self):
        return list(self.vectors)

    def encode(self, images):
        return tf.reduce_mean(images, axis=(1, 2, 3))[:, None]

    def decode(self, codes):
        flat = np.clip(codes, 0, 1)[:, :, None, None]
        return np.broadcast_to(flat, (len(codes), SIZE, SIZE, 3)).copy()

    def attribute_vector(self, name):
        return self.vectors[name][0].copy()

    def attribute_info(self, name):
        return dict(self.vectors[name][1])

    def set_attribute_vector(self, name, vector, **info):
        self.vectors[name] = (np.asarray(vector, np.float32), info)


class BrightnessJudge:
    """Judges "Bright" (mean > 0.5) and "Mid" (mean > 0.3) with certainty."""

    attributes = ["Bright", "Mid"]

    def predict_labels(self, images):
        means = np.asarray(images).mean(axis=(1, 2, 3))
        return np.stack([means > 0.5, means > 0.3], 1)


def flat_images(levels, noise=0.005):
    """Images of the given mean brightness plus a +-noise checkerboard (lost in reconstruction)."""
    checker = np.where(np.add.outer(np.arange(SIZE), np.arange(SIZE)) % 2, noise, -noise)
    images = np.asarray(levels)[:, None, None, None] + checker[None, :, :, None] + np.zeros(3)
    return images.astype(np.float32)


def brightness_data(levels=LEVELS):
    labels = {"Bright": (levels > 0.5).astype(np.int32)}
    return tf.data.Dataset.from_tensor_slices((flat_images(levels), labels))


def test_a_known_edit_scores_exactly():
    model = BrightnessModel(Bright=0.26)
    report = evaluate.edit_report(model, BrightnessJudge(), brightness_data(), verbose=0)
    r, m = report.attributes["Bright"], LEVELS
    without, with_ = m <= 0.5, m > 0.5
    assert r["insertion_tried"] == without.sum() and r["removal_tried"] == with_.sum()
    assert r["insertion_success"] == pytest.approx(np.mean(m[without] + 0.26 > 0.5))
    assert r["removal_success"] == pytest.approx(np.mean(m[with_] - 0.26 <= 0.5))
    # "Mid" flips when the edit crosses 0.3 in either direction.
    mid_flips = np.sum(without & (m <= 0.3) & (m + 0.26 > 0.3)) + np.sum(with_ & (m - 0.26 <= 0.3))
    assert r["changed"] == {"Mid": pytest.approx(mid_flips / 50)}
    assert r["preservation"] == pytest.approx(1 - mid_flips / 50)
    assert r["t"] == 1.0 and r["latent_distance"] == pytest.approx(0.26)
    assert r["pixel_change"] == pytest.approx(0.26)
    assert r["pixel_change_outside"] == pytest.approx(0.26)
    assert r["auc"] == 1.0 and r["judge_accuracy"] == 1.0  # brightness orders the labels perfectly
    s = report.summary
    assert s["images"] == 50 and s["psnr"] == pytest.approx(-10 * np.log10(0.005**2), abs=0.01)
    assert s["mean_insertion_success"] == r["insertion_success"]
    assert s["mean_preservation"] == r["preservation"]
    json.dumps(report.as_dict())
    table = str(report)
    assert "Bright" in table and "Mid" in table and f"{100 * r['insertion_success']:.1f}%" in table


def test_an_edit_that_changes_nothing_scores_zero_success_and_full_preservation():
    model = tiny_model()
    images, labels, ds = labelled_dataset(32)
    model.set_attribute_vector("A", np.zeros(8))
    judge = BrightnessJudge()
    judge.attributes = ["A", "Mid"]  # "A" is judged as brightness > 0.5
    report = evaluate.edit_report(model, judge, ds.batch(8), ["A"], t=3.0, verbose=0)
    r = report.attributes["A"]
    assert r["insertion_tried"] + r["removal_tried"] == 32
    assert [s for s in (r["insertion_success"], r["removal_success"]) if s is not None] != []
    assert all(s == 0.0 for s in (r["insertion_success"], r["removal_success"]) if s is not None)
    assert r["preservation"] == 1.0 and r["changed"] == {"Mid": 0.0}
    assert r["pixel_change"] == 0.0 and r["latent_distance"] == 0.0
    assert r["auc"] == 0.5  # a zero vector scores every face the same
    quality = evaluate.reconstruction_quality(model, images)
    assert report.summary["psnr"] == pytest.approx(quality["psnr"], rel=1e-4)
    assert report.summary["ssim"] == pytest.approx(quality["ssim"], rel=1e-4)


def test_t_comes_from_the_argument_then_the_stored_calibration_then_one():
    model = BrightnessModel(Bright=0.1, Mid=0.1)
    model.set_attribute_vector("Mid", [0.1], t=2.0)
    data = brightness_data()
    assert {n: r["t"] for n, r in evaluate.edit_report(model, BrightnessJudge(), data, verbose=0)
            .attributes.items()} == {"Bright": 1.0, "Mid": 2.0}
    report = evaluate.edit_report(model, BrightnessJudge(), data, t={"Bright": 3.0}, verbose=0)
    assert report.attributes["Bright"]["t"] == 3.0 and report.attributes["Mid"]["t"] == 2.0
    model.set_attribute_vector("Mid", [0.1], t=2.0, t_reached=False)
    rows = evaluate.edit_report(model, BrightnessJudge(), data, verbose=0).attributes
    assert rows["Mid"]["t_reached"] is False and rows["Bright"]["t_reached"] is None
    report = evaluate.edit_report(model, BrightnessJudge(), data, t=0.5, preserve=["Bright"],
                                  verbose=0)
    assert report.attributes["Mid"]["t"] == 0.5
    assert set(report.attributes["Mid"]["changed"]) == {"Bright"}
    assert report.attributes["Bright"]["preservation"] is None  # nothing else to preserve


def test_unlabelled_data_gives_no_auc():
    images = tf.data.Dataset.from_tensor_slices(flat_images(LEVELS))
    report = evaluate.edit_report(BrightnessModel(Bright=0.3), BrightnessJudge(), images, verbose=0)
    r = report.attributes["Bright"]
    assert r["auc"] is None and r["judge_accuracy"] is None and "-" in report.table()


def test_an_attribute_the_judge_does_not_know_is_named():
    with pytest.raises(ValueError, match="cannot judge \\['Bald'\\]"):
        evaluate.edit_report(BrightnessModel(Bald=0.3), BrightnessJudge(), brightness_data(),
                             ["Bald"], verbose=0)


class CountingJudge(BrightnessJudge):
    calls = 0

    def predict_labels(self, images):
        self.calls += 1
        return super().predict_labels(images)


@pytest.mark.parametrize("target", [0.3, 0.55, 0.75])
def test_calibrate_picks_the_smallest_t_meeting_the_target(target):
    model, grid = BrightnessModel(Bright=0.1), [5.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    without = LEVELS[LEVELS <= 0.5]
    success = {t: np.mean(without + 0.1 * t > 0.5) for t in grid}
    expected = min(t for t in grid if success[t] >= target)
    assert expected not in (min(grid), max(grid))  # the case is not trivial
    judge = CountingJudge()
    chosen = evaluate.calibrate(model, judge, brightness_data(), ["Bright"], target, grid,
                                verbose=0)
    assert chosen == {"Bright": expected}
    assert judge.calls <= 1 + 1 + 4  # reconstructions, the largest t, then bisecting 9 values
    info = model.attribute_info("Bright")
    assert info["t"] == expected and info["t_reached"]
    assert info["t_success"] == pytest.approx(success[expected])


@pytest.mark.parametrize("vector,grid,expected", [
    (0.1, [0.5, 1.0], 1.0),  # success grows with t
    (0.0, [0.5, 1.0, 2.0], 2.0),  # a plateau at 0: the strongest edit tried
])
def test_calibrate_takes_the_best_t_when_the_target_is_out_of_reach(vector, grid, expected):
    model = BrightnessModel(Bright=vector)
    chosen = evaluate.calibrate(model, BrightnessJudge(), brightness_data(), ["Bright"], 0.99, grid,
                                verbose=0)
    assert chosen == {"Bright": expected} and not model.attribute_info("Bright")["t_reached"]


def test_calibrated_t_is_what_insert_uses():
    model = tiny_model()
    _, _, ds = labelled_dataset(32)
    model.fit_attribute_vectors(ds, ["A"], verbose=0)
    judge = BrightnessJudge()
    judge.attributes = ["A", "Mid"]
    chosen = evaluate.calibrate(model, judge, ds, ["A"], target=0.0, t_grid=[0.75, 2.0], verbose=0)
    assert chosen == {"A": 0.75}
    assert model.attribute_info("A")["n_with"] == 16  # the fitting facts are kept
    images = random_images(3)
    np.testing.assert_allclose(model.insert(images, "A"), model.insert(images, "A", t=0.75))


def test_judge_is_exposed_in_evaluate():
    from dfl_keras import judge

    assert evaluate.AttributeJudge is judge.AttributeJudge
    assert evaluate.load_judge is judge.load_judge


def test_frechet_distance_matches_the_closed_form_for_known_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 3))
    b = 2 * rng.normal(size=(20000, 3)) + [1.0, 0.0, 0.0]
    # ||mu_a - mu_b||^2 + tr(I + 4I - 2 * 2I) = 1 + 3
    assert evaluate.frechet_distance(a, b) == pytest.approx(4.0, rel=0.03)
    assert evaluate.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_names_mismatched_features():
    with pytest.raises(ValueError, match="Received: shapes"):
        evaluate.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_judge_features_are_the_input_of_the_read_out():
    judge = evaluate.AttributeJudge(attributes=["Smiling", "Male"], image_size=16, filters=(4, 8))
    images = random_images(3)
    features = evaluate.judge_features(judge, images)
    dense = judge.network.layers[-1]
    logits = features @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(logits, judge(images).numpy(), atol=1e-5)
