"""The GAN as one keras.Model: Goodfellow et al.'s Algorithm 1 in train_step, trained with fit()."""
import functools

import keras
import numpy as np
import tensorflow as tf

from gan_tf import losses, models, optimizers, sampling
from gan_tf.config import SMOOTHABLE


# A conditional D's auxiliary class loss weights: docs/conditional.md says how they were chosen.
AC_D_WEIGHT = 1.0
AC_G_WEIGHT = 0.1


class GAN(keras.Model):
  """A generator and a discriminator trained against each other.

  Args:
    generator: keras.Model, z [B, latent_dim] -> images; conditional: [z, one-hot labels] -> images.
    discriminator: keras.Model, images -> one logit per image; conditional: [images, one-hot labels] ->
      [logits, class logits], the class logits trained as AC-GAN's auxiliary classifier.
    noise: "uniform" for z ~ U(-1, 1), "normal" for z ~ N(0, 1).
    seed: seed of the noise stream; its state is a variable, checkpointed with the model.
    g_ema: momentum of an exponential moving average of G's weights, kept in `g_average` (a copy of the
      generator) after every generator update; 0 keeps none. `sampler` is the network to sample from.

  Each train step takes d_steps real batches (the dataset yields them interleaved, [B * d_steps, ...]),
  makes d_steps discriminator updates, one per real batch with its own fake batch, then g_steps (one by
  default) generator updates, each with fresh z. A conditional GAN's data are (images, labels): each fake
  batch of a D update takes its real batch's labels, each G update labels drawn uniformly. Each half-step
  differentiates only its own network's trainable variables, so the other network never moves, while the
  generator's gradient still flows through the discriminator.
  """

  def __init__(self, generator, discriminator, noise="uniform", seed=0, g_ema=0.0, **kwargs):
    super().__init__(**kwargs)
    self.generator = generator
    self.discriminator = discriminator
    # Both networks are built: under a tf.distribute strategy fit() would otherwise build the GAN by
    # calling it on a batch of real images, which call() (z -> images) cannot take.
    self.built = True
    self.latent_dim = sampling.latent_size(generator)
    self.num_classes = sampling.num_classes(generator)   # 0: unconditional
    self.noise = noise
    self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
    # Train steps done, the run's clock: checkpoints, resume and summaries count in these.
    self.step = keras.Variable(0, dtype="int64", trainable=False, name="step",
                               aggregation="only_first_replica")
    # Averaging G's weights over its last ~1 / (1 - g_ema) updates (Yazici et al. 2019) smooths the game's
    # oscillation out of the samples. A model of its own, not Keras's optimizer EMA (private slots), so
    # that the grids, the evaluator and the export can call it.
    self.g_ema = g_ema
    self.g_average = None
    self._statistics_step = None   # the step at which g_average's BatchNorm statistics were recomputed
    if g_ema:
      self.g_average = keras.models.clone_model(generator)
      self.g_average.set_weights(generator.get_weights())
    self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
    self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
    # Mean D(x) and D(G(z)): probabilities under a cross-entropy loss, else D's raw scores (a critic's).
    self.d_real_tracker = keras.metrics.Mean(name="d_real")
    self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

  def compile(self, d_optimizer, g_optimizer, loss="non_saturating", d_steps=1, g_steps=1, gp_weight=10.0,
              label_smoothing=0.0, r1_weight=0.0, **kwargs):
    """Args: one optimizer per network (never shared); a losses.LOSSES name; k D updates and g_steps G
    updates per train step (each G update on fresh z, the weight average updated after each); the
    WGAN-GP weight (wasserstein_gp only); D's one-sided label smoothing (config.SMOOTHABLE only); the
    R1 weight gamma (any loss: D's loss gains gamma / 2 * E||grad_x D(x)||^2 on real x); kwargs
    (jit_compile, steps_per_execution, ...) go to keras.Model.compile. The values are checked where a
    Config is made (gan_tf.config)."""
    super().compile(optimizer=None, **kwargs)   # no third optimizer: each network has its own
    self.d_optimizer = d_optimizer
    self.g_optimizer = g_optimizer
    self.d_loss_fn, self.g_loss_fn = losses.LOSSES[loss]
    self.d_output = _mean_probability if loss in SMOOTHABLE else _mean_score
    if label_smoothing:
      self.d_loss_fn = functools.partial(self.d_loss_fn, label_smoothing=label_smoothing)
    self.d_steps, self.g_steps = d_steps, g_steps
    self.gp_weight = gp_weight if loss == "wasserstein_gp" else 0.0
    self.r1_weight = r1_weight

  def checkpoint(self):
    """A tf.train.Checkpoint of all a resume needs: networks, optimizers, weight average, noise, step."""
    # Layers' own RNG states (Dropout) are Keras variables that TF's object graph does not reach: list
    # them, or a resumed run would draw other dropout masks than an uninterrupted one.
    layer_seeds = [v for v in self.generator.variables + self.discriminator.variables
                   if v.path.endswith("seed_generator_state")]
    averaged = {"g_average": self.g_average} if self.g_average is not None else {}
    return tf.train.Checkpoint(generator=self.generator, discriminator=self.discriminator,
                               d_optimizer=self.d_optimizer, g_optimizer=self.g_optimizer,
                               noise_seed=self.seed_generator.state, layer_seeds=layer_seeds,
                               step=self.step, **averaged)

  @property
  def metrics(self):
    return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

  @property
  def sampler(self):
    """The generator to sample, evaluate and export: the weight average when there is one, else G. Call
    prepare_sampler() before sampling a weight average."""
    return self.generator if self.g_average is None else self.g_average

  def prepare_sampler(self):
    """sampler, a weight average's BatchNorm statistics first recomputed for its own weights (at most once
    a step): the ones it holds are G's, copied, and describe other weights."""
    if self.g_average is not None and self._statistics_step != int(self.step.numpy()):
      recompute_batchnorm(self.g_average, self.noise)
      self._statistics_step = int(self.step.numpy())
    return self.sampler

  def call(self, inputs, training=False):
    return self.generator(inputs, training=training)

  def sample_z(self, batch_size):
    """z for this replica's batch_size examples, its slice of the global batch's z."""
    return self._replica_slice(
        lambda n: sampling.draw_z(n, self.latent_dim, self.noise, self.seed_generator), batch_size)

  def sample_labels(self, batch_size):
    """One-hot labels for this replica's batch_size fakes, uniform over the classes (a slice as sample_z's)."""
    labels = self._replica_slice(
        lambda n: sampling.draw_labels(n, self.num_classes, self.seed_generator), batch_size)
    return tf.one_hot(labels, self.num_classes)

  def _replica_slice(self, draw, batch_size):
    """This replica's batch_size rows of draw(global batch size): every replica draws from the same seed
    state and keeps its slice, so a replicated step sees exactly one device's noise."""
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context else 1
    replica = context.replica_id_in_sync_group if context else 0
    return draw(batch_size * replicas)[replica * batch_size:(replica + 1) * batch_size]

  def train_step(self, data):
    k = self.d_steps
    images, labels = data if self.num_classes else (data, None)
    batch_size = tf.shape(images)[0] // k
    real = _split(images, k)   # [k, B, ...]
    real_labels = None if labels is None else tf.one_hot(_split(labels, k), self.num_classes)

    def discriminator_step(i, *_):
      loss, real_logits, fake_logits = self._discriminator_step(
          real[i], None if real_labels is None else real_labels[i])
      return i + 1, loss, self.d_output(real_logits), self.d_output(fake_logits)
    zero = tf.constant(0.0)
    state = (tf.constant(0), zero, zero, zero)   # (i, D loss, mean D(x), mean D(G(z)))
    if k == 1 or tf.distribute.has_strategy():
      # Unrolled: with k = 1 there is nothing to loop, and under a strategy the optimizers' cross-replica
      # sync (merge_call) cannot sit inside a while loop.
      for _ in range(k):
        state = discriminator_step(*state)
    else:
      # A loop, not k copies: the D step is traced and XLA-compiled once, for a faster start-up.
      state = tf.while_loop(lambda i, *_: i < k, discriminator_step, state)
    _, d_loss, d_real, d_fake = state
    for _ in range(self.g_steps):   # unrolled: g_steps is a small count
      g_loss = self._generator_step(batch_size)
      if self.g_average is not None:
        self._update_average()
    self.step.assign_add(1)
    for tracker, value in zip(self.metrics, (d_loss, g_loss, d_real, d_fake)):
      tracker.update_state(value)
    return _logs({m.name: m.result() for m in self.metrics})

  def _discriminator_step(self, real_images, labels=None):
    fake_images = self.generator(_inputs(self.sample_z(tf.shape(real_images)[0]), labels), training=True)
    with tf.GradientTape() as tape:
      if self.r1_weight:
        # One pass gives the real logits and R1's input gradient; with --minibatch_stddev that gradient
        # includes the batch statistic's share (StyleGAN pairs the two too).
        with tf.GradientTape() as r1_tape:
          r1_tape.watch(real_images)
          real_logits, real_classes = self._discriminate(real_images, labels)
        r1 = losses.r1_penalty(r1_tape.gradient(real_logits, real_images))
      else:
        real_logits, real_classes = self._discriminate(real_images, labels)
      fake_logits, _ = self._discriminate(fake_images, labels)
      loss = self.d_loss_fn(real_logits, fake_logits)
      if labels is not None:   # D learns the classes from real images only (Gulrajani et al.'s AC-WGAN-GP)
        loss += AC_D_WEIGHT * losses.class_loss(real_classes, labels)
      if self.r1_weight:
        loss += 0.5 * self.r1_weight * r1
      if self.gp_weight:
        loss += self.gp_weight * self._gradient_penalty(real_images, fake_images, labels)
      loss += _regularization(self.discriminator)
    self._apply(self.d_optimizer, tape, loss, self.discriminator.trainable_variables)
    return loss, real_logits, fake_logits

  def _generator_step(self, batch_size):
    labels = self.sample_labels(batch_size) if self.num_classes else None
    with tf.GradientTape() as tape:
      fake_images = self.generator(_inputs(self.sample_z(batch_size), labels), training=True)
      fake_logits, fake_classes = self._discriminate(fake_images, labels)
      loss = self.g_loss_fn(fake_logits) + _regularization(self.generator)
      if labels is not None:
        loss += AC_G_WEIGHT * losses.class_loss(fake_classes, labels)
    self._apply(self.g_optimizer, tape, loss, self.generator.trainable_variables)
    return loss

  def _discriminate(self, images, labels=None):
    """(logits [B, 1], class logits [B, classes] or None): D's training-mode outputs."""
    if labels is None:
      return self.discriminator(images, training=True), None
    return tuple(self.discriminator([images, labels], training=True))

  def _update_average(self):
    # tf.train.ExponentialMovingAverage's ramp, min(g_ema, (1 + t) / (10 + t)), so G's random initial weights
    # do not hold the first updates back. BatchNorm statistics are copied; prepare_sampler recomputes them.
    t = tf.cast(self.step, tf.float32)
    momentum = tf.minimum(self.g_ema, (1.0 + t) / (10.0 + t))
    for average, live in zip(self.g_average.trainable_variables, self.generator.trainable_variables):
      average.assign(momentum * average + (1.0 - momentum) * live)
    for average, live in zip(self.g_average.non_trainable_variables,
                             self.generator.non_trainable_variables):
      average.assign(live)

  def _gradient_penalty(self, real_images, fake_images, labels=None):
    eps = self._replica_slice(lambda n: keras.random.uniform([n, 1, 1, 1], seed=self.seed_generator),
                              tf.shape(real_images)[0])
    mixed = eps * tf.cast(real_images, fake_images.dtype) + (1.0 - eps) * fake_images
    with tf.GradientTape() as tape:
      tape.watch(mixed)
      critic, _ = self._discriminate(mixed, labels)
    return losses.gradient_penalty(tape.gradient(critic, mixed))

  def _apply(self, optimizer, tape, loss, variables):
    # Keras sums gradients over replicas: dividing the per-replica mean by the replica count makes the
    # sum the global-batch mean (tf.nn.compute_average_loss for equal per-replica batches).
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    with tape:
      scaled = optimizer.scale_loss(loss / replicas)   # the loss scale under float16, else unchanged
    optimizer.apply(tape.gradient(scaled, variables), variables)


