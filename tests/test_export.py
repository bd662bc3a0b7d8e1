"""The SavedModel: loaded in a Python that never imports gan_tf, saved_model_cli, TFLite, generate."""
import json
import os
import shutil
import stat
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from conftest import smoke, write_idx_split
from gan_tf import export, files, rundir, train

pytestmark = pytest.mark.xdist_group("export")   # one worker builds the module fixture once

LOADER = r"""
import json, sys
import numpy as np, tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
z = np.load(sys.argv[2])
served = model.signatures["serving_default"](z=tf.constant(z))["images"].numpy()
a = model.signatures["sample"](n=tf.constant(5), seed=tf.constant(7, tf.int64))["images"].numpy()
b = model.signatures["sample"](n=tf.constant(5), seed=tf.constant(7, tf.int64))["images"].numpy()
c = model.signatures["sample"](n=tf.constant(5), seed=tf.constant(8, tf.int64))["images"].numpy()
meta = {k: np.asarray(v.numpy()).tolist() for k, v in model.signatures["metadata"]().items()}
np.save(sys.argv[3], served)
print(json.dumps({
    "gan_tf_imported": any(m.startswith("gan_tf") for m in sys.modules),
    "sample_dtype": str(a.dtype), "sample_shape": list(a.shape),
    "same_seed_equal": bool(np.array_equal(a, b)), "other_seed_differs": not np.array_equal(a, c),
    "metadata": {k: v.decode() if isinstance(v, bytes) else v for k, v in meta.items()}}))
"""


@pytest.fixture(scope="session")   # per worker: make test keeps the module on one (xdist_group)
def trained(tmp_path_factory):
  folder = tmp_path_factory.mktemp("data")
  rng = np.random.default_rng(0)
  write_idx_split(str(folder), "train", rng.integers(0, 255, (64, 28, 28)), np.zeros(64))
  workdir = str(tmp_path_factory.mktemp("run"))
  config = smoke(data_dir=str(folder), epochs=1, model="dcgan_tutorial")
  gan = train.run(config, workdir)
  return config, gan, os.path.join(workdir, rundir.EXPORT_DIR)


def test_export_serves_in_a_process_without_gan_tf(trained, tmp_path):
  config, gan, path = trained
  z = np.random.default_rng(1).uniform(-1, 1, (3, 100)).astype(np.float32)
  np.save(tmp_path / "z.npy", z)
  result = subprocess.run([sys.executable, "-c", LOADER, path, str(tmp_path / "z.npy"),
                           str(tmp_path / "out.npy")], capture_output=True, text=True, timeout=300,
                          cwd=str(tmp_path), env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report["gan_tf_imported"] is False
  assert report["sample_dtype"] == "uint8" and report["sample_shape"] == [5, 28, 28, 1]
  assert report["same_seed_equal"] and report["other_seed_differs"]
  assert report["metadata"] == {"experiment": "smoke", "latent_dim": 100, "noise": "uniform",
                                "source": "tests only", "conditional": False, "num_classes": 0,
                                "dataset": "fashion_mnist", "image_shape": [28, 28, 1]}
  expected = gan.generator(z, training=False).numpy()    # BatchNorm in inference mode, as exported
  np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-5)


def test_saved_model_cli_shows_and_runs_it(trained, tmp_path):
  _, _, path = trained
  cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  shown = subprocess.run([cli, "show", "--all", "--dir", path], capture_output=True, text=True,
                         timeout=300, env=env)
  assert shown.returncode == 0, shown.stderr[-2000:]
  for words in ("signature_def['serving_default']", "signature_def['sample']",
                "signature_def['metadata']", "outputs['images']", "inputs['z']"):
    assert words in shown.stdout
  np.save(tmp_path / "n.npy", np.int32(2))
  np.save(tmp_path / "seed.npy", np.int64(3))
  ran = subprocess.run([cli, "run", "--dir", path, "--tag_set", "serve", "--signature_def", "sample",
                        "--inputs", f"n={tmp_path / 'n.npy'};seed={tmp_path / 'seed.npy'}"],
                       capture_output=True, text=True, timeout=300, env=env)
  assert ran.returncode == 0, ran.stderr[-2000:]
  assert "Result for output key images" in ran.stdout


def test_tflite_conversion_matches(trained):
  _, gan, path = trained
  converter = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["serving_default"])
  interpreter = tf.lite.Interpreter(model_content=converter.convert())
  runner = interpreter.get_signature_runner("serving_default")
  z = np.random.default_rng(2).uniform(-1, 1, (1, 100)).astype(np.float32)
  np.testing.assert_allclose(runner(z=z)["images"], gan.generator(z, training=False).numpy(),
                             atol=1e-4)


def test_latest_run_serves_export_generate_and_eval_and_the_grid_lands_in_the_run(trained, tmp_path):
  _, _, path = trained
  run = tmp_path / "runs" / "smoke-20990101-000000"
  shutil.copytree(os.path.dirname(path), run)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  def cli(module, *args):
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                            timeout=300, cwd=str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
  out = str(tmp_path / "exported")
  assert cli("gan_tf.export", f"--out={out}")["saved_model"] == out                             # --run=latest
  assert os.path.exists(os.path.join(out, "saved_model.pb"))
  assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]
  generated = cli("gan_tf.generate", "--n=9")                                                   # --model=latest
  assert generated["out"] == str(run / "generated-n9-seed0.png")
  assert Image.open(generated["out"]).size == (2 * (3 * 30 + 2),) * 2
  assert rundir.find("latest", str(tmp_path / "runs")) == str(run)
  with pytest.raises(rundir.ResumeError, match="no run with a checkpoint under"):
    rundir.find("latest", str(tmp_path / "empty"))


def test_export_replaces_a_previous_model_whole(trained, tmp_path):
  config, gan, _ = trained
  path = str(tmp_path / "model")
  export.export_generator(gan.generator, config, path)
  open(os.path.join(path, "stale.txt"), "w").close()   # a file of the old model's only
  export.export_generator(gan.generator, config.replace(name="second"), path)
  assert sorted(os.listdir(tmp_path)) == ["model"]   # no temporary or old folder left beside it
  assert not os.path.exists(os.path.join(path, "stale.txt"))
  assert tf.saved_model.load(path).signatures["metadata"]()["experiment"].numpy() == b"second"


def test_export_and_written_files_follow_the_umask(trained, tmp_path):
  """Temporary files and folders are created private (0600, 0700); what lands must be readable by others
  under the usual umask 022, e.g. by a model server running as another user."""
  config, gan, _ = trained
  old = os.umask(0o022)
  try:
    export.export_generator(gan.generator, config, str(tmp_path / "model"))
    files.atomic_write(str(tmp_path / "config.json"), b"{}")
  finally:
    os.umask(old)
  assert stat.S_IMODE(os.stat(tmp_path / "model").st_mode) == 0o755
  assert stat.S_IMODE(os.stat(tmp_path / "config.json").st_mode) == 0o644
