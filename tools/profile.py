"""Where a train step's time goes: a profiler trace of fit() by kind of work, and timed ablations.

Run: `make profile` (or `python -m tools.profile --out=runs/profile`); writes profile.md, profile.json and,
per experiment, the TensorBoard trace (runs/profile/<experiment>/; its Profile tab needs
tensorboard-plugin-profile). How to read it: docs/performance.md, "Where the dense step's time goes".
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import collections
import glob
import os
import re
import shutil
import statistics
import time

import keras
import tensorflow as tf
from absl import flags, logging
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from gan_tf import configs, data, execution, models
from tools import bench, machine
from gan_tf.errors import run_main
from gan_tf.gan import build_gan

EXPERIMENTS = ("mlp", "mlp_small")   # the dense defaults: overhead, not matmuls, is in question there
# (label, config overrides): each takes one piece of the default step away, so its time is the difference.
ABLATIONS = (("default", {}), ("no weight average", {"g_ema": 0.0}),
             ("no gradient penalty", {"gp_weight": 0.0}), ("steps_per_execution=1", {"steps_per_execution": 1}))
# Kinds of work, in the order a moment of the step is attributed when both threads run different ones.
KINDS = ("matmuls", "elementwise (fused)", "copies", "XLA thunk dispatch", "TF ops outside XLA")
_MATMUL = r"(MatMul|dot|BatchMatMul|_FusedMatMul|Conv)"
IDLE = "none of these (waits, Python, the profiler)"


def kind(name):
  """The kind of work of a trace event by its name (XLA:CPU names thunks after their HLO or TF op), or
  None for events that wrap or wait for others."""
  if ":" in name and "::" not in name and not name.startswith("end: "):   # a TF op, "scope/name:Type"
    return "matmuls" if re.match(_MATMUL, name.rsplit(":", 1)[1]) else "TF ops outside XLA"
  if re.match(_MATMUL, name) or ".dot" in name:
    return "matmuls"
  if name.startswith(("copy", "wrapped_copy", "transpose", "bitcast")) and "fusion" not in name:
    return "copies"
  if "fusion" in name or name.startswith(("wrapped_", "add", "multiply", "subtract", "divide")):
    return "elementwise (fused)"
  if name == "ThunkExecutor::Execute":
    return "XLA thunk dispatch"
  return None


def wall_by_kind(events):
  """{kind: picoseconds} of the wall time between the first and last event during which work of that kind
  ran on some thread (the first of KINDS when several did), and IDLE for the rest. events: (name, start
  picosecond, duration) from all threads."""
  rank = {k: i for i, k in enumerate(KINDS)}
  edges = []   # (time, +1 / -1, rank)
  for name, start, duration in events:
    k = kind(name)
    if k is not None and duration > 0:
      edges += [(start, 1, rank[k]), (start + duration, -1, rank[k])]
  if not edges:
    return {}
  edges.sort()
  active, totals, last = [0] * len(KINDS), collections.Counter(), edges[0][0]
  for time_ps, change, r in edges:
    if time_ps > last:
      busy = next((i for i, n in enumerate(active) if n > 0), None)
      totals[IDLE if busy is None else KINDS[busy]] += time_ps - last
      last = time_ps
    active[r] += change
  return dict(totals)


def trace_events(xspace_path):
  """(name, start ps, duration ps) of every event on the host's compute and Eigen threads of a trace."""
  space = xplane_pb2.XSpace()
  with open(xspace_path, "rb") as f:
    space.ParseFromString(f.read())
  events = []
  for plane in space.planes:
    names = {k: v.name for k, v in plane.event_metadata.items()}
    for line in plane.lines:
      if line.name.startswith(("tf_Compute", "tf_numa")):
        base = line.timestamp_ns * 1000
        events += [(names.get(e.metadata_id, "?"), base + e.offset_ps, e.duration_ps) for e in line.events]
  return events


