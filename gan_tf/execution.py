"""Where and how a run executes: its tf.distribute strategy, devices, precision policy and seeds, and the
machine facts its speed depends on."""

import keras
import tensorflow as tf
from tensorflow.python.framework import config as tf_framework_config   # disable_op_determinism: no public API

from gan_tf.errors import UserError

# config.mixed_precision -> Keras policy: float32 throughout, or 16-bit compute with float32 variables;
# "auto" is resolved to one of the others by the hardware (choose_precision) before anything is built.
PRECISIONS = {"auto": None, "float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
TENSOR_CORES = (7, 0)   # the GPU compute capability from which float16 matmuls run on tensor cores


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


def choose_precision(strategy="default", cpuinfo=None, gpu_capabilities=None):
  """(precision, why) for --mixed_precision=auto: bfloat16 on a TPU or a CPU with native bf16 units, float16
  on GPUs with tensor cores (gpu_capabilities: default those TF sees), float32 elsewhere."""
  if strategy == "tpu":
    return "bfloat16", "a TPU, whose matmul units take bfloat16"
  if gpu_capabilities is None:
    gpu_capabilities = [tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
                        for gpu in tf.config.list_physical_devices("GPU")]
  if gpu_capabilities:
    lowest = min(gpu_capabilities)
    if lowest >= TENSOR_CORES:
      return "float16", f"GPUs of compute capability {lowest[0]}.{lowest[1]} (tensor cores from 7.0)"
    return "float32", f"a GPU of compute capability {lowest[0]}.{lowest[1]}, without tensor cores"
  flags = sorted(set((cpuinfo_text() if cpuinfo is None else cpuinfo).split()) & {"avx512_bf16", "amx_bf16"})
  if flags:
    return "bfloat16", f"a CPU with native bf16 units ({', '.join(flags)})"
  return "float32", "a CPU without native bf16 units (no avx512_bf16 or amx_bf16 flag), where bfloat16 is emulated"


def resolve_precision(config, saved=None):
  """(config, why): config with mixed_precision "auto" made concrete (a resumed run's saved choice, else
  choose_precision's), or as it is when set."""
  if saved is not None and config.mixed_precision in ("auto", saved.mixed_precision):
    return config.replace(mixed_precision=saved.mixed_precision), "kept from the run being resumed"
  if config.mixed_precision != "auto":
    return config, "as set"
  precision, why = choose_precision(config.strategy)
  return config.replace(mixed_precision=precision), why


def setup(config):
  """Seeds, op determinism, GPU memory growth and the precision policy of config (resolved: see
  resolve_precision), for everything built after it."""
  if config.mixed_precision == "auto":
    raise ValueError("setup needs a resolved precision: pass the config through resolve_precision first")
  keras.utils.set_random_seed(config.seed)
  if config.deterministic:
    tf.config.experimental.enable_op_determinism()
  else:   # it is process-wide: an earlier run in this process (make results, tests) may have turned it on
    tf_framework_config.disable_op_determinism()
  for gpu in tf.config.list_physical_devices("GPU"):
    try:   # memory as needed, not all of it at start-up: the nets are small, and evaluation shares the GPU
      tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:   # the GPU is already initialized (a second run in one process): as it is
      pass
  keras.mixed_precision.set_global_policy(PRECISIONS[config.mixed_precision])


def is_chief(strategy):
  """Whether this process writes checkpoints, summaries, samples and the export."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                            and "chief" not in resolver.cluster_spec().jobs)


def cpuinfo_text():
  try:
    with open("/proc/cpuinfo") as f:
      return f.read()
  except OSError:
    return ""
