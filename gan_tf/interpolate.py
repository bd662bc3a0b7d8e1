"""Latent walks: the generator along paths between z's, as a PNG (one row per leg) and a GIF.

Run: `python -m gan_tf.interpolate --run=latest --seeds=0,1,2,3 --steps=12` (or `make interpolate`): the
z of each seed in turn, spherically for normal noise (z keeps a typical norm), linearly for uniform (z stays
in the cube), into the run folder. A conditional model walks across classes at one z (`--labels=0,1,...`,
default all), or across the seeds' z at one class (`--labels=L`).
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import json
import os

import numpy as np
from absl import flags

from gan_tf import export, images, rundir
from gan_tf.errors import UserError, run_main
from gan_tf.sampling import draw_z, generate, to_uint8


def slerp(a, b, t):
  """The point at fraction t along the great-circle arc from a to b (norms interpolated linearly)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  na, nb = np.linalg.norm(a), np.linalg.norm(b)
  omega = np.arccos(np.clip(a @ b / (na * nb), -1.0, 1.0))
  if omega < 1e-6:
    return (1 - t) * a + t * b
  direction = (np.sin((1 - t) * omega) * a / na + np.sin(t * omega) * b / nb) / np.sin(omega)
  return ((1 - t) * na + t * nb) * direction


def walk(zs, steps, noise):
  """[len(zs) - 1, steps + 1, latent_dim]: each leg from one z to the next, both ends included."""
  ts = np.linspace(0.0, 1.0, steps + 1)
  step = slerp if noise == "normal" else (lambda a, b, t: (1 - t) * a + t * b)
  return np.array([[step(a, b, t) for t in ts] for a, b in zip(zs[:-1], zs[1:])], np.float32)


def path(config, seeds, labels, steps, seeds_given):
  """(z [legs, points, latent_dim], one-hot labels [legs, points, classes] or None, file name stem)."""
  zs = [draw_z(1, config.latent_dim, config.noise, seed).numpy()[0] for seed in seeds]
  if config.num_classes and len(labels) != 1:   # across classes at one z
    if len(seeds) > 1 and seeds_given:
      raise UserError(f"--seeds={','.join(map(str, seeds))}: a walk across classes holds one z; pass one "
                      "seed, or one --labels class to walk across the seeds' z")
    one_hot = np.eye(config.num_classes, dtype=np.float32)[labels]
    classes = walk(one_hot, steps, "uniform")   # linear blends of one-hot rows
    return (np.broadcast_to(zs[0], classes.shape[:2] + zs[0].shape), classes,
            f"interpolation-seed{seeds[0]}-labels-{'-'.join(map(str, labels))}")
  if len(seeds) < 2:
    raise UserError(f"--seeds={','.join(map(str, seeds))}: a walk needs at least two seeds, e.g. --seeds=0,1")
  points = walk(zs, steps, config.noise)
  if not config.num_classes:
    return points, None, f"interpolation-{'-'.join(map(str, seeds))}"
  classes = np.broadcast_to(np.eye(config.num_classes, dtype=np.float32)[labels[0]],
                            points.shape[:2] + (config.num_classes,))
  return points, classes, f"interpolation-{'-'.join(map(str, seeds))}-label{labels[0]}"


def main():
  f = flags.FLAGS
  seeds, labels = [int(s) for s in f.seeds], [int(l) for l in f.labels or []]
  run = rundir.find(f.run)
  config, generator = export.restore_generator(run)
  if labels and not config.num_classes:
    raise UserError(f"--labels={','.join(f.labels)}: {run} is unconditional; only a --conditional run "
                    "takes labels")
  bad = [l for l in labels if not 0 <= l < config.num_classes]
  if bad:
    raise UserError(f"--labels: {bad} outside this model's classes 0 to {config.num_classes - 1}")
  if config.num_classes and not labels:
    labels = list(range(config.num_classes))
  z, classes, stem = path(config, seeds, labels, f.steps, flags.FLAGS["seeds"].present)
  seeds = seeds[:1] if len(labels) > 1 else seeds   # a walk across classes holds the first seed's z
  legs, points = z.shape[:2]
  flat_classes = None if classes is None else classes.reshape(legs * points, -1)
  pixels = to_uint8(generate(generator, z.reshape(legs * points, -1), flat_classes)).numpy()
  out = f.out or os.path.join(run, stem)
  images.save_png(images.grid(pixels, rows=legs), out + ".png")
  frames = [frame[..., 0] for i, frame in enumerate(pixels) if i < points or i % points]   # ends once
  images.save_gif(frames, out + ".gif", frame_ms=120, scale=4)
  print(json.dumps({"png": out + ".png", "gif": out + ".gif", "seeds": seeds, "labels": labels,
                    "steps": f.steps}))


if __name__ == "__main__":
  flags.DEFINE_string("run", "latest", "A run folder; 'latest': the newest under runs/.")
  flags.DEFINE_list("seeds", ["0", "1", "2", "3"], "The seeds whose z the walk visits, in order.")
  flags.DEFINE_list("labels", None, "A conditional model's classes: two or more to walk across them at one "
                    "z, one to walk the seeds' z at that class; default all classes.")
  flags.DEFINE_integer("steps", 12, "Steps per leg between two z's.", lower_bound=1, upper_bound=100)
  flags.DEFINE_string("out", None, "Path prefix of the .png and .gif; default: <run>/interpolation-<seeds>.")
  run_main(main)
