"""Bad input, one table: each row is something a person may pass in, and the one-line error it gets.

| input | error | key words |
|---|---|---|
| unknown experiment / field / wrong type / out of range | ConfigError | field=value: what is allowed |
| missing folder, folder without IDX files, missing file | DataError | the path, "not a folder" / "not found" |
| truncated gzip, not gzip, wrong magic, short data, huge count | DataError | the path and the problem |
| images and labels disagree, images not 28x28 | DataError | both counts / the size found |
| empty split slice, bad split spec, fewer images than a batch | DataError | the split |
| resume with another architecture | ResumeError | field: checkpoint has X, config has Y |
| not a SavedModel, wrong z shape, n out of range | ModelError / InvalidArgumentError | what is expected |
| unwritable folder, full disk, a file too large | WriteError | the path; old files intact |
| a loss or weight turns NaN | DivergenceError | the step and the losses |
"""
import contextlib
import errno
import gzip
import os
import resource
import signal

import numpy as np
import pytest
import tensorflow as tf

from conftest import idx_bytes, smoke, write_idx_split
from gan_tf.configs import get_config
from gan_tf import data, export, files, models, rundir, train
from gan_tf.callbacks import Checkpointer, DivergenceError
from gan_tf.config import ConfigError
from gan_tf.data import DataError
from gan_tf.errors import TrainingError, UserError
from gan_tf.gan import build_gan


def rewrite(folder, name, payload, compress=True):
  with (gzip.open if compress else open)(os.path.join(folder, name), "wb") as f:
    f.write(payload)


