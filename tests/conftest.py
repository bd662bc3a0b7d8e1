"""Shared helpers and fixtures: the tests' tiny config, small IDX data sets written on the fly, the real
IDX folders where present."""
import gzip
import logging
import os
import re
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTEST_XDIST_WORKER"):   # make test's two workers on two cores: a thread each, not four
  os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
  os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np
import pytest
from absl import flags

from gan_tf import errors, train
from gan_tf.config import Config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION_DIR = os.environ.get("GAN_TF_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
MNIST_DIR = os.environ.get("GAN_TF_MNIST", os.path.join(REPO, "..", "shared", "data", "mnist"))


def idx_bytes(array):
  """Encodes a uint8 array as an IDX file (the format's own header: magic, then one size per dim)."""
  array = np.asarray(array, np.uint8)
  magic = 0x0800 | array.ndim
  header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
  return header + array.tobytes()


def write_idx_split(folder, prefix, images, labels):
  os.makedirs(folder, exist_ok=True)
  for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
    with gzip.open(os.path.join(folder, f"{prefix}-{kind}-ubyte.gz"), "wb") as f:
      f.write(idx_bytes(array))


@pytest.fixture
def idx_dir(tmp_path):
  """A folder of IDX .gz files: 96 'train' and 32 'test' images of blobs whose brightness is the label."""
  rng = np.random.default_rng(0)
  folder = str(tmp_path / "idx")
  for prefix, n in (("train", 96), ("t10k", 32)):
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = (rng.random((n, 28, 28)) * 25 * (labels[:, None, None] + 1)).astype(np.uint8)
    write_idx_split(folder, prefix, images, labels)
  return folder


def smoke(**overrides):
  """A tiny config whose real path (data -> fit -> callbacks -> export) runs in seconds: mlp_small's
  networks with the base Config's training (non-saturating loss, Adam 1e-4, no weight average)."""
  base = dict(name="smoke", source="tests only", model="mlp_small", batch_size=16, epochs=2,
              sample_every=1, sample_grid=2, checkpoint_every=5, log_every=2, seed=0)
  return Config(**base).replace(**overrides)


def run_cli(*args, cwd=None, module="gan_tf.train"):
  """`python -m gan_tf.train ARGS` (or another module) as the Makefile runs it, output captured."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                        cwd=cwd or REPO, env=env, timeout=300)


@pytest.fixture
def train_cli(monkeypatch, capsys, caplog):
  """`python -m gan_tf.train ARGS` in this process, as the command line runs it (its flags, run_main's exit
  codes and one-line errors), without a process's seconds of start-up. Returns (exit code, stdout, stderr
  lines but log lines, the log's text)."""
  if "experiment" not in flags.FLAGS:
    train.define_flags()

  def run(*args):
    flags.FLAGS.unparse_flags()
    monkeypatch.setattr(sys, "argv", ["gan_tf.train", *args])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="absl"), pytest.raises(SystemExit) as exited:
      errors.run_main(train.main)
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.strip() and not re.match(r"[IWEF]\d{4} ", line)]
    return exited.value.code or 0, out.out, lines, caplog.text
  return run


def error_lines(result):
  """A command's stderr lines without TensorFlow's import banner (CUDA probe lines, which may come first)."""
  banner = ("WARNING: All log messages before absl", "I0000 ", "W0000 ", "E0000 ")
  return [line for line in result.stderr.splitlines() if line.strip() and not line.startswith(banner)]


def write_config(workdir, config):
  """Puts config in workdir as its config.json: `python -m gan_tf.train --workdir=W` then trains it."""
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    f.write(config.to_json())
  return str(workdir)


@pytest.fixture
def smoke_config(idx_dir):
  return smoke(data_dir=idx_dir)


def require_dir(path, what):
  images = os.path.join(path, "t10k-images-idx3-ubyte.gz")
  if not os.path.exists(images):
    pytest.skip(f"{what} IDX files not found at {path}; set GAN_TF_FASHION_MNIST / GAN_TF_MNIST "
                "(docs/data.md)")
  return path


@pytest.fixture
def fashion_dir():
  return require_dir(FASHION_DIR, "Fashion-MNIST")


@pytest.fixture
def mnist_dir():
  return require_dir(MNIST_DIR, "MNIST test split")
