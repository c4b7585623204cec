"""Any folder of images, with or without a CSV of binary attributes."""

from pathlib import Path

from .files import list_images, present_rows
from .labels import read_attributes
from .pipeline import image_dataset


def image_folder(root, attributes=None, *, image_size=64, crop="center", skip_bad=False, **options):
    """Images read from a folder (JPEG, PNG, BMP, GIF), with attributes from a CSV.

    Args:
        root: the folder directly holding the images.
        attributes: None for images only (enough to train the autoencoder), or
            the path of a CSV whose header is the file-name column then the
            attribute names, and whose rows are `<file name>,v1,...` with values
            0/1 or -1/1.
        image_size: side of the square images.
        crop: "center" or "celeba", as in `image_dataset`.
        skip_bad: skip missing, unlabelled or damaged images (logged and counted)
            instead of raising a DataError that names them.
        **options: `batch_size`, `shuffle`, `seed`, `cache`, `take`, `deterministic`,
            `drop_remainder`, as in `image_dataset`.

    Returns:
        A tf.data.Dataset of images, or of `(image, {name: int32 0/1})` with a CSV,
        in the CSV's row order (file-name order without one).
    """
    root = Path(root)
    options.update(image_size=image_size, crop=crop, skip_bad=skip_bad)
    if attributes is None:
        return image_dataset([root / name for name in list_images(root)], **options)
    labels = read_attributes(attributes)
    labels = labels.subset(present_rows(root, labels, skip_bad))
    return image_dataset([root / name for name in labels.files], labels.columns(), **options)
