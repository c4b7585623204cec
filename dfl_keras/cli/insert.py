"""dfl insert: edit the faces in your own photos; each comes back at its own size."""

import sys
from pathlib import Path

import numpy as np

from dfl_keras import images_io, photos, provenance
from dfl_keras.cli import common, options, photo_faces
from dfl_keras.errors import check_attributes
from dfl_keras.judge import AttributeJudge
from dfl_keras.photos.edit import DETAILS
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
    parser.add_argument("--judge", default=DEFAULT_JUDGE,
                        help="the judge of --strength auto (default: %(default)s)")
    parser.add_argument("--detail", choices=DETAILS, default="keep",
                        help="keep: add only the change to the photo, so it keeps its own detail "
                        "(default); replace: paste the decoded face; blend: keep, leaning to the "
                        "decoded face where it changes strongly")
    photo_faces.add_face_options(parser)
    parser.add_argument("--show-faces", action="store_true", help="also write NAME.faces.png: "
                        "the photo with the faces found, numbered, boxes and 5 landmarks")
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="folder for the results (default: beside each photo, as NAME.dfl.png)")


def run(args):
    paths = [Path(p) for p in args.images]
    if args.no_align and (args.show_faces or args.faces != "all" or args.strength == "auto"):
        raise ValueError("--no-align takes each photo as one cropped face: it does not go with "
                         "--show-faces, --faces or --strength auto")
    targets = output_paths(paths, args.output, args.show_faces)  # refused before any work
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
    judge = AttributeJudge.from_preset(args.judge) if args.strength == "auto" else None
    strength = "auto" if judge else given
    names = [name for name, _ in args.attr]
    if not judge:
        print_weak_strengths(model, [name for name in names if name not in given], args.step)
    failed = []
    for path, (target, faces_target) in zip(paths, targets):
        try:  # one photo at a time: memory stays bounded and each result is saved when done
            (result,) = photos.edit_many(model, [path], names, args.faces, strength, args.detail,
                                         judge, min_size=photo_faces.DEFAULT_MIN_SIZE,
                                         step=args.step)
            if isinstance(result, photos.NoFaceError):
                raise result
        except (ValueError, IndexError) as error:  # no face, no such face, unreadable photo
            line = (photo_faces.no_face(path) if isinstance(error, photos.NoFaceError)
                    else str(error))
            print(f"dfl insert: error: {line}", file=sys.stderr)
            failed.append(path)
            continue
        edits = _edits(result.faces)
        info = provenance.provenance(label, edits, source=path.name, faces=result.faces)
        target.parent.mkdir(parents=True, exist_ok=True)
        images_io.write_png(target, result.photo / np.float32(255), info, args.watermark)
        count = len(result.faces)
        print(f"{target}: {count} face{'s' * (count != 1)} edited, {edits}")
        if args.show_faces:
            print(write_faces_picture(faces_target, photos.read_photo(path), result.faces,
                                      path.name))
    if failed and len(paths) > 1:
        print(f"dfl insert: {len(failed)} of {len(paths)} photos were not edited (named above); "
              "the others were written", file=sys.stderr)
    return 1 if failed else 0


def print_weak_strengths(model, names, step="add"):
    """Say so when a calibrated strength is used that did not reach its calibration's target."""
    key = "t" if step == "add" else "distance"
    for name in names:
        info = model.attribute_info(name)
        if info.get(f"{key}_reached") is False:
            print(f"note: {name}'s calibrated {key} = {info[key]:g} made the judge see it in "
                  f"only {info[key + '_success']:.0%} of calibration photos (target "
                  f"{info[key + '_target']:.0%}): expect a faint or unconvincing edit")


def output_paths(paths, folder, show_faces):
    """(NAME.dfl.png, NAME.faces.png) per photo; refused before anything is written if two
    photos would share an output (a/face.jpg and b/face.jpg into one -o, or face.jpg beside
    face.png) or an output would replace an input photo."""
    targets, claimed = [], {}
    inputs = {path.resolve(): path for path in paths}
    photo_faces.check_files(paths)
    for path in paths:
        where = Path(folder) if folder else path.parent
        pair = (where / f"{path.stem}.dfl.png", where / f"{path.stem}.faces.png")
        for target in pair[:1 + show_faces]:
            key = target.resolve()
            if key in inputs:
                raise ValueError(f"the output {target} of {path} is one of the input photos; "
                                 "rename that photo or write elsewhere with -o DIR")
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
    crops = np.stack([images_io.read_image(path, model.image_size) for path in paths])
    for path, (target, _), image in zip(paths, targets, np.asarray(model.insert(crops, edits))):
        target.parent.mkdir(parents=True, exist_ok=True)
        info = provenance.provenance(label, edits, source=path.name)
        print(images_io.write_png(target, image, info, args.watermark))
    return 0
