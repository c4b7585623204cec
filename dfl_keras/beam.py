"""Editing photos and fitting vectors in bulk on Apache Beam: one pipeline, on a laptop or a cluster.

``pip install "dfl_keras[beam]"`` adds Apache Beam. The same pipeline runs on
the local runner (``local_runner``: Beam's FnApiRunner, offline, one or more
worker processes) and, by pipeline options alone, on Dataflow, Flink or Spark
(docs/distributed.md).

- ``LatentAttributeModelHandler`` and ``PhotoEditHandler`` let ``RunInference``
  batch examples and load the model once per worker process; Beam's own
  TensorFlow handlers expect Keras-2 SavedModels and pull in tensorflow-hub.
- ``EditPhotos`` finds, aligns, edits and pastes the faces of photo files
  (``photos.edit_many``), writes each result as a PNG carrying its provenance,
  and emits one record per photo. A photo that cannot be read or holds no face
  is a record with its reason, never a failed pipeline. Each photo has one
  output name, written whole or not at all, so a bundle that Beam retries
  rewrites the same files: no duplicates, no half-written files.
- ``FitAttributeVectors`` fits attribute vectors in one distributed pass with
  ``AttributeSums``, a CombineFn over the running sums ``fit_attribute_vectors``
  keeps: the same vectors, and the same undersampling for the same keys and seed.
"""

import json
from pathlib import Path

import numpy as np
import tensorflow as tf

try:
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.ml.inference.base import (KeyedModelHandler, ModelHandler,
                                               PredictionResult, RunInference)
except ModuleNotFoundError as missing:
    if not (missing.name or "").startswith("apache_beam"):
        raise
    raise ModuleNotFoundError('dfl_keras.beam needs Apache Beam, which is not installed: '
                              'pip install "dfl_keras[beam]"', name=missing.name) from None

from dfl_keras import atomic, images_io, photos, presets, provenance, vectors
from dfl_keras.photos.edit import DETAILS

NAMESPACE = "dfl_keras"  # of the Beam metrics counting records by status
STATUSES = ("edited", "no_face", "failed")
SUM_CHUNK = 256  # codes AttributeSums holds before adding them to its running sums


def local_runner(options=None):
    """Beam's FnApiRunner, named explicitly: the DirectRunner would pick the Prism runner,
    which downloads a binary at start-up. With the pipeline options
    ``direct_num_workers=2, direct_running_mode="multi_processing"`` it runs two worker
    processes.

    Example:
        >>> type(local_runner()).__name__
        'FnApiRunner'
    """
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    options = options or beam.options.pipeline_options.PipelineOptions()
    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    # Worker processes read the options (e.g. the number of workers) from the provision info.
    info = fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return fn_runner.FnApiRunner(provision_info=info)


class LatentAttributeModelHandler(ModelHandler):
    """RunInference's handler for a LatentAttributeModel: examples are face crops, float32
    (S, S, 3) in [0, 1]; inferences their codes z_mean (latent_dim,).

    Args:
        model: a preset name or a .keras file every worker can read; each worker
            process loads it once.
        max_batch_size: the largest batch RunInference forms.
    """

    def __init__(self, model, max_batch_size=64):
        super().__init__()
        self._model = str(model)
        self._max_batch_size = int(max_batch_size)

    def load_model(self):
        from dfl_keras.model import LatentAttributeModel

        return LatentAttributeModel.from_preset(self._model)

    def run_inference(self, batch, model, inference_args=None):
        codes = np.asarray(model.encode(np.stack(batch)), np.float32)
        return [PredictionResult(example, code) for example, code in zip(batch, codes)]

    def batch_elements_kwargs(self):
        return {"min_batch_size": 1, "max_batch_size": self._max_batch_size}

    def get_metrics_namespace(self):
        return NAMESPACE


