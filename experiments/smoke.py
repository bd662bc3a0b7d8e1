"""A tiny config for the tests: the real path (data -> fit -> callbacks -> export) in seconds."""
from gan_tf.config import Config


def get_config():
  return Config(
      name="smoke",
      source="tests only",
      model="mlp_small",
      batch_size=16,
      epochs=2,
      sample_every=1,
      sample_grid=2,
      checkpoint_every=5,
      log_every=2,
      seed=0,
  )
