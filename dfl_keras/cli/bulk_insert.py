"""dfl bulk-insert: edit the faces of many photos on Apache Beam (pip install "dfl_keras[beam]").

The local runner by default; other runners by Beam's own pipeline options,
which the command passes on (give them as --name=value), e.g.
``--runner DataflowRunner --project=P --region=R --temp_location=gs://B/tmp``.
"""

import logging
import os
import re

from dfl_keras import photos
from dfl_keras.cli import common, options, photo_faces
from dfl_keras.errors import check_attributes
from dfl_keras.photos.edit import DETAILS

SUMMARY = "edit the faces of many photos on Apache Beam (local runner, Dataflow, Flink, Spark)"
TAKES_PIPELINE_OPTIONS = True  # the options it does not know are Beam's
LOCAL_RUNNERS = ("DirectRunner", "FnApiRunner")  # both run on Beam's FnApiRunner, never Prism
RECORDS = "records.jsonl"


def add_arguments(parser):
    options.add_model(parser)
    options.add_watermark(parser)
    parser.add_argument("photos", metavar="PHOTOS_GLOB", help="the photos, as a quoted pattern "
                        "on any file system Beam reads, e.g. 'photos/**/*.jpg' or "
                        "'gs://bucket/photos/*.jpg'")
    parser.add_argument("--attr", action="append", type=options.edit, required=True,
                        metavar="NAME[=T]", help="an attribute and its strength (negative "
                        "removes it; without =T the model's calibrated t); repeatable")
    parser.add_argument("--detail", choices=DETAILS, default="keep",
                        help="as for dfl insert (default: %(default)s)")
    photo_faces.add_face_options(parser)
    parser.add_argument("-o", "--output", metavar="OUT_DIR", required=True,
                        help="folder (or gs:// prefix) of the results: NAME.dfl.png per photo, "
                        "below its folder under the pattern's fixed part, and records.jsonl")
    parser.add_argument("--runner", default="DirectRunner",
                        help="Beam runner (default: %(default)s, run on Beam's FnApiRunner "
                        "offline; --direct_num_workers=N --direct_running_mode=multi_processing "
                        "for N worker processes)")
    parser.add_argument("--batch-size", type=options.count, default=8,
                        help="photos a worker edits together (default: %(default)s)")


def run(args):
    root = logging.getLogger()
    level = root.level
    if not args.verbose:  # Beam logs warnings no user can act on (apitools, resource module)
        root.setLevel(logging.ERROR)
    try:
        return _bulk_insert(args)
    finally:
        root.setLevel(level)


def _bulk_insert(args):
    from dfl_keras import beam as dfl_beam  # refused in one line when the extra is missing
    from apache_beam.io import fileio

    if args.no_align:
        raise ValueError("--no-align is not offered in bulk: photos are edited where their "
                         "faces are found; use dfl insert --no-align")
    model, _ = common.load_model(args.model)  # refused here, once, rather than on every worker
    names = [name for name, _ in args.attr]
    check_attributes(names, model.attribute_names, "the model")
    given = {name: t for name, t in args.attr if t is not None}
    if given:
        model.edit_offsets(given, 1)
    photos.template_of(model)
    beam = dfl_beam.beam
    quiet = [] if args.verbose else ["--default_sdk_harness_log_level=ERROR"]  # worker processes
    pipeline_options = beam.options.pipeline_options.PipelineOptions(
        [f"--runner={args.runner}", *quiet, *args.pipeline_options])
    check_pipeline_options(args.pipeline_options, pipeline_options)
    runner = dfl_beam.local_runner(pipeline_options) if args.runner in LOCAL_RUNNERS else None
    edit = dfl_beam.EditPhotos(common.model_path(args.model), names, args.output,
                               strength=given, detail=args.detail, faces=args.faces,
                               root=fixed_folder(args.photos), watermark=args.watermark,
                               max_batch_size=args.batch_size)
    pipeline = beam.Pipeline(runner=runner, options=pipeline_options)
    (pipeline
     | "Match" >> fileio.MatchFiles(args.photos)
     | "Paths" >> beam.Map(lambda match: match.path)
     | "Edit" >> edit
     | "Json" >> beam.Map(dfl_beam.records_json)
     | "Records" >> beam.io.WriteToText(dfl_beam.FileSystems.join(args.output, RECORDS),
                                        shard_name_template="", num_shards=1))
    result = pipeline.run()
    result.wait_until_finish()
    done = dfl_beam.counts(result)
    if not sum(done.values()):
        raise FileNotFoundError(f"no file matches {args.photos}: check the pattern (quote it, "
                                "so the shell does not expand it)")
    print(f"dfl bulk-insert: {done['edited']} photos edited, {done['no_face']} without a face, "
          f"{done['failed']} failed (each photo's record: "
          f"{dfl_beam.FileSystems.join(args.output, RECORDS)})")
    return 0 if done["edited"] else 1


def check_pipeline_options(given, pipeline_options):
    """Refuse what is neither this command's option nor Beam's (a typo would be ignored)."""
    known = pipeline_options.get_all_options(retain_unknown_options=False)
    for position, text in enumerate(given):
        if text.startswith("--"):
            name = text[2:].split("=", 1)[0].replace("-", "_")
            if name not in known:
                raise ValueError(f"unknown option {text.split('=', 1)[0]}: neither a dfl "
                                 "bulk-insert option nor a Beam pipeline option; see dfl "
                                 "bulk-insert --help")
        elif position == 0 or not given[position - 1].startswith("--") or "=" in given[position - 1]:
            raise ValueError(f"unexpected argument {text!r}: give one PHOTOS_GLOB, quoted so "
                             "the shell does not expand it")


def fixed_folder(pattern):
    """The folder a glob pattern's matches are all under: its path up to the first wildcard.

    Example:
        >>> fixed_folder("gs://bucket/photos/*/*.jpg")
        'gs://bucket/photos'
    """
    fixed = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    folder = fixed.rsplit("/", 1)[0] if "/" in fixed else ""
    return folder if "://" in pattern else os.path.abspath(folder or ".")
