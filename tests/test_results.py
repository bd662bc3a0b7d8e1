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
  now = row.config()
  _finished(str(tmp_path), row, now.replace(g_learning_rate=now.g_learning_rate / 2, d_steps=now.d_steps + 1))
  expected = (f"mlp_small-fashion-50-default: its finished run in {tmp_path}/{row.id} was trained with another "
              f"config (d_steps {now.d_steps + 1} -> {now.d_steps}, g_learning_rate "
              f"{now.g_learning_rate / 2!r} -> {now.g_learning_rate!r}); delete that folder to train the row again")
  with pytest.raises(UserError) as error:
    results.run_row(row, str(tmp_path), n=10)
  assert str(error.value) == expected


def test_fields_the_training_never_reads_do_not_make_a_row_stale(tmp_path):
  # mlp_small's source trains with SGD: Adam's beta_1 moving in gan_tf's defaults changes nothing it ran.
  row = results.Row("mlp_small", "fashion", 50, "source")
  _finished(str(tmp_path), row, row.config().replace(d_beta_1=0.5, g_beta_1=0.9, gp_weight=1.0))
  assert results.run_row(row, str(tmp_path), n=10)["figures"]["classifier_score"] == 4.2
  other = results.Row("mlp_small", "fashion", 50, "default")   # Adam: there beta_1 is read
  _finished(str(tmp_path), other, other.config().replace(d_beta_1=0.5))
  with pytest.raises(UserError, match=rf"\(d_beta_1 0.5 -> {other.config().d_beta_1!r}\)"):
    results.run_row(other, str(tmp_path), n=10)