def build_gan(config, steps_per_epoch=None):
  """config's compiled GAN, its optimizers built so that a restore fills their slots."""
  generator, discriminator = models.build_models(config)
  gan = GAN(generator, discriminator, noise=config.noise, seed=config.seed, g_ema=config.g_ema)
  d_optimizer = optimizers.make_optimizer(config, "d", steps_per_epoch)
  g_optimizer = optimizers.make_optimizer(config, "g", steps_per_epoch)
  d_optimizer.build(discriminator.trainable_variables)
  g_optimizer.build(generator.trainable_variables)
  gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, loss=config.loss,
              d_steps=config.d_steps, g_steps=config.g_steps, gp_weight=config.gp_weight,
              label_smoothing=config.label_smoothing, r1_weight=config.r1_weight,
              jit_compile=config.jit_compile, steps_per_execution=config.steps_per_execution)
  return gan


def recompute_batchnorm(generator, noise, n=5000, batch_size=500, seed=0):
  """Sets each BatchNorm layer's moving statistics to those of its inputs over n z, layer by layer (SWA's
  update_bn, Izmailov et al. 2018): a weight average's copied ones describe another network (SCANS.md)."""
  for layer in generator.layers:
    if not isinstance(layer, keras.layers.BatchNormalization):
      continue
    upstream = keras.Model(generator.inputs, layer.input)
    classes = sampling.num_classes(generator)
    total, total_sq, count = 0.0, 0.0, 0
    for size, chunk_seed in sampling.chunks(n, seed, batch_size):
      z = sampling.draw_z(size, sampling.latent_size(generator), noise, chunk_seed)
      labels = sampling.chunk_labels(size, classes, chunk_seed)
      x = upstream(sampling.generator_inputs(generator, z, labels), training=False).numpy().astype(np.float64)
      x = x.reshape(-1, x.shape[-1])
      total, total_sq, count = total + x.sum(0), total_sq + (x * x).sum(0), count + len(x)
    mean = total / count
    layer.moving_mean.assign(mean.astype(np.float32))
    layer.moving_variance.assign(np.maximum(total_sq / count - mean * mean, 0.0).astype(np.float32))


