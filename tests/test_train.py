"""The real path, end to end on a few images: train.run and the command line, and the files they leave."""
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import REPO, error_lines, run_cli
from gan_tf.configs import get_config
from gan_tf import config as config_lib, export, rundir, train
from gan_tf.gan import build_gan
from gan_tf.config import Config


def test_smoke_run_leaves_samples_checkpoints_events_and_a_saved_model(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  gan = train.run(smoke_config, workdir)
  assert int(gan.step) == 2 * 6   # 2 epochs of 96 images in batches of 16
  assert Config.from_json(open(os.path.join(workdir, "config.json")).read()) == smoke_config
  names = sorted(os.listdir(os.path.join(workdir, "samples")))
  assert names == ["epoch_0000.png", "epoch_0001.png", "epoch_0002.png", "progress.gif"]
  grid = Image.open(os.path.join(workdir, "samples", "epoch_0002.png"))
  assert grid.size == (2 * (2 * 30 + 2),) * 2   # 2x2 grid of 28 px + 2 px padding, enlarged 2x
  assert Image.open(os.path.join(workdir, "samples", "progress.gif")).n_frames == 3
  checkpoints = os.path.join(workdir, "checkpoints")
  assert os.path.basename(tf.train.latest_checkpoint(checkpoints)) == "ckpt-12"
  assert glob.glob(os.path.join(workdir, "train", "events.out.tfevents.*"))
  assert glob.glob(os.path.join(workdir, "gan", "events.out.tfevents.*"))
  assert os.path.exists(os.path.join(workdir, "saved_model", "saved_model.pb"))


def test_rerun_into_the_same_workdir_resumes(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1), workdir)
  gan = train.run(smoke_config.replace(epochs=2), workdir)
  assert int(gan.step) == 12
  assert int(gan.g_optimizer.iterations) == 12 and int(gan.d_optimizer.iterations) == 12


def test_resume_with_another_architecture_names_the_mismatch(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1), workdir)
  with pytest.raises(rundir.ResumeError, match="latent_dim: checkpoint has 100, config has 64"):
    train.run(smoke_config.replace(latent_dim=64), workdir)


def test_resume_with_or_without_the_weight_average_names_the_mismatch(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1), workdir)
  with pytest.raises(rundir.ResumeError, match="g_ema: checkpoint has 0.0 .averaged generator none., "
                                              "config has 0.99"):
    train.run(smoke_config.replace(g_ema=0.99), workdir)


def test_linear_lr_decay_falls_to_zero_over_the_run_and_a_resume_cannot_drop_it(smoke_config, tmp_path):
  config = smoke_config.replace(lr_decay="linear", d_steps=2, d_learning_rate=1e-3, g_learning_rate=2e-3)
  gan = build_gan(config, steps_per_epoch=6)   # 2 epochs: 12 G updates, 2 * 12 D updates
  gan.g_optimizer.iterations.assign(3)
  gan.d_optimizer.iterations.assign(18)
  assert float(gan.g_optimizer.learning_rate) == pytest.approx(2e-3 * 9 / 12)
  assert float(gan.d_optimizer.learning_rate) == pytest.approx(1e-3 * 6 / 24)
  gan = build_gan(config.replace(g_steps=3), steps_per_epoch=6)   # 3 * 12 G updates
  gan.g_optimizer.iterations.assign(27)
  assert float(gan.g_optimizer.learning_rate) == pytest.approx(2e-3 * 9 / 36)
  workdir = str(tmp_path / "run")
  gan = train.run(smoke_config.replace(lr_decay="linear"), workdir)   # 12 steps of 12
  assert float(gan.g_optimizer.learning_rate) == 0.0 and float(gan.d_optimizer.learning_rate) == 0.0
  with pytest.raises(rundir.ResumeError, match="lr_decay: checkpoint has 'linear', config has 'constant'"):
    train.run(smoke_config.replace(epochs=3), workdir)


