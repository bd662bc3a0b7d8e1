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
      batch_size=128,              # the tutorial uses 256; 128 keeps the step count of the other convnet
      epochs=30,
      d_optimizer="adam", d_learning_rate=1e-4, d_beta_1=0.9,
      g_optimizer="adam", g_learning_rate=1e-4, g_beta_1=0.9,
      sample_every=1,
  )
