"""tools/results.py: a finished row (run folder or committed record) is reused only while its config
is the row's config."""
import json
import os
import shutil

import pytest

from gan_tf import rundir
from tools import results
from gan_tf.errors import UserError


def _finished(runs_dir, row, config):
  workdir = os.path.join(runs_dir, row.id)
  os.makedirs(workdir)
  with open(os.path.join(workdir, rundir.CONFIG_FILE), "w") as f:
    f.write(config.to_json())
  with open(os.path.join(workdir, "results.json"), "w") as f:
    json.dump({"figures": {"classifier_score": 4.2}}, f)


def test_finished_row_with_the_rows_config_is_reused(tmp_path):
  row = results.Row("mlp_small", "fashion", 50, "default")
  _finished(str(tmp_path), row, row.config().replace(data_dir="/elsewhere"))   # same files, other folder
  assert results.run_row(row, str(tmp_path), n=10, records_dir=str(tmp_path / "records"))["figures"]["classifier_score"] == 4.2


def test_finished_row_trained_with_an_old_default_is_refused(tmp_path):
  row = results.Row("mlp_small", "fashion", 50, "default")
  now = row.config()
  _finished(str(tmp_path), row, now.replace(g_learning_rate=now.g_learning_rate / 2, d_steps=now.d_steps + 1))
  expected = (f"mlp_small-fashion-50-default: its finished run in {tmp_path}/{row.id} was trained with another "
              f"config (d_steps {now.d_steps + 1} -> {now.d_steps}, g_learning_rate "
              f"{now.g_learning_rate / 2!r} -> {now.g_learning_rate!r}); delete that folder to train the row again")
  with pytest.raises(UserError) as error:
    results.run_row(row, str(tmp_path), n=10, records_dir=str(tmp_path / "records"))
  assert str(error.value) == expected


def test_fields_the_training_never_reads_do_not_make_a_row_stale(tmp_path):
  # mlp_small's source trains with SGD: Adam's beta_1 moving in gan_tf's defaults changes nothing it ran.
  row = results.Row("mlp_small", "fashion", 50, "source")
  _finished(str(tmp_path), row, row.config().replace(d_beta_1=0.5, g_beta_1=0.9, gp_weight=1.0))
  assert results.run_row(row, str(tmp_path), n=10, records_dir=str(tmp_path / "records"))["figures"]["classifier_score"] == 4.2
  other = results.Row("mlp_small", "fashion", 50, "default")   # Adam: there beta_1 is read
  _finished(str(tmp_path), other, other.config().replace(d_beta_1=0.5))
  with pytest.raises(UserError, match=rf"\(d_beta_1 0.5 -> {other.config().d_beta_1!r}\)"):
    results.run_row(other, str(tmp_path), n=10, records_dir=str(tmp_path / "records"))


def _result(machine=None, precision="float32"):
  figures = {"classifier_score": 7.0, "frechet_features": 5.0, "kid_mean": 0.05, "classes_covered": 10,
             "histogram": [1000] * 10, "precision": 0.6, "recall": 0.5, "density": 0.9, "coverage": 0.8}
  result = {"train_seconds": 90.0, "figures": figures, "precision": precision}
  if machine:
    result["machine"] = {"cpus": 2, "cpu": machine, "avx512": True,
                         "native": {"bfloat16": True, "float16": False}}
  return result


def test_results_name_the_machine_their_wall_times_come_from():
  a, b = "mlp-fashion-50-default", "mlp_small-fashion-50-default"
  one = results.markdown({a: _result("CPU A"), b: _result("CPU A")}, {}, 10)
  assert "wall time on 2 CPUs, CPU A, avx512f, native bf16." in one
  assert "(trained on" not in one
  two = results.markdown({a: _result("CPU A"), b: _result()}, {}, 10)
  assert "wall time on the machine named in each row's Settings line" in two
  assert f"- `{a}`: `" in two and "(trained on 2 CPUs, CPU A, avx512f, native bf16)" in two
  assert "(trained on a machine not recorded)" in two
  assert f"| {a} | 50 | 1 of 3 | float32 | 1.5 min | 7.00 |  | 5.00 | 0.0500 | 0.60 / 0.50 | 0.90 / 0.80 | 10 |" in two
  averaged = dict(_result("CPU A"), live_figures={"classifier_score": 6.5})
  assert f"| {a} | 50 | 1 of 3 | float32 | 1.5 min | 7.00 | 6.50 | 5.00 |" in results.markdown({a: averaged}, {}, 10)


def test_a_finished_row_leaves_a_record_that_serves_without_its_run_folder(tmp_path):
  row = results.Row("mlp_small", "fashion", 50, "default")
  records = str(tmp_path / "records")
  _finished(str(tmp_path / "runs"), row, row.config())
  assert results.run_row(row, str(tmp_path / "runs"), n=10, records_dir=records)["figures"] == {
      "classifier_score": 4.2}
  with open(results.record_path(row, records)) as f:
    record = json.load(f)
  assert record["figures"] == {"classifier_score": 4.2} and record["config"]["d_steps"] == row.config().d_steps
  shutil.rmtree(tmp_path / "runs")   # a clone: no runs/, the record committed
  assert results.run_row(row, str(tmp_path / "runs"), n=10, records_dir=records)["figures"] == {
      "classifier_score": 4.2}


