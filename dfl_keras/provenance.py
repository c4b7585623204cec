"""Provenance: every image dfl_keras writes says that it is synthetic, which model made it, and how.

The fields are plain text, name -> value. PNG files carry them as PNG text
chunks (the standard keywords Software, Description, Source plus Model and
Edits), GIF files as one comment extension of ``Name: value`` lines.
``read_provenance`` reads either back. The marks are metadata: they survive
copying the file, not a screenshot or re-encoding, which is why a visible
watermark is available too (``--watermark``).
"""

import hashlib
from pathlib import Path

from PIL import Image

from dfl_keras import __version__

DESCRIPTION = (
    "Synthetic image made by dfl_keras (DeepFakeLab attribute-vector face editing). "
    "Not a real photograph; do not present it as one."
)


def provenance(model=None, edits=None, source=None, faces=None):
    """The provenance fields of an image.

    Args:
        model: what made it, e.g. ``model_label(path)``.
        edits: a dict {attribute: t} (written ``Bald=+1.20, Smiling=+0.80``) or text.
        source: the photo it was made from, if any.
        faces: the faces edited in it (photos.FaceEdit: box and t), written by format_faces.
    """
    info = {"Software": f"dfl_keras {__version__}", "Description": DESCRIPTION}
    if model:
        info["Model"] = str(model)
    if edits:
        info["Edits"] = edits if isinstance(edits, str) else format_edits(edits)
    if source:
        info["Source"] = str(source)
    if faces:
        info["Faces"] = format_faces(faces)
    return info


def format_edits(edits):
    """{"Bald": 1.2, "Smiling": 0.8} -> "Bald=+1.20, Smiling=+0.80"."""
    return ", ".join(f"{name}={float(t):+.2f}" for name, t in edits.items())


def format_faces(faces):
    """Each edited face's box (photo pixels) and t: "1: box 10,12,80,95 Bald=+1.20; 2: ...".

    Example:
        >>> from types import SimpleNamespace as Face
        >>> format_faces([Face(box=(10.2, 12, 80, 95.4), t={"Bald": 1.2})])
        '1: box 10,12,80,95 Bald=+1.20'
    """
    return "; ".join(f"{number}: box {','.join(str(round(v)) for v in face.box)} "
                     f"{format_edits(face.t)}" for number, face in enumerate(faces, 1))


def model_label(path):
    """A model file's name and the start of its SHA-256, which tells apart two files of one name."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"{Path(path).name} (sha256 {digest.hexdigest()[:12]})"


def gif_comment(info):
    """The GIF comment holding the fields, one ``Name: value`` line each."""
    return "\n".join(f"{name}: {' '.join(str(value).split())}" for name, value in info.items())


def written_by_dfl_keras(path):
    """Whether the image file at `path` carries dfl_keras's provenance (False for any other file).

    Example:
        >>> written_by_dfl_keras(__file__)
        False
    """
    try:
        software = read_provenance(path).get("Software", "")
    except (OSError, ValueError, SyntaxError):  # not an image PIL can open, or not PNG/GIF
        return False
    return software.startswith("dfl_keras")


def read_provenance(path):
    """The provenance fields of a PNG or GIF written by dfl_keras ({} when it has none)."""
    with Image.open(path) as image:
        if image.format == "PNG":
            return dict(image.text)
        if image.format == "GIF":
            comment = image.info.get("comment", b"").decode("utf-8", "replace")
            return dict(line.split(": ", 1) for line in comment.splitlines() if ": " in line)
    raise ValueError(f"{path} is a {image.format} file: dfl_keras writes provenance into PNG "
                     "and GIF files only")
