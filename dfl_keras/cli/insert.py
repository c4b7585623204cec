"""dfl insert: edit the faces in your own photos; each comes back at its own size."""

import sys
import warnings
from pathlib import Path

import numpy as np

from dfl_keras import images_io, photos, provenance
from dfl_keras.cli import common, options, photo_faces
from dfl_keras.cli.errors import one_line
from dfl_keras.errors import check_attributes
from dfl_keras.judge import AttributeJudge
from dfl_keras.photos.edit import DETAILS
from dfl_keras.photos.faces import FaceIndexError
from dfl_keras.photos.strength import STEPS
from dfl_keras.presets import DEFAULT_JUDGE

SUMMARY = "edit the faces in your photos: insert attributes with strengths t"


def add_arguments(parser):
    options.add_model(parser)
    options.add_watermark(parser)
    parser.add_argument("images", nargs="+", metavar="PHOTO", help="photos of any size; every "
                        "face found is aligned, edited and put back, the rest is untouched")
    parser.add_argument("--attr", action="append", type=options.edit, required=True,
                        metavar="NAME[=T]", help="an attribute and its strength (negative "
                        "removes it; without =T the model's calibrated t); repeatable")
    parser.add_argument("--strength", choices=("calibrated", "auto"), default="calibrated",
                        help="t of the attributes given without =T: the calibrated t (default), "
                        "or auto: per face the smallest t at which the judge sees the attribute "
                        "(give no =T with it)")
    parser.add_argument("--step", choices=STEPS, default="add",
                        help="add: every face's code gets t v (default); distance: every face is "
                        "moved to one signed distance along v (=T or the calibrated distance), "
                        "so a face far from the attribute gets more than one near it")
    parser.add_argument("--judge", help=f"the judge of --strength auto (default: {DEFAULT_JUDGE})")
    parser.add_argument("--detail", choices=DETAILS, default="keep",
                        help="keep: add only the change to the photo, so it keeps its own detail "
                        "(default); replace: paste the decoded face; blend: keep, leaning to the "
                        "decoded face where it changes strongly")
    photo_faces.add_face_options(parser)
    parser.add_argument("--show-faces", action="store_true", help="also write NAME.faces.png: "
                        "the photo with the faces found, numbered, boxes and 5 landmarks")
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="folder for the results (default: beside each photo, as NAME.dfl.png)")
    options.add_overwrite(parser)


def run(args):
    paths = [Path(p) for p in args.images]
    check_options(args)
    targets = output_paths(paths, args.output, args.show_faces, args.overwrite)  # before any work
    model, label = common.load_model(args.model)
    check_attributes([name for name, _ in args.attr], model.attribute_names, "the model")
    given = {name: t for name, t in args.attr if t is not None}
    if given:  # t that is not finite or too large is refused before any photo is read
        model.edit_offsets(given, 1)
    if args.no_align:
        return _insert_centre_crops(model, label, paths, targets, args)
    if args.strength == "auto" and args.step != "add":
        raise ValueError("--strength auto chooses t per face itself: drop --step distance")
    if args.strength == "auto" and given:
        raise ValueError(f"--strength auto chooses t per face: drop =T from --attr "
                         f"{', '.join(given)}, or drop --strength auto")
    photos.template_of(model)  # a model that cannot align faces is refused once, not per photo
    judge = (AttributeJudge.from_preset(args.judge or DEFAULT_JUDGE) if args.strength == "auto"
             else None)
    strength = "auto" if judge else given
    names = [name for name, _ in args.attr]
    if not judge:
        print_weak_strengths(model, [name for name in names if name not in given], args.step)

    def edit_one(path, target, faces_target):
        (result,) = photos.edit_many(model, [path], names, args.faces, strength, args.detail,
                                     judge, min_size=photo_faces.DEFAULT_MIN_SIZE, step=args.step)
        if isinstance(result, photos.NoFaceError):
            raise result
        edits = _edits(result.faces)
        info = provenance.provenance(label, edits, source=shown(path.name), faces=result.faces)
        target.parent.mkdir(parents=True, exist_ok=True)
        images_io.write_png(target, result.photo / np.float32(255), info, args.watermark)
        count = len(result.faces)
        print(f"{shown(target)}: {count} face{'s' * (count != 1)} edited, {edits}")
        if args.show_faces:
            written = write_faces_picture(faces_target, photos.read_photo(path), result.faces,
                                          shown(path.name))
            print(shown(written))

    return each_photo(paths, targets, edit_one)


def check_options(args):
    """Options that contradict each other or do nothing, refused before any work."""
    if args.no_align and (args.show_faces or args.faces != "all" or args.strength == "auto"):
        raise ValueError("--no-align takes each photo as one cropped face: it does not go with "
                         "--show-faces, --faces or --strength auto")
    if args.judge and args.strength != "auto":
        raise ValueError("--judge is used only by --strength auto: add --strength auto, or "
                         "drop --judge")
    seen = {}
    for name, t in args.attr:
        if name in seen:
            values = " and ".join("=" + ("T" if v is None else f"{v:g}") for v in (seen[name], t))
            raise ValueError(f"--attr {name} is given twice ({values}): give each attribute "
                             "once, with the t you want")
        seen[name] = t


