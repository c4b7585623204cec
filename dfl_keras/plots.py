"""The pictures of the method: t-sweep grids, transitions, latent maps, reconstructions.

Each function returns a matplotlib Figure (a notebook shows it as is) built
without pyplot, so no GUI backend or global figure state is involved; PNG
files are drawn by Agg. ``save_figure`` writes one with its provenance.
"""

import io
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from dfl_keras import images_io, losses

DEFAULT_T = (0.2, 0.5, 0.8, 1.1, 1.4, 1.7)
"""The strengths of DeepFakeLab's figure ("Smiling, Bald, t=0.2 ... 1.7")."""

CELL = 1.1  # inches per image


def t_sweep_grid(model, images, combos, t_values=DEFAULT_T, face_labels=None):
    """DeepFakeLab's grid: a row per face and attribute combination, a column per t.

    Each row shows the input, then psi(phi(x) + t * sum of the combination's vectors)
    for every t, so one can see how far a vector can be pushed before the face breaks.

    Args:
        model: a LatentAttributeModel with the vectors named in `combos`.
        images: (N, S, S, 3) faces in [0, 1].
        combos: attribute combinations, each a name or a tuple of names added together.
        t_values: the strengths, one column each.
        face_labels: a name per face for the row labels ("face 1", ... by default).
    """
    images = np.asarray(images, np.float32)
    combos = [(combo,) if isinstance(combo, str) else tuple(combo) for combo in combos]
    face_labels = face_labels or [f"face {i + 1}" for i in range(len(images))]
    t_values = np.asarray(t_values, np.float32)
    rows = [(i, combo) for i in range(len(images)) for combo in combos]
    # One batch for the whole grid: a t per image for every name, 0 where a row does not use it.
    names = list(dict.fromkeys(name for combo in combos for name in combo))
    strengths = {name: np.concatenate([t_values * (name in combo) for _, combo in rows])
                 for name in names}
    inputs = images[[i for i, _ in rows]]
    edited = np.asarray(model.insert(np.repeat(inputs, len(t_values), axis=0), strengths))
    edited = edited.reshape(len(rows), len(t_values), *images.shape[1:])
    cells = np.concatenate([inputs[:, None], edited], axis=1)
    return image_grid(
        cells,
        row_labels=[f"{face_labels[i]}\n{', '.join(combo)}" for i, combo in rows],
        column_labels=["input", *(f"t={t:g}" for t in t_values)],
    )


def transition_strip(frames, title=None):
    """The frames of a transition side by side, labelled by how far along the path each is."""
    frames = np.asarray(frames, np.float32)
    steps = np.linspace(0, 1, len(frames))
    return image_grid(frames[None], column_labels=[f"{s:.2f}" for s in steps], title=title)


def reconstruction_comparison(model, images, labels=None):
    """Inputs above their reconstructions psi(phi(x)), each titled with its PSNR."""
    images = np.asarray(images, np.float32)
    reconstructions = np.asarray(model.reconstruct(images))
    psnr = np.asarray(losses.psnr(images, reconstructions))
    labels = labels or [""] * len(images)
    return image_grid(
        np.stack([images, reconstructions]),
        row_labels=["input", "reconstruction"],
        column_labels=[f"{label}\n{p:.1f} dB".strip() for label, p in zip(labels, psnr)],
    )


def image_grid(cells, row_labels=None, column_labels=None, title=None, cell_inches=CELL):
    """A figure of images (rows, columns, H, W, 3) in [0, 1], labelled along the left and top.

    ``cell_inches`` sets the width of a cell (100 pixels an inch): a photo shown
    at its own size needs its width / 100.
    """
    cells = np.clip(np.asarray(cells, np.float32), 0, 1)
    n_rows, n_cols, height, width = cells.shape[:4]
    label_width = 1.3 if row_labels else 0
    figure = Figure(figsize=(n_cols * cell_inches + label_width,
                             n_rows * cell_inches * height / width + 0.4 + 0.3 * bool(title)),
                    layout="constrained")
    axes = figure.subplots(n_rows, n_cols, squeeze=False,
                           gridspec_kw={"wspace": 0.02, "hspace": 0.02})
    for r, c in np.ndindex(n_rows, n_cols):
        ax = axes[r, c]
        ax.imshow(cells[r, c])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.spines[:].set_visible(False)
        if r == 0 and column_labels:
            ax.set_title(column_labels[c], fontsize=9)
        if c == 0 and row_labels:
            ax.set_ylabel(row_labels[r], fontsize=9, rotation=0, ha="right", va="center")
    if title:
        figure.suptitle(title)
    return figure


def project_2d(codes, method="pca", seed=0):
    """Codes (N, d) as 2-D points, and the axis names.

    "pca" is exact and fast (numpy SVD) and its axes mean something: the two
    directions of largest variance. "tsne" (scikit-learn) keeps neighbours
    together, showing clusters PCA can hide, but its axes and distances
    between clusters mean nothing.
    """
    codes = np.asarray(codes, np.float64)
    if len(codes) < 3:
        raise ValueError(f"a latent map needs at least 3 codes, got {len(codes)}")
    if method == "pca":
        centred = codes - codes.mean(0)
        _, singular, directions = np.linalg.svd(centred, full_matrices=False)
        share = singular**2 / np.sum(singular**2)
        names = [f"PC{k + 1} ({share[k]:.0%} of variance)" for k in range(2)]
        return centred @ directions[:2].T, names
    if method == "tsne":
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            raise ImportError("t-SNE needs scikit-learn: pip install scikit-learn, "
                              "or use method='pca'") from None
        perplexity = min(30.0, (len(codes) - 1) / 3)
        points = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)
        return points, ["t-SNE 1", "t-SNE 2"]
    raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")


def latent_map(codes, labels, attribute, method="pca", seed=0):
    """A 2-D map of the codes coloured by a 0/1 attribute: does the latent space separate it?"""
    points, axis_names = project_2d(codes, method, seed)
    labels = np.asarray(labels).astype(bool)
    figure = Figure(figsize=(6, 5.5), layout="constrained")
    ax = figure.subplots()
    for chosen, colour, name in ((~labels, "tab:blue", f"not {attribute}"),
                                 (labels, "tab:orange", attribute)):
        ax.scatter(*points[chosen].T, s=6, alpha=0.6, color=colour, linewidths=0,
                   label=f"{name} ({chosen.sum()})")
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.set_title(f"{len(points)} codes (latent {np.shape(codes)[1]}-d), {method.upper()}, "
                 f"by {attribute}")
    ax.legend(markerscale=3)
    return figure


def save_figure(figure, path, info, mark=False):
    """Write the figure as a PNG carrying `info` (see dfl_keras.provenance); returns the path.

    `mark` adds the visible watermark of every image dfl_keras writes (images_io.watermark).
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"figures are written as PNG (with provenance): name the file .png, "
                         f"not {path.name}")
    rendered = io.BytesIO()
    figure.savefig(rendered, format="png", dpi=100)
    with Image.open(rendered) as image:
        pixels = np.asarray(image.convert("RGB"))
    return images_io.write_png(path, pixels / 255.0, info, mark)