def truncate(folder, name):
  path = os.path.join(folder, name)
  raw = open(path, "rb").read()
  open(path, "wb").write(raw[:len(raw) // 2])


DATA_CASES = [
    # (id, change to the smoke IDX folder, split, words)
    ("missing folder", lambda d: os.rename(d, d + ".gone"), "train", "is not a folder"),
    ("no IDX files", lambda d: [os.remove(os.path.join(d, n)) for n in os.listdir(d)], "train",
     "no IDX files found"),
    ("missing label file", lambda d: os.remove(os.path.join(d, "train-labels-idx1-ubyte.gz")), "train",
     "train-labels-idx1-ubyte.gz: file not found"),
    ("truncated gzip", lambda d: truncate(d, "train-images-idx3-ubyte.gz"), "train",
     "train-images-idx3-ubyte.gz: cannot decompress"),
    ("not gzip", lambda d: rewrite(d, "train-images-idx3-ubyte.gz", b"plain text" * 20, False), "train",
     "not gzip"),
    ("wrong magic", lambda d: rewrite(d, "train-images-idx3-ubyte.gz", b"\0\0\x08\x09" + bytes(64)),
     "train", "IDX magic number 0x00000809"),
    ("counts disagree", lambda d: rewrite(d, "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(95))),
     "train", "96 images but"),
    ("not 28x28", lambda d: write_idx_split(d, "train", np.zeros((4, 32, 32)), np.zeros(4)), "train",
     "images are 32x32, expected 28x28"),
    ("short data", lambda d: rewrite(d, "train-images-idx3-ubyte.gz",
                                     idx_bytes(np.zeros((10, 28, 28)))[:-100]), "train",
     "the header [10, 28, 28] needs 7840"),
    ("empty slice", lambda d: None, "train[5:5]", "selects no images"),
    ("bad split spec", lambda d: None, "train[:abc]", "split 'train[:abc]'"),
    ("unknown split", lambda d: os.remove(os.path.join(d, "train-images-idx3-ubyte.gz")), "train",
     "Unknown split 'train'"),
]


@pytest.mark.parametrize("case,change,split,words", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data_is_one_line_naming_the_problem(case, change, split, words, smoke_config):
  change(smoke_config.data_dir)
  with pytest.raises(DataError) as error:
    data.load_images(smoke_config, split)
  assert words in str(error.value) and "\n" not in str(error.value)
  assert isinstance(error.value, UserError)


def test_fewer_images_than_one_step():
  with pytest.raises(DataError, match="the split has 96 images, fewer than one step needs"):
    data.steps_per_epoch(smoke(batch_size=64, d_steps=2), 96)


def test_huge_count_refused_before_allocating():
  header = (0x0803).to_bytes(4, "big") + (4_000_000_000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
  with pytest.raises(DataError, match="claims 4000000000 examples"):
    data.parse_idx(header)


def test_idx_reader_fuzz_returns_data_or_its_own_error():
  """A few thousand random and mutated IDX files: data or DataError, never another exception."""
  rng = np.random.default_rng(0)
  valid = [idx_bytes(rng.integers(0, 255, (3, 28, 28))), idx_bytes(np.arange(7))]
  outcomes = {"data": 0, "error": 0}
  for i in range(3000):
    raw = bytearray(valid[i % 2])
    kind = i % 3
    if kind == 0:
      raw = bytearray(rng.integers(0, 256, rng.integers(0, 64)).astype(np.uint8).tobytes())
    elif kind == 1:
      for position in rng.integers(0, len(raw), rng.integers(1, 4)):
        raw[position] = rng.integers(0, 256)
    else:
      raw = raw[:rng.integers(0, len(raw) + 1)]
    try:
      array = data.parse_idx(bytes(raw))
      assert array.dtype == np.uint8 and array.size <= len(raw)
      outcomes["data"] += 1
    except DataError:
      outcomes["error"] += 1
  assert outcomes["data"] > 100 and outcomes["error"] > 1000, outcomes


def test_fuzzed_gzip_files_give_their_data_or_data_error(tmp_path):
  """Bytes changed at random in a .gz IDX file: gzip's CRC catches a changed payload (DataError); a change
  only to the gzip header's timestamp leaves the images as they were. Never another exception."""
  rng = np.random.default_rng(1)
  original = rng.integers(0, 255, (2, 28, 28)).astype(np.uint8)
  packed = gzip.compress(idx_bytes(original))
  path = str(tmp_path / "x-images-idx3-ubyte.gz")
  outcomes = {"data": 0, "error": 0}
  cases = [rng.integers(0, len(packed), rng.integers(1, 4)) for _ in range(300)] + [[4, 5, 6, 7]]
  for positions in cases:   # the last: the timestamp's four bytes (gzip's header, bytes 4-7)
    raw = bytearray(packed)
    for position in positions:
      raw[position] = (raw[position] + 1 + rng.integers(0, 255)) % 256   # a different byte
    open(path, "wb").write(bytes(raw))
    try:
      array = data.read_idx(path)
    except DataError:
      outcomes["error"] += 1
      continue
    np.testing.assert_array_equal(array, original)
    outcomes["data"] += 1
  assert outcomes["error"] >= 290 and outcomes["data"] >= 1, outcomes


def test_config_errors_are_user_errors():
  with pytest.raises(ConfigError) as error:
    get_config("mlp", d_learning_rate=-1.0)
  assert isinstance(error.value, UserError) and "d_learning_rate=-1.0: must be > 0" in str(error.value)


# --- models and files ----------------------------------------------------------------------------

def test_generate_on_a_folder_that_is_not_a_saved_model(tmp_path):
  with pytest.raises(export.ModelError, match="no saved_model.pb; pass --model=<run>/saved_model"):
    export.load_sampler(str(tmp_path))


def test_restore_from_a_folder_that_is_not_a_run(tmp_path):
  with pytest.raises(rundir.ResumeError, match="is it a gan_tf run folder"):
    export.restore_generator(str(tmp_path))


def test_write_error_leaves_the_previous_file(tmp_path, monkeypatch):
  path = str(tmp_path / "grid.png")
  files.atomic_write(path, b"good")

  def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")
  monkeypatch.setattr(os, "fsync", full_disk)
  with pytest.raises(files.WriteError, match="cannot write .*grid.png: No space left on device"):
    files.atomic_write(path, b"new")
  assert open(path, "rb").read() == b"good"
  assert os.listdir(tmp_path) == ["grid.png"]


@contextlib.contextmanager
def file_size_limit(nbytes):
  """Writes that would grow a file past nbytes fail (EFBIG), as they do on a full disk; no root needed."""
  handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # its default action kills the process
  soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
  resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
  try:
    yield
  finally:
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, handler)


def test_a_failed_write_keeps_the_last_good_file_and_checkpoint(smoke_config, tmp_path):
  out = tmp_path / "out"
  path = str(out / "blob")
  files.atomic_write(path, b"good")
  gan = build_gan(smoke_config)
  checkpoint = gan.checkpoint()
  manager = tf.train.CheckpointManager(checkpoint, str(out / "ck"), max_to_keep=3)
  saver = Checkpointer(manager, every=1, steps_per_epoch=1)
  saver.set_model(gan)
  saver.on_train_begin()
  saver._save(1)
  # A checkpoint of mlp_small + Adam is about 2.6 MB: with files held under 1 MB the next cannot be written.
  with file_size_limit(1 << 20):
    with pytest.raises(files.WriteError, match=r"cannot write .*blob: File too large"):
      files.atomic_write(path, bytes(4 << 20))
    with pytest.raises(files.WriteError, match="cannot write checkpoint"):
      saver._save(2)
  assert open(path, "rb").read() == b"good"
  assert sorted(os.listdir(out)) == ["blob", "ck"]   # no temporary file left behind
  assert manager.latest_checkpoint.endswith("ckpt-1")
  checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()


def test_saved_model_rejects_wrong_shapes_and_dtypes(smoke_config, tmp_path):
  generator, _ = models.build_models(smoke_config)
  path = export.export_generator(generator, smoke_config, str(tmp_path / "model"))
  loaded = tf.saved_model.load(path)
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"z must be float32 \[batch, 100\]"):
    loaded.signatures["serving_default"](z=tf.zeros([2, 5]))
  with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
    loaded.signatures["serving_default"](z=tf.zeros([2, 100], tf.int32))
  with pytest.raises(tf.errors.InvalidArgumentError, match="n must be in"):
    loaded.signatures["sample"](n=tf.constant(-1), seed=tf.constant(0, tf.int64))


# --- divergence ----------------------------------------------------------------------------------

EXPLODING = dict(loss="wasserstein_gp", gp_weight=0.0, d_optimizer="sgd", g_optimizer="sgd",
                 d_learning_rate=1e18, g_learning_rate=1e18)   # an unbounded critic, a huge step


def test_divergence_before_any_checkpoint(smoke_config, tmp_path):
  with pytest.raises(DivergenceError, match=r"diverged at step \d+: .*d_loss=nan.*No checkpoint"):
    train.run(smoke_config.replace(**EXPLODING), str(tmp_path / "run"))


def test_divergence_stops_restores_last_good_checkpoint_and_writes_its_samples(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1, checkpoint_every=100), workdir)   # good: step 6
  with pytest.raises(DivergenceError) as error:
    train.run(smoke_config.replace(epochs=2, checkpoint_every=100, **EXPLODING), workdir)
  assert isinstance(error.value, TrainingError)
  message = str(error.value)
  assert "diverged at step" in message and "last good state, step 6" in message
  assert os.path.exists(os.path.join(workdir, "samples", "last_good_step_6.png"))
  assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith("ckpt-6")
  _, generator = export.restore_generator(workdir)
  assert all(np.all(np.isfinite(w)) for w in generator.get_weights())
