"""The data pipeline: IDX and tfds sources, split specs, batches, order, and errors for bad files."""
import numpy as np
import pytest
import tensorflow_datasets as tfds

from conftest import smoke, write_idx_split
from gan_tf.configs import get_config
from gan_tf import data
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
    images, labels = data.load_images(smoke(dataset="mnist"), "train")
  assert images.shape == (40, 28, 28, 1) and images.dtype == np.uint8 and labels.shape == (40,)


def test_without_network_tfds_is_one_line_naming_the_offline_ways(monkeypatch):
  def offline(*args, **kwargs):
    raise ConnectionError("Failed to resolve 'storage.googleapis.com'")   # what tfds raises, an OSError
  monkeypatch.setattr(tfds, "load", offline)
  with pytest.raises(DataError) as error:
    data.load_images(smoke(dataset="mnist"))
  message = str(error.value)
  assert "tfds.load('mnist') failed (ConnectionError: no network?)" in message and "\n" not in message
  assert "--data_dir=" in message and "dataset-fashion-mnist" in message and "TFDS_DATA_DIR" in message


def test_the_data_folder_follows_the_dataset(monkeypatch, tmp_path):
  fashion = str(tmp_path / "fashion")
  monkeypatch.setitem(data.OFFLINE_DIRS, "fashion_mnist", fashion)
  assert data.idx_dir(smoke()) == ""   # the offline folder is absent: tfds
  (tmp_path / "fashion").mkdir()
  assert data.idx_dir(smoke()) == fashion
  assert data.idx_dir(smoke(dataset="mnist")) == ""   # not Fashion-MNIST's folder: tfds
  assert data.idx_dir(smoke(dataset="mnist", data_dir="/x")) == "/x"


def test_a_folder_of_another_dataset_is_refused(tmp_path):
  """IDX files whose first labels are MNIST's test split's and Fashion-MNIST's train split's (their
  fingerprints in data.FINGERPRINTS) are known by them, whatever their images."""
  folder = str(tmp_path / "idx")
  first_labels = {(split, name): labels for (split, labels), name in data.FINGERPRINTS.items()}
  mnist_test, fashion_train = first_labels["test", "mnist"], first_labels["train", "fashion_mnist"]
  write_idx_split(folder, "t10k", np.zeros((20, 28, 28)), list(mnist_test) + [0] * 8)
  write_idx_split(folder, "train", np.zeros((20, 28, 28)), list(fashion_train) + [0] * 8)
  with pytest.raises(DataError) as error:
    data.load_images(smoke(dataset="fashion_mnist", data_dir=folder), "test")
  assert str(error.value) == (f"{folder} holds mnist (by its test labels), not dataset='fashion_mnist': pass "
                              "--dataset=mnist, or --data_dir=<a folder of fashion_mnist's IDX files>")
  with pytest.raises(DataError, match="holds fashion_mnist .by its train labels., not dataset='mnist'"):
    data.load_images(smoke(dataset="mnist", data_dir=folder), "train")
  assert len(data.load_images(smoke(dataset="mnist", data_dir=folder), "test")[0]) == 20   # its own: loads


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
  config = get_config("mlp", dataset="fashion_mnist", data_dir=fashion_dir)
  train_images, train_labels = data.load_images(config, "train")
  test_images, _ = data.load_images(config, "test")
  assert train_images.shape == (60000, 28, 28, 1) and test_images.shape == (10000, 28, 28, 1)
  assert np.bincount(train_labels).tolist() == [6000] * 10


def test_mnist_test_split_only(mnist_dir):
  config = get_config("mlp", dataset="mnist", data_dir=mnist_dir)
  images, labels = data.load_images(config, "test[:80%]")
  assert images.shape == (8000, 28, 28, 1) and set(labels.tolist()) == set(range(10))
  with pytest.raises(DataError, match=r"Unknown split 'train'.*files here give splits \['test'\]"):
    data.load_images(config, "train")


@pytest.mark.parametrize("images,batch,requested,execution,steps", [
    (60000, 128, 100, 78, 468),    # Fashion-MNIST, mlp: 468 = 6 x 78
    (60000, 64, 100, 78, 936),     # mlp_small: 937 steps is prime; one batch is left over
    (8000, 128, 100, 62, 62),      # MNIST's 8,000 digits: one execution an epoch
    (60000, 128, 1, 1, 468),
])
def test_steps_per_execution_divides_the_epoch(images, batch, requested, execution, steps):
  config = get_config("mlp", batch_size=batch, d_steps=1, steps_per_execution=requested)
  assert data.steps_per_execution(config, images) == execution
  assert data.steps_per_epoch(config, images) == steps
