import numpy as np
import pytest
from helpers import labelled_dataset, tiny_model

from dfl_keras import directions

D = 6


def centroid_gap(codes, labels):
    return codes[labels == 1].mean(0) - codes[labels == 0].mean(0)


def correlated_codes(rng, n=20000):
    """Label A moves codes along e0, condition M along e1; P(A=1) is 0.8 if M=1, 0.2 if M=0."""
    m = rng.random(n) < 0.5
    a = rng.random(n) < np.where(m, 0.8, 0.2)
    codes = rng.normal(size=(n, D)) * 0.3
    codes[:, 0] += a
    codes[:, 1] += 2.0 * m
    return codes, np.stack([a, m], 1).astype(np.int32)


def test_centroid_is_the_mean_difference(rng):
    codes, labels = rng.normal(size=(100, D)), rng.integers(0, 2, (100, 1))
    vector, info = directions.direction_from_codes([(codes, labels)], "centroid", ["A"])
    np.testing.assert_allclose(vector, centroid_gap(codes, labels[:, 0]), rtol=1e-5, atol=1e-6)
    assert info == {"method": "centroid", "conditions": [],
                    "n_with": labels.sum(), "n_without": 100 - labels.sum()}


def test_balanced_equals_centroid_when_attributes_are_independent(rng):
    n = 400  # every (A, B) cell holds exactly n / 4 codes: A and B are independent
    labels = np.stack([np.arange(n) % 2, (np.arange(n) // 2) % 2], 1)
    codes = rng.normal(size=(n, D))
    balanced, info = directions.direction_from_codes([(codes, labels)], "balanced", ["A", "B"])
    np.testing.assert_allclose(balanced, centroid_gap(codes, labels[:, 0]), rtol=1e-5, atol=1e-6)
    assert info["cells_used"] == 2


def test_balanced_removes_a_planted_correlation(rng):
    codes, labels = correlated_codes(rng)
    centroid = centroid_gap(codes, labels[:, 0])
    balanced, _ = directions.direction_from_codes([(codes, labels)], "balanced", ["A", "M"])
    assert centroid[1] > 1.0  # the centroid drags M along: 2 * (0.8 - 0.2)
    assert abs(balanced[1]) < 0.05
    assert balanced[0] == pytest.approx(1.0, abs=0.05)


def test_balanced_skips_cells_without_both_classes():
    codes = np.array([[0.0], [2.0], [10.0], [10.0]])
    labels = np.array([[0, 0], [1, 0], [1, 1], [1, 1]])  # the M=1 cell has no A=0 code
    vector, info = directions.direction_from_codes([(codes, labels)], "balanced", ["A", "M"])
    assert vector == pytest.approx([2.0]) and info["cells_used"] == 1


def test_conditional_is_orthogonal_to_every_condition(rng):
    n = 3000
    labels = rng.integers(0, 2, (n, 3))
    codes = rng.normal(size=(n, D)) + labels @ rng.normal(size=(3, D))
    vector, _ = directions.direction_from_codes([(codes, labels)], "conditional", ["A", "B", "C"])
    conditions = np.stack([centroid_gap(codes, labels[:, j]) for j in (1, 2)])
    np.testing.assert_allclose(conditions @ vector, 0.0, atol=1e-5)  # float32 output
    # What was removed lies in the span of the conditions.
    removed = centroid_gap(codes, labels[:, 0]) - vector
    residual = removed - conditions.T @ np.linalg.lstsq(conditions.T, removed, rcond=None)[0]
    np.testing.assert_allclose(residual, 0.0, atol=1e-5)


def test_conditional_copes_with_parallel_conditions():
    parallel = [[0.0, 2.0, 0.0], [0.0, 4.0, 0.0]]
    vector = directions.conditional_direction(np.array([1.0, 1.0, 0.0]), parallel)
    np.testing.assert_allclose(vector, [1.0, 0.0, 0.0], atol=1e-12)


def test_linear_finds_the_discriminant_and_keeps_the_centroid_gap(rng):
    """Classes differ along (1, 1), but e1 is drowned in noise: the best separator is along e0."""
    n = 20000
    labels = rng.integers(0, 2, n)
    codes = rng.normal(size=(n, 2)) * [0.5, 5.0] + labels[:, None] * [1.0, 1.0]
    gap = centroid_gap(codes, labels)
    sharp = directions.linear_direction(codes, labels, l2=1e-5)
    assert abs(sharp[1]) / np.linalg.norm(sharp) < 0.05
    # The projection gap along the normal equals the centroid gap's.
    np.testing.assert_allclose(sharp @ sharp, gap @ sharp, rtol=1e-6)
    # A strong penalty turns the normal towards the centroid direction.
    smooth = directions.linear_direction(codes, labels, l2=100.0)
    assert smooth @ gap / np.linalg.norm(smooth) / np.linalg.norm(gap) > 0.999
    default, _ = directions.direction_from_codes([(codes, labels[:, None])], "linear", ["A"])
    np.testing.assert_allclose(default, directions.linear_direction(codes, labels), rtol=1e-6)


def test_linear_ignores_the_code_scale(rng):
    codes, labels = correlated_codes(rng, 2000)
    np.testing.assert_allclose(directions.linear_direction(100 * codes, labels[:, 0]),
                               100 * directions.linear_direction(codes, labels[:, 0]), rtol=1e-6)


def test_streaming_batches_give_the_same_directions(rng):
    codes, labels = correlated_codes(rng, 500)
    for method in ("balanced", "conditional", "linear"):
        conditions = [] if method == "linear" else ["M"]
        names, columns = ["A", *conditions], labels[:, : 1 + len(conditions)]
        whole, _ = directions.direction_from_codes([(codes, columns)], method, names)
        parts = [(codes[i:i + 64], columns[i:i + 64]) for i in range(0, 500, 64)]
        streamed, _ = directions.direction_from_codes(parts, method, names)
        np.testing.assert_allclose(streamed, whole, rtol=1e-5)


@pytest.mark.parametrize("method,conditions", [("centroid", []), ("balanced", ["B"]),
                                               ("conditional", ["B"]), ("linear", [])])
def test_fit_direction_on_a_model(method, conditions):
    model = tiny_model()
    images, labels, ds = labelled_dataset(64)
    vector, info = directions.fit_direction(model, ds, "A", method, conditions, verbose=0)
    assert vector.shape == (8,) and vector.dtype == np.float32 and np.isfinite(vector).all()
    assert info["method"] == method and info["conditions"] == conditions
    model.set_attribute_vector("A", vector, **info)  # the info is storable as is
    if method == "centroid":
        codes = model.encode(images)
        np.testing.assert_allclose(vector, centroid_gap(codes, labels["A"]), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method,conditions,message", [
    ("nearest", [], "Unknown method"),
    ("balanced", [], "needs conditions"),
    ("linear", ["B"], "takes no conditions"),
    ("balanced", [str(i) for i in range(11)], "at most 10"),
])
def test_bad_method_or_conditions_fail_before_encoding(method, conditions, message):
    with pytest.raises(ValueError, match=message):
        directions.fit_direction(None, None, "A", method, conditions)


def test_a_condition_with_one_class_is_named(rng):
    codes, labels = rng.normal(size=(10, D)), np.stack([np.arange(10) % 2, np.zeros(10, int)], 1)
    with pytest.raises(ValueError, match="'M' has only one class"):
        directions.direction_from_codes([(codes, labels)], "conditional", ["A", "M"])
