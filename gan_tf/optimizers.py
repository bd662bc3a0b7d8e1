"""One optimizer per network, built from its config fields (d_* or g_*), never shared."""
import keras


def make_optimizer(config, prefix, steps_per_epoch=None):
  """The d_ or g_ optimizer (float16: in its own LossScaleOptimizer). lr_decay "linear" takes the rate to 0
  over the run's updates of that network, counted by the optimizer's checkpointed iterations."""
  def field(name):
    return getattr(config, f"{prefix}_{name}")
  learning_rate = field("learning_rate")
  if config.lr_decay == "linear":
    if not steps_per_epoch:
      raise ValueError("lr_decay='linear' needs steps_per_epoch to know the run's length")
    updates = config.epochs * steps_per_epoch * field("steps")
    learning_rate = keras.optimizers.schedules.PolynomialDecay(learning_rate, max(updates, 1),
                                                               end_learning_rate=0.0, power=1.0)
  if field("optimizer") == "adam":
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=field("beta_1"), name=f"{prefix}_adam")
  else:
    optimizer = keras.optimizers.SGD(learning_rate, momentum=field("momentum"),
                                     nesterov=field("nesterov"), name=f"{prefix}_sgd")
  if config.mixed_precision == "float16":
    optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{prefix}_loss_scale")
  return optimizer
