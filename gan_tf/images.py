"""Sample grids as PNG and GIF files."""
import io
import math

import numpy as np
from PIL import Image

from gan_tf import files
from gan_tf.sampling import to_uint8


def grid(images, rows=None, pad=2):
  """[N, H, W, C] images -> one uint8 [rows*(H+pad)+pad, cols*(W+pad)+pad] mosaic, white-padded: grey for
  C = 1, RGB for C = 3."""
  images = np.asarray(to_uint8(images))
  if images.shape[-1] == 1:
    images = images[..., 0]
  n, h, w = images.shape[:3]
  rows = rows or int(math.ceil(math.sqrt(n)))
  cols = int(math.ceil(n / rows))
  out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad) + images.shape[3:], 255, np.uint8)
  for i, image in enumerate(images):
    r, c = divmod(i, cols)
    out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = image
  return out


def channels_side_by_side(images):
  """[N, H, W, C] -> [N * C, H, W, 1]: each image's channels as grey images in a row (C digits of a
  Stacked MNIST sample read better apart than as one RGB image)."""
  images = np.asarray(images)
  return np.moveaxis(images, -1, 1).reshape((-1,) + images.shape[1:3] + (1,))


def _encode(image, **kwargs):
  buffer = io.BytesIO()
  image.save(buffer, **kwargs)
  return buffer.getvalue()


def save_png(mosaic, path, scale=2):
  """Writes a mosaic as PNG, enlarged `scale` times (nearest neighbour) so digits are visible."""
  image = Image.fromarray(mosaic)
  image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
  files.atomic_write(path, _encode(image, format="PNG"))


def save_gif(frames, path, frame_ms=400, scale=1):
  """An animated GIF of frames (PNG paths or uint8 arrays), in order, the last one held longer."""
  frames = [Image.open(f) if isinstance(f, str) else Image.fromarray(f) for f in frames]
  frames = [f.convert("RGB" if f.mode in ("RGB", "RGBA") else "L") for f in frames]
  frames = [f.resize((f.width * scale, f.height * scale), Image.NEAREST) for f in frames]
  if not frames:
    return
  durations = [frame_ms] * (len(frames) - 1) + [frame_ms * 4]
  files.atomic_write(path, _encode(frames[0], format="GIF", save_all=True, append_images=frames[1:],
                                   duration=durations, loop=0))
