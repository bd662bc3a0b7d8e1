"""Training speed: gan_tf's fit() against the plain tf.function loop people copy, and where the time goes.

Run: `make bench` (or `python -m tools.bench --out=runs/bench`); writes bench.md and bench.json. What is
timed, and the FLOP rule behind the matmul-peak fractions, are in docs/performance.md.
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import functools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import flags, logging

from gan_tf import configs, data, execution, files, losses, models, optimizers, sampling
from tools import machine
from gan_tf.errors import run_main
from gan_tf.gan import build_gan

CONV = ("dcgan", "dcgan_tutorial")


# --- FLOPs ----------------------------------------------------------------------------------------

def forward_flops(model):
  """Analytic forward FLOPs per image of a model's Dense / Conv2D / Conv2DTranspose layers."""
  total = 0
  for layer in model.layers:
    if isinstance(layer, keras.layers.Dense):
      total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    elif isinstance(layer, keras.layers.Conv2DTranspose):
      k0, k1, c_out, c_in = layer.kernel.shape
      h, w = layer.input.shape[1:3]
      total += 2 * k0 * k1 * c_in * c_out * h * w
    elif isinstance(layer, keras.layers.Conv2D):
      k0, k1, c_in, c_out = layer.kernel.shape
      h, w = layer.output.shape[1:3]
      total += 2 * k0 * k1 * c_in * c_out * h * w
  return total


def step_flops_per_image(generator, discriminator, d_steps, gradient_penalty=False, g_steps=1):
  """FLOPs per image of one train step, by the rule in docs/performance.md."""
  f_g, f_d = forward_flops(generator), forward_flops(discriminator)
  return d_steps * (f_g + (10 if gradient_penalty else 6) * f_d) + g_steps * (3 * f_g + 2 * f_d)


def matmul_peak(dtype, n=2048, seconds=3.0):
  """Measured GFLOP/s of an n x n matmul in dtype, the best of a few timed runs."""
  a = tf.cast(tf.random.normal([n, n]), dtype)
  b = tf.cast(tf.random.normal([n, n], stddev=n ** -0.5), dtype)   # keeps the chain's scale

  @tf.function
  def repeat(a, b):
    c = a
    for _ in range(8):   # a chain: identical products would be merged by the graph optimizer
      c = tf.matmul(c, b)
    return tf.reduce_sum(tf.cast(c, tf.float32))
  repeat(a, b).numpy()
  best, start = 0.0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    t = time.perf_counter()
    repeat(a, b).numpy()
    best = max(best, 8 * 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
  return best


# --- timing -------------------------------------------------------------------------------------

def _windows(marks, warmup_steps, window_steps):
  """Seconds per step of each window of window_steps after warmup_steps."""
  rates, start = [], None
  for steps, t in marks:
    if steps < warmup_steps:
      continue
    if start is None:
      start = (steps, t)
    elif steps - start[0] >= window_steps:
      rates.append((t - start[1]) / (steps - start[0]))
      start = (steps, t)
  return rates


def time_fit(config, images, warmup_steps, window_steps, windows):
  """Seconds per step of each timed window of GAN.fit with config."""
  execution.setup(config)
  gan = build_gan(config, data.steps_per_epoch(config, len(images)))
  steps = warmup_steps + window_steps * windows
  steps += -steps % config.steps_per_execution
  marks = [(0, time.perf_counter())]   # (steps done, time) at the end of each execution
  clock = keras.callbacks.LambdaCallback(
      on_train_batch_end=lambda batch, logs: marks.append((batch + 1, time.perf_counter())))
  dataset = data.make_dataset(config.replace(epochs=10 ** 6), images)
  gan.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[clock], verbose=0, shuffle=False)
  return _windows(marks, warmup_steps, window_steps)


