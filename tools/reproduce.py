"""make eval and make reproduce: a run's sample quality (gan_tf.evaluate), then whether it reproduces the
RESULTS row it trains as, by the rule of docs/evaluation.md; the verdict closes the table and goes into the
JSON line. With --row, the row's own command first trains one seed into --run (resuming a run left there).

Run: `make eval RUN=runs/mlp-...`, `make reproduce ROW=mlp-fashion-50-default [SEED=1]` (or
`python -m tools.reproduce --run=... [--row=...] [gan_tf.evaluate's flags]`).
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import os

from absl import flags

from gan_tf import evaluate, train
from gan_tf.errors import UserError, run_main
from tools import records, results

RECORDS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "experiments", "results")


def train_row(group, seed, workdir):
  """Trains RESULTS row `group` (a table line: results.all_rows()' group) with `seed` into workdir."""
  rows = [row for row in results.all_rows() if row.group == group]
  if not rows:
    known = ", ".join(sorted({row.group for row in results.all_rows()}))
    raise UserError(f"ROW={group!r} is no RESULTS row; rows: {known}")
  config = rows[0].config().replace(seed=seed)
  if not os.path.isdir(config.data_dir):
    raise UserError(f"row {group} reads {config.dataset} from {config.data_dir}, which is not a folder: set "
                    "GAN_TF_FASHION_MNIST / GAN_TF_MNIST to its IDX folder (docs/data.md)")
  train.run(config, workdir)


def main():
  f = flags.FLAGS
  if f.row:
    train_row(f.row, f.row_seed, f.run)
  config, result = evaluate.evaluate(f)
  result["verdict"] = records.judge(config, result, records.read(f.records))
  evaluate.report(result, [records.describe(result["verdict"])])


if __name__ == "__main__":
  evaluate.define_flags()
  flags.DEFINE_string("records", RECORDS, "The RESULTS rows' records to judge the run against.")
  flags.DEFINE_string("row", None, "A RESULTS row (e.g. mlp-fashion-50-default) to train into --run first.")
  flags.DEFINE_integer("row_seed", 0, "With --row: the seed to train (a dense row's records have 0, 1 and 2).")
  run_main(main)
