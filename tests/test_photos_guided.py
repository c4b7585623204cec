"""The guided upsampling of a decoded change (photos.guided) and photos.edit's guide option."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import tiny_model

from dfl_keras import photos
from dfl_keras.photos.guided import box_mean, guided_upsample

FACE = photos.Face.from_landmarks(photos.CELEBA_HQ_TEMPLATE * 96 + [40.0, 30.0])


def edge_guide(side, at):
    """A grey guide (side, side, 3): dark left of column `at`, light from it on, a little noise."""
    guide = np.full((side, side, 3), 0.2, np.float32)
    guide[:, at:] = 0.8
    return guide + np.random.default_rng(0).normal(0, 0.01, guide.shape).astype(np.float32)


def test_box_mean_is_the_mean_over_each_window_inside_the_image():
    image = np.random.default_rng(1).random((9, 7, 2)).astype(np.float32)
    means = box_mean(image, 2)
    assert np.allclose(means[4, 3], image[2:7, 1:6].mean((0, 1)), atol=1e-6)
    assert np.allclose(means[0, 0], image[:3, :3].mean((0, 1)), atol=1e-6)  # cut by the corner


def test_a_change_that_spills_across_an_edge_steps_at_the_fine_edge():
    """A change decoded as a blurred step on the guide's edge (half of it spilled one coarse
    pixel onto the dark side) comes back as a sharp step at the fine guide's edge. What
    spilled is not removed, only spread thinner over the dark side: the guide sharpens
    an edge the change already has, it cannot tell a spill from an edit."""
    coarse, fine = edge_guide(16, 8), edge_guide(64, 32)
    change = np.zeros((16, 16, 3), np.float32)
    change[:, 7], change[:, 8:] = 0.15, 0.3
    guided = guided_upsample(change, coarse, fine)[32, :, 0]
    smooth = tf.image.resize(change, (64, 64), method="bicubic", antialias=True).numpy()[32, :, 0]
    assert guided[32] - guided[31] > 0.15 > smooth[32] - smooth[31]  # measured 0.18, 0.04
    assert guided[28:32].sum() < 0.6 * smooth[28:32].sum()  # next to the edge: 0.29, 0.60
    spill = [np.abs(row[:32]).sum() for row in (guided, smooth)]
    assert spill[0] < 1.1 * spill[1], spill  # in all: 0.64, 0.68
    assert abs(guided[32:40].mean() - 0.3) < 0.02


@pytest.mark.parametrize("value", [0.0, 0.25])
def test_a_flat_change_comes_back_flat_and_no_change_as_exactly_none(value):
    out = guided_upsample(np.full((16, 16, 3), value, np.float32), edge_guide(16, 5),
                          edge_guide(40, 12))
    assert out.shape == (40, 40, 3)
    if value == 0:
        assert not out.any()
    else:
        np.testing.assert_allclose(out, value, atol=1e-4)


def test_edit_with_the_guide_returns_the_photo_at_t_zero_and_changes_only_the_face():
    model = tiny_model()
    model.face_template = photos.CELEBA_HQ_TEMPLATE.astype(np.float32)
    model.set_attribute_vector("A", np.random.default_rng(0).normal(0, 3, model.latent_dim))
    photo = np.random.default_rng(3).integers(0, 256, (180, 200, 3), dtype=np.uint8)
    same = photos.edit(model, photo, "A", faces=[FACE], strength=0.0, guide=True)
    assert np.array_equal(same.photo, photo)
    guided = photos.edit(model, photo, "A", faces=[FACE], strength=3.0, guide=True).photo
    smooth = photos.edit(model, photo, "A", faces=[FACE], strength=3.0).photo
    changed = np.any(guided != photo, -1)
    assert changed.mean() > 0.5 * np.any(smooth != photo, -1).mean() > 0.02
    assert not changed[:, :30].any() and not changed[140:].any()  # outside the frame
    assert not np.array_equal(guided, smooth)