class PhotoEditHandler(LatentAttributeModelHandler):
    """RunInference's handler for editing photos: examples are uint8 (H, W, 3) photos;
    inferences a photos.PhotoEdit, or the error of a photo that was not edited (a
    NoFaceError for a photo without a face).

    The other arguments are photos.edit_many's; strength "auto" is not offered in bulk.
    """

    def __init__(self, model, edits, strength=None, detail="keep", faces="all", min_size=36,
                 max_batch_size=8):
        super().__init__(model, max_batch_size)
        if strength == "auto":
            raise ValueError('strength="auto" is not offered in bulk: give t per attribute, '
                             "or None for each vector's calibrated t")
        if detail not in DETAILS:
            raise ValueError(f"Unknown detail {detail!r}; choose one of {DETAILS}.")
        self._options = {"edits": [edits] if isinstance(edits, str) else list(edits),
                         "strength": strength, "detail": detail, "faces": faces,
                         "min_size": min_size}

    def run_inference(self, batch, model, inference_args=None):
        try:  # one batch: all faces encoded and decoded together
            results = photos.edit_many(model, batch, **self._options)
        except (ValueError, IndexError):  # one photo's problem (e.g. no face N): one at a time
            results = [self._edit_one(model, photo) for photo in batch]
        return [PredictionResult(photo, result) for photo, result in zip(batch, results)]

    def _edit_one(self, model, photo):
        try:
            return photos.edit_many(model, [photo], **self._options)[0]
        except (ValueError, IndexError) as error:
            return error


class EditPhotos(beam.PTransform):
    """Photo paths in; each photo's faces edited and written as a PNG; one record per photo out.

    A record is a dict: ``photo`` (its path), ``status`` ("edited", "no_face" or
    "failed"), ``output`` (the PNG written, or None), ``faces`` (each face's
    box and t) and ``error`` (the reason, or None). The Beam counters
    ``dfl_keras/edited``, ``no_face`` and ``failed`` count them.

    Args:
        model: a preset name or a .keras file (local, read by every worker).
        edits: an attribute name or a list of names.
        output_dir: folder (or object-store prefix, e.g. gs://bucket/edited) of the results.
        strength, detail, faces: as for photos.edit_many (strength "auto" excepted).
        root: the folder the photos are under: outputs keep their paths below it,
            so photos of one name in two folders do not collide. Without it every
            output goes straight into output_dir.
        watermark: also mark the results visibly.
        max_batch_size: photos edited together by one worker.

    Example:
        >>> import apache_beam as beam
        >>> with beam.Pipeline(runner=local_runner()) as pipeline:  # doctest: +SKIP
        ...     records = (pipeline | beam.Create(["photos/me.jpg"])
        ...                | EditPhotos("dfl_celeba64", ["Smiling"], "edited"))
    """

    def __init__(self, model, edits, output_dir, strength=None, detail="keep", faces="all",
                 root=None, watermark=False, max_batch_size=8):
        super().__init__()
        path = presets.preset_path(model)
        self._handler = KeyedModelHandler(PhotoEditHandler(
            path, edits, strength, detail, faces, max_batch_size=max_batch_size))
        self._writer = _WriteEdit(str(output_dir), root and str(root),
                                  provenance.model_label(path), watermark)

    def expand(self, paths):
        # Grouped by output, which also spreads the photos over the workers: two photos that
        # would share an output (face.jpg, face.png) are both refused rather than one lost.
        claimed = (paths
                   | "Target" >> beam.Map(_with_target, self._writer)
                   | "Claim" >> beam.GroupByKey()
                   | "Unique" >> beam.ParDo(_OnlyClaimant()).with_outputs("failed", main="paths"))
        read = claimed.paths | "Read" >> beam.ParDo(_ReadPhoto()).with_outputs(
            "failed", main="photos")
        written = (read.photos
                   | "Edit" >> RunInference(self._handler)
                   | "Write" >> beam.ParDo(self._writer))
        return ((written, read.failed, claimed.failed)
                | "Records" >> beam.Flatten()
                | "Count" >> beam.Map(_counted))


