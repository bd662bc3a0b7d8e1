"""Latent walks: the generator along paths between z's, as a PNG (one row per leg) and a GIF.

Run: `python -m gan_tf.interpolate --run=latest --seeds=0,1,2,3 --steps=12` (or `make interpolate`). The
path visits the z of each seed in turn, spherically for normal noise (z keeps a typical norm), linearly for
uniform noise (z stays in the cube); the files go into the run folder unless --out names another prefix.
"""
import json
import os

import numpy as np
from absl import flags

from gan_tf import images, rundir
from gan_tf.errors import UserError, run_main
from gan_tf.sampling import draw_z, to_uint8


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


def main():
  f = flags.FLAGS
  seeds = [int(s) for s in f.seeds]
  if len(seeds) < 2:
    raise UserError(f"--seeds={','.join(f.seeds)}: a walk needs at least two seeds, e.g. --seeds=0,1")
  run = rundir.find(f.run)
  config, generator = rundir.restore_generator(run)
  zs = [draw_z(1, config.latent_dim, config.noise, seed).numpy()[0] for seed in seeds]
  path = walk(zs, f.steps, config.noise)
  legs, points = path.shape[:2]
  pixels = to_uint8(generator(path.reshape(legs * points, -1), training=False)).numpy()
  out = f.out or os.path.join(run, f"interpolation-{'-'.join(map(str, seeds))}")
  images.save_png(images.grid(pixels, rows=legs), out + ".png")
  frames = [frame[..., 0] for i, frame in enumerate(pixels) if i < points or i % points]   # ends once
  images.save_gif(frames, out + ".gif", frame_ms=120, scale=4)
  print(json.dumps({"png": out + ".png", "gif": out + ".gif", "seeds": seeds, "steps": f.steps}))


if __name__ == "__main__":
  flags.DEFINE_string("run", "latest", "A run folder; 'latest': the newest under runs/.")
  flags.DEFINE_list("seeds", ["0", "1", "2", "3"], "The seeds whose z the walk visits, in order.")
  flags.DEFINE_integer("steps", 12, "Steps per leg between two z's.", lower_bound=1, upper_bound=100)
  flags.DEFINE_string("out", None, "Path prefix of the .png and .gif; default: <run>/interpolation-<seeds>.")
  run_main(main)