def plain_train_step(config, generator, discriminator, d_optimizer, g_optimizer, average, seed):
  """The tutorials' pattern, one tf.function with GradientTapes, running GAN.train_step's algorithm with
  z and the penalty's mixing drawn from the SeedGenerator seed in the same order."""
  d_loss_fn, g_loss_fn = losses.LOSSES[config.loss]
  if config.label_smoothing:
    d_loss_fn = functools.partial(d_loss_fn, label_smoothing=config.label_smoothing)
  batch, latent, k = config.batch_size, config.latent_dim, config.d_steps
  step = tf.Variable(0.0)

  def noise():
    return sampling.draw_z(batch, latent, config.noise, seed)

  @tf.function(jit_compile=config.jit_compile)
  def train_step(real):
    for i in range(k):
      real_images = real[i::k]
      fake = generator(noise(), training=True)
      with tf.GradientTape() as tape:
        with tf.GradientTape() as r1_tape:
          r1_tape.watch(real_images)
          real_logits = discriminator(real_images, training=True)
        d_loss = d_loss_fn(real_logits, discriminator(fake, training=True))
        if config.r1_weight:
          d_loss += 0.5 * config.r1_weight * losses.r1_penalty(r1_tape.gradient(real_logits, real_images))
        if config.loss == "wasserstein_gp":   # as in Keras's WGAN-GP example
          eps = keras.random.uniform([batch, 1, 1, 1], seed=seed)
          mixed = eps * real_images + (1.0 - eps) * fake
          with tf.GradientTape() as gp_tape:
            gp_tape.watch(mixed)
            critic = discriminator(mixed, training=True)
          d_loss += config.gp_weight * losses.gradient_penalty(gp_tape.gradient(critic, mixed))
      grads = tape.gradient(d_loss, discriminator.trainable_variables)
      d_optimizer.apply_gradients(zip(grads, discriminator.trainable_variables))
    for _ in range(config.g_steps):
      with tf.GradientTape() as tape:
        g_loss = g_loss_fn(discriminator(generator(noise(), training=True), training=True))
      grads = tape.gradient(g_loss, generator.trainable_variables)
      g_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
      if average is not None:   # the weight average, with the ramp of tf.train.ExponentialMovingAverage
        momentum = tf.minimum(config.g_ema, (1.0 + step) / (10.0 + step))
        for a, w in zip(average.trainable_variables, generator.trainable_variables):
          a.assign(momentum * a + (1.0 - momentum) * w)
        for a, w in zip(average.non_trainable_variables, generator.non_trainable_variables):
          a.assign(w)
    step.assign_add(1.0)
    return d_loss, g_loss

  return train_step


def time_plain_loop(config, images, warmup_steps, window_steps, windows):
  """Seconds per step of each timed window of plain_train_step, called from a Python `for` per batch."""
  execution.setup(config)
  generator, discriminator = models.build_models(config)
  steps_per_epoch = data.steps_per_epoch(config, len(images))   # for a learning-rate schedule
  train_step = plain_train_step(
      config, generator, discriminator, optimizers.make_optimizer(config, "d", steps_per_epoch),
      optimizers.make_optimizer(config, "g", steps_per_epoch),
      keras.models.clone_model(generator) if config.g_ema else None,
      keras.random.SeedGenerator(config.seed))
  steps = warmup_steps + window_steps * windows
  marks = [(0, time.perf_counter())]
  for i, real in enumerate(data.make_dataset(config.replace(epochs=10 ** 6), images).take(steps)):
    d_loss, _ = train_step(real)
    done = i + 1
    if done >= warmup_steps and (done - warmup_steps) % window_steps == 0:
      d_loss.numpy()   # wait only at window ends, so the loop may run ahead as the tutorials' does
      marks.append((done, time.perf_counter()))
  return _windows(marks, warmup_steps, window_steps)


def time_input(config, images, batches=2000):
  """Images/s of the input pipeline alone, drained inside TF (Dataset.reduce) as fit's iterator drains it."""
  dataset = data.make_dataset(config.replace(epochs=10 ** 6), images)
  count = lambda n: dataset.take(n).reduce(0, lambda total, batch: total + 1).numpy()
  count(20)   # warm-up
  start = time.perf_counter()
  count(batches)
  return batches * config.batch_size * config.d_steps / (time.perf_counter() - start)


