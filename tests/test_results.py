"""experiments/results.py: a finished row is reused only while its config is the row's config."""
import json
import os

import pytest

from experiments import results
from gan_tf import train
from gan_tf.errors import UserError


def _finished(runs_dir, row, config):
  workdir = os.path.join(runs_dir, row.id)
  os.makedirs(workdir)
  with open(os.path.join(workdir, train.CONFIG_FILE), "w") as f:
    f.write(config.to_json())
  with open(os.path.join(workdir, "results.json"), "w") as f:
    json.dump({"figures": {"classifier_score": 4.2}}, f)


def test_finished_row_with_the_rows_config_is_reused(tmp_path):
  row = results.Row("mlp_small", "fashion", 50, "default")
  _finished(str(tmp_path), row, row.config().replace(data_dir="/elsewhere"))   # same files, other folder
  assert results.run_row(row, str(tmp_path), n=10)["figures"]["classifier_score"] == 4.2


def test_finished_row_trained_with_an_old_default_is_refused(tmp_path):
  row = results.Row("mlp_small", "fashion", 50, "default")
  _finished(str(tmp_path), row, row.config().replace(g_learning_rate=1e-4, d_steps=1))
  with pytest.raises(UserError, match=r"mlp_small-fashion-50-default: .*another config \(d_steps 1 -> 5, "
                                      r"g_learning_rate 0.0001 -> 0.0002\); delete that folder"):
    results.run_row(row, str(tmp_path), n=10)


def test_fields_the_training_never_reads_do_not_make_a_row_stale(tmp_path):
  # mlp_small's source trains with SGD: Adam's beta_1 moving in gan_tf's defaults changes nothing it ran.
  row = results.Row("mlp_small", "fashion", 50, "source")
  _finished(str(tmp_path), row, row.config().replace(d_beta_1=0.5, g_beta_1=0.9, gp_weight=1.0))
  assert results.run_row(row, str(tmp_path), n=10)["figures"]["classifier_score"] == 4.2
  other = results.Row("mlp_small", "fashion", 50, "default")   # Adam: there beta_1 is read
  _finished(str(tmp_path), other, other.config().replace(d_beta_1=0.5))
  with pytest.raises(UserError, match=r"\(d_beta_1 0.5 -> 0.0\)"):
    results.run_row(other, str(tmp_path), n=10)
