"""Class-conditional GANs (--conditional): labels reach both networks through the train step, the data carry
them, grids put a class per row, a conditional run resumes only as one, and its SavedModel draws a class."""
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import REPO, smoke
from gan_tf import callbacks, data, export, interpolate, losses, models, rundir, sampling, train
from gan_tf.errors import UserError
from gan_tf.gan import AC_D_WEIGHT, AC_G_WEIGHT, build_gan, recompute_batchnorm


def conditional_gan(**overrides):
  return build_gan(smoke(conditional=True, **overrides))


def snapshot(model):
  return {v.path: v.numpy().copy() for v in model.trainable_variables}


def moved(before, model):
  return {v.path for v in model.trainable_variables if not np.array_equal(before[v.path], v.numpy())}


def one_hot(labels):
  return tf.one_hot(labels, 10)


@pytest.mark.parametrize("model", list(models.REGISTRY))
def test_both_networks_take_the_label(model):
  generator, discriminator = models.build_models(smoke(model=model, conditional=True))
  z = tf.tile(sampling.draw_z(1, 100, "uniform", 0), [2, 1])
  images = generator([z, one_hot([3, 7])], training=False).numpy()
  assert images.shape == (2, 28, 28, 1) and np.abs(images[0] - images[1]).max() > 1e-4
  same = tf.tile(tf.constant(images[:1]), [2, 1, 1, 1])
  logits, class_logits = (x.numpy() for x in discriminator([same, one_hot([3, 7])], training=False))
  assert logits.shape == (2, 1) and abs(logits[0, 0] - logits[1, 0]) > 1e-6   # the projection
  assert class_logits.shape == (2, 10)
  np.testing.assert_allclose(class_logits[0], class_logits[1], atol=1e-6)   # the classifier sees images only
  assert sampling.num_classes(generator) == 10 and sampling.latent_size(generator) == 100


def test_each_half_step_moves_its_own_network_and_the_labels_weights():
  gan = conditional_gan(model="mlp_small")
  real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)), tf.float32)
  g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
  gan._discriminator_step(real, one_hot(np.arange(16) % 10))
  assert not moved(g_before, gan.generator)
  assert moved(d_before, gan.discriminator) == set(d_before)   # the label embedding among them
  assert any("label_embedding" in path for path in d_before)
  d_before = snapshot(gan.discriminator)
  gan._generator_step(16)
  assert not moved(d_before, gan.discriminator)
  assert moved(g_before, gan.generator) == set(g_before)


def test_the_discriminator_step_gives_each_fake_its_real_batchs_label():
  """The fakes of a D update are G(z, y) for the real batch's labels y, and D's loss adds its class loss on
  the real images: the step's D loss equals the loss computed by hand from the same weights and noise."""
  gan = conditional_gan(model="mlp_small", d_optimizer="sgd", d_learning_rate=1e-9)
  real = tf.constant(np.random.default_rng(1).uniform(-1, 1, (16, 28, 28, 1)), tf.float32)
  labels = one_hot(np.arange(16) % 10)
  state = gan.seed_generator.state.numpy()
  loss, _, _ = gan._discriminator_step(real, labels)
  gan.seed_generator.state.assign(state)
  fake = gan.generator([gan.sample_z(16), labels], training=True)
  real_logits, real_classes = gan.discriminator([real, labels], training=True)
  fake_logits, _ = gan.discriminator([fake, labels], training=True)
  class_term = losses.class_loss(real_classes, labels)
  expected = losses.minimax_discriminator_loss(real_logits, fake_logits) + AC_D_WEIGHT * class_term
  np.testing.assert_allclose(float(loss), float(expected), rtol=1e-4)
  assert float(class_term) > 1.0   # an untrained classifier: about log 10
  mislabelled_logits, _ = gan.discriminator([fake, one_hot((np.arange(16) + 1) % 10)], training=True)
  other = losses.minimax_discriminator_loss(real_logits, mislabelled_logits) + AC_D_WEIGHT * class_term
  assert abs(float(other) - float(expected)) > 1e-5