def time_to_first_step(data_dir="", experiment="mlp"):
  """(seconds, steps) from launching `python -m gan_tf.train --experiment=mlp` (what `make train-mlp` runs,
  on the full train split) to the end of its first execution of `steps` train steps; then it is stopped."""
  workdir = tempfile.mkdtemp(prefix="gan_tf-bench-startup-")
  args = [sys.executable, "-m", "gan_tf.train", f"--experiment={experiment}", f"--workdir={workdir}"]
  start = time.perf_counter()
  process = subprocess.Popen(args + ([f"--data_dir={data_dir}"] if data_dir else []), text=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
  steps = None
  try:
    for line in process.stderr:   # Python's stderr is line-buffered: each log line arrives as written
      if "in executions of" in line:
        steps = int(line.split("in executions of")[1].split(",")[0])
      if "first train step done" in line:
        return time.perf_counter() - start, steps
  finally:
    process.kill()
    process.wait()
    shutil.rmtree(workdir, ignore_errors=True)
  raise RuntimeError("gan_tf.train ended before its first train step")


# --- the run -----------------------------------------------------------------------------------

def dense_timing(images_per_step):
  """(warm-up, window, windows) in steps for a dense net: windows of >= 20,000 images."""
  return 100, 100 * math.ceil(200 / images_per_step), 5


def timing_images(config):
  """The images steps are timed on: 20% of config's train split, or random pixels (which time the same)
  where its data is not at hand."""
  if data.idx_dir(config):
    return data.load_images(config, "train[:20%]")[0]
  return np.random.default_rng(0).integers(0, 256, (12000, 28, 28, 1), dtype=np.uint8)


# The dense nets at gan_tf's defaults (WGAN-GP) and at their sources' training (k = 1, overhead-bound).
CASES = (("mlp", "default"), ("mlp", "source"), ("mlp_small", "default"), ("mlp_small", "source"),
         ("dcgan", "default"), ("dcgan_tutorial", "default"))


def variants(name, quick, precision="float32"):
  """(label, config overrides) to time for an experiment; the first is gan_tf's default, in the precision
  its config resolved to here (a conv net's `auto`), with a conv net's float32 row beside it: what auto buys."""
  rows = [("default", {})]
  if name not in CONV:   # the defaults are 100 steps per execution with XLA: take each away
    rows += [("steps_per_execution=1", {"steps_per_execution": 1}), ("no xla", {"jit_compile": False})]
    return rows + ([("bfloat16", {"mixed_precision": "bfloat16"})] if not quick else [])
  for other in ("float32",) + (() if quick else ("bfloat16",)):
    if other != precision:
      rows.append((other, {"mixed_precision": other}))
  if not quick:
    rows.append(("xla", {"jit_compile": True}) if name == "dcgan"
                else ("float16", {"mixed_precision": "float16"}))
  return rows


def bench(data_dir, quick):
  """All measurements as a dict (docs/performance.md)."""
  result = {"machine": machine.machine(),
            "peak_gflops": {"float32": matmul_peak(tf.float32), "bfloat16": matmul_peak(tf.bfloat16)},
            "experiments": {}}
  native = result["machine"]["native"]
  for name, setting in CASES:
    config, _ = execution.resolve_precision(configs.get_config(name, setting, data_dir=data_dir))
    key = name if setting == "default" else f"{name} --setting=source"
    images = timing_images(config)
    generator, discriminator = models.build_models(config)
    flops = step_flops_per_image(generator, discriminator, config.d_steps,
                                 config.loss == "wasserstein_gp", config.g_steps)
    images_per_step = config.batch_size * config.d_steps
    # A shared machine drifts: the dense rows (seconds) alternate the plain loop and the default.
    runs = [("plain loop", None)] + variants(name, quick, config.mixed_precision)
    if name not in CONV:
      runs = runs[:2] + runs[:2] + runs[2:]
    else:   # the default and its float32 row alternate too: what auto buys is their ratio
      runs = runs[:3] + runs[1:3] + runs[3:]
    windows = {}
    for label, overrides in runs:
      emulated = overrides and not native.get(overrides.get("mixed_precision"), True)
      if name not in CONV:
        timing = dense_timing(images_per_step)
      elif emulated or overrides == {"jit_compile": True}:   # seconds per step: fewest steps
        timing = (1, 1, 2)
      else:
        timing = (2, 3, 3)
      if overrides is None:   # the tutorials' loop, in their float32
        rates = time_plain_loop(config.replace(mixed_precision="float32"), images, *timing)
      else:
        rates = time_fit(config.replace(**overrides), images, *timing)
      windows.setdefault(label, ([], timing, overrides))[0].extend(rates)
      keras.backend.clear_session()
    rows = {}
    for label, (rates, timing, overrides) in windows.items():
      seconds = statistics.median(rates)
      rows[label] = {"step_ms": 1e3 * seconds, "images_per_s": images_per_step / seconds,
                     "windows": len(rates), "steps_per_window": timing[1], "overrides": overrides}
    for row in rows.values():
      # flops is per batch element of a step, whose k real batches count as k * batch images.
      row["gflops"] = row["images_per_s"] / config.d_steps * flops / 1e9
      row["of_fp32_peak"] = row["gflops"] / result["peak_gflops"]["float32"]
      row["vs_plain_loop"] = row["images_per_s"] / rows["plain loop"]["images_per_s"]
    result["experiments"][key] = {
        "batch_size": config.batch_size, "d_steps": config.d_steps, "g_steps": config.g_steps,
        "loss": config.loss,
        "defaults": {"steps_per_execution": config.steps_per_execution,
                     "jit_compile": config.jit_compile, "mixed_precision": config.mixed_precision},
        "mflops_per_image_step": flops / 1e6, "input_images_per_s": time_input(config, images),
        "rows": rows}
    logging.info("%s: %s", key, {k: round(r["images_per_s"]) for k, r in rows.items()})
  if data.idx_dir(configs.get_config("mlp", data_dir=data_dir)):
    seconds, steps = time_to_first_step(data_dir)
    result["first_step"] = {"experiment": "mlp", "seconds": seconds, "steps": steps}
  return result


def markdown(result):
  """The result as bench.md's tables (docs/performance.md shows one)."""
  m, peak = result["machine"], result["peak_gflops"]
  yes = {True: "yes", False: "no"}
  lines = [f"TensorFlow {m['tensorflow']}, Keras {m['keras']}, {machine.describe(m)}; measured matmul peak "
           f"{peak['float32']:.0f} GFLOP/s fp32, {peak['bfloat16']:.0f} GFLOP/s bf16; native bf16: "
           f"{yes[m['native']['bfloat16']]}, native fp16: {yes[m['native']['float16']]}.", "",
           "| experiment (batch, loss, k[, G updates]) | variant | images/s | step ms | vs plain loop | "
           "GFLOP/s | of fp32 peak |", "|---|---|---:|---:|---:|---:|---:|"]
  for name, e in result["experiments"].items():
    for label, row in e["rows"].items():
      k = f"{e['d_steps']}" + (f", {e['g_steps']} G" if e.get("g_steps", 1) != 1 else "")
      if label == "default" and "defaults" in e:
        label = f"default ({e['defaults']['mixed_precision']})"
      lines.append(f"| {name} ({e['batch_size']}, {e.get('loss', '')}, {k}) | {label} | "
                   f"{row['images_per_s']:,.0f} | {row['step_ms']:.2f} | {row['vs_plain_loop']:.2f}x | "
                   f"{row['gflops']:.1f} | {100 * row['of_fp32_peak']:.0f}% |")
  lines += ["", "| experiment | MFLOP per batch element and step | most a step could gain over the plain "
            "loop (fp32 peak / plain loop) | input pipeline images/s | input vs fastest training |",
            "|---|---:|---:|---:|---:|"]
  for name, e in result["experiments"].items():
    fastest = max(r["images_per_s"] for r in e["rows"].values())
    ceiling = 1 / e["rows"]["plain loop"]["of_fp32_peak"]
    lines.append(f"| {name} | {e['mflops_per_image_step']:.1f} | {ceiling:.1f}x | "
                 f"{e['input_images_per_s']:,.0f} | {e['input_images_per_s'] / fastest:.0f}x |")
  first = result.get("first_step")
  if first:
    lines += ["", f"Start-up of `make train-mlp` (`python -m gan_tf.train --experiment=mlp`, full train "
              f"split): its first execution of {first['steps']} train steps ends {first['seconds']:.1f} s "
              "after the process starts (imports, data, tracing, XLA compile, then the steps)."]
  return "\n".join(lines) + "\n"


def write_report(out, stem, result, table):
  """<out>/<stem>.json (result) and <stem>.md (table, also printed)."""
  files.atomic_write(os.path.join(out, f"{stem}.json"), json.dumps(result, indent=2).encode())
  files.atomic_write(os.path.join(out, f"{stem}.md"), table.encode())
  print(table)


def main():
  f = flags.FLAGS
  result = bench(f.data_dir, f.quick)
  write_report(f.out, "bench", result, markdown(result))


if __name__ == "__main__":
  flags.DEFINE_string("data_dir", "", "Fashion-MNIST's IDX folder; default: Debian's, else random pixels.")
  flags.DEFINE_string("out", "runs/bench", "Folder for bench.md and bench.json.")
  flags.DEFINE_bool("quick", False, "Skip the slowest variants (16-bit precision and XLA on the conv nets).")
  run_main(main)
