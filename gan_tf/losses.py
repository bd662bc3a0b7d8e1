"""GAN losses as pure functions of logits, one contract: f(real_logits, fake_logits) for D, f(fake_logits)
for G, each returning the mean over the batch as a float32 scalar.

Logits, not probabilities: log(sigmoid(x)) = -softplus(-x) is exact where log(D(x)) underflows.
"""
import tensorflow as tf


def _f32(x):
  return tf.cast(x, tf.float32)


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
  """-log D(x) - log(1 - D(G(z))): binary cross-entropy with real=1, fake=0.

  label_smoothing = s makes the real target 1 - s (one-sided label smoothing, Salimans et al. 2016): the
  real term becomes -(1 - s) log D(x) - s log(1 - D(x)), so D gains nothing past D(x) = 1 - s.
  """
  real = _f32(real_logits)
  real_term = tf.nn.softplus(-real)
  if label_smoothing:
    real_term = (1.0 - label_smoothing) * real_term + label_smoothing * tf.nn.softplus(real)
  return tf.reduce_mean(real_term) + tf.reduce_mean(tf.nn.softplus(_f32(fake_logits)))


def minimax_generator_loss(fake_logits):
  """log(1 - D(G(z))), minimised: the saturating game value of Goodfellow et al. (J_G = -J_D)."""
  return -tf.reduce_mean(tf.nn.softplus(_f32(fake_logits)))


def non_saturating_generator_loss(fake_logits):
  """-log D(G(z)): the same fixed point, but strong gradients while D rejects the fakes."""
  return tf.reduce_mean(tf.nn.softplus(-_f32(fake_logits)))


def least_squares_discriminator_loss(real_logits, fake_logits):
  """LSGAN (Mao et al.): 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2] on the raw outputs."""
  return 0.5 * (tf.reduce_mean(tf.square(_f32(real_logits) - 1.0)) +
                tf.reduce_mean(tf.square(_f32(fake_logits))))


def least_squares_generator_loss(fake_logits):
  """LSGAN: 1/2 E[(D(G(z)) - 1)^2]."""
  return 0.5 * tf.reduce_mean(tf.square(_f32(fake_logits) - 1.0))


def hinge_discriminator_loss(real_logits, fake_logits):
  """Hinge (Lim & Ye; SAGAN): E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
  return (tf.reduce_mean(tf.nn.relu(1.0 - _f32(real_logits))) +
          tf.reduce_mean(tf.nn.relu(1.0 + _f32(fake_logits))))


def wasserstein_discriminator_loss(real_logits, fake_logits):
  """WGAN critic: E[D(G(z))] - E[D(x)]; the gradient penalty is added by the train step."""
  return tf.reduce_mean(_f32(fake_logits)) - tf.reduce_mean(_f32(real_logits))


def wasserstein_generator_loss(fake_logits):
  """WGAN generator (also hinge's): -E[D(G(z))]."""
  return -tf.reduce_mean(_f32(fake_logits))


def gradient_penalty(critic_gradients):
  """WGAN-GP (Gulrajani et al.): E[(||grad D(x_hat)||_2 - 1)^2] over per-example gradients."""
  g = tf.reshape(_f32(critic_gradients), [tf.shape(critic_gradients)[0], -1])
  return tf.reduce_mean(tf.square(tf.norm(g, axis=1) - 1.0))


def r1_penalty(real_gradients):
  """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] over real images; the train step weighs it by
  r1_weight / 2, as the paper's gamma / 2."""
  g = tf.reshape(_f32(real_gradients), [tf.shape(real_gradients)[0], -1])
  return tf.reduce_mean(tf.reduce_sum(tf.square(g), axis=1))


def class_loss(class_logits, labels):
  """AC-GAN's auxiliary term (Odena et al. 2017): softmax cross-entropy of class logits against one-hot
  labels, the mean over the batch."""
  return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(_f32(labels), _f32(class_logits)))


# name -> (discriminator loss, generator loss)
LOSSES = {
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "non_saturating": (minimax_discriminator_loss, non_saturating_generator_loss),
    "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
    "hinge": (hinge_discriminator_loss, wasserstein_generator_loss),
    "wasserstein_gp": (wasserstein_discriminator_loss, wasserstein_generator_loss),
}
