"""Where and how a run executes: its tf.distribute strategy, devices, precision policy and seeds, and the
machine facts its speed depends on."""
import os
import platform

import keras
import tensorflow as tf

from gan_tf.errors import UserError

# config.mixed_precision -> Keras policy: float32 throughout, or 16-bit compute with float32 variables.
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


def _tpu_strategy():
  resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="")
  tf.config.experimental_connect_to_cluster(resolver)
  tf.tpu.experimental.initialize_tpu_system(resolver)
  return tf.distribute.TPUStrategy(resolver)


# config.strategy -> a factory of its tf.distribute strategy.
STRATEGIES = {
    "default": tf.distribute.get_strategy,                        # one device
    "mirrored": tf.distribute.MirroredStrategy,                   # the GPUs (or cpu_devices) of one host
    "multi_worker": tf.distribute.MultiWorkerMirroredStrategy,    # hosts named in TF_CONFIG
    "tpu": _tpu_strategy,
}


def split_cpu(n):
  """Makes the CPU n logical devices (0: leaves it as is); TF must not have initialized its devices yet."""
  if not n:
    return
  cpu = tf.config.list_physical_devices("CPU")[0]
  try:
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
  except RuntimeError as e:   # devices already initialized: fine only if they are already split so
    if len(tf.config.list_logical_devices("CPU")) != n:
      raise UserError(f"cpu_devices={n}: TF has already initialized its devices ({e})") from e


def setup(config):
  """Seeds, op determinism and the precision policy of config, for everything built after it."""
  keras.utils.set_random_seed(config.seed)
  if config.deterministic:
    tf.config.experimental.enable_op_determinism()
  keras.mixed_precision.set_global_policy(PRECISIONS[config.mixed_precision])


def is_chief(strategy):
  """Whether this process writes checkpoints, summaries, samples and the export."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                            and "chief" not in resolver.cluster_spec().jobs)


def _cpuinfo():
  try:
    with open("/proc/cpuinfo") as f:
      return f.read()
  except OSError:
    return ""


def native_low_precision(cpuinfo=None):
  """Which 16-bit matmuls this CPU runs natively (oneDNN emulates the others, slowly)."""
  cpu_flags = set((_cpuinfo() if cpuinfo is None else cpuinfo).split())
  return {"bfloat16": bool(cpu_flags & {"avx512_bf16", "amx_bf16"}),
          "float16": bool(cpu_flags & {"avx512_fp16", "amx_fp16"})}


def machine():
  """What speed figures depend on: versions, CPU count and model, and its vector and 16-bit units."""
  cpuinfo = _cpuinfo()
  model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                if line.startswith("model name")), "") or platform.processor() or platform.machine()
  return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
          "cpus": os.cpu_count(), "cpu": model, "avx512": "avx512f" in cpuinfo.split(),
          "native": native_low_precision(cpuinfo)}


def describe(m):
  """One line for a machine() dict: CPU count and model, then its vector and bf16 units by CPU flag."""
  units = ["avx512f" if m.get("avx512") else "no avx512f",
           "native bf16" if m.get("native", {}).get("bfloat16") else "no bf16 units"]
  return ", ".join([f"{m['cpus']} CPUs", m["cpu"]] + units)
