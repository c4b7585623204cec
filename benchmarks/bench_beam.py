"""Photos edited per second: the in-process loop against Beam's local runner, in one run.

Three ways of editing the same photos (real aligned CelebA, the test split of
../shared/data/celeba_aligned) with the same edits, each writing a PNG with
provenance per photo:

- loop: one process, photos.edit_many over batches, written as dfl insert does;
- beam, 1 worker: dfl_keras.beam.EditPhotos on the FnApiRunner in this process;
- beam, 2 workers: the same with direct_num_workers=2, multi_processing (two
  worker processes, each importing TensorFlow and loading the model).

Each is timed from the model's loading to the last file written, repeated and
interleaved; the table gives medians of wall time and of CPU time (this
process and its finished worker processes), and the loop's rate over each
way's, so the engine's overhead shows. On a machine other jobs keep busy, CPU
seconds per photo are the steadier measure. TensorFlow is imported before any
timing.

    python benchmarks/bench_beam.py --count 150 --repeats 3
"""

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dfl_keras import LatentAttributeModel, images_io, photos, presets, provenance

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from photo_canvases import ALIGNED  # noqa: E402

EDITS = {"Smiling": 1.0, "Eyeglasses": 1.0}


def test_photos(count):
    rows = [line.split() for line in (ALIGNED / "list_eval_partition.txt").read_text().splitlines()
            if line.strip()]
    return [str(ALIGNED / "img_align_celeba" / name) for name, part in rows if part == "2"][:count]


def in_process_loop(model_path, paths, output, batch_size):
    model = LatentAttributeModel.from_preset(model_path)
    label = provenance.model_label(model_path)
    for start in range(0, len(paths), batch_size):
        batch = paths[start:start + batch_size]
        for path, result in zip(batch, photos.edit_many(model, batch, list(EDITS), strength=EDITS)):
            if isinstance(result, photos.PhotoEdit):
                info = provenance.provenance(label, EDITS, source=Path(path).name,
                                             faces=result.faces)
                images_io.write_png(output / f"{Path(path).stem}.dfl.png",
                                    result.photo / np.float32(255), info)


def on_beam(workers):
    def run(model_path, paths, output, batch_size):
        import apache_beam as beam
        from apache_beam.options.pipeline_options import PipelineOptions

        from dfl_keras import beam as dfl_beam

        flags = ["--default_sdk_harness_log_level=ERROR"]
        if workers > 1:
            flags += [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
        options = PipelineOptions(flags)
        with beam.Pipeline(runner=dfl_beam.local_runner(options), options=options) as pipeline:
            _ = (pipeline | beam.Create(paths)
                 | dfl_beam.EditPhotos(model_path, list(EDITS), str(output), strength=EDITS,
                                       max_batch_size=batch_size))
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=presets.DEFAULT_EDITOR)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    if not (ALIGNED / "list_eval_partition.txt").exists():
        sys.exit(f"needs {ALIGNED} (not present on a fresh machine)")
    model_path = presets.preset_path(args.model)
    paths = test_photos(args.count)
    ways = {"in-process loop": in_process_loop, "beam local, 1 worker": on_beam(1),
            "beam local, 2 workers (processes)": on_beam(2)}
    seconds = {name: [] for name in ways}
    cpu_used = {name: [] for name in ways}
    written = {}
    for repeat in range(args.repeats):
        for name, way in ways.items():
            output = Path(tempfile.mkdtemp(prefix="bench_beam_"))
            start, cpu = time.perf_counter(), cpu_seconds()
            way(model_path, paths, output, args.batch_size)
            seconds[name].append(time.perf_counter() - start)
            cpu_used[name].append(cpu_seconds() - cpu)
            written[name] = len(list(output.glob("*.dfl.png")))
            shutil.rmtree(output)
            print(f"repeat {repeat + 1}: {name}: {seconds[name][-1]:.1f} s wall, "
                  f"{cpu_used[name][-1]:.1f} s CPU", flush=True)
    print(f"\n{len(paths)} photos (178x218, {written['in-process loop']} with a face edited), "
          f"model {model_path.name}, edits {EDITS}, batch {args.batch_size}, "
          f"{args.repeats} repeats; median wall time from model loading to the last file")
    loop = statistics.median(seconds["in-process loop"])
    loop_cpu = statistics.median(cpu_used["in-process loop"])
    print(f"{'way':36s} {'wall s':>7s} {'photos/s':>9s} {'vs loop':>8s} {'CPU s/photo':>12s} "
          f"{'vs loop':>8s} {'written':>8s}")
    for name in ways:
        wall, cpu = statistics.median(seconds[name]), statistics.median(cpu_used[name])
        print(f"{name:36s} {wall:7.1f} {len(paths) / wall:9.2f} {loop / wall:7.2f}x "
              f"{cpu / len(paths):12.2f} {loop_cpu / cpu:7.2f}x {written[name]:8d}")


def cpu_seconds():
    """CPU time of this process and of its worker processes that have ended."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
