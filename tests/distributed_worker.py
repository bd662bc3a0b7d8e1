"""The subprocess side of tests/test_distributed.py; every mode prints one JSON line last on stdout.

Logical CPU devices and a TF_CONFIG cluster only take effect before TF initializes its devices, so each
check runs in a fresh process:
  distributed_worker.py mirrored_step CASES_JSON         one fit step on 1 device and on 2 CPU replicas
  distributed_worker.py cluster WORKDIR CONFIG_JSON OUT_DIR  two `worker`s as a localhost cluster
  distributed_worker.py worker WORKDIR CONFIG_JSON OUT       one MultiWorkerMirroredStrategy worker of it
CONFIG_JSON holds overrides of the tests' smoke config (conftest.smoke).
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import numpy as np
import tensorflow as tf

from conftest import smoke
from gan_tf import execution, train
from gan_tf.gan import build_gan


# SGD at a large rate makes a wrong gradient scale (N x) show at once; Adam, nearly scale-free, checks
# that both runs saw the same data and noise. Adam's first step is about lr * g / (|g| + 1e-7), which
# turns float noise in tiny gradients into lr-sized differences: 1e-4 keeps them near 1e-6.
LEARNING_RATES = {"sgd": 0.1, "adam": 1e-4}
GLOBAL_BATCH = 16
WORKER_TIMEOUT = 150   # seconds for both workers; a collective waiting on a dead peer would hang forever


def _max_diff(a, b):
  return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def _local_copies(strategy, variable):
  return [np.asarray(c) for c in strategy.experimental_local_results(variable.value)]


def _one_step(gan, batch):
  history = gan.fit(tf.data.Dataset.from_tensors(batch), epochs=1, steps_per_epoch=1, shuffle=False,
                    verbose=0).history
  return {name: values[-1] for name, values in history.items()}


def mirrored_step(cases_json):
  """For each case ({name: {"optimizer": ..., Config overrides}}): one step from equal weights, batch and
  noise state, on the default strategy and on MirroredStrategy over two logical CPUs."""
  execution.split_cpu(2)
  keras.utils.set_random_seed(0)
  strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
  batch = np.random.default_rng(0).uniform(-1, 1, (GLOBAL_BATCH, 28, 28, 1)).astype(np.float32)
  results = {}
  for case, overrides in json.loads(cases_json).items():
    start = time.monotonic()
    optimizer = overrides.pop("optimizer")
    rate = LEARNING_RATES[optimizer]
    config = smoke(**{
        "latent_dim": 8, "batch_size": GLOBAL_BATCH, "d_optimizer": optimizer, "g_optimizer": optimizer,
        "d_learning_rate": rate, "g_learning_rate": rate, "d_momentum": 0.0, "g_momentum": 0.0,
        **overrides})
    single = build_gan(config)
    with strategy.scope():
      mirrored = build_gan(config)
    mirrored.generator.set_weights(single.generator.get_weights())
    mirrored.discriminator.set_weights(single.discriminator.get_weights())
    mirrored.sampler.set_weights(single.sampler.get_weights())   # the weight average, when kept
    mirrored.seed_generator.state.assign(single.seed_generator.state.value)
    g_start = single.generator.get_weights()
    data = (batch, np.arange(GLOBAL_BATCH, dtype=np.int32) % 10) if config.conditional else batch
    single_logs, mirrored_logs = _one_step(single, data), _one_step(mirrored, data)
    mirrored_vars = mirrored.generator.weights + mirrored.discriminator.weights + mirrored.sampler.weights
    results[case] = {
        "replicas": mirrored.distribute_strategy.num_replicas_in_sync,
        "g_moved": _max_diff(g_start, single.generator.get_weights()),
        "g_max_diff": _max_diff(single.generator.get_weights(), mirrored.generator.get_weights()),
        "d_max_diff": _max_diff(single.discriminator.get_weights(),
                                mirrored.discriminator.get_weights()),
        "sampler_max_diff": _max_diff(single.sampler.get_weights(), mirrored.sampler.get_weights()),
        "sampler_is_average": single.g_average is not None,
        "sampler_moved": _max_diff(g_start, single.sampler.get_weights()),
        "replica_copies_max_diff": max(_max_diff(copies[:1], copies[1:]) for copies in
                                       (_local_copies(strategy, v) for v in mirrored_vars)),
        "single_logs": single_logs,
        "mirrored_logs": mirrored_logs,
        "single_seed": np.asarray(single.seed_generator.state.value).tolist(),
        "mirrored_seeds": [c.tolist() for c in _local_copies(strategy, mirrored.seed_generator.state)],
        "steps": [int(gan.step.numpy()) for gan in (single, mirrored)],
        "seconds": time.monotonic() - start,
    }
  return {"cases": results}


def worker(workdir, config_json, out):
  """One MultiWorkerMirroredStrategy worker (TF_CONFIG from the environment) running train.run."""
  made = []
  mkdtemp = tempfile.mkdtemp

  def recording_mkdtemp(*args, **kwargs):
    path = mkdtemp(*args, **kwargs)
    made.append(path)
    return path

  tempfile.mkdtemp = recording_mkdtemp   # to see where a non-chief wrote, and that it is gone after
  config = smoke(**{**json.loads(config_json), "strategy": "multi_worker"})
  gan = train.run(config, workdir)
  weights = gan.generator.get_weights()
  np.savez(out, *weights)
  strategy = gan.distribute_strategy
  worker_dirs = [d for d in made if os.path.basename(d).startswith("gan_tf-worker-")]
  return {"task": json.loads(os.environ["TF_CONFIG"])["task"]["index"],
          "chief": execution.is_chief(strategy), "replicas": strategy.num_replicas_in_sync,
          "step": int(gan.step.numpy()), "worker_dirs": worker_dirs,
          "worker_dirs_left": [d for d in worker_dirs if os.path.exists(d)],
          "weights": out}


def _free_ports(n):
  sockets = [socket.socket() for _ in range(n)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def cluster(workdir, config_json, out_dir):
  """Two localhost workers, both given the same workdir; kills both if they outlive WORKER_TIMEOUT, and
  the other as soon as one fails (it would wait for its dead peer's collectives)."""
  cluster_spec = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
  procs, logs = [], []
  for index in range(2):
    env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster_spec,
                                                 "task": {"type": "worker", "index": index}}))
    stdout = open(os.path.join(out_dir, f"worker{index}.out"), "w+")
    stderr = open(os.path.join(out_dir, f"worker{index}.err"), "w+")
    logs.append((stdout, stderr))
    procs.append(subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "worker", workdir, config_json,
         os.path.join(out_dir, f"worker{index}.npz")], env=env, stdout=stdout, stderr=stderr))
  start = time.monotonic()
  while (any(p.poll() is None for p in procs) and not any(p.poll() for p in procs)
         and time.monotonic() - start < WORKER_TIMEOUT):
    time.sleep(0.2)
  timed_out = time.monotonic() - start >= WORKER_TIMEOUT
  for p in procs:
    if p.poll() is None:
      p.kill()
    p.wait()
  workers = []
  for p, (stdout, stderr) in zip(procs, logs):
    stdout.seek(0)
    stderr.seek(0)
    lines = stdout.read().strip().splitlines()
    workers.append({"returncode": p.returncode,
                    "result": json.loads(lines[-1]) if p.returncode == 0 and lines else None,
                    "stderr_tail": stderr.read()[-3000:]})
    stdout.close()
    stderr.close()
  return {"cluster": cluster_spec, "seconds": time.monotonic() - start, "timed_out": timed_out,
          "workers": workers}


def main(argv):
  mode, args = argv[1], argv[2:]
  modes = {"mirrored_step": lambda: mirrored_step(*args), "worker": lambda: worker(*args),
           "cluster": lambda: cluster(*args)}
  result = modes[mode]()
  print(json.dumps(result), flush=True)


if __name__ == "__main__":
  main(sys.argv)