def test_sampler_export_and_restore_use_the_weight_average(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  gan = train.run(smoke_config.replace(g_ema=0.9), workdir)
  average, live = gan.g_average.get_weights(), gan.generator.get_weights()
  assert not np.array_equal(average[0], live[0])
  _, restored = export.restore_generator(workdir)
  assert all(np.array_equal(a, r) for a, r in zip(average, restored.get_weights()))
  _, restored_live = export.restore_generator(workdir, live=True)   # make eval ARGS=--live
  assert all(np.array_equal(g, r) for g, r in zip(live, restored_live.get_weights()))
  z = np.random.default_rng(0).uniform(-1, 1, (4, 100)).astype(np.float32)
  exported = tf.saved_model.load(os.path.join(workdir, "saved_model"))
  served = exported.serve(z)["images"].numpy()
  np.testing.assert_allclose(served, gan.g_average(z).numpy(), atol=1e-6)
  assert np.abs(served - gan.generator(z).numpy()).max() > 1e-4


def test_plateau_rule_stops_when_both_losses_are_flat(smoke_config, tmp_path):
  config = smoke_config.replace(epochs=6, plateau_patience=1, plateau_min_delta=100.0)
  gan = train.run(config, str(tmp_path / "run"))
  assert int(gan.step) == 2 * 6   # epoch 2 is the first whose losses can be compared: stop there


def test_cli_trains_and_writes_under_runs_dir(idx_dir, tmp_path):
  result = run_cli("--experiment=mlp_small", f"--data_dir={idx_dir}", "--epochs=1", "--batch_size=16",
                   "--steps_per_execution=1", "--jit_compile=false", f"--runs_dir={tmp_path}")
  assert result.returncode == 0, result.stderr[-2000:]
  runs = glob.glob(str(tmp_path / "mlp_small-*"))
  assert len(runs) == 1
  saved = json.load(open(os.path.join(runs[0], "config.json")))
  assert (saved["epochs"], saved["batch_size"], saved["loss"]) == (1, 16, get_config("mlp_small").loss)


def test_cli_setting_source_trains_with_the_sources_setting_and_flags_still_win(tmp_path):
  config, _ = train.resolve("mlp", str(tmp_path / "run"), False, str(tmp_path), {"d_steps": 2}, "source")
  assert (config.loss, config.d_steps, config.g_beta_1) == ("non_saturating", 2, 0.9)
  config, _ = train.resolve("mlp", str(tmp_path / "run"), False, str(tmp_path), {})
  assert (config.loss, config.d_steps) == ("wasserstein_gp", 2)


def test_help_prints_no_native_logging_noise():
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  result = subprocess.run([sys.executable, "-m", "gan_tf.train", "--help"], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300)
  assert "--experiment" in result.stdout   # absl exits 1 after --help
  headings = [line[:-1] for line in result.stdout.splitlines() if line.endswith(":")]
  assert [h for h in headings if h in config_lib.GROUPS] == list(config_lib.GROUPS)
  assert "--batch_size: images per D update (the global batch). Default: per experiment: mlp " in result.stdout
  if not os.path.exists("/proc/driver/nvidia"):
    for noise in ("oneDNN", "cuda", "cuInit", "absl::InitializeLog"):
      assert noise not in result.stdout + result.stderr, noise


@pytest.mark.parametrize("setting,expected", [
    ("default", {"batch_size": 64, "d_optimizer": "adam", "d_learning_rate": 4e-4}),
    ("source", {"batch_size": 128, "d_optimizer": "sgd", "d_learning_rate": 5e-4, "d_nesterov": True})])
def test_print_config_prints_the_resolved_config_and_writes_nothing(setting, expected, tmp_path, train_cli):
  code, stdout, stderr, _ = train_cli("--experiment=dcgan", f"--setting={setting}", "--print_config", "--epochs=3",
                                   f"--runs_dir={tmp_path / 'runs'}")
  assert code == 0, stderr
  printed = json.loads(stdout)
  assert {k: printed[k] for k in expected} == expected and printed["epochs"] == 3
  assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args,words", [
    (["--epochz=3"], "Unknown command line flag 'epochz'"),
    (["--experiment=nope"], "experiment='nope': unknown"),
    (["--batch_size=0"], "batch_size=0: must be >= 1"),
    (["--setting=sauce"], "setting='sauce': must be one of"),
    (["--loss=wgan"], "loss='wgan': must be one of"),
    (["--batch_size=abc"], "batch_size"),
    (["--data_dir=/nonexistent"], "data_dir '/nonexistent' is not a folder"),
    (["--gp_weight=nan"], "gp_weight=nan: must be a finite number"),
    (["--r1_weight=inf"], "r1_weight=inf: must be a finite number"),
    (["--label_smoothing=-inf"], "label_smoothing=-inf: must be a finite number"),
])
def test_cli_bad_input_is_one_line_exit_2_and_no_run_folder(args, words, idx_dir, tmp_path, train_cli):
  runs = tmp_path / "runs"
  code, _, lines, _ = train_cli("--experiment=mlp_small", f"--data_dir={idx_dir}", f"--runs_dir={runs}", *args)
  assert code == 2
  assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
  assert not runs.exists()


