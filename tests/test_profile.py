"""tools/profile.py: a step's wall time split by the work running, and a real trace of fit finds its matmuls."""
import numpy as np
import pytest

from gan_tf import configs
from tools import profile


def test_each_moment_of_the_step_goes_to_the_first_kind_running_then():
  # thread 1: thunk dispatch [0, 100) around MatMul [10, 40) and a fusion [50, 60); thread 2: a copy
  # [30, 55), a TF op [120, 130); a waiting wrapper [0, 200) is no kind of work
  events = [("ThunkExecutor::Execute", 0, 100), ("MatMul.1", 10, 30), ("add_fusion", 50, 10),
            ("copy.2", 30, 25), ("while/Less:Less", 120, 10), ("BlockUntilReady", 0, 200), ("end: x", 205, 0)]
  assert profile.wall_by_kind(events) == {
      "XLA thunk dispatch": 10 + 40, "matmuls": 30, "copies": 10, "elementwise (fused)": 10,
      profile.IDLE: 20, "TF ops outside XLA": 10}


@pytest.mark.parametrize("name, expected", [
    ("MatMul_1.62", "matmuls"), ("dot.3", "matmuls"), ("subtract_add_fusion.5", "elementwise (fused)"),
    ("wrapped_add.7", "elementwise (fused)"), ("copy.79", "copies"), ("wrapped_copy", "copies"),
    ("ThunkExecutor::Execute", "XLA thunk dispatch"), ("while/cond/_0/while/Less:Less", "TF ops outside XLA"),
    ("sequential/dense/MatMul:MatMul", "matmuls"),
    ("ExecutorState::Process", None), ("BlockUntilReady", None), ("call.23", None)])
def test_trace_events_are_sorted_by_the_work_they_do(name, expected):
  assert profile.kind(name) == expected


def test_a_traced_dense_fit_finds_its_matmuls_and_fused_kernels(tmp_path):
  config = configs.get_config("mlp_small").replace(steps_per_execution=10)
  images = np.random.default_rng(0).integers(0, 256, (640, 28, 28, 1), dtype=np.uint8)
  step_seconds, wall = profile.trace_fit(config, images, 20, str(tmp_path / "trace"))
  assert wall["matmuls"] > 0 and wall.get("elementwise (fused)", 0.0) > 0   # shares are make profile's
  # the kinds split the wall time from the first traced kernel to the last, each moment counted once:
  # together no more than fit's own time
  assert sum(wall.values()) <= 1.05 * step_seconds
