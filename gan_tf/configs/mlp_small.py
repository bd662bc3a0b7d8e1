"""The one-hidden-layer walk-through GAN. Run: `make train-mlp-small`.

Source: the introductory walk-through (G 100-128-784, D 784-128-1, LeakyReLU, binary cross-entropy, plain
SGD, batch 64, z ~ U(-1, 1)); it trains "until the loss has stabilised for both networks", which is the
optional plateau rule here (`--plateau_patience=N`).
Expect: on Fashion-MNIST, 50 epochs, all 10 classes; the figures are experiments/RESULTS.md's row
mlp_small-fashion-50-default, with its command.
"""
from gan_tf.configs import mlp


def get_config():
  # mlp's training, not the walk-through's BCE with plain SGD (SOURCE), for mlp's reasons (gan_tf/configs/mlp.py)
  return mlp.get_config().replace(
      name="mlp_small",
      source="walk-through MLP GAN: G 128-784, D 128-1, LeakyReLU, BCE, plain SGD, batch 64, U(-1,1)",
      model="mlp_small",
      batch_size=64,
      # k = 1 critic step, not WGAN-GP's 5: more G updates in the same epochs (SCANS.md: Critic steps)
      d_steps=1,
      # 2 G updates a step (carpedm20's DCGAN-tensorflow): more updates; 3 lost classes (SCANS.md: --g_steps)
      g_steps=2,
      # penalty weight 1, not WGAN-GP's 10 (Kurach et al. 2019 vary it): higher score (SCANS.md: --gp_weight)
      gp_weight=1.0,
      sample_every=5,
  )


# The walk-through's own setting (`--setting=source`): BCE, plain SGD at Keras's default rate (it gives none).
SOURCE = dict(loss="minimax", d_steps=1, g_steps=1, d_optimizer="sgd", g_optimizer="sgd",
              d_learning_rate=0.01, g_learning_rate=0.01, g_ema=0.0)