def test_a_record_made_with_an_old_default_is_refused(tmp_path):
  row = results.Row("mlp_small", "fashion", 50, "default")
  records = tmp_path / "records"
  records.mkdir()
  old = json.loads(row.config().replace(d_steps=5).to_json())
  (records / f"{row.id}.json").write_text(json.dumps({"figures": {"classifier_score": 4.2}, "config": old}))
  with pytest.raises(UserError) as error:
    results.run_row(row, str(tmp_path / "runs"), n=10, records_dir=str(records))
  assert str(error.value) == (f"{row.id}: its record {records}/{row.id}.json was made with another config "
                              f"(d_steps 5 -> {row.config().d_steps}); delete that record to train the row "
                              "again")


def test_a_row_imported_from_an_earlier_report_says_so():
  a = "mlp-fashion-50-default"
  imported = dict(_result("CPU A"), imported_from="figures as RESULTS.md printed them at abc1234")
  text = results.markdown({a: imported}, {}, 10)
  assert f"| {a} | 50 | 1 of 3 | float32 | 1.5 min | 7.00 |  | 5.00 | 0.0500 | 0.60 / 0.50 | 0.90 / 0.80 | 10 |" in text
  assert "(figures as RESULTS.md printed them at abc1234)" in text.split(f"- `{a}`: ")[1].splitlines()[0]


def test_a_dense_row_is_the_mean_and_spread_of_its_seeds_each_with_its_command():
  group = "mlp-mnist-200-default-conditional"
  rows = [row for row in results.all_rows() if row.group == group]
  assert [row.id for row in rows] == [group, group + "-seed1", group + "-seed2"]
  assert [row.config().seed for row in rows] == [0, 1, 2] and all(row.config().conditional for row in rows)
  assert [row.seed for row in results.all_rows() if row.experiment == "dcgan"] == [0, 0]   # conv rows: one
  runs = {}
  for row, score, accuracy, ratio in zip(rows, (8.0, 9.0, 10.0), (0.96, 0.97, 0.98), (0.9, 1.0, 1.1)):
    result = _result()
    result["figures"].update(classifier_score=score, label_accuracy=accuracy, intra_frechet=score,
                             nearest={"pixels": {"ratio": ratio}, "features": {"ratio": 2 * ratio}})
    runs[row.id] = result
  text = results.markdown(runs, {"mnist": {"classifier_score": 10.0, "accuracy": 0.99, "train_split": "a",
                                           "eval_split": "b", "frechet_features": 1.0, "kid_mean": 0.0, "n": 8000,
                                           "classes_covered": 10, "intra_frechet": 2.0}}, 10)
  # Sample standard deviations: of 8, 9, 10 it is 1; of 96, 97, 98 (%) 1; of 0.9, 1.0, 1.1 0.1.
  assert (f"| {group} | 200 | 3 | float32 | 1.5 min | 9.00 ± 1.00 (90%) |  | 5.00 ± 0.00 | 0.0500 ± 0.0000 | 0.60 ± 0.00 / 0.50 ± 0.00 | 0.90 ± 0.00 / 0.80 ± 0.00 | 10 | "
          "97.0% ± 1.0% | 9.00 ± 1.00 | 1.00 ± 0.10 / 2.00 ± 0.20 |") in text
  assert (f"- `{group}`: `--experiment=mlp --dataset=mnist --data_dir=<MNIST's IDX folder> --split=test[:80%] "
          "--epochs=200 --conditional` with `--seed=N` for N in 0, 1, 2") in text
  assert "| mnist | 99.00% | a / b | 8,000 | 10.00 | 1.00 | +0.0000 |  |  | 10 | 2.00 | before shipping |" in text
  assert f"| {group} | ≥ 97% / 97.0%: met | ≥ 90% / 90.0%: met |" in text
  assert "| mlp-fashion-50-default-conditional | ≥ 85% / not run yet | |" in text
  runs[rows[0].id]["figures"].update(label_accuracy=0.90, classifier_score=6.5)   # means 94.3%, 8.5
  assert (f"| {group} | ≥ 97% / 95.0%: missed by 2.0 points | ≥ 90% / 85.0%: missed by 5.0 points |"
          in results.markdown(runs, {"mnist": {"classifier_score": 10.0, "accuracy": 0.99, "train_split": "a",
                                               "eval_split": "b", "frechet_features": 1.0, "kid_mean": 0.0, "n": 8000,
                                               "classes_covered": 10}}, 10))