def test_cli_bad_input_in_a_fresh_process_is_one_line_and_exit_2(idx_dir, tmp_path):
  runs = tmp_path / "runs"
  result = run_cli("--experiment=mlp_small", f"--data_dir={idx_dir}", f"--runs_dir={runs}", "--batch_size=0")
  assert result.returncode == 2
  assert error_lines(result) == ["error: batch_size=0: must be >= 1"]
  assert not runs.exists()


def test_steps_per_execution_keeps_exact_steps_checkpoints_and_resume(smoke_config, tmp_path):
  """6 steps an epoch and steps_per_execution=4: executions of 3 (Keras would run 8 steps an epoch with
  4), so epochs end at 6 and 12 and checkpoints fall at execution ends."""
  config = smoke_config.replace(steps_per_execution=4, checkpoint_every=3, checkpoints_to_keep=10)
  workdir = str(tmp_path / "run")
  train.run(config.replace(epochs=1), workdir)
  gan = train.run(config, workdir)
  assert int(gan.step) == 12
  names = sorted(n for n in os.listdir(os.path.join(workdir, "checkpoints")) if n.endswith(".index"))

  assert names == ["ckpt-12.index", "ckpt-3.index", "ckpt-6.index", "ckpt-9.index"]


def test_cli_divergence_is_one_line_exit_3(idx_dir, tmp_path):
  workdir = tmp_path / "run"
  result = run_cli("--experiment=mlp_small", f"--data_dir={idx_dir}", "--batch_size=16", "--epochs=1",
                   "--steps_per_execution=1", "--loss=wasserstein_gp", "--gp_weight=0", "--d_optimizer=sgd",
                   "--g_optimizer=sgd", "--d_learning_rate=1e18", "--g_learning_rate=1e18",
                   f"--workdir={workdir}")
  assert result.returncode == 3, result.stderr[-2000:]
  last = error_lines(result)[-1]
  assert last.startswith("error: training diverged at step ") and "No checkpoint was written" in last
  assert rundir.latest_checkpoint(str(workdir)) is None


def test_cli_unreadable_config_json_is_one_line_exit_2_and_writes_nothing(smoke_config, tmp_path, train_cli):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1), workdir)
  path = os.path.join(workdir, "config.json")
  text = open(path).read()
  open(path, "w").write(text[:len(text) // 2])   # cut short, as by a full disk outside gan_tf
  before = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
  code, _, lines, _ = train_cli(f"--workdir={workdir}", "--epochs=2")
  assert code == 2
  assert lines == [f"error: {path} is not a readable gan_tf config (JSONDecodeError: "
                                 f"{_json_error(text[:len(text) // 2])}); restore the file, or train into a "
                                 "new --workdir"]
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == before
  assert open(path).read() == text[:len(text) // 2]


def _json_error(text):
  try:
    json.loads(text)
  except json.JSONDecodeError as e:
    return str(e)


def test_cli_eval_every_without_the_evaluators_split_is_exit_2_before_anything_is_written(idx_dir, tmp_path,
                                                                                          train_cli):
  for name in os.listdir(idx_dir):   # only the train files: no test split to score against
    if name.startswith("t10k"):
      os.remove(os.path.join(idx_dir, name))
  workdir = tmp_path / "run"
  code, _, lines, _ = train_cli("--experiment=mlp_small", f"--data_dir={idx_dir}", "--batch_size=16", "--epochs=1",
                             "--eval_every=1", f"--workdir={workdir}")
  assert code == 2
  assert len(lines) == 1 and lines[0].startswith("error: --eval_every needs the evaluator's 'test' split: ")
  assert "Unknown split 'test'" in lines[0] and "--eval_every=0" in lines[0]
  assert not workdir.exists()
