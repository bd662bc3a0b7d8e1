"""Differentiable augmentation of what D sees (Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training", DiffAugment): random transforms drawn afresh for every image each time D is
called, on real and generated images alike and in G's step too, so D cannot learn the training set by
heart and G's gradient passes through the transform.

Each policy is a function (images [B, H, W, C] in [-1, 1], uniform) -> images, uniform(shape) drawing
float32 U[0, 1) from the GAN's seed stream; every op is differentiable and of static shape (XLA-friendly).
"""
import tensorflow as tf


def color(images, uniform):
  """DiffAugment's brightness (+ U(-0.5, 0.5)) then contrast ((x - mean) * U(0.5, 1.5) + mean, the mean
  over each image); its saturation is nothing on grey images."""
  b = tf.shape(images)[0]
  images = images + tf.cast(uniform([b, 1, 1, 1]) - 0.5, images.dtype)
  mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
  return (images - mean) * tf.cast(uniform([b, 1, 1, 1]) + 0.5, images.dtype) + mean


def translation(images, uniform, ratio=0.125):
  """Each image shifted by whole pixels, independently in each axis, by up to int(size * ratio + 0.5)
  (DiffAugment's: 4 of 28) either way; what moves in is -1, the data's black background (DiffAugment
  pads with 0, its grey)."""
  b, h, w = tf.shape(images)[0], images.shape[1], images.shape[2]
  def shifts(size):
    most = int(size * ratio + 0.5)
    shift = tf.floor(uniform([b]) * (2 * most + 1)) - most
    # shift_matrix[n, i, j] = 1 where j = i - shift[n]: row i of the result is row i - shift of the image
    # (a one-hot of an index off the image is all zeros, so those rows are background).
    source = tf.range(size, dtype=tf.float32)[None, :] - shift[:, None]
    return tf.one_hot(tf.cast(source, tf.int32), size, dtype=images.dtype)
  lifted = images + 1.0   # background 0, so that an all-zero row brings in background
  moved = tf.einsum("nij,njwc->niwc", shifts(h), lifted)
  moved = tf.einsum("nkw,nhwc->nhkc", shifts(w), moved)
  return moved - 1.0


def cutout(images, uniform, ratio=0.5):
  """A square of side int(size * ratio + 0.5) (DiffAugment's: 14 of 28) set to 0, centred anywhere in the
  image (its part inside it), one per image."""
  b, h, w = tf.shape(images)[0], images.shape[1], images.shape[2]
  def inside(size):
    side = int(size * ratio + 0.5)
    centre = tf.floor(uniform([b]) * (size + 1 - side % 2))
    index = tf.range(size, dtype=tf.float32)[None, :]
    start = centre[:, None] - side // 2
    return (index >= start) & (index < start + side)   # [B, size]
  square = inside(h)[:, :, None] & inside(w)[:, None, :]
  return images * tf.cast(~square, images.dtype)[..., None]


POLICIES = {"color": color, "translation": translation, "cutout": cutout}


def parse(policy):
  """'translation,cutout' -> ('translation', 'cutout'); '' -> (). Unknown names are a ValueError."""
  names = tuple(name.strip() for name in policy.split(",") if name.strip())
  unknown = [name for name in names if name not in POLICIES]
  if unknown:
    raise ValueError(f"unknown augmentation {', '.join(unknown)}; known: {', '.join(POLICIES)}")
  return names


def diff_augment(images, policy, uniform):
  """images transformed by each of policy's names in order (DiffAugment applies color, translation,
  cutout in that order)."""
  for name in policy:
    images = POLICIES[name](images, uniform)
  return images
