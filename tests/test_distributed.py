"""tf.distribute on CPU: a step on two replicas equals the single-device step, two localhost workers train
as one (the chief alone writes), and --cpu_devices makes `mirrored` replicate on a CPU-only host.

Logical devices and TF_CONFIG only work before TF initializes, so each check runs tests/distributed_worker.py
in a fresh process.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, smoke, write_config
from distributed_worker import WORKER_TIMEOUT
from gan_tf import execution, train
from gan_tf.config import ConfigError
from gan_tf.errors import UserError

pytestmark = pytest.mark.xdist_group("distributed")   # one worker builds the module fixture once

WORKER = os.path.join(REPO, "tests", "distributed_worker.py")
ATOL = 1e-5   # float32 round-off of one step is ~1e-7; a wrong gradient scale or noise slice is >1e-4

# Each loss once with SGD (the update is the gradient itself) and Adam (its state) with two of them.
CASES = {f"{loss}/{optimizer}": {"loss": loss, "optimizer": optimizer}
         for loss, optimizer in (("minimax", "sgd"), ("non_saturating", "adam"), ("wasserstein_gp", "sgd"),
                                 ("wasserstein_gp", "adam"))}
# k = 2 D steps: a while loop on one device, unrolled under the strategy, each D batch split across the
# replicas (gan.GAN.train_step).
CASES["wasserstein_gp/sgd/k=2"] = {"loss": "wasserstein_gp", "optimizer": "sgd", "d_steps": 2}
# The moving average of G's weights, updated in each replica's step (gan.GAN._update_average).
CASES["g_ema"] = {"loss": "minimax", "optimizer": "sgd", "g_ema": 0.5}
# BatchNorm in G: per-replica batch statistics differ from the global batch's; synchronized ones do not.
CASES["sync_batchnorm"] = {"loss": "minimax", "optimizer": "sgd", "model": "dcgan", "g_batchnorm": True,
                           "sync_batchnorm": True}
# The minibatch standard deviation in D: its sums are all-reduced, so each replica sees the global batch's.
CASES["minibatch_stddev"] = {"loss": "minimax", "optimizer": "sgd", "minibatch_stddev": True}
CASES["minibatch_stddev/wasserstein_gp"] = {"loss": "wasserstein_gp", "optimizer": "sgd",
                                            "minibatch_stddev": True}
# A conditional GAN: the labels split with their images, the G step's drawn labels sliced like its z.
CASES["conditional/wasserstein_gp/k=2"] = {"loss": "wasserstein_gp", "optimizer": "sgd", "d_steps": 2,
                                           "conditional": True}


def _network_isolation():
  """A command prefix giving the workers a network namespace of their own, when the host allows one.

  TF's gRPC server listens on 0.0.0.0 whatever address TF_CONFIG names; in a fresh namespace only its
  loopback exists, so the cluster is reachable from 127.0.0.1 alone.
  """
  if not (shutil.which("unshare") and shutil.which("ip")):
    return []
  if subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode:
    return []
  return ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']


def run_worker(args, timeout, env=None, prefix=()):
  """Runs distributed_worker.py; returns its JSON line. Kills its whole process group on timeout."""
  proc = subprocess.Popen([*prefix, sys.executable, WORKER, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=REPO, env=env, start_new_session=True)
  try:
    out, err = proc.communicate(timeout=timeout)
  except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
    out, err = proc.communicate()
    pytest.fail(f"distributed_worker.py {args[0]} did not finish in {timeout} s; stderr:\n{err[-3000:]}")
  assert proc.returncode == 0, f"distributed_worker.py {args[0]} failed:\n{err[-3000:]}"
  return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="session")   # per worker: make test keeps the module on one (xdist_group)
def mirrored_results():
  return run_worker(["mirrored_step", json.dumps(CASES)], timeout=300)["cases"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_mirrored_step_equals_single_device_step(case, mirrored_results):
  result = mirrored_results[case]
  assert result["replicas"] == 2
  assert result["g_moved"] > 5 * ATOL   # the step moved G, so equal weights after it mean something
  assert result["g_max_diff"] < ATOL
  assert result["d_max_diff"] < ATOL
  assert result["sampler_max_diff"] < ATOL
  if result["sampler_is_average"]:
    assert result["sampler_moved"] > 5 * ATOL
  assert result["replica_copies_max_diff"] == 0.0
  assert result["steps"] == [1, 1]
  # Both replicas advanced the noise seed in step with the single device: z and eps came from one stream.
  assert result["mirrored_seeds"] == [result["single_seed"]] * 2
  for name in ("d_loss", "g_loss", "d_real", "d_fake"):
    np.testing.assert_allclose(result["mirrored_logs"][name], result["single_logs"][name], rtol=1e-5,
                               atol=1e-6, err_msg=name)


def _weights(path):
  with np.load(path) as f:
    return [f[f"arr_{i}"] for i in range(len(f.files))]


def test_two_workers_train_as_one_and_only_the_chief_writes(idx_dir, tmp_path):
  overrides = {"data_dir": idx_dir, "epochs": 1, "batch_size": 32}   # 96 images: 3 steps of 32
  workdir, out_dir, temp_dir = (str(tmp_path / name) for name in ("run", "out", "tmp"))
  os.makedirs(out_dir)
  os.makedirs(temp_dir)
  env = dict(os.environ, TMPDIR=temp_dir, TF_CPP_MIN_LOG_LEVEL="2")
  env.pop("TF_CONFIG", None)
  result = run_worker(["cluster", workdir, json.dumps(overrides), out_dir], timeout=WORKER_TIMEOUT + 60,
                      env=env, prefix=_network_isolation())
  assert all(address.startswith("127.0.0.1:") for address in result["cluster"]["worker"])
  tails = "\n".join(f"worker {i} (exit {w['returncode']}):\n{w['stderr_tail']}"
                    for i, w in enumerate(result["workers"]))
  assert not result["timed_out"], f"killed after {WORKER_TIMEOUT} s:\n{tails}"
  assert [w["returncode"] for w in result["workers"]] == [0, 0], tails
  chief, other = (w["result"] for w in result["workers"])
  assert (chief["chief"], other["chief"]) == (True, False)
  assert chief["replicas"] == other["replicas"] == 2
  assert chief["step"] == other["step"] == 3

  chief_weights, other_weights = _weights(chief["weights"]), _weights(other["weights"])
  assert max(np.max(np.abs(a - b)) for a, b in zip(chief_weights, other_weights)) == 0.0
  # The same run on one device: same initial weights, global batches and noise, so the same result.
  single = train.run(smoke(**overrides), str(tmp_path / "single"))
  assert max(np.max(np.abs(a - b)) for a, b in zip(chief_weights, single.generator.get_weights())) < ATOL

  # The shared workdir holds one writer's files; the other worker wrote to a temp dir, now removed.
  state = tf.train.get_checkpoint_state(os.path.join(workdir, "checkpoints"))
  assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == ["ckpt-3"]
  assert os.path.exists(os.path.join(workdir, "saved_model", "saved_model.pb"))
  assert len(glob.glob(os.path.join(workdir, "gan", "events.out.tfevents.*"))) == 1
  assert len(glob.glob(os.path.join(workdir, "train", "events.out.tfevents.*"))) == 1
  assert chief["worker_dirs"] == []
  assert len(other["worker_dirs"]) == 1 and other["worker_dirs"][0].startswith(temp_dir)
  assert other["worker_dirs_left"] == []
  assert glob.glob(os.path.join(temp_dir, "gan_tf-worker-*")) == []


def test_cpu_devices_makes_mirrored_replicate_on_cpu(idx_dir, tmp_path):
  workdir = write_config(str(tmp_path / "run"), smoke(data_dir=idx_dir))
  proc = subprocess.run(
      [sys.executable, "-m", "gan_tf.train", "--strategy=mirrored", "--cpu_devices=2", "--epochs=1",
       "--batch_size=48", f"--workdir={workdir}"],
      capture_output=True, text=True, cwd=REPO, timeout=180,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "strategy=mirrored (2 replicas)" in proc.stderr
  assert os.path.basename(tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))) == "ckpt-2"


def test_cpu_devices_after_tf_started_is_a_clear_error():
  tf.config.list_logical_devices("CPU")   # initializes this process's devices, if nothing did yet
  execution.split_cpu(0)
  execution.split_cpu(len(tf.config.list_logical_devices("CPU")))   # already so: nothing to do
  with pytest.raises(UserError, match="already initialized"):
    execution.split_cpu(len(tf.config.list_logical_devices("CPU")) + 1)
  with pytest.raises(ConfigError, match="cpu_devices"):
    smoke(cpu_devices=-1)