def test_a_conv_rows_auto_precision_reuses_a_record_of_any_precision_and_says_which(tmp_path):
  """`auto` resolves by hardware: a record trained in float32 (or bfloat16) serves the row on any machine,
  and the table says the precision it trained in."""
  row = results.Row("dcgan_tutorial", "mnist", 30, "default")
  assert row.config().mixed_precision == "auto"
  records = tmp_path / "records"
  records.mkdir()
  for precision in ("float32", "bfloat16"):
    trained = json.loads(row.config().replace(mixed_precision=precision).to_json())
    (records / f"{row.id}.json").write_text(json.dumps({"figures": {"classifier_score": 4.2}, "config": trained}))
    result = results.run_row(row, str(tmp_path / "runs"), n=10, records_dir=str(records))
    assert result["precision"] == precision
  text = results.markdown({row.id: _result(precision="bfloat16")}, {}, 10)
  assert f"| {row.group} | 30 | 1 | bfloat16 | 1.5 min | 7.00 |" in text
  dense = results.Row("mlp", "mnist", 200, "default")   # float32 set: a bfloat16 record is another config
  trained = json.loads(dense.config().replace(mixed_precision="bfloat16").to_json())
  (records / f"{dense.id}.json").write_text(json.dumps({"figures": {}, "config": trained}))
  with pytest.raises(UserError, match="mixed_precision 'bfloat16' -> 'float32'"):
    results.run_row(dense, str(tmp_path / "runs"), n=10, records_dir=str(records))


def test_the_readme_table_is_the_committed_records():
  """One source for each figure: the README's experiments table is what make results writes from the
  committed records, which must also still match the rows' configs."""
  with open(results.README) as f:
    text = f.read()
  start, end = text.index(results.README_BEGIN), text.index(results.README_END) + len(results.README_END)
  assert text[start:end] == results.readme_table(results.recorded_results())


def test_cas_rows_stand_beside_lesort_et_al_and_single_seed_rows_show_their_interval():
  group = "mlp-mnist-200-default-conditional"
  runs = {}
  for seed, ratio in zip(("", "-seed1", "-seed2"), (0.97, 0.98, 0.99)):
    result = _result()
    result["figures"].update(label_accuracy=0.97, intra_frechet=1.0,
                             cas={"cas": ratio * 0.99, "real_baseline": 0.99, "ratio": ratio})
    runs[group + seed] = result
  conv = "dcgan_tutorial-mnist-30-default"
  runs[conv] = _result()
  runs[conv]["figures"]["intervals"] = {"classifier_score": [6.9, 7.1]}
  text = results.markdown(runs, {}, 10)
  assert "| mnist | Lesort et al.: CVAE (their best) | 0.959 | 0.978 | 0.981 | |" in text
  # the seeds' mean ratio 0.980 against their best model's 0.959 / 0.978 = 0.9806
  assert (f"| mnist | gan_tf: {group} (3 seeds) | 0.970 ± 0.010 | 0.990 | 0.980 ± 0.010 | ≥ 0.981: missed by "
          "0.001 |") in text
  assert "| fashion | gan_tf: mlp-fashion-50-default-conditional | not scored yet | | | ≥ 0.935 |" in text
  assert f"| {conv} | 30 | 1 | float32 | 1.5 min | 7.00 [6.90, 7.10] |" in text


def test_stacked_rows_stand_beside_pacgans_table_with_their_target():
  group = results.STACKED_TARGET[0]
  runs = {}
  for seed, (modes, kl) in zip(("", "-seed1", "-seed2"), ((992, 0.08), (990, 0.10), (985, 0.15))):
    result = _result()
    result["figures"].update(modes=modes, mode_kl=kl, confident_share=0.9, num_modes=1000)
    runs[group + seed] = result
  floor = {"stacked": {"n": 26000, "modes": 1000, "mode_kl": 0.021, "confident_share": 0.98,
                       "classifier_score": 9.9, "frechet_features": 1.0, "kid_mean": 0.0, "classes_covered": 10,
                       "accuracy": 0.994, "train_split": "train (stacks)", "eval_split": "test[80%:]"}}
  text = results.markdown(runs, floor, 10)
  assert "| PacGAN's table: PacDCGAN2 (PacGAN) | | | | 1000.0 ± 0.00 | 0.06 ± 0.003 | | |" in text
  assert "| real stacks (26,000) | | | | 1000 | 0.021 | 98.0% | |" in text
  # mean 989.0, std 3.61, s.e. 2.08; KL 0.110 ± 0.036 (s.e. 0.021)
  epochs = group.split("-")[2]
  assert (f"| gan_tf: {group} | {epochs} | 3 | 1.5 min | 989.0 ± 3.6 (s.e. 2.1) | 0.110 ± 0.036 (s.e. 0.021) | "
          "90.0% ± 0.0% |") in text
  assert "≥ 990 modes: 989.0, missed by 1.0 modes; KL ≤ 0.10: 0.110, missed by 0.010." in text
  assert "| gan_tf: dcgan_tutorial-stacked-2-default | 2 | 0 of 1 | not run yet |" in text
  assert f"| {group} |" not in text   # not in the grey rows' table
