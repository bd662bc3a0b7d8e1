"""TensorBoard events read back, crash-safe checkpoints (real SIGKILLs), exact and deterministic resume."""
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator
from tensorflow.python.framework import config as tf_config

from conftest import REPO, smoke, write_config
from gan_tf import execution, rundir, train

STEP_TAGS = {"d_loss", "g_loss", "d_real", "d_fake", "images_per_second", "learning_rate/d",
             "learning_rate/g"}


def events(folder):
  accumulator = event_accumulator.EventAccumulator(folder, size_guidance={"tensors": 0, "images": 0})
  accumulator.Reload()
  return accumulator


def steps(accumulator, tag):
  return [e.step for e in accumulator.Tensors(tag)]


def test_tensorboard_scalars_and_images_at_global_steps(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1), workdir)       # 6 steps, then resume for 6 more
  train.run(smoke_config.replace(epochs=2), workdir)
  gan_events = events(os.path.join(workdir, "gan"))
  tags = set(gan_events.Tags()["tensors"])
  assert STEP_TAGS | {"epoch_images_per_second", "samples"} <= tags
  for tag in STEP_TAGS:   # log_every=2: steps 2, 4, 6, then the resumed run continues at 8
    assert steps(gan_events, tag) == [2, 4, 6, 8, 10, 12], tag
  assert steps(gan_events, "epoch_images_per_second") == [1, 2]
  assert steps(gan_events, "samples") == [0, 1, 2]
  image = gan_events.Tensors("samples")[-1].tensor_proto
  width, height = (int(x) for x in tf.make_ndarray(image)[:2])
  assert (width, height) == (2 * 30 + 2, 2 * 30 + 2)        # the 2x2 grid, unscaled
  epoch_events = events(os.path.join(workdir, "train"))
  for tag in ("epoch_d_loss", "epoch_g_loss", "epoch_d_real", "epoch_d_fake"):
    assert steps(epoch_events, tag) == [0, 1]


def _train_process(workdir, idx_dir, epochs):
  write_config(workdir, smoke(data_dir=idx_dir, epochs=epochs, sample_every=1000, checkpoint_every=3))
  args = [sys.executable, "-m", "gan_tf.train", f"--workdir={workdir}"]
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)


def _latest_step(workdir):
  latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
  return int(latest.rsplit("-", 1)[1]) if latest else 0


def test_sigkill_at_any_moment_resumes_with_a_loadable_checkpoint(idx_dir, tmp_path):
  workdir, epochs = str(tmp_path / "run"), 150    # 900 steps, a checkpoint every 3
  kills = []
  for delay in (0.5, 1.3, 2.1):
    process = _train_process(workdir, idx_dir, epochs)
    start_step = _latest_step(workdir)
    deadline = time.time() + 120
    while _latest_step(workdir) <= start_step and time.time() < deadline:   # until it is training
      time.sleep(0.05)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    step = _latest_step(workdir)
    assert step > start_step, "the run made no checkpoint before it was killed"
    kills.append(step)
    rundir.restore_generator(workdir)   # every surviving latest checkpoint loads
  assert kills == sorted(kills)
  process = _train_process(workdir, idx_dir, epochs)
  _, stderr = process.communicate(timeout=600)
  assert process.returncode == 0, stderr[-2000:]
  assert _latest_step(workdir) == epochs * 6
  assert os.path.exists(os.path.join(workdir, "saved_model", "saved_model.pb"))


def _generator_weights(gan):
  """The live generator's weights, then the weight average's when the run keeps one."""
  return [v.numpy() for v in gan.generator.weights + (gan.g_average.weights if gan.g_ema else [])]


def test_deterministic_runs_are_bit_identical(smoke_config, tmp_path):
  config = smoke_config.replace(deterministic=True, seed=3)
  first = _generator_weights(train.run(config, str(tmp_path / "a")))
  second = _generator_weights(train.run(config, str(tmp_path / "b")))
  assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_op_determinism_follows_each_runs_config_in_one_process(smoke_config):
  # process-wide in TF: a deterministic run must not leave XLA off for the next, non-deterministic one
  execution.setup(smoke_config.replace(deterministic=True))
  assert tf_config.is_op_determinism_enabled()
  execution.setup(smoke_config.replace(deterministic=False))
  assert not tf_config.is_op_determinism_enabled()


@pytest.mark.parametrize("model", ["mlp_small", "dcgan_tutorial"])   # dcgan_tutorial: BN and dropout
def test_resumed_run_ends_bit_identical_to_an_uninterrupted_one(model, smoke_config, tmp_path):
  config = smoke_config.replace(model=model, deterministic=True, checkpoints_to_keep=20,
                                checkpoint_every=4, epochs=2, batch_size=32,   # 3 steps an epoch
                                g_ema=0.9,   # the weight average resumes too, and so does
                                lr_decay="linear" if model == "mlp_small" else "constant")   # a schedule
  whole = str(tmp_path / "whole")
  expected = _generator_weights(train.run(config, whole))
  for interrupted_at in (3, 4):                           # an epoch end, and mid-epoch
    part = str(tmp_path / f"from-{interrupted_at}")
    shutil.copytree(whole, part)
    shutil.rmtree(os.path.join(part, "saved_model"))
    checkpoints = os.path.join(part, "checkpoints")
    tf.compat.v1.train.update_checkpoint_state(checkpoints, os.path.join(checkpoints, f"ckpt-{interrupted_at}"))
    resumed = _generator_weights(train.run(config, part))
    assert all(np.array_equal(a, b) for a, b in zip(expected, resumed)), interrupted_at