def test_the_generator_step_adds_the_class_loss_of_its_fakes():
  gan = conditional_gan(model="mlp_small", g_optimizer="sgd", g_learning_rate=1e-9)
  state = gan.seed_generator.state.numpy()
  loss = gan._generator_step(16)
  gan.seed_generator.state.assign(state)
  labels = gan.sample_labels(16)
  fake = gan.generator([gan.sample_z(16), labels], training=True)
  fake_logits, fake_classes = gan.discriminator([fake, labels], training=True)
  expected = (losses.non_saturating_generator_loss(fake_logits)
              + AC_G_WEIGHT * losses.class_loss(fake_classes, labels))
  np.testing.assert_allclose(float(loss), float(expected), rtol=1e-4)


@pytest.mark.parametrize("loss", list(losses.LOSSES))
def test_every_loss_trains_conditionally_with_finite_values(loss, idx_dir, tmp_path):
  config = smoke(conditional=True, loss=loss, data_dir=idx_dir, epochs=1, d_steps=2, r1_weight=1.0)
  gan = train.run(config, str(tmp_path / "run"))
  assert all(np.isfinite(v.numpy()).all() for v in gan.generator.weights + gan.discriminator.weights)


def test_conditional_batches_pair_each_image_with_its_label(idx_dir):
  config = smoke(conditional=True, data_dir=idx_dir, batch_size=16, d_steps=2, epochs=1)
  images, labels = data.load_images(config)
  lookup = {im.tobytes(): label for im, label in zip(np.asarray(images, np.float32) / 127.5 - 1, labels)}
  batches = list(data.make_dataset(config, images, labels=labels))
  assert len(batches) == 96 // 32
  for real, batch_labels in batches:
    assert real.shape == (32, 28, 28, 1) and batch_labels.dtype == tf.int32
    assert [lookup[im.tobytes()] for im in real.numpy()] == batch_labels.numpy().tolist()


def test_labels_outside_the_datasets_classes_are_refused(tmp_path):
  from conftest import write_idx_split
  folder = str(tmp_path / "idx")
  write_idx_split(folder, "train", np.zeros((32, 28, 28)), np.full(32, 12))
  with pytest.raises(data.DataError, match="label 12 outside mnist's 10 classes"):
    data.load_images(smoke(data_dir=folder, dataset="mnist"))


def test_grid_has_one_class_per_row_and_the_same_z_down_each_column():
  config = smoke(conditional=True, sample_grid=3)
  z, labels, rows = callbacks.fixed_inputs(config)
  assert z.shape == (30, 100) and rows == 10
  assert labels.tolist() == [c for c in range(10) for _ in range(3)]
  np.testing.assert_array_equal(z.numpy()[:3], z.numpy()[27:])
  assert not np.array_equal(z.numpy()[0], z.numpy()[1])
  unconditional_z, none, default_rows = callbacks.fixed_inputs(smoke(sample_grid=3))
  assert unconditional_z.shape == (9, 100) and none is None and default_rows is None


def test_run_writes_class_rows_and_cannot_resume_unconditionally(idx_dir, tmp_path):
  workdir = str(tmp_path / "run")
  config = smoke(conditional=True, data_dir=idx_dir, epochs=1, sample_grid=2)
  train.run(config, workdir)
  grid = Image.open(os.path.join(workdir, "samples", "epoch_0001.png"))
  assert grid.size == (2 * (2 * 30 + 2), 2 * (10 * 30 + 2))   # 10 class rows of 2 columns, scale 2
  with pytest.raises(rundir.ResumeError, match="conditional: checkpoint has True, config has False"):
    train.run(config.replace(conditional=False, epochs=2), workdir)
  written = json.loads(open(os.path.join(workdir, "config.json")).read())
  assert written["conditional"] is True   # the refused resume wrote nothing


