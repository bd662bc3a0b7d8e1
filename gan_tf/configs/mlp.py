"""The TF1 tutorial's dense GAN. Run: `make train-mlp` (or `python -m gan_tf.train --experiment=mlp`).

Source: the classic TensorFlow 1 GAN tutorial (G 100-256-512-784, D 784-256-128-1, Adam 1e-4 for both,
z ~ U(-1, 1), non-saturating generator loss in its final form; samples every 10 epochs).
Expect: on Fashion-MNIST, 50 epochs, all 10 classes; the figures are experiments/RESULTS.md's row
mlp-fashion-50-default, with its command; on Stacked MNIST's 1,000 modes, RESULTS.md's row
mlp-stacked-50-default beside PacGAN's table.
"""
from gan_tf.config import Config


def get_config():
  return Config(
      # fastest measured settings (make bench)
      steps_per_execution=100,
      jit_compile=True,
      # float32, not auto: bfloat16 is slower for these small matmuls even on native-bf16 CPUs (make bench)
      mixed_precision="float32",
      name="mlp",
      source="TF1 tutorial dense GAN: G 256-512-784, D 256-128-1, Adam 1e-4, U(-1,1), non-saturating",
      model="mlp",
      noise="uniform",
      batch_size=128,
      epochs=50,
      # WGAN-GP (Gulrajani et al.): its critic pulls G to every mode; the source's loss collapses (RESULTS.md)
      # k = 2 critic steps, not their 5: more G updates in the same epochs (SCANS.md: Critic steps)
      loss="wasserstein_gp", d_steps=2,
      # Adam, WGAN-GP's beta_1 = 0, at 10x their rate: 50 epochs at theirs leave G short (SCANS.md: Adam 1e-3)
      d_optimizer="adam", d_learning_rate=1e-3, d_beta_1=0.0,
      g_optimizer="adam", g_learning_rate=1e-3, g_beta_1=0.0,
      # G's weight average (Yazici et al. 2019) samples, scores, exports: G oscillates (SCANS.md: --g_ema)
      g_ema=0.999,
      sample_every=10,                                        # the tutorial samples every 10 epochs
  )


# The tutorial's own training setting (`python -m gan_tf.train --experiment=mlp --setting=source`).
SOURCE = dict(loss="non_saturating", d_steps=1, d_learning_rate=1e-4, g_learning_rate=1e-4,
              d_beta_1=0.9, g_beta_1=0.9, g_ema=0.0)