def each_photo(paths, targets, edit_one):
    """edit_one(path, *targets) for every photo; an error stops only its photo, named on one
    line, and the run ends with how many of them were not edited (status 1 if any)."""
    failed = 0
    for path, pair in zip(paths, targets):
        try:  # one photo at a time: memory stays bounded and each result is saved when done
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                edit_one(path, *pair)
            for warning in caught:
                print(f"note: {shown(path)}: {warning.message}")
        except (ValueError, IndexError, OSError) as error:  # no face, unreadable, unwritable...
            print(f"dfl insert: error: {photo_error(path, error)}", file=sys.stderr)
            failed += 1
    if failed and len(paths) > 1:
        print(f"dfl insert: {failed} of {len(paths)} photos were not edited (named above); "
              "the others were written", file=sys.stderr)
    return 1 if failed else 0


def photo_error(path, error):
    """One line for a photo that failed, naming it (once) and the way out."""
    if isinstance(error, photos.NoFaceError):
        return photo_faces.no_face(shown(path))
    if isinstance(error, FaceIndexError):
        return (f"{shown(path)}: --faces {error.index + 1} asked for, but the photo has "
                f"{error.found} face{'s' * (error.found != 1)} (--show-faces numbers them)")
    line = one_line(error)
    return line if shown(path) in line else f"{shown(path)}: {line}"


def shown(path):
    """A path as printed: bytes that are not UTF-8 as \\xff (images_io.photo_name)."""
    return images_io.photo_name(path)


def print_weak_strengths(model, names, step="add"):
    """Say so when a calibrated strength is used that did not reach its calibration's target."""
    key = "t" if step == "add" else "distance"
    for name in names:
        info = model.attribute_info(name)
        if info.get(f"{key}_reached") is False:
            print(f"note: {name}'s calibrated {key} = {info[key]:g} made the judge see it in "
                  f"only {info[key + '_success']:.0%} of calibration photos (target "
                  f"{info[key + '_target']:.0%}): expect a faint or unconvincing edit")


def output_paths(paths, folder, show_faces, overwrite=False):
    """(NAME.dfl.png, NAME.faces.png) per photo; refused before anything is written if two
    photos would share an output (a/face.jpg and b/face.jpg into one -o, or face.jpg beside
    face.png), or an output would replace an input photo, a folder or a file dfl_keras did not
    write (without `overwrite`: common.check_replaceable)."""
    targets, claimed = [], {}
    photo_faces.check_files(paths)
    for path in paths:
        where = Path(folder) if folder else path.parent
        pair = (where / f"{path.stem}.dfl.png", where / f"{path.stem}.faces.png")
        for target in pair[:1 + show_faces]:
            common.check_replaceable(target, overwrite, paths)
            key = target.resolve()
            if key in claimed:
                raise ValueError(f"{claimed[key]} and {path} would both be written to {target}; "
                                 "rename one, or edit them in separate runs with -o DIR")
            claimed[key] = path
        targets.append(pair)
    return targets


def write_faces_picture(path, photo, faces, source):
    """The photo with each face's number, box and 5 landmarks drawn, as a PNG."""
    info = {"Software": provenance.provenance()["Software"], "Source": source,
            "Description": "The faces dfl_keras found in the photo: boxes, 5 landmarks, numbers "
                           "as --faces takes them. The photo itself is unedited."}
    return images_io.write_png(path, photos.draw_faces(photo, faces) / np.float32(255), info)


def _edits(faces):
    """Bald=+1.20 when every face got that t, Bald=+0.50/+1.25 (in face order) when not."""
    def per_face(name):
        values = [f"{face.t[name]:+.2f}" for face in faces]
        return values[0] if len(set(values)) == 1 else "/".join(values)

    return ", ".join(f"{name}={per_face(name)}" for name in faces[0].t)


def _insert_centre_crops(model, label, paths, targets, args):
    """--no-align: each photo's centre square is the face, edited at the model's size."""
    edits = {name: model.attribute_info(name).get("t", 1.0) if t is None else t
             for name, t in args.attr}

    def edit_one(path, target, _):
        crop = images_io.read_image(path, model.image_size)
        image = np.asarray(model.insert(crop, edits))
        if images_io.is_grey(crop):  # a black-and-white photo stays so
            image = images_io.as_grey(image)
        target.parent.mkdir(parents=True, exist_ok=True)
        info = provenance.provenance(label, edits, source=shown(path.name))
        print(shown(images_io.write_png(target, image, info, args.watermark)))

    return each_photo(paths, targets, edit_one)