def trace_fit(config, images, steps, logdir):
  """(seconds per step, {kind: wall seconds per step}) of `steps` train steps of fit, traced into logdir
  after a warm-up of as many steps."""
  execution.setup(config)
  gan = build_gan(config, data.steps_per_epoch(config, len(images)))
  dataset = data.make_dataset(config.replace(epochs=10 ** 6), images)
  gan.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)   # trace and compile outside the window
  shutil.rmtree(logdir, ignore_errors=True)
  tf.profiler.experimental.start(logdir)
  start = time.perf_counter()
  gan.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
  seconds = time.perf_counter() - start
  tf.profiler.experimental.stop()
  path = sorted(glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb")))[-1]
  return seconds / steps, {k: v / 1e12 / steps for k, v in wall_by_kind(trace_events(path)).items()}


def profile(name, data_dir, out):
  """The figures of one experiment's default step (see module docstring)."""
  config, _ = execution.resolve_precision(configs.get_config(name, data_dir=data_dir))
  images = bench.timing_images(config)
  images_per_step = config.batch_size * config.d_steps
  timing = bench.dense_timing(images_per_step)
  rows = {"plain loop": statistics.median(bench.time_plain_loop(config, images, *timing))}
  keras.backend.clear_session()
  for label, overrides in ABLATIONS:
    rows[label] = statistics.median(bench.time_fit(config.replace(**overrides), images, *timing))
    keras.backend.clear_session()
  traced, wall = trace_fit(config, images, timing[0] * 5, os.path.join(out, name))
  keras.backend.clear_session()
  generator, discriminator = models.build_models(config)
  flops = bench.step_flops_per_image(generator, discriminator, config.d_steps,
                                     config.loss == "wasserstein_gp", config.g_steps) * config.batch_size
  return {"step_ms": {k: 1e3 * v for k, v in rows.items()}, "traced_step_ms": 1e3 * traced,
          "wall_ms": {k: 1e3 * wall.get(k, 0.0) for k in KINDS + (IDLE,)}, "mflops_per_step": flops / 1e6}


def markdown(result):
  """profile.md: the ablations and the trace's kinds of work, per experiment."""
  peak = result["peak_gflops_fp32"]
  lines = [f"{machine.describe(result['machine'])}; measured fp32 matmul peak {peak:.0f} GFLOP/s.", ""]
  for name, e in result["experiments"].items():
    ms = e["step_ms"]
    at_peak = e["mflops_per_step"] / peak
    lines += [f"### {name}", "", f"{e['mflops_per_step']:.1f} MFLOP per step: {at_peak:.2f} ms at the fp32 "
              f"peak, so no fp32 step can beat the plain loop by more than {ms['plain loop'] / at_peak:.2f}x.", "",
              "| step | ms | vs plain loop | default minus this |", "|---|---:|---:|---:|"]
    for label, value in ms.items():
      cost = "" if label in ("plain loop", "default") else f"{ms['default'] - value:+.2f} ms"
      lines.append(f"| {label} | {value:.2f} | {ms['plain loop'] / value:.2f}x | {cost} |")
    wall = e["wall_ms"]
    lines += ["", f"Traced: {sum(wall.values()):.2f} ms per step under the profiler, from the first kernel to "
              "the last; what ran:", "", "| running | ms per step | of the step |", "|---|---:|---:|"]
    for k, value in wall.items():
      lines.append(f"| {k} | {value:.2f} | {100 * value / sum(wall.values()):.0f}% |")
    if wall["matmuls"]:
      rate = e["mflops_per_step"] / wall["matmuls"]
      lines += ["", f"The matmuls ran at {rate:.0f} GFLOP/s while they ran, {100 * rate / peak:.0f}% of the "
                "measured peak."]
    lines.append("")
  return "\n".join(lines)


def main():
  f = flags.FLAGS
  result = {"machine": machine.machine(), "peak_gflops_fp32": bench.matmul_peak(tf.float32),
            "experiments": {}}
  for name in f.experiments:
    result["experiments"][name] = profile(name, f.data_dir, f.out)
    logging.info("%s: %s", name, result["experiments"][name]["step_ms"])
  bench.write_report(f.out, "profile", result, markdown(result))


if __name__ == "__main__":
  flags.DEFINE_string("data_dir", "", "Fashion-MNIST's IDX folder; default: Debian's, else random pixels.")
  flags.DEFINE_string("out", "runs/profile", "Folder for profile.md, profile.json and the traces.")
  flags.DEFINE_list("experiments", list(EXPERIMENTS), "The experiments to profile (their defaults).")
  run_main(main)
