"""A PNG grid of samples from an exported generator, using only the SavedModel (no gan_tf model code).

Run: `python -m gan_tf.generate --model=runs/mlp-.../saved_model --n=64 --seed=0 --out=grid.png`
(or `make generate MODEL=...`). A SavedModel is a program: load one only from a source you trust.
"""
import json

import tensorflow as tf
from absl import flags

from gan_tf import export, images
from gan_tf.errors import run_main


def main():
  f = flags.FLAGS
  sample = export.load_sampler(f.model)
  pixels = sample(n=tf.constant(f.n, tf.int32), seed=tf.constant(f.seed, tf.int64))["images"].numpy()
  images.save_png(images.grid(pixels), f.out)
  print(json.dumps({"out": f.out, "n": int(pixels.shape[0]), "seed": f.seed}))


if __name__ == "__main__":
  flags.DEFINE_string("model", None, "SavedModel folder written by gan_tf.export.")
  flags.DEFINE_integer("n", 64, "How many images.", lower_bound=1, upper_bound=4096)
  flags.DEFINE_integer("seed", 0, "Seed of z: the same seed gives the same images.")
  flags.DEFINE_string("out", "grid.png", "PNG file to write.")
  run_main(main)
