"""Latent walks: the interpolation math against closed forms, and the command line on a one-epoch run."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from gan_tf import interpolate, train
from gan_tf.errors import UserError


def test_slerp_keeps_the_ends_and_walks_the_arc():
  a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
  np.testing.assert_allclose(interpolate.slerp(a, b, 0.0), a, atol=1e-12)
  np.testing.assert_allclose(interpolate.slerp(a, b, 1.0), b, atol=1e-12)
  # Halfway along a right angle: direction (1, 1) / sqrt 2, norm halfway between 1 and 3.
  np.testing.assert_allclose(interpolate.slerp(a, b, 0.5), 2.0 * np.array([1.0, 1.0, 0.0]) / np.sqrt(2))
  # A straight line through the middle of two unit vectors would shrink to norm cos(45 deg).
  np.testing.assert_allclose(np.linalg.norm(interpolate.slerp(a, b / 3, 0.5)), 1.0)


def test_walk_is_spherical_for_normal_and_linear_for_uniform_noise():
  rng = np.random.default_rng(0)
  zs = [rng.standard_normal(100) for _ in range(3)]
  path = interpolate.walk(zs, 4, "normal")
  assert path.shape == (2, 5, 100)
  np.testing.assert_allclose(path[0, 0], zs[0], rtol=1e-6)
  np.testing.assert_allclose(path[1, -1], zs[2], rtol=1e-6)
  norms = np.linalg.norm(path, axis=-1)
  assert norms.min() > 0.95 * min(np.linalg.norm(z) for z in zs)   # no dip towards the origin
  cube = [rng.uniform(-1, 1, 100) for _ in range(2)]
  linear = interpolate.walk(cube, 4, "uniform")[0]
  np.testing.assert_allclose(linear[2], (cube[0] + cube[1]) / 2, rtol=1e-6)
  assert np.abs(linear).max() <= 1.0


def test_command_line_writes_a_strip_and_a_gif_into_the_run(smoke_config, tmp_path):
  workdir = str(tmp_path / "run")
  train.run(smoke_config.replace(epochs=1), workdir)
  result = subprocess.run([sys.executable, "-m", "gan_tf.interpolate", f"--run={workdir}", "--seeds=0,1,2",
                           "--steps=4"], capture_output=True, text=True, cwd=REPO, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode == 0, result.stderr[-2000:]
  written = json.loads(result.stdout.strip().splitlines()[-1])
  assert written["png"] == os.path.join(workdir, "interpolation-0-1-2.png")
  assert Image.open(written["png"]).size == (2 * (5 * 30 + 2), 2 * (2 * 30 + 2))   # 2 legs of 5 images
  gif = Image.open(written["gif"])
  assert gif.n_frames == 2 * 4 + 1 and gif.size == (4 * 28, 4 * 28)   # the legs' junction shown once
  with pytest.raises(UserError, match="needs at least two seeds"):   # --seeds=3
    interpolate.path(smoke_config, [3], [], 4, seeds_given=True)
