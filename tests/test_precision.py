"""Precision: --mixed_precision=auto follows the hardware (detection simulated), records its choice and keeps
it on resume; a float16 step with WGAN-GP's second backward pass matches float32."""
import json
import logging
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import smoke
from gan_tf.configs import get_config
from gan_tf import execution, rundir, train
from gan_tf.gan import build_gan

AVX2 = "flags : fpu sse2 avx avx2 fma"


@pytest.mark.parametrize("strategy,cpuinfo,gpus,expected,why", [
    ("default", AVX2, [], "float32", "a CPU without native bf16 units"),
    ("default", AVX2 + " avx512f avx512_bf16", [], "bfloat16", "native bf16 units (avx512_bf16)"),
    ("default", AVX2 + " amx_tile amx_bf16", [], "bfloat16", "native bf16 units (amx_bf16)"),
    ("mirrored", AVX2, [(8, 0), (7, 5)], "float16", "compute capability 7.5 (tensor cores from 7.0)"),
    ("default", AVX2 + " amx_bf16", [(6, 1)], "float32", "compute capability 6.1, without tensor cores"),
    ("tpu", AVX2, [], "bfloat16", "a TPU"),
])
def test_auto_precision_follows_the_hardware(strategy, cpuinfo, gpus, expected, why):
  precision, reason = execution.choose_precision(strategy, cpuinfo, gpus)
  assert precision == expected and why in reason


@pytest.mark.parametrize("name,cpuinfo,expected", [
    ("dcgan", AVX2, "float32"), ("dcgan", AVX2 + " amx_bf16", "bfloat16"),
    ("dcgan_tutorial", AVX2, "float32"), ("dcgan_tutorial", AVX2 + " avx512_bf16", "bfloat16"),
    ("mlp", AVX2 + " amx_bf16", "float32"), ("mlp_small", AVX2 + " amx_bf16", "float32")])
def test_conv_experiments_default_to_auto_and_dense_ones_to_float32(name, cpuinfo, expected, monkeypatch):
  monkeypatch.setattr(execution, "cpuinfo_text", lambda: cpuinfo)
  for conditional in (False, True):
    config = get_config(name, conditional=conditional)
    assert config.mixed_precision == ("auto" if name.startswith("dcgan") else "float32")
    assert execution.resolve_precision(config)[0].mixed_precision == expected


def test_a_set_precision_is_kept_and_auto_is_resolved_before_anything_is_built():
  assert execution.resolve_precision(smoke(mixed_precision="bfloat16")) == (smoke(mixed_precision="bfloat16"),
                                                                             "as set")
  with pytest.raises(ValueError, match="resolve_precision"):
    execution.setup(smoke(mixed_precision="auto"))


@pytest.fixture
def float32_after():
  yield
  keras.mixed_precision.set_global_policy("float32")


def test_auto_is_logged_recorded_in_config_json_and_kept_on_resume(smoke_config, tmp_path, monkeypatch,
                                                                     caplog, float32_after):
  workdir = str(tmp_path / "run")
  config = smoke_config.replace(mixed_precision="auto", epochs=1)
  monkeypatch.setattr(execution, "cpuinfo_text", lambda: AVX2)
  with caplog.at_level(logging.INFO, logger="absl"):
    train.run(config, workdir)
  assert "precision=float32 (a CPU without native bf16 units" in caplog.text
  assert rundir.saved_config(workdir).mixed_precision == "float32"
  # The same run continued where bf16 is native: it keeps its recorded choice.
  monkeypatch.setattr(execution, "cpuinfo_text", lambda: AVX2 + " amx_bf16")
  caplog.clear()
  with caplog.at_level(logging.INFO, logger="absl"):
    gan = train.run(config.replace(epochs=2), workdir)
  assert "precision=float32 (kept from the run being resumed)" in caplog.text
  assert int(gan.step.numpy()) == 2 * 6 and rundir.saved_config(workdir).mixed_precision == "float32"
  fresh = str(tmp_path / "fresh")
  train.run(config, fresh)   # a new run there chooses bfloat16
  with open(os.path.join(fresh, rundir.CONFIG_FILE)) as f:
    assert json.load(f)["mixed_precision"] == "bfloat16"


def test_a_float16_checkpoint_cannot_resume_in_another_precision(smoke_config, tmp_path, float32_after):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(mixed_precision="float16", epochs=1), workdir)
  with pytest.raises(rundir.ResumeError, match="float16 keeps a loss scale in its optimizers"):
    train.run(smoke_config.replace(epochs=2), workdir)


def test_a_float16_step_with_the_gradient_penalty_matches_float32(float32_after):
  """The D update of WGAN-GP, whose penalty differentiates D's input gradient, in mixed float16 with loss
  scaling: SGD at rate 1 makes the weight change the gradient, finite and within float16's precision of
  the float32 step's from the same weights, batch and noise."""
  config = smoke(model="mlp_small", latent_dim=8, loss="wasserstein_gp", d_optimizer="sgd",
                 d_learning_rate=1.0)
  real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)), tf.float32)
  deltas = {}
  for precision in ("float32", "float16"):
    execution.setup(config.replace(mixed_precision=precision))
    gan = build_gan(config.replace(mixed_precision=precision))
    if precision == "float32":
      weights, state = gan.discriminator.get_weights(), gan.seed_generator.state.numpy()
      g_weights = gan.generator.get_weights()
    else:
      gan.discriminator.set_weights(weights)
      gan.generator.set_weights(g_weights)
      gan.seed_generator.state.assign(state)
      scale = float(gan.d_optimizer.dynamic_scale)
      assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer) and scale > 1
    gan._discriminator_step(real)
    deltas[precision] = [w - v for w, v in zip(weights, gan.discriminator.get_weights())]
  assert float(gan.d_optimizer.dynamic_scale) == scale   # no overflow: the scaled step was applied
  for d16, d32 in zip(deltas["float16"], deltas["float32"]):
    assert np.isfinite(d16).all()
    np.testing.assert_allclose(d16, d32, atol=2e-2 * np.abs(d32).max() + 1e-6)
  total = sum(np.abs(d).sum() for d in deltas["float32"])
  assert total > 1.0   # the step moved D: equal deltas mean something
