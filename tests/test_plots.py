"""The figures show what the model computes, labelled, and save with their provenance."""

import numpy as np
import pytest
from helpers import labelled_dataset, random_images, tiny_model
from PIL import Image

from dfl_keras import plots
from dfl_keras.provenance import provenance, read_provenance


@pytest.fixture(scope="module")
def model():
    model = tiny_model()
    model.fit(random_images(32), epochs=1, batch_size=8, verbose=0)
    model.fit_attribute_vectors(labelled_dataset(32)[2], ["A", "B"], verbose=0)
    return model


def shown(ax):
    return ax.images[0].get_array()


def test_t_sweep_grid_has_a_row_per_face_and_combo_and_a_column_per_t(model):
    faces = random_images(2, seed=5)
    figure = plots.t_sweep_grid(model, faces, ["A", ("A", "B")], t_values=(0.5, 1.5),
                                face_labels=["x", "y"])
    axes = np.reshape(figure.axes, (4, 3))
    assert [ax.get_title() for ax in axes[0]] == ["input", "t=0.5", "t=1.5"]
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["x\nA", "x\nA, B", "y\nA", "y\nA, B"]
    np.testing.assert_allclose(shown(axes[2, 0]), faces[1])
    # Row "y: A, B" at t=1.5 shows the face with both vectors added at 1.5, and nothing else.
    expected = model.insert(faces[1], {"A": 1.5, "B": 1.5})
    np.testing.assert_allclose(shown(axes[3, 2]), expected, atol=1e-5)
    expected = model.insert(faces[1], {"A": 0.5, "B": 0.0})
    np.testing.assert_allclose(shown(axes[2, 1]), expected, atol=1e-5)


def test_transition_strip_labels_each_frame_by_its_place_on_the_path(model):
    frames = model.interpolate(random_images(1)[0], random_images(1, seed=1)[0], steps=5)
    figure = plots.transition_strip(frames, title="a to b")
    assert [ax.get_title() for ax in figure.axes] == ["0.00", "0.25", "0.50", "0.75", "1.00"]
    np.testing.assert_allclose(shown(figure.axes[-1]), frames[-1])


def test_reconstruction_comparison_titles_each_pair_with_its_psnr(model):
    images = random_images(3, seed=2)
    figure = plots.reconstruction_comparison(model, images, labels=["a", "b", "c"])
    top, bottom = figure.axes[:3], figure.axes[3:]
    reconstruction = np.asarray(model.reconstruct(images[1]))
    psnr = 10 * np.log10(1 / np.mean((images[1] - reconstruction) ** 2))
    assert top[1].get_title() == f"b\n{psnr:.1f} dB"
    np.testing.assert_allclose(shown(bottom[1]), reconstruction, atol=1e-6)


def test_pca_finds_the_direction_of_largest_variance(rng):
    codes = rng.normal(size=(500, 6)) * [1, 10, 1, 1, 0.5, 1] + 3
    points, names = plots.project_2d(codes)
    assert abs(np.corrcoef(points[:, 0], codes[:, 1])[0, 1]) > 0.99
    assert names[0].startswith("PC1 (") and points[:, 0].var() > points[:, 1].var()


def test_tsne_and_bad_methods(rng):
    pytest.importorskip("sklearn")
    points, names = plots.project_2d(rng.normal(size=(40, 5)), "tsne")
    assert points.shape == (40, 2) and np.isfinite(points).all() and names == ["t-SNE 1", "t-SNE 2"]
    with pytest.raises(ValueError, match="'pca' or 'tsne'"):
        plots.project_2d(rng.normal(size=(40, 5)), "umap")


def test_latent_map_colours_points_by_the_attribute(rng):
    figure = plots.latent_map(rng.normal(size=(30, 4)), np.arange(30) % 3 == 0, "Male")
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == ["not Male (20)", "Male (10)"]
    assert sum(len(c.get_offsets()) for c in figure.axes[0].collections) == 30


def test_save_figure_writes_provenance_and_an_optional_visible_mark(model, tmp_path):
    figure = plots.transition_strip(random_images(3))
    info = provenance("tiny.keras", {"A": 1.0})
    plain = plots.save_figure(figure, tmp_path / "plain.png", info)
    marked = plots.save_figure(figure, tmp_path / "marked.png", info, mark=True)
    assert read_provenance(plain)["Edits"] == "A=+1.00"
    assert read_provenance(marked) == read_provenance(plain)
    assert not figure.texts  # the mark is drawn into the file only
    changed = np.any(np.asarray(Image.open(plain)) != np.asarray(Image.open(marked)), axis=-1)
    rows, cols = np.nonzero(changed)
    height, width = changed.shape
    assert len(rows) and rows.min() > 0.8 * height and cols.min() > 0.5 * width  # lower right
    with pytest.raises(ValueError, match=r"\.png"):
        plots.save_figure(figure, tmp_path / "figure.jpg", info)
