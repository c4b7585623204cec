"""A model's face template: where the 5 landmarks sit in its training images, in unit coordinates.

It is stored on the model (``model.face_template``) and saved in its .keras
file, so a model trained on any framing carries its own.
"""

import numpy as np
from keras.utils import Progbar

from dfl_keras.images_io import read_photo
from dfl_keras.photos.faces import find_faces

# The detector's median landmarks on CelebA-HQ (shared/DESIGN.md 5b, 128 px), divided by 128;
# for examples and as a starting point, not a substitute for fitting a model's own.
CELEBA_HQ_TEMPLATE = np.array(
    [[48.2, 60.8], [79.7, 60.9], [63.8, 80.7], [49.8, 93.0], [78.0, 92.8]]) / 128


def fit_template(model, images, store=True, verbose=1):
    """Measure the template on training images: the median of the detector's unit landmarks.

    Args:
        model: a LatentAttributeModel (the template is stored on it when `store`).
        images: an iterable of photos (uint8 (H, W, 3) or paths) framed like the
            model's training data, at any resolution (more pixels, sharper landmarks).
        store: set ``model.face_template``.

    Returns:
        (template (5, 2) float32, number of images in which a face was found).

    Example:
        >>> from pathlib import Path
        >>> photos = sorted(Path("../shared/data/celeba_hq_128/images").glob("1??.jpg"))
        >>> template, found = fit_template(model, photos)  # doctest: +SKIP
    """
    points = []
    progress = Progbar(len(images) if hasattr(images, "__len__") else None, verbose=verbose,
                       unit_name="image")
    for count, image in enumerate(images, 1):
        image = read_photo(image)
        found = find_faces(image, min_size=image.shape[0] // 4)
        if found:
            points.append(found[0].landmarks / [image.shape[1], image.shape[0]])
        progress.update(count)
    if not points:
        raise ValueError("No face was found in any of the images: cannot fit a face template.")
    template = np.median(np.stack(points), 0).astype(np.float32)
    if store:
        model.face_template = template
    return template, len(points)


def template_of(model):
    """The model's stored template, or a ValueError saying how to fit one."""
    template = getattr(model, "face_template", None)
    if template is None:
        raise ValueError(
            "This model has no face template, so faces in photos cannot be aligned to its framing. "
            "Fit one: dfl_keras.photos.fit_template(model, training_images), or "
            "python scripts/fit_photo_defaults.py --model FILE.keras --data FOLDER")
    return np.asarray(template, np.float64)
