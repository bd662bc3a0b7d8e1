"""The data pipeline: IDX and tfds sources, split specs, batches, order, and errors for bad files."""
import gzip
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from conftest import idx_bytes, write_idx_split
from gan_tf import data
from gan_tf.config import get_config
from gan_tf.data import DataError


def test_idx_split_loads_as_uint8_images_with_labels(smoke_config):
  images, labels = data.load_images(smoke_config, "train")
  assert images.shape == (96, 28, 28, 1) and images.dtype == np.uint8
  assert labels.shape == (96,) and labels.dtype == np.int64 and labels.max() <= 9


@pytest.mark.parametrize("split,count", [("train", 96), ("test", 32), ("train[:50%]", 48),
                                         ("train+test", 128), ("test[-8:]", 8), ("train[10:20]", 10)])
def test_split_specs_map_onto_idx_files(smoke_config, split, count):
  assert len(data.load_images(smoke_config, split)[0]) == count


def test_slices_take_the_right_images(smoke_config):
  everything, _ = data.load_images(smoke_config, "train")
  part, _ = data.load_images(smoke_config, "train[10:20]")
  np.testing.assert_array_equal(part, everything[10:20])


def test_tfds_path_uses_tfds_load_offline_with_mock_data():
  with tfds.testing.mock_data(num_examples=40):
    images, labels = data.load_images(get_config("smoke", dataset="mnist"), "train")
  assert images.shape == (40, 28, 28, 1) and images.dtype == np.uint8 and labels.shape == (40,)


def batches(config, images, start_step=0):
  return [b.numpy() for b in data.make_dataset(config, images, start_step)]


def test_batches_are_float32_in_range_and_cover_each_epoch_once(smoke_config):
  images, _ = data.load_images(smoke_config)
  config = smoke_config.replace(batch_size=16, epochs=2)
  out = batches(config, images)
  assert len(out) == 2 * (96 // 16)
  assert all(b.shape == (16, 28, 28, 1) and b.dtype == np.float32 for b in out)
  assert min(b.min() for b in out) >= -1 and max(b.max() for b in out) <= 1
  first_epoch = np.concatenate(out[:6])
  expected = np.sort(images.reshape(96, -1).astype(np.float32) / 127.5 - 1, axis=0)
  np.testing.assert_allclose(np.sort(first_epoch.reshape(96, -1), axis=0), expected, atol=1e-6)
  assert not np.array_equal(out[0], out[6])   # the second epoch is reshuffled


def test_d_steps_batches_hold_k_real_batches(smoke_config):
  images, _ = data.load_images(smoke_config)
  config = smoke_config.replace(batch_size=16, d_steps=3, epochs=1)
  out = batches(config, images)
  assert len(out) == 96 // 48 and out[0].shape == (48, 28, 28, 1)


def test_order_is_a_function_of_seed_and_step(smoke_config):
  images, _ = data.load_images(smoke_config)
  config = smoke_config.replace(batch_size=16, epochs=3)
  full = batches(config, images)
  np.testing.assert_array_equal(np.stack(batches(config, images)), np.stack(full))
  for start in (4, 6, 13):   # mid-epoch, an epoch boundary, the last epoch
    np.testing.assert_array_equal(np.stack(batches(config, images, start)), np.stack(full[start:]))
  other = batches(config.replace(seed=1), images)
  assert not np.array_equal(other[0], full[0])


def test_fashion_mnist_files(fashion_dir):
  config = get_config("mlp", data_dir=fashion_dir)
  train_images, train_labels = data.load_images(config, "train")
  test_images, _ = data.load_images(config, "test")
  assert train_images.shape == (60000, 28, 28, 1) and test_images.shape == (10000, 28, 28, 1)
  assert np.bincount(train_labels).tolist() == [6000] * 10


def test_mnist_test_split_only(mnist_dir):
  config = get_config("mlp", data_dir=mnist_dir)
  images, labels = data.load_images(config, "test[:80%]")
  assert images.shape == (8000, 28, 28, 1) and set(labels.tolist()) == set(range(10))
  with pytest.raises(DataError, match=r"Unknown split 'train'.*files here give splits \['test'\]"):
    data.load_images(config, "train")


# --- bad input: one error, naming the file and the problem ---------------------------------------

def rewrite(folder, name, payload, compress=True):
  path = os.path.join(folder, name)
  with (gzip.open if compress else open)(path, "wb") as f:
    f.write(payload)
  return path


def test_missing_folder(smoke_config):
  with pytest.raises(DataError, match="data_dir '/nonexistent' is not a folder"):
    data.load_images(smoke_config.replace(data_dir="/nonexistent"))


def test_folder_without_idx_files(smoke_config, tmp_path):
  with pytest.raises(DataError, match="no IDX files found"):
    data.load_images(smoke_config.replace(data_dir=str(tmp_path)))


def test_missing_label_file(smoke_config):
  os.remove(os.path.join(smoke_config.data_dir, "train-labels-idx1-ubyte.gz"))
  with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: file not found"):
    data.load_images(smoke_config)


def test_truncated_gzip(smoke_config):
  path = os.path.join(smoke_config.data_dir, "train-images-idx3-ubyte.gz")
  raw = open(path, "rb").read()
  open(path, "wb").write(raw[:len(raw) // 2])
  with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: cannot decompress.*truncated"):
    data.load_images(smoke_config)


def test_not_gzip(smoke_config):
  rewrite(smoke_config.data_dir, "train-images-idx3-ubyte.gz", b"plain text, not gzip" * 10, False)
  with pytest.raises(DataError, match="cannot decompress.*not gzip"):
    data.load_images(smoke_config)


def test_wrong_magic(smoke_config):
  rewrite(smoke_config.data_dir, "train-images-idx3-ubyte.gz", b"\x00\x00\x08\x09" + bytes(100))
  with pytest.raises(DataError, match="IDX magic number 0x00000809"):
    data.load_images(smoke_config)


def test_counts_disagree(smoke_config):
  rewrite(smoke_config.data_dir, "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(95)))
  with pytest.raises(DataError, match="96 images but .*train-labels-idx1-ubyte.gz has 95 labels"):
    data.load_images(smoke_config)


def test_images_not_28x28(smoke_config):
  write_idx_split(smoke_config.data_dir, "train", np.zeros((4, 32, 32)), np.zeros(4))
  with pytest.raises(DataError, match="images are 32x32, expected 28x28"):
    data.load_images(smoke_config)


def test_data_shorter_than_header_says(smoke_config):
  payload = idx_bytes(np.zeros((10, 28, 28)))[:-100]
  rewrite(smoke_config.data_dir, "train-images-idx3-ubyte.gz", payload)
  with pytest.raises(DataError, match=r"bytes of data, the header \[10, 28, 28\] needs 7840"):
    data.load_images(smoke_config)


def test_huge_count_refused_before_allocating():
  header = (0x0803).to_bytes(4, "big") + (4_000_000_000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
  with pytest.raises(DataError, match="claims 4000000000 examples"):
    data.parse_idx(header)


def test_empty_slice(smoke_config):
  with pytest.raises(DataError, match=r"split 'train\[5:5\]' .* selects no images"):
    data.load_images(smoke_config, "train[5:5]")


def test_bad_split_spec(smoke_config):
  with pytest.raises(DataError, match=r"split 'train\[:abc\]'"):
    data.load_images(smoke_config, "train[:abc]")


def test_fewer_images_than_one_step(smoke_config):
  with pytest.raises(DataError, match="the split has 96 images, fewer than one step needs"):
    data.steps_per_epoch(smoke_config.replace(batch_size=64, d_steps=2), 96)
