"""The one-hidden-layer walk-through GAN. Run: `python -m gan_tf.train --experiment=mlp_small`.

Source: the introductory walk-through (G 100-128-784, D 784-128-1, LeakyReLU, binary cross-entropy, plain
SGD, batch 64, z ~ U(-1, 1)); it trains "until the loss has stabilised for both networks", which is the
optional plateau rule here (`--plateau_patience=N`).
"""
from gan_tf.config import Config


def get_config():
  return Config(
      # Speed (make bench): these nets are overhead-bound; 100 steps per execution and XLA fuse them.
      steps_per_execution=100,
      jit_compile=True,
      name="mlp_small",
      source="walk-through MLP GAN: G 128-784, D 128-1, LeakyReLU, BCE, plain SGD, batch 64, U(-1,1)",
      model="mlp_small",
      noise="uniform",
      loss="minimax",              # binary cross-entropy on both sides, as the walk-through writes it
      batch_size=64,
      epochs=50,
      d_optimizer="sgd", d_learning_rate=0.01,   # the walk-through names plain SGD; Keras's default rate
      g_optimizer="sgd", g_learning_rate=0.01,
      sample_every=5,
  )