def output_path(photo, output_dir, root=None):
    """The one output of a photo: NAME.dfl.png in output_dir, below its path under root if given.

    Example:
        >>> output_path("/data/a/face.jpg", "/out", root="/data")
        '/out/a/face.dfl.png'
    """
    photo = str(photo)
    prefix = str(root).rstrip("/") + "/" if root else None
    relative = Path(photo[len(prefix):] if prefix and photo.startswith(prefix) else Path(photo).name)
    name = f"{relative.stem}.dfl.png"
    folder = str(relative.parent)
    return FileSystems.join(output_dir, name) if folder == "." else FileSystems.join(
        output_dir, folder, name)


def _with_target(path, writer):
    return writer.target(path), path


class _OnlyClaimant(beam.DoFn):
    """(output, [paths]) -> the path when it is alone, else a "failed" record for each."""

    def process(self, element):
        target, paths = element
        paths = sorted(paths)
        if len(paths) == 1:
            yield paths[0]
            return
        for path in paths:
            others = ", ".join(other for other in paths if other != path)
            yield beam.pvalue.TaggedOutput("failed", record(path, "failed", error=ValueError(
                f"{path} and {others} would both be written to {target}; rename one")))


class _ReadPhoto(beam.DoFn):
    """A path -> (path, uint8 pixels); a photo that cannot be read -> a "failed" record."""

    def process(self, path):
        try:
            with FileSystems.open(path) as file:
                pixels = images_io.decode_photo(file.read(), path)
        except (ValueError, OSError) as error:
            yield beam.pvalue.TaggedOutput("failed", record(path, "failed", error=error))
            return
        yield path, pixels


class _WriteEdit(beam.DoFn):
    """(path, PredictionResult) -> the result written whole under its one name, and its record."""

    def __init__(self, output_dir, root, model_label, watermark):
        self._output_dir, self._root = output_dir, root
        self._model_label, self._watermark = model_label, watermark

    def target(self, path):
        return output_path(path, self._output_dir, self._root)

    def process(self, element):
        path, prediction = element
        result = prediction.inference
        if isinstance(result, Exception):  # its message says "the photo array": name the file
            error = str(result).replace(images_io.photo_name(prediction.example), path, 1)
            status = "no_face" if isinstance(result, photos.NoFaceError) else "failed"
            yield record(path, status, error=error)
            return
        target = self.target(path)
        if target == path:
            yield record(path, "failed", error=ValueError(
                f"{path}: its output would replace it; write the results to another folder"))
            return
        edits = {name: t for face in result.faces[:1] for name, t in face.t.items()}
        info = provenance.provenance(self._model_label, edits, source=Path(path).name,
                                     faces=result.faces)
        write_file(target, images_io.png_bytes(result.photo, info, self._watermark))
        yield record(path, "edited", target, result.faces)


def write_file(path, data):
    """Write bytes whole or not at all: on a local disk through a temporary file and a rename
    (dfl_keras.atomic), on an object store in one upload (an object appears only when complete)."""
    if FileSystems.get_scheme(path) is None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, data)
        return
    with FileSystems.create(path, mime_type="image/png") as file:
        file.write(data)


def record(photo, status, output=None, faces=(), error=None):
    """What became of one photo, as plain data (JSON-ready)."""
    return {"photo": str(photo), "status": status, "output": output,
            "faces": [{"box": [round(float(v), 1) for v in face.box],
                       "t": {name: float(t) for name, t in face.t.items()}} for face in faces],
            "error": None if error is None else str(error)}


def _counted(entry):
    beam.metrics.Metrics.counter(NAMESPACE, entry["status"]).inc()
    return entry


def counts(result):
    """{status: number of photos} from a finished pipeline's EditPhotos counters."""
    from apache_beam.metrics.metric import MetricsFilter

    found = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    totals = dict.fromkeys(STATUSES, 0)
    for counter in found:
        if counter.key.metric.name in totals:
            totals[counter.key.metric.name] += counter.committed or 0
    return totals


