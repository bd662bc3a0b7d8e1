"""The TensorFlow DCGAN tutorial's model, the modern baseline. Run: `make train-dcgan-tutorial`.

Source: tensorflow.org DCGAN tutorial (G: Dense 7*7*256 + BN + LeakyReLU, Conv2DTranspose 128/64/1;
D: stride-2 Conv2D 64/128 + LeakyReLU + Dropout 0.3; Adam 1e-4 for both; z ~ N(0, 1); batch 256 there,
non-saturating BCE loss).
Expect: on MNIST's first 8,000 test digits, 30 epochs, all 10 classes; the figures are
experiments/RESULTS.md's row dcgan_tutorial-mnist-30-default, with its command; on Stacked MNIST,
the row dcgan_tutorial-stacked-2-default.
"""
from gan_tf.config import Config


def get_config():
  return Config(
      name="dcgan_tutorial",
      source="TF DCGAN tutorial: Conv2DTranspose G, strided-conv D with dropout, Adam 1e-4, N(0,1)",
      model="dcgan_tutorial",
      noise="normal",
      loss="non_saturating",
      # batch 32, not 128 (SOURCE): four times the G updates in the same epochs (SCANS.md: --batch_size=32)
      batch_size=32,
      epochs=30,
      # Radford et al.'s DCGAN Adam, beta_1 0.5: 0.9 "resulted in training oscillation and instability";
      # twice their rate, 4e-4: each G update moves further in the same epochs (SCANS.md: both rates 4e-4)
      d_optimizer="adam", d_learning_rate=4e-4, d_beta_1=0.5,
      g_optimizer="adam", g_learning_rate=4e-4, g_beta_1=0.5,
      # mlp's weight average (gan_tf/configs/mlp.py), its BatchNorm statistics recomputed (SCANS.md: update_bn)
      g_ema=0.999,
      sample_every=1,
      # 16-bit matmuls where the hardware runs them natively, float32 elsewhere: faster on native-bf16
      # CPUs at the same score (make bench; SCANS.md: bfloat16 against float32)
      mixed_precision="auto",
  )


# The tutorial's optimizer (`--setting=source`), at batch 128 (the tutorial's is 256: --batch_size=256).
SOURCE = dict(batch_size=128, d_learning_rate=1e-4, g_learning_rate=1e-4, d_beta_1=0.9, g_beta_1=0.9,
              g_ema=0.0)
