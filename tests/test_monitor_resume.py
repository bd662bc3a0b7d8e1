"""TensorBoard events read back, crash-safe checkpoints (real SIGKILLs), exact and deterministic resume, and
a resumed run that stays the run its folder describes."""
import json
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
from gan_tf.configs import get_config
from gan_tf import execution, export, rundir, train

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
  # One step axis: the grids and per-epoch figures at the train step that ends their epoch (6 an epoch).
  assert steps(gan_events, "epoch_images_per_second") == [6, 12]
  assert steps(gan_events, "samples") == [0, 6, 12]
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
  for delay in (0.5, 2.1):
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
    export.restore_generator(workdir)   # every surviving latest checkpoint loads
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


# mlp_small: the weight average and a rate schedule resume too; dcgan_tutorial: BatchNorm and dropout (its
# weight average would only add minutes of BatchNorm refreshes, which depend on the weights alone).
@pytest.mark.parametrize("model,g_ema,lr_decay", [("mlp_small", 0.9, "linear"),
                                                  ("dcgan_tutorial", 0.0, "constant")])
def test_resumed_run_ends_bit_identical_to_an_uninterrupted_one(model, g_ema, lr_decay, smoke_config, tmp_path):
  config = smoke_config.replace(model=model, deterministic=True, checkpoints_to_keep=20,
                                checkpoint_every=4, epochs=2, batch_size=32,   # 3 steps an epoch
                                g_ema=g_ema, lr_decay=lr_decay, sample_every=1000)
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


def _saved(workdir):
  return json.load(open(os.path.join(workdir, "config.json")))


KEPT = ("dataset", "split", "loss", "d_steps", "seed")


def test_resume_as_the_makefile_calls_it_keeps_the_runs_data_and_algorithm(idx_dir, tmp_path, train_cli):
  """`make train-mlp-small ARGS=...` passes --experiment: a re-run into the folder, and --resume, continue
  the run its config.json describes; typed flags change it only as logged and kept in history.json."""
  workdir = str(tmp_path / "mlp_small-run")
  make = ["--experiment=mlp_small", "--steps_per_execution=1", "--jit_compile=false"]
  code, _, errors, _ = train_cli(*make, f"--data_dir={idx_dir}", "--dataset=mnist", "--split=train[:75%]",
                                 "--loss=hinge", "--d_steps=2", "--seed=3", "--batch_size=16", "--epochs=1",
                                 f"--workdir={workdir}")
  assert code == 0, errors   # 72 images, 2 steps an epoch
  started = {k: _saved(workdir)[k] for k in KEPT}
  assert started == {"dataset": "mnist", "split": "train[:75%]", "loss": "hinge", "d_steps": 2, "seed": 3}

  code, _, errors, log = train_cli(*make, f"--workdir={workdir}", "--epochs=2")
  assert code == 0, errors
  assert {k: _saved(workdir)[k] for k in KEPT} == started and _saved(workdir)["epochs"] == 2
  assert "split train[:75%], 72 images" in log
  assert "resume changes at step 2: epochs 1 -> 2" in log

  code, _, errors, log = train_cli(*make, "--resume", f"--runs_dir={tmp_path}", "--epochs=3",
                                   "--loss=non_saturating")
  assert code == 0, errors
  assert "resume changes at step 4: loss 'hinge' -> 'non_saturating', epochs 2 -> 3" in log
  assert _saved(workdir)["loss"] == "non_saturating" and _saved(workdir)["dataset"] == "mnist"
  history = rundir.history(workdir)
  assert [(e["step"], e["changes"]) for e in history] == [
      (2, {"epochs": [1, 2]}), (4, {"loss": ["hinge", "non_saturating"], "epochs": [2, 3]})]
  assert _latest_step(workdir) == 6

  code, _, errors, _ = train_cli(*make, f"--workdir={workdir}", "--epochs=4", "--split=train", "--seed=0")
  assert code == 2
  assert errors == [
      f"error: cannot resume {workdir} as asked: split 'train[:75%]' -> 'train', seed 3 -> 0 would change what "
      "its checkpoint's steps were trained on; drop those flags to continue as it was trained, add "
      "--allow_changes to train on with them (recorded in history.json), or use a new --workdir"]
  assert _latest_step(workdir) == 6 and _saved(workdir)["split"] == "train[:75%]"

  code, _, errors, _ = train_cli(*make, f"--workdir={workdir}", "--epochs=4", "--split=train", "--allow_changes")
  assert code == 0, errors
  assert rundir.history(workdir)[-1]["changes"] == {"split": ["train[:75%]", "train"], "epochs": [3, 4]}
  # Epochs count in the new split's steps (96 images, 3 an epoch): step 6 is its epoch 2, so 2 more epochs.
  assert _latest_step(workdir) == 12


def test_resume_into_another_experiments_folder_is_refused(tmp_path):
  workdir = write_config(tmp_path / "run", smoke(name="mlp_small"))
  with pytest.raises(rundir.ResumeError, match=r"is a run of experiment 'mlp_small', not 'dcgan'"):
    train.resolve("dcgan", workdir, False, str(tmp_path), {})


def test_setting_typed_on_resume_sets_only_its_fields(tmp_path):
  workdir = write_config(tmp_path / "run", get_config("mlp", epochs=7, batch_size=64))
  config, _ = train.resolve("mlp", workdir, False, str(tmp_path), {"d_steps": 3}, "source")
  assert (config.loss, config.g_beta_1, config.d_steps) == ("non_saturating", 0.9, 3)
  assert (config.epochs, config.batch_size) == (7, 64)   # the run's, not the experiment's


def test_resume_refuses_what_its_checkpoint_cannot_take(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1, d_optimizer="sgd"), workdir)
  for change, words in ((dict(latent_dim=7), "latent_dim: checkpoint has 100, config has 7"),
                        (dict(d_optimizer="adam"), "holds no values .*; the resume changes epochs 1 -> 2, "
                                                   "d_optimizer 'sgd' -> 'adam'"),
                        (dict(d_momentum=0.9), "holds no values .*; the resume changes epochs 1 -> 2, d_momentum"),
                        (dict(g_ema=0.9), "g_ema: checkpoint has 0.0")):
    with pytest.raises(rundir.ResumeError, match=words):
      train.run(smoke_config.replace(epochs=2, **{"d_optimizer": "sgd", **change}), workdir)
  assert _latest_step(workdir) == 6