def records_json(entry):
    """One record as a line of JSON (for WriteToText)."""
    return json.dumps(entry, sort_keys=True)


class AttributeSums(beam.CombineFn):
    """Combines ((key, labels), PredictionResult with the code) into the running sums that fit_attribute_vectors keeps.

    ``key`` (a position in the data, or a name) draws each example's bin
    (vectors.example_bins), so the undersampling is fit_attribute_vectors'
    for the same keys and seed. The output is vectors.running_sums' five
    totals (numpy), or None when there was no example.
    """

    def __init__(self, seed=0):
        self._seed = int(seed)

    def create_accumulator(self):
        return {"totals": None, "pending": []}

    def add_input(self, accumulator, element):
        (key, labels), prediction = element
        accumulator["pending"].append((str(key), labels, prediction.inference))
        if len(accumulator["pending"]) >= SUM_CHUNK:
            self.compact(accumulator)
        return accumulator

    def merge_accumulators(self, accumulators):
        merged = self.create_accumulator()
        for accumulator in accumulators:
            merged["totals"] = _added(merged["totals"], self.compact(accumulator)["totals"])
        return merged

    def compact(self, accumulator):
        pending = accumulator["pending"]
        if pending:
            keys, labels, codes = zip(*pending)
            sums = vectors.running_sums(
                tf.constant(np.stack(codes), tf.float32), tf.constant(labels, tf.int32),
                vectors.example_bins(tf.constant(keys), self._seed))
            accumulator["totals"] = _added(accumulator["totals"], [s.numpy() for s in sums])
            accumulator["pending"] = []
        return accumulator

    def extract_output(self, accumulator):
        return self.compact(accumulator)["totals"]


def _added(totals, more):
    if totals is None or more is None:
        return more if totals is None else totals
    return [a + np.asarray(b, np.float64) for a, b in zip(totals, more)]


class FitAttributeVectors(beam.PTransform):
    """(key, image, {name: 0/1}) examples in; one element out: ({name: (vector, info)},
    (code mean, code covariance)), as vectors.fitted_vectors gives them.

    Images are float32 (S, S, 3) in [0, 1] at the model's size (images_io.read_image
    frames a photo so). Keys are the examples' positions in a dataset (0, 1, ...)
    or names: with positions, the vectors are those of
    ``model.fit_attribute_vectors`` on the data in that order (to float rounding),
    undersampled alike for the same seed.

    Example:
        >>> fitted, distribution = ...  # doctest: +SKIP
        >>> for name, (vector, info) in fitted.items():  # doctest: +SKIP
        ...     model.set_attribute_vector(name, vector, **info)
        >>> model.code_distribution = distribution  # doctest: +SKIP
    """

    def __init__(self, model, labels, balance=True, seed=0, max_batch_size=64):
        super().__init__()
        self._handler = KeyedModelHandler(LatentAttributeModelHandler(
            presets.preset_path(model), max_batch_size))
        self._labels = [labels] if isinstance(labels, str) else list(labels)
        self._balance, self._seed = bool(balance), int(seed)

    def expand(self, examples):
        return (examples
                | "Label" >> beam.Map(_keyed_by_labels, self._labels)
                | "Encode" >> RunInference(self._handler)
                | "Sum" >> beam.CombineGlobally(AttributeSums(self._seed))
                | "Vectors" >> beam.Map(_fitted, self._labels, self._balance))


def _keyed_by_labels(example, names):
    key, image, labels = example
    values = tuple(labels[name] for name in names)
    if any(value not in (0, 1) for value in values):
        raise ValueError(f"example {key}: labels must be 0 or 1, got "
                         f"{dict(zip(names, values))}")
    return (key, tuple(int(value) for value in values)), np.asarray(image, np.float32)


def _fitted(totals, names, balance):
    if totals is None:
        raise ValueError("No examples: nothing to fit attribute vectors from.")
    return vectors.fitted_vectors(names, totals, balance)
