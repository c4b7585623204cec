"""Training speed on one device, two logical devices and two local workers, one run.

    python benchmarks/bench_distribute.py --seconds 20

The default model at 64 px trains on random images with the same global
batch in each arm: one CPU device; MirroredStrategy over two logical CPU
devices; MultiWorkerMirroredStrategy over two processes on 127.0.0.1. Each arm
is a fresh process (logical devices and TF_CONFIG must be set before
TensorFlow starts). Printed, each with its ratio to one device: median
images/s over steps and median CPU time per image summed over the arm's
processes (the first steps, which trace the graph, are not timed). On a CPU
the split arms share the same cores, so they measure the overhead of
distribution, not a speed-up; CPU time per image also stays meaningful when
other jobs load the machine.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

WARMUP_STEPS = 3
# TensorFlow is imported in the arms only: the parent just launches them and reads their times.


def train(args, strategy, steps=None):
    """(wall, CPU) time at each step end, for ``args.seconds`` after the warm-up or for ``steps`` steps."""
    import keras
    import numpy as np
    import tensorflow as tf

    import dfl_keras as dfl
    from dfl_keras import distribute

    images = np.random.default_rng(0).random((512, 64, 64, 3), dtype=np.float32)
    data = distribute.shard_by_data(tf.data.Dataset.from_tensor_slices(images).repeat().batch(args.batch))
    with strategy.scope():
        model = dfl.LatentAttributeModel(image_size=64)
        model.compile(optimizer="adam")
    times = []

    def step_end(batch, logs):
        times.append((time.perf_counter(), time.process_time()))
        # Workers get a step count instead: clocks of their own would stop them at different steps.
        if not steps and len(times) > WARMUP_STEPS and times[-1][0] - times[WARMUP_STEPS][0] >= args.seconds:
            model.stop_training = True

    clock = keras.callbacks.LambdaCallback(on_train_batch_end=step_end)
    model.fit(data, epochs=1, steps_per_epoch=steps or 10**6, callbacks=[clock], verbose=0, shuffle=False)
    return times


def arm(args):
    import tensorflow as tf

    if args.arm == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    elif args.arm == "worker":
        os.environ["TF_CONFIG"] = json.dumps({
            "cluster": {"worker": [f"127.0.0.1:{port}" for port in args.ports]},
            "task": {"type": "worker", "index": args.index},
        })
        from dfl_keras import distribute

        strategy = distribute.strategy_from_name("multiworker", peer_timeout=120)
    else:
        strategy = tf.distribute.get_strategy()
    print(json.dumps(train(args, strategy, args.steps)))


def launch(args, name, steps=None, **extra):
    command = [sys.executable, __file__, "--arm", name, "--seconds", str(args.seconds),
               "--batch", str(args.batch)]
    command += ["--steps", str(steps)] if steps else []
    for key, value in extra.items():
        command += [f"--{key}", *map(str, value if isinstance(value, list) else [value])]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def step_times(process):
    out, _ = process.communicate()
    if process.returncode:
        sys.exit(f"an arm failed with exit code {process.returncode}")
    return json.loads(out.strip().splitlines()[-1])


def per_step(times, clock):
    """Durations of the timed steps on one clock (0: wall, 1: this process's CPU)."""
    return [b[clock] - a[clock] for a, b in zip(times[WARMUP_STEPS:], times[WARMUP_STEPS + 1:])]


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="training time per arm")
    parser.add_argument("--batch", type=int, default=64, help="global batch size")
    parser.add_argument("--arm", choices=["single", "mirrored", "worker"], help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ports", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        return arm(args)

    arms = {"1 device": [step_times(launch(args, "single"))]}
    arms["2 logical devices (MirroredStrategy)"] = [step_times(launch(args, "mirrored"))]
    # The workers run as many steps as the mirrored arm took in its time budget.
    steps, ports = len(arms["2 logical devices (MirroredStrategy)"][0]), free_ports(2)
    workers = [launch(args, "worker", steps, index=i, ports=ports) for i in range(2)]
    arms["2 local workers (MultiWorkerMirroredStrategy)"] = [step_times(w) for w in workers]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"global batch {args.batch}, 64 px default model, {os.cpu_count()} CPU cores, load average {load}")
    print("img/s: median over steps of wall time; CPU ms/img: CPU time of all the arm's processes")
    base = None
    for name, runs in arms.items():
        wall = statistics.median(map(max, zip(*(per_step(times, 0) for times in runs))))
        cpu = statistics.median(map(sum, zip(*(per_step(times, 1) for times in runs))))
        rate, cost = args.batch / wall, 1000 * cpu / args.batch
        base = base or (rate, cost)
        print(f"{name:46s} {rate:6.1f} img/s (x{rate / base[0]:.2f})  {cost:6.2f} CPU ms/img "
              f"(x{cost / base[1]:.2f})  {len(runs[0])} steps")


if __name__ == "__main__":
    main()