def test_saved_model_draws_each_class_in_a_process_without_gan_tf(idx_dir, tmp_path):
  workdir = str(tmp_path / "run")
  config = smoke(conditional=True, data_dir=idx_dir, epochs=1)
  gan = train.run(config, workdir)
  path = os.path.join(workdir, rundir.EXPORT_DIR)
  for label in (0, 9):   # the in-memory sampler and the SavedModel agree, class by class
    np.testing.assert_array_equal(sampling.sample(gan.sampler, config.noise, 12, [5, label], label, 5),
                                  export.saved_model_sampler(path)(12, [5, label], label, 5))
  np.testing.assert_array_equal(sampling.sample(gan.sampler, config.noise, 12, 3, batch_size=5),
                                export.saved_model_sampler(path)(12, 3, batch_size=5))
  script = f"""
import json, sys
import tensorflow as tf
m = tf.saved_model.load({path!r})
meta = m.signatures["metadata"]()
out = {{"conditional": bool(meta["conditional"]), "classes": int(meta["num_classes"])}}
for label in range(out["classes"]):
  images = m.signatures["sample_class"](n=tf.constant(3), seed=tf.constant(1, tf.int64), label=tf.constant(label))
  out[label] = [str(images["images"].dtype.name), list(images["images"].shape)]
served = m.signatures["serving_default"](z=tf.zeros([2, 100]), labels=tf.constant([1, 2]))["images"]
out["served"] = list(served.shape)
try:
  m.signatures["sample_class"](n=tf.constant(1), seed=tf.constant(1, tf.int64), label=tf.constant(10))
except tf.errors.InvalidArgumentError as e:
  out["bad_label"] = "label must be in [0, 10)" in e.message
print(json.dumps(out))
assert "gan_tf" not in sys.modules
"""
  result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=str(tmp_path), env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode == 0, result.stderr[-2000:]
  out = json.loads(result.stdout.strip().splitlines()[-1])
  assert out["conditional"] and out["classes"] == 10 and out["bad_label"] and out["served"] == [2, 28, 28, 1]
  assert all(out[str(label)] == ["uint8", [3, 28, 28, 1]] for label in range(10))


def test_generate_and_interpolate_take_labels(idx_dir, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke(conditional=True, data_dir=idx_dir, epochs=1), workdir)

  def cli(module, *args):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=REPO,
                          timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  generated = cli("gan_tf.generate", f"--model={workdir}", "--n=4", "--label=3")
  assert generated.returncode == 0, generated.stderr[-2000:]
  assert json.loads(generated.stdout.strip().splitlines()[-1])["out"].endswith("generated-n4-seed0-label3.png")
  with pytest.raises(export.ModelError, match="label 10: this model's classes are 0 to 9"):
    export.load_sampler(os.path.join(workdir, rundir.EXPORT_DIR), label=10)   # generate's --label
  walk = cli("gan_tf.interpolate", f"--run={workdir}", "--labels=1,2,3", "--steps=4")
  assert walk.returncode == 0, walk.stderr[-2000:]
  written = json.loads(walk.stdout.strip().splitlines()[-1])
  assert written["seeds"] == [0] and written["png"].endswith("interpolation-seed0-labels-1-2-3.png")
  assert Image.open(written["png"]).size == (2 * (5 * 30 + 2), 2 * (2 * 30 + 2))   # 2 legs of 5
  z, classes, stem = interpolate.path(smoke(conditional=True), [0, 1], [4], 2, seeds_given=True)   # --labels=4
  assert stem == "interpolation-0-1-label4" and z.shape[:2] == classes.shape[:2] == (1, 3)
  assert (classes.argmax(-1) == 4).all()
  with pytest.raises(UserError, match="a walk across classes holds one z"):   # --labels=1,2 --seeds=0,1
    interpolate.path(smoke(conditional=True), [0, 1], [1, 2], 4, seeds_given=True)


def test_an_unconditional_model_refuses_a_label(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1), workdir)
  with pytest.raises(export.ModelError, match="an unconditional model takes no label"):
    export.load_sampler(os.path.join(workdir, rundir.EXPORT_DIR), label=1)


def test_a_conditional_weight_average_gets_its_batchnorm_statistics_from_drawn_labels():
  generator, _ = models.build_models(smoke(model="dcgan_tutorial", conditional=True, noise="normal"))
  recompute_batchnorm(generator, "normal", n=64, batch_size=32)
  first = next(layer for layer in generator.layers if isinstance(layer, keras.layers.BatchNormalization))
  # The first BatchNorm normalises Dense(z, one-hot label): its statistics are those of that layer's outputs.
  z = sampling.draw_z(32, 100, "normal", 1)
  upstream = keras.Model(generator.inputs, first.input)
  outputs = np.concatenate([upstream(sampling.generator_inputs(generator, sampling.draw_z(size, 100, "normal", s),
                                                               sampling.chunk_labels(size, 10, s)))
                            for size, s in sampling.chunks(64, 0, 32)])
  np.testing.assert_allclose(first.moving_mean.numpy(), outputs.mean(0), rtol=1e-4, atol=1e-5)
  assert np.isfinite(generator(sampling.generator_inputs(generator, z, np.arange(32) % 10))).all()
