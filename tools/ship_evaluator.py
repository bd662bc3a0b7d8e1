"""Writes a dataset's evaluator into the package (gan_tf/evaluators/): the cached one, else one trained now.

Run: `make evaluator ARGS='--dataset=mnist' DATA_DIR=<IDX folder>` (or `python -m tools.ship_evaluator`);
commit the .keras file and its .json record.
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import json

from absl import flags

from gan_tf import data, files
from gan_tf.config import Config
from gan_tf.errors import run_main
from gan_tf.evaluator import SHIPPED_DIR, data_files, evaluator_paths, load_evaluator, sha256


def ship(config, cache_dir=None):
  """Writes config's dataset's evaluator (the cached one, else one trained now) into SHIPPED_DIR."""
  evaluator = load_evaluator(config, cache_dir, shipped=False)
  model_path, info_path = evaluator_paths(config, SHIPPED_DIR)
  with open(evaluator.info["path"], "rb") as f:
    files.atomic_write(model_path, f.read())
  info = {k: v for k, v in evaluator.info.items() if k not in ("path", "trained_now", "shipped", "data_dir")}
  folder = data.idx_dir(config)   # a package's folder names where to get the files; another is private
  info.setdefault("data", data.describe(config) if not folder or folder in data.OFFLINE_DIRS.values()
                  else data.describe(config).replace(folder, "a folder of its distribution's .gz files"))
  info.setdefault("data_files", data_files(config))
  files.atomic_write(info_path, (json.dumps(dict(info, sha256=sha256(model_path)), indent=2, sort_keys=True)
                                 + "\n").encode())
  return model_path


def main():
  f = flags.FLAGS
  path = ship(Config().replace(dataset=f.dataset, data_dir=f.data_dir or ""), f.cache_dir)
  print(f"{path} (sha256 {sha256(path)}); commit it and its .json record")


if __name__ == "__main__":
  flags.DEFINE_string("dataset", "fashion_mnist", "The dataset whose evaluator to ship.")
  flags.DEFINE_string("data_dir", None, "Its IDX folder (default: Debian's for Fashion-MNIST, else tfds).")
  flags.DEFINE_string("cache_dir", None, "Evaluators' cache; an evaluator cached there is shipped as it is.")
  run_main(main)