def _split(rows, k):
  """[k * B, ...] -> [k, B, ...]: the i-th D update takes rows i, i + k, i + 2k, ...; a replica's contiguous
  share of the rows then holds its share of every D batch, so a replicated step sees one device's batches."""
  batch_size = tf.shape(rows)[0] // k
  split = tf.reshape(rows, tf.concat([[batch_size, k], tf.shape(rows)[1:]], 0))
  return tf.transpose(split, [1, 0] + list(range(2, len(rows.shape) + 1)))


def _inputs(x, labels):
  """A network's input: x alone, or [x, one-hot labels] for a conditional one."""
  return x if labels is None else [x, labels]


def _logs(values):
  """train_step's logs; across workers, each with a leading axis of 1 (see below)."""
  strategy = tf.distribute.get_strategy()
  if (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
      and strategy.num_replicas_in_sync > len(strategy.extended.worker_devices)):
    # Keras 3 reduces multi-worker logs with strategy.reduce("MEAN", value, axis=0), which fails on
    # scalars (tensorflow/tensorflow#72388); with the axis it is the mean over all replicas.
    return {name: value[None] for name, value in values.items()}
  return values


def _mean_score(logits):
  """Mean raw output of D over the batch, in float32 (a critic's score, or least squares' target scale)."""
  return tf.reduce_mean(tf.cast(logits, tf.float32))


def _mean_probability(logits):
  """Mean sigmoid(logit) over the batch, in float32: mean D(x) or D(G(z)) as a probability."""
  return tf.reduce_mean(tf.sigmoid(tf.cast(logits, tf.float32)))


def _regularization(model):
  """Sum of the model's layer regularization losses (none in the sources' networks), in float32."""
  return tf.add_n([tf.cast(x, tf.float32) for x in model.losses]) if model.losses else 0.0
