"""The Keras convolutional GAN (Conv2D + UpSampling2D). Run: `make train-dcgan`.

Source: the article's Keras DCGAN. G: Dense 1024 -> Dense 128*7*7 -> Reshape -> UpSampling2D ->
Conv2D 64 5x5 -> UpSampling2D -> Conv2D 1 5x5 tanh. D: Conv2D 64 5x5 -> MaxPool -> Conv2D 128 5x5 ->
MaxPool -> Flatten -> Dense 1024 -> Dense 1. The program it describes used SGD lr 5e-4 with Nesterov
momentum 0.9 and batch 128 for both networks.
Expect: on Fashion-MNIST, 20 epochs, all 10 classes; the figures are experiments/RESULTS.md's row
dcgan-fashion-20-default, with its command.
"""
from gan_tf.config import Config


def get_config():
  return Config(
      name="dcgan",
      source="Keras Conv2D/UpSampling2D DCGAN: SGD 5e-4 Nesterov 0.9, batch 128, U(-1,1)",
      model="dcgan",
      noise="uniform",
      # the program's tanh, not the article's ReLU (--activation=relu), where D wins at once (SCANS.md: tanh)
      activation="tanh",
      g_batchnorm=True,            # the program's one BatchNorm after Dense(128*7*7)
      loss="non_saturating",       # the program's generator loss; --loss=minimax is the article's J_G = -J_D
      # batch 64, not the program's 128: twice the G updates in the same epochs (SCANS.md: Adam at twice)
      batch_size=64,
      epochs=20,
      # Radford et al.'s DCGAN Adam, not the program's SGD, which drops classes (SCANS.md: Nesterov momentum);
      # at twice their rate, as dcgan_tutorial's: each G update moves further (SCANS.md: Adam at twice)
      d_optimizer="adam", d_learning_rate=4e-4, d_beta_1=0.5,
      g_optimizer="adam", g_learning_rate=4e-4, g_beta_1=0.5,
      # one-sided label smoothing (Salimans et al. 2016) against a D winning more each epoch (SCANS.md: D(x))
      label_smoothing=0.1,
      # mlp's weight average, its BatchNorm statistics recomputed for it (SCANS.md: update_bn)
      g_ema=0.999,
      # minibatch stddev (Karras et al. 2018): D sees the batch's spread, against collapse (SCANS.md: Karras)
      minibatch_stddev=True,
      sample_every=1,
      # 16-bit matmuls where the hardware runs them natively, float32 elsewhere: faster on native-bf16
      # CPUs at the same score (make bench; SCANS.md: bfloat16 against float32)
      mixed_precision="auto",
  )


# The program's own optimizer and batch (`python -m gan_tf.train --experiment=dcgan --setting=source`).
SOURCE = dict(batch_size=128, d_optimizer="sgd", d_learning_rate=5e-4, d_momentum=0.9, d_nesterov=True,
              g_optimizer="sgd", g_learning_rate=5e-4, g_momentum=0.9, g_nesterov=True,
              label_smoothing=0.0, g_ema=0.0, minibatch_stddev=False)
