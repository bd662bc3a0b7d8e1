"""A PNG grid of samples from an exported generator, using only the SavedModel (no gan_tf model code).

Run: `python -m gan_tf.generate --model=runs/mlp-...|latest --n=64 --seed=0 [--label=3 --out=PNG]` (or
`make generate`); the grid goes beside the SavedModel. Load a SavedModel only from a source you trust.
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import json
import os

import tensorflow as tf
from absl import flags

from gan_tf import export, images, rundir
from gan_tf.errors import run_main


def main():
  f = flags.FLAGS
  model = rundir.find(f.model)
  if os.path.isdir(os.path.join(model, rundir.EXPORT_DIR)):   # a run folder: its SavedModel
    model = os.path.join(model, rundir.EXPORT_DIR)
  sample = export.load_sampler(model, f.label)
  pixels = sample(n=tf.constant(f.n, tf.int32), seed=tf.constant(f.seed, tf.int64))["images"].numpy()
  label = "" if f.label is None else f"-label{f.label}"
  out = f.out or os.path.join(os.path.dirname(os.path.abspath(model)),
                              f"generated-n{f.n}-seed{f.seed}{label}.png")
  images.save_png(images.grid(pixels), out)
  print(json.dumps({"out": out, "n": int(pixels.shape[0]), "seed": f.seed, "label": f.label}))


if __name__ == "__main__":
  flags.DEFINE_string("model", "latest", "A SavedModel written by gan_tf.export, or a run folder; 'latest': "
                      "the newest run under runs/.")
  flags.DEFINE_integer("n", 64, "How many images.", lower_bound=1, upper_bound=4096)
  flags.DEFINE_integer("seed", 0, "Seed of z: the same seed gives the same images.")
  flags.DEFINE_integer("label", None, "A conditional model's class to draw (default: classes drawn "
                       "uniformly).", lower_bound=0)
  flags.DEFINE_string("out", None, "PNG file to write; default: beside the SavedModel, in its run folder.")
  run_main(main)
