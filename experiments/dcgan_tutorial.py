"""The TensorFlow DCGAN tutorial's model, the modern baseline.
Run: `python -m gan_tf.train --experiment=dcgan_tutorial`.

Source: tensorflow.org DCGAN tutorial (G: Dense 7*7*256 + BN + LeakyReLU, Conv2DTranspose 128/64/1;
D: stride-2 Conv2D 64/128 + LeakyReLU + Dropout 0.3; Adam 1e-4 for both; z ~ N(0, 1); batch 256 there,
non-saturating BCE loss).
"""
from gan_tf.config import Config


def get_config():
  return Config(
      name="dcgan_tutorial",
      source="TF DCGAN tutorial: Conv2DTranspose G, strided-conv D with dropout, Adam 1e-4, N(0,1)",
      model="dcgan_tutorial",
      noise="normal",
      loss="non_saturating",
      # Not the tutorial's setting (SOURCE below, `--setting=source`): 30 epochs of it on MNIST's 8,000
      # first test digits drew 9 classes (score 4.05 against 6.82) on an AVX-512 machine, 6 on AVX2 ones
      # (2.98 in experiments/RESULTS.md, retrained 2026-11-27). Radford et al.'s DCGAN optimizer,
      # Adam 2e-4 with beta_1 0.5 (beta_1 0.9 "resulted in training oscillation and instability"), and
      # batch 32: four times the updates of batch 128 in the same epochs, in about the same wall time. At
      # Adam 4e-4 (below) batch 32 scored 7.53 and 7.58 (FD 11.1, 10.7) against batch 64's 7.38 and 7.53
      # (FD 12.0, 11.4) over two seeds (--seed=0/1, n = 10,000; SCANS.md); at 2e-4, 7.23 against
      # 7.14 (AVX2 machine, one seed).
      batch_size=32,
      epochs=30,
      # Twice their rate, 4e-4 for both: in 30 epochs of 8,000 digits at batch 64 (3,750 updates) it scored
      # 7.38 and 7.53 against 2e-4's 7.19 and 7.28 over two seeds (--seed=0/1, n = 10,000; SCANS.md), where a
      # faster D alone (4e-4 against G's 1e-4) scored 6.92.
      d_optimizer="adam", d_learning_rate=4e-4, d_beta_1=0.5,
      g_optimizer="adam", g_learning_rate=4e-4, g_beta_1=0.5,
      # The weight average of experiments/mlp.py, BatchNorm statistics recomputed for the average: at batch
      # 64 and Adam 2e-4, 7.19 against the live weights' 6.82 (FD 13.9 against 16.0), at 4e-4 7.38 against
      # 7.29; experiments/RESULTS.md has both scores of the default row.
      g_ema=0.999,
      sample_every=1,
  )


# The tutorial's optimizer (`--setting=source`), at batch 128 (the tutorial's is 256: --batch_size=256).
SOURCE = dict(batch_size=128, d_learning_rate=1e-4, g_learning_rate=1e-4, d_beta_1=0.9, g_beta_1=0.9,
              g_ema=0.0)
